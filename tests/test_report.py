"""``python -m twolayer_jax.report``: a quick report writes every file and section, every number
in REPORT.md comes from results.json, and the linear network's XOR result is the lab's."""

import json
import re

import jax
import numpy as np
import pytest

from twolayer_jax import data
from twolayer_jax.cli import run_cli
from twolayer_jax.config import TrainConfig
from twolayer_jax.network import Network
from twolayer_jax.optimizers import HParams
from twolayer_jax.report.cli import least_squares_loss, main
from twolayer_jax.report.study import Cell, run_grid
from twolayer_jax.report.text import dataset_heading, number, scientific

SECTIONS = ("## Summary", "## Introduction", "## Experiment setups", "### The sigmoid and its derivative",
            "### The network", "### Backpropagation", "### Gradient check", "## Results",
            f"### {dataset_heading(data.LINEAR)}", f"### {dataset_heading(data.XOR_EASY)}", "## Discussion",
            "### Learning rates",
            "### Hidden units", "### Without activation functions", "### Initialisation",
            "### Anything else worth showing: watching it learn", "#### The decision boundary as it learns",
            "#### What the hidden units compute", "#### MSE, cross-entropy and the handout's mistake",
            "## Extras", "### Other optimizers", "### Other activation functions",
            "### A convolutional layer", "## Conclusion",
            "## How this report was made")  # fmt: skip
# a number: not part of a name (x1, float32) nor the tail of another number (0.10.2)
NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?:e[-+]\d+)?")


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    argv = ["--quick", "--seeds", "2", "--epochs", "40", "--out", str(out), "--no-progress"]
    assert run_cli(main, argv, "report") == 0
    return out, (out / "REPORT.md").read_text(), json.loads((out / "results.json").read_text())


@pytest.mark.slow  # a whole run: make test-slow (CI)
def test_quick_writes_every_section_and_every_figure(quick_report):
    out, report, results = quick_report
    positions = [report.index(f"\n{heading}\n") for heading in SECTIONS]
    assert positions == sorted(positions), "sections out of the lab's order"
    linked = re.findall(r"\]\(([^)]+)\)", report)  # images, and the animations their stills link to
    assert sorted(linked) == sorted(results["files"].values())
    for file in linked:
        signature = b"GIF89a" if file.endswith(".gif") else b"\x89PNG"
        assert (out / file).read_bytes().startswith(signature), file
    # the handout's printout of both datasets' representative runs
    assert len(re.findall(r"^Iter\d+ \|     Ground truth: [01]\.0 \|     prediction: ", report, re.M)) == 121
    assert results["settings"]["seeds"] == 2 and results["settings"]["epochs"] == 40


def numeric_leaves(tree) -> list[float]:
    if isinstance(tree, dict):
        return [v for value in tree.values() for v in numeric_leaves(value)]
    if isinstance(tree, list | tuple):
        return [v for value in tree for v in numeric_leaves(value)]
    if isinstance(tree, bool) or tree is None:
        return []
    if isinstance(tree, int | float):
        return [tree]
    return [float(n) for n in NUMBER.findall(str(tree))]  # numbers inside strings: a version, a command


def renderings(value: float) -> set[str]:
    """Every way the report writes a number: as is, as a percentage, in the handout's formats."""
    return {
        repr(value),
        number(value),
        scientific(value),
        f"{100 * value:.2f}",
        f"{100 * value:.0f}",  # a percentage in whole percent: the ends of an interval
        f"{value:.5f}",
        f"{value:.1f}",
        f"{value:g}",
    }


def quoted_numbers(report: str) -> list[str]:
    """The numbers of the text and tables: equations ($…$) and inline code (`…`) left out, their
    constants are the lab's definitions, and so is the run's date (2026-12-01 is no three numbers:
    results.json holds it as one string)."""
    text = re.sub(r"\$\$.*?\$\$|\$[^$\n]+\$", " ", report, flags=re.S)
    text = re.sub(r"(?<!`)`[^`\n]+`(?!`)", " ", text)
    text = re.sub(r"(?<![\w.-])\d{4}-\d{2}-\d{2}(?![\w.-])", " ", text)
    return NUMBER.findall(text)


@pytest.mark.slow  # a whole run: make test-slow (CI)
def test_every_number_in_the_report_is_in_results_json(quick_report):
    _, report, results = quick_report
    known = set().union(*(renderings(v) for v in numeric_leaves(results)))
    quoted = quoted_numbers(report)
    assert len(quoted) > 300  # the tables and the printout are checked too
    missing = sorted({n for n in quoted if n not in known})
    assert not missing, f"numbers in REPORT.md that results.json does not hold: {missing[:20]}"


@pytest.mark.slow  # a whole run: make test-slow (CI)
def test_a_number_typed_into_the_report_is_caught(quick_report):
    _, report, results = quick_report
    known = set().union(*(renderings(v) for v in numeric_leaves(results)))
    planted = report.replace("## Discussion", "## Discussion\n\nMost runs need about 1234.5 epochs.")
    assert [n for n in quoted_numbers(planted) if n not in known] == ["1234.5"]


def test_without_activations_xor_is_stuck_at_the_constant_predictors_accuracy():
    """The linear network at a small rate ends where the best affine fit is: 52.38 % (11 of 21)
    and loss ≈ 0.2494, on every seed."""
    xor = data.xor_easy()
    config = TrainConfig(epochs=3000, network=Network("identity", "identity"), dtype="float64")
    grid = run_grid(config, xor, [Cell("0.01", HParams(lr=0.01))], seeds=3)
    losses = np.asarray(grid.results[0].loss)[:, -1]
    accuracies = np.asarray(grid.results[0].accuracy)[:, -1]
    np.testing.assert_allclose(accuracies, 11 / 21)
    assert f"{100 * 11 / 21:.2f}" == "52.38"
    np.testing.assert_allclose(losses, 0.2494, atol=5e-5)
    np.testing.assert_allclose(losses, least_squares_loss(xor), rtol=1e-4)
    assert grid.outcomes[0].diverged == 0


def test_a_large_rate_makes_the_linear_network_diverge_and_the_outcome_says_so():
    config = TrainConfig(epochs=50, hidden=(20, 20), network=Network("identity", "identity"))
    grid = run_grid(config, data.linear(jax.random.key(0)), [Cell("1", HParams(lr=1.0))], seeds=2)
    outcome = grid.outcomes[0]
    assert outcome.diverged == 2 and outcome.first_divergence < 20
    assert outcome.median_final_loss is None and outcome.at_100 == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["--seeds", "0"], "--seeds"), (["--epochs", "x"], "--epochs"), (["--dtype", "float16"], "--dtype")],
)
def test_bad_input_is_one_line_and_exit_2(capsys, argv, message):
    assert run_cli(main, argv, "report") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err
