"""One submission's report as a grading platform reads it: Gradescope's ``results.json`` and
PrairieLearn's external-grader result.

Both score one point per parameter gradient the contract asks for (∂W1 … ∂b3), so a platform can
add the points up and a TA can weight the assignment as a whole; the deltas are optional in the
contract and earn nothing. A submission with nothing gradeable (the checker's exit code 2) scores
0 on Gradescope and is "not gradable" on PrairieLearn, which costs the student no attempt.
"""

from typing import NamedTuple, Protocol

import numpy as np

from twolayer_jax.checks.diagnosis import RIGHT
from twolayer_jax.checks.terms import BACKWARD_ORDER, PARAM_KEYS, SYMBOLS

UNGRADEABLE = 2  # the checker's exit code when nothing could be graded


class Gradeable(Protocol):
    """What a platform record reads of the checker's report."""

    exit_code: int
    reason: str
    errors: dict[str, float]
    notes: dict[str, str]


class TensorScore(NamedTuple):
    name: str  # ∂W3, ...
    right: bool
    message: str  # the relative error and the verdict, or why the tensor is unusable


def tensor_scores(report: Gradeable) -> list[TensorScore]:
    """One score per parameter gradient, in backward order; a tensor never judged scores 0."""
    scores = []
    for term in (t for t in BACKWARD_ORDER if t in PARAM_KEYS):
        error = report.errors.get(term, np.inf)
        right = error <= RIGHT
        if term in report.notes:
            message = f"wrong: {report.notes[term]}"
        elif np.isfinite(error):
            message = f"relative error {error:.1e}: " + (
                "right" if right else f"wrong (right is ≤ {RIGHT:.0e})"
            )
        else:
            message = "not graded"
        scores.append(TensorScore(SYMBOLS[term], right, message))
    return scores


def gradescope_results(report: Gradeable, lines: list[str]) -> dict:
    """Gradescope's ``results.json``: a test per tensor, the whole printout as the output (markdown,
    in a code block so its table and symbols keep their columns)."""
    output = "```\n" + "\n".join(lines) + "\n```"
    if report.exit_code == UNGRADEABLE:
        return {"score": 0, "output": output, "output_format": "md", "tests": []}
    tests = [
        {"name": s.name, "score": int(s.right), "max_score": 1, "status": "passed" if s.right else "failed",
         "output": s.message}
        for s in tensor_scores(report)
    ]  # fmt: skip
    return {"score": sum(t["score"] for t in tests), "output": output, "output_format": "md", "tests": tests}


def prairielearn_results(report: Gradeable, lines: list[str]) -> dict:
    """PrairieLearn's external-grader result: ``score`` in [0, 1], a test per tensor, or
    ``gradable: false`` with the reason when nothing could be graded."""
    output = "\n".join(lines)
    if report.exit_code == UNGRADEABLE:
        return {"gradable": False, "format_errors": [report.reason], "message": lines[-1], "output": output}
    scores = tensor_scores(report)
    tests = [{"name": s.name, "points": int(s.right), "max_points": 1, "message": s.message} for s in scores]
    score = sum(t["points"] for t in tests) / len(tests)
    return {"gradable": True, "score": score, "message": lines[-1], "output": output, "tests": tests}


FORMATS = {"gradescope": gradescope_results, "prairielearn": prairielearn_results}
