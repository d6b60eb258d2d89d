"""The checker's results as Gradescope and PrairieLearn read them, for a right, a wrong and an
ungradeable submission, checked against each platform's documented format; and the two ready
scripts of autograder/, run on temporary trees shaped like each platform's."""

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from test_check import CORRECT

from twolayer_jax.checks import check
from twolayer_jax.cli import run_cli

ROOT = Path(__file__).resolve().parent.parent
CHECKER = Path(sys.executable).with_name("twolayer-jax")

# Gradescope's results.json, as its autograder documentation specifies it
GRADESCOPE = {
    "type": "object",
    "required": ["score", "tests"],
    "properties": {
        "score": {"type": "number", "minimum": 0},
        "output": {"type": "string"},
        "output_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
        "tests": {"type": "array", "items": {
            "type": "object",
            "required": ["name", "score", "max_score"],
            "properties": {"name": {"type": "string"}, "score": {"type": "number"},
                           "max_score": {"type": "number"}, "status": {"enum": ["passed", "failed"]},
                           "output": {"type": "string"}},
        }},
    },
}  # fmt: skip
# PrairieLearn's external-grader result, as its external grading documentation specifies it
PRAIRIELEARN = {
    "type": "object",
    "if": {"properties": {"gradable": {"const": False}}, "required": ["gradable"]},
    "then": {"required": ["format_errors"]},
    "else": {"required": ["score"]},
    "properties": {
        "gradable": {"type": "boolean"},
        "score": {"type": "number", "minimum": 0, "maximum": 1},
        "format_errors": {"type": ["string", "array"]},
        "message": {"type": "string"},
        "output": {"type": "string"},
        "tests": {"type": "array", "items": {
            "type": "object",
            "required": ["name", "points", "max_points"],
            "properties": {"name": {"type": "string"}, "points": {"type": "number"},
                           "max_points": {"type": "number"}, "message": {"type": "string"}},
        }},
    },
}  # fmt: skip
SUBMISSIONS = {
    "right": (CORRECT, 0, 6),
    "wrong": (CORRECT.replace("grad_b2 = delta2.sum(axis=0)", "grad_b2 = delta2"), 1, 5),
    "ungradeable": (CORRECT.replace("def backward(params, x, y):", "def backward(params, x, y)"), 2, 0),
}


def graded_as(tmp_path: Path, source: str, form: str) -> tuple[int, dict]:
    (tmp_path / "mine.py").write_text(source)
    out = tmp_path / "results.json"
    code = run_cli(check.main, [str(tmp_path / "mine.py"), "--format", form, "--json", str(out)], "check")
    return code, json.loads(out.read_text())


@pytest.mark.parametrize("kind", SUBMISSIONS)
def test_gradescope_results_score_one_point_per_gradient(tmp_path, kind):
    source, exit_code, points = SUBMISSIONS[kind]
    code, results = graded_as(tmp_path, source, "gradescope")
    jsonschema.validate(results, GRADESCOPE)
    assert code == exit_code and results["score"] == points
    if kind == "ungradeable":
        assert results["tests"] == [] and "SyntaxError" in results["output"]
    else:
        assert [t["name"] for t in results["tests"]] == ["∂W3", "∂b3", "∂W2", "∂b2", "∂W1", "∂b1"]
        assert sum(t["score"] for t in results["tests"]) == points
    if kind == "wrong":
        failed = next(t for t in results["tests"] if t["status"] == "failed")
        assert failed["name"] == "∂b2" and "hint: ∂b2 was not summed" in results["output"]


@pytest.mark.parametrize("kind", SUBMISSIONS)
def test_prairielearn_results_are_a_fraction_or_not_gradable(tmp_path, kind):
    source, exit_code, points = SUBMISSIONS[kind]
    code, results = graded_as(tmp_path, source, "prairielearn")
    jsonschema.validate(results, PRAIRIELEARN)
    assert code == exit_code
    if kind == "ungradeable":
        assert results["gradable"] is False and "SyntaxError" in results["format_errors"][0]
    else:
        assert results["gradable"] is True and results["score"] == pytest.approx(points / 6)


def test_a_platform_format_wants_one_file_and_a_json_path(tmp_path, capsys):
    (tmp_path / "mine.py").write_text(CORRECT)
    assert run_cli(check.main, [str(tmp_path / "mine.py"), "--format", "gradescope"], "check") == 2
    assert "give one file and --json PATH" in capsys.readouterr().err


def run_script(script: str, variable: str, root: Path) -> dict:
    environment = {**os.environ, variable: str(root), "TWOLAYER_JAX": str(CHECKER)}
    subprocess.run(["bash", str(ROOT / "autograder" / script)], env=environment, check=True, timeout=300)
    return json.loads((root / "results" / "results.json").read_text())


def test_run_autograder_grades_a_gradescope_submission(tmp_path):
    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / "backprop.py").write_text(SUBMISSIONS["wrong"][0])
    results = run_script("run_autograder", "AUTOGRADER_ROOT", tmp_path)
    jsonschema.validate(results, GRADESCOPE)
    assert results["score"] == 5


def test_run_prairielearn_refuses_two_files_without_grading(tmp_path):
    (tmp_path / "student").mkdir()
    for name in ("a.py", "b.py"):
        (tmp_path / "student" / name).write_text(CORRECT)
    results = run_script("run_prairielearn", "GRADE_ROOT", tmp_path)
    jsonschema.validate(results, PRAIRIELEARN)
    assert results["gradable"] is False and "found 2" in results["format_errors"][0]
