"""``python -m twolayer_jax.check``: check a learner's own NumPy backward pass and say what is wrong.

The contract: a file (or ``module:function``) defining ``backward(params, x, y)`` for the lab's
network. ``params`` is a dict of NumPy float64 arrays ``W1, b1, W2, b2, W3, b3`` of shapes (2, h1),
(h1,), (h1, h2), (h2,), (h2, 1), (1,); ``x`` is (n, 2), ``y`` is (n, 1). It returns a dict of NumPy
arrays with the same keys: the gradients of L = mean((y_pred − y)²). It may also return
``delta1, delta2, delta3`` (δk = ∂L/∂xk, shapes (n, h1), (n, h2), (n, 1)); then the wrong term is
pinned exactly. ``--template`` prints a file to start from.

The function runs in a separate process under a timeout, on several random problems (batch sizes
from 1, square and non-square widths), and every tensor is compared with ``jax.grad`` in float64.

Exit codes: 0 all gradients right; 1 wrong gradients; 2 the function could not be loaded or run,
or broke the contract (wrong keys, types or shapes, NaN), or bad usage.
"""

import dataclasses
import json
import sys
from importlib.resources import files
from pathlib import Path

import jax
import numpy as np

from twolayer_jax.cli import (
    OneLineParser,
    UsageError,
    add_activation_flags,
    int_at_least,
    positive_float,
    progress_bars,
    run_cli,
)
from twolayer_jax.diagnosis import (
    BACKWARD_ORDER,
    FLOAT32_HINT,
    FLOAT32_LEVEL,
    PRETTY,
    RIGHT,
    first_wrong,
    localise,
    matching_hypotheses,
)
from twolayer_jax.gradients import relative_error
from twolayer_jax.learner import PARAM_KEYS, run_learner

# (batch size, (h1, h2)): batch 1, square widths (where a mixed-up layer still runs) and
# non-square ones in both orders (where a missing transpose cannot hide); never n = 2, where 2/n = 1
PROBLEM_SHAPES = ((1, (4, 4)), (5, (6, 6)), (16, (3, 5)), (7, (5, 3)), (3, (8, 2)))
RIGHT_EXIT, WRONG_EXIT, ERROR_EXIT = 0, 1, 2


@dataclasses.dataclass
class Report:
    target: str
    exit_code: int
    reason: str = ""  # one line, for anything but "right"
    errors: dict[str, float | None] = dataclasses.field(default_factory=dict)  # worst relative error
    localisation: str = ""
    hints: list[str] = dataclasses.field(default_factory=list)
    learner_traceback: str = ""

    @property
    def verdict(self) -> str:
        return {RIGHT_EXIT: "right", WRONG_EXIT: "wrong"}.get(self.exit_code, "error")


def make_problems(seed: int) -> list[dict[str, np.ndarray]]:
    """The random problems, as the NumPy dicts the learner's function receives (plus x and y)."""
    from twolayer_jax.gradients import random_problem

    draw = jax.jit(random_problem, static_argnums=(1, 2))  # one small program per shape
    keys = jax.random.split(jax.random.key(seed), len(PROBLEM_SHAPES))
    problems = []
    for key, (n, hidden) in zip(keys, PROBLEM_SHAPES, strict=True):
        params, x, y = draw(key, n, hidden)
        problems.append(
            {**{k: np.asarray(v) for k, v in params.items()}, "x": np.asarray(x), "y": np.asarray(y)}
        )
    return problems


def reference_terms(problem: dict, activation: str, output_activation: str) -> dict[str, np.ndarray]:
    """``jax.grad``'s six gradients and autodiff's three deltas, float64."""
    from twolayer_jax.gradients import autodiff_gradient, reference_deltas

    @jax.jit
    def terms(params, x, y):
        network = (activation, output_activation, "mse")
        grads, _ = autodiff_gradient(*network)(params, x, y)
        return grads | reference_deltas(params, x, y, *network)._asdict()

    params = {k: problem[k] for k in PARAM_KEYS}
    return {k: np.asarray(v) for k, v in terms(params, problem["x"], problem["y"]).items()}


def describe_problem(problem: dict) -> str:
    return f"batch {len(problem['x'])}, widths {problem['W2'].shape[0]}x{problem['W2'].shape[1]}"


