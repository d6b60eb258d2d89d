"""docs/report, the report as committed: its text is what the report's writer makes of its
results.json today, every file it links is there, and every number it quotes is in the results."""

import json
import re
from pathlib import Path

from test_report import numeric_leaves, quoted_numbers, renderings

from twolayer_jax.report.text import write_report

REPORT = Path(__file__).parent.parent / "docs" / "report"
# a Python expression a string forgot to render, as in "ŷ ≥ {number(s['threshold'])}": a name
# called or indexed inside braces (LaTeX's braces hold names and numbers, never a call)
UNRENDERED = re.compile(r"\{[A-Za-z_][\w.]*[(\[][^}]*\}")


def committed() -> tuple[str, dict]:
    return (REPORT / "REPORT.md").read_text(), json.loads((REPORT / "results.json").read_text())


def test_the_committed_text_is_what_its_results_make_today():
    """A change to the report's prose shows here until `make report` (or a re-render from the
    committed results.json) brings docs/report up to date."""
    text, results = committed()
    assert text == write_report(results)


def test_no_expression_is_left_unrendered():
    text, _ = committed()
    assert not UNRENDERED.findall(text)


def test_every_linked_file_is_committed_and_every_number_is_in_the_results():
    text, results = committed()
    linked = re.findall(r"\]\(([^)]+)\)", text)
    assert sorted(set(linked)) == sorted(set(results["files"].values()))
    assert all((REPORT / file).is_file() for file in linked)
    known = set().union(*(renderings(v) for v in numeric_leaves(results)))
    assert not sorted({n for n in quoted_numbers(text) if n not in known})
    assert results["settings"]["seeds"] == 32 and results["settings"]["epochs"] == 5000