def check_target(target: str, problems: list, references: list, args) -> Report:
    """Run, compare, localise, diagnose: everything about one submission."""
    run = run_learner(target, problems, args.timeout)
    if run.status != "ok":
        return Report(
            target,
            ERROR_EXIT,
            f"could not run {target}: {run.message}",
            learner_traceback=run.learner_traceback,
        )
    bad = next(((i, c) for i, c in enumerate(run.calls) if c.status == "bad_return"), None)
    if bad:
        return Report(target, ERROR_EXIT, f"{bad[1].message} (on {describe_problem(problems[bad[0]])})")
    raised = [(i, c) for i, c in enumerate(run.calls) if c.status == "raised"]
    done = [i for i, c in enumerate(run.calls) if c.status == "ok"]
    if not done:
        i, call = raised[0]
        reason = f"backward raised {call.message} (on {describe_problem(problems[i])})"
        return Report(target, ERROR_EXIT, reason, learner_traceback=call.learner_traceback)

    learner = [run.calls[i].arrays for i in done]
    returned = [t for t in BACKWARD_ORDER if all(t in arrays for arrays in learner)]
    errors = {t: max(relative_error(m[t], references[i][t]) for m, i in zip(learner, done, strict=True))
              for t in returned}  # fmt: skip
    wrong = {t for t, error in errors.items() if error > RIGHT}
    report = Report(target, WRONG_EXIT if wrong or raised else RIGHT_EXIT, errors=errors)
    if wrong:
        report.localisation = localise(wrong, set(returned))
        fits = matching_hypotheses(
            learner, [problems[i] for i in done], [references[i] for i in done], wrong,
            args.activation, args.output_activation,
        )  # fmt: skip
        report.hints = [h.hint for h in fits]
        if max(errors[t] for t in wrong) <= FLOAT32_LEVEL:
            report.hints.append(FLOAT32_HINT)
        report.reason = f"{PRETTY[first_wrong(wrong)]} is wrong"
    misshapen = [(t, i, m[t]) for t in returned for m, i in zip(learner, done, strict=True)
                 if m[t].shape != references[i][t].shape]  # fmt: skip
    if misshapen:
        term, i, value = misshapen[0]
        report.exit_code = ERROR_EXIT
        report.reason = (f"{PRETTY[term]} has shape {value.shape}, expected {references[i][term].shape} "
                         f"(on {describe_problem(problems[i])})")  # fmt: skip
    if raised:
        i, call = raised[0]
        crash = (f"backward raised {call.message} on {len(raised)} of {len(problems)} problems "
                 f"(e.g. {describe_problem(problems[i])})")  # fmt: skip
        report.reason = f"{report.reason}; {crash}" if report.reason else crash
        report.learner_traceback = call.learner_traceback
    return report


def report_lines(report: Report) -> list[str]:
    lines = []
    if report.errors:
        lines.append("term  relative error  verdict")
        for term in BACKWARD_ORDER:
            if term in report.errors:
                error = report.errors[term]
                verdict = "right" if error <= RIGHT else "WRONG"
                lines.append(f"{PRETTY[term]:<4}  {error:>14.1e}  {verdict}")
            elif term.startswith("delta"):
                lines.append(f"{PRETTY[term]:<4}  {'not returned':>14}")
    if report.localisation:
        lines.append(f"where: {report.localisation}")
    if report.exit_code == WRONG_EXIT or report.localisation:
        lines += [f"hint: {hint}" for hint in report.hints] or (
            ["hint: none of the known mistakes fits these numbers (an unrecognised error)"]
            if report.localisation
            else []
        )
    summary = {RIGHT_EXIT: "RIGHT: every gradient matches jax.grad (float64)",
               WRONG_EXIT: f"WRONG: {report.reason}", ERROR_EXIT: f"ERROR: {report.reason}"}  # fmt: skip
    lines.append(summary[report.exit_code])
    return lines


def json_record(report: Report) -> dict:
    """A report as JSON: an error too large to be finite (a wrong shape) becomes null."""
    errors = {PRETTY[t]: (e if np.isfinite(e) else None) for t, e in report.errors.items()}
    return dataclasses.asdict(report) | {"verdict": report.verdict, "errors": errors}


def targets_from(paths: list[str]) -> list[str]:
    """Files as given, folders as their ``*.py`` files, ``module:function`` as is."""
    targets = []
    for path in paths:
        if Path(path).is_dir():
            found = sorted(str(p) for p in Path(path).glob("*.py"))
            if not found:
                raise UsageError(f"no .py files in folder {path!r}")
            targets += found
        else:
            targets.append(path)
    return targets


def build_parser() -> OneLineParser:
    parser = OneLineParser(
        prog="python -m twolayer_jax.check",
        description="Check a learner's own NumPy backward pass and say which term is wrong.",
    )
    parser.add_argument(
        "targets",
        nargs="*",
        metavar="FILE_OR_DIR",
        help="file.py, file.py:function, module:function, or a folder of .py files",
    )
    parser.add_argument("--template", action="store_true", help="print a backward-pass file to start from")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write one record per submission")
    parser.add_argument("--timeout", type=positive_float, default=60.0, help="seconds per submission")
    parser.add_argument("--seed", type=int_at_least(0), default=0, help="seed of the random problems")
    add_activation_flags(parser, "the hidden layers' activation the learner implemented")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.template:
        print(files("twolayer_jax").joinpath("backward_template.py").read_text(), end="")
        return 0
    if not args.targets:
        raise UsageError("give a file, module:function or folder to check (or --template)")
    targets = targets_from(args.targets)
    jax.config.update("jax_enable_x64", True)
    problems = make_problems(args.seed)
    references = [reference_terms(p, args.activation, args.output_activation) for p in problems]

    reports = []
    with progress_bars(len(targets) > 1) as start:
        advance = start("checking submissions", len(targets)) or (lambda done: None)
        for done, target in enumerate(targets, start=1):
            try:
                reports.append(check_target(target, problems, references, args))
            except Exception as error:  # a checker bug must not stop the grading of the others
                reason = (
                    f"the checker could not analyse it ({type(error).__name__}: {error}); please report this"
                )
                reports.append(Report(target, ERROR_EXIT, reason))
            advance(done)
    for report in reports:
        if len(reports) > 1:
            print(f"== {report.target}")
        if report.learner_traceback:
            print(report.learner_traceback.rstrip())
        print("\n".join(report_lines(report)))
    if len(reports) > 1:
        counts = {v: sum(r.verdict == v for r in reports) for v in ("right", "wrong", "error")}
        print(f"\n{len(reports)} submissions: {counts['right']} right, {counts['wrong']} wrong, "
              f"{counts['error']} could not be run")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps([json_record(r) for r in reports], indent=2) + "\n")
    return max(r.exit_code for r in reports)


if __name__ == "__main__":
    sys.exit(run_cli(main, None, "python -m twolayer_jax.check"))
