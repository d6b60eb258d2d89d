"""``python -m twolayer_jax.check``: check a learner's own NumPy backward pass and say what is wrong.

The contract: a file (or ``module:function``) defining ``backward(params, x, y)`` for the lab's
network. ``params`` is a dict of NumPy float64 arrays ``W1, b1, W2, b2, W3, b3`` of shapes (2, h1),
(h1,), (h1, h2), (h2,), (h2, 1), (1,); ``x`` is (n, 2), ``y`` is (n, 1), the 0/1 labels. It returns a
dict of NumPy arrays with the same keys: the gradients of L = mean((y_pred − y)²). It may also
return ``delta1, delta2, delta3`` (δk = ∂L/∂xk, shapes (n, h1), (n, h2), (n, 1)); then the wrong
term is pinned exactly. ``--template`` prints a file to start from.

The function runs contained (:mod:`twolayer_jax.checks.sandbox`) under a timeout, on several random
problems (batch sizes from 1 to the lab's 100, square and non-square widths up to the lab's 100),
and this process alone judges every tensor it returned against the lab's backward pass in NumPy
float64 (which the tests hold to ``jax.grad``). The files of a folder run ``--jobs`` at a time
(by default as many as the usable cores), each in a process of its own.

Exit codes: 0 every tensor right; 1 gradeable and wrong (a wrong value, shape or dtype, a NaN or
inf, a missing tensor, or a problem it raised on); 2 nothing could be graded (no such file or
function, a syntax error, a forbidden import, raised, crashed or timed out on every problem, not
a dict on any), or bad usage.
"""

import ast
import dataclasses
import json
import os
import queue
from concurrent.futures import ThreadPoolExecutor, as_completed
from importlib.resources import files
from pathlib import Path
from typing import NamedTuple

import jax
import numpy as np

from twolayer_jax.checks.comparison import parameter_scale, relative_error
from twolayer_jax.checks.contracts import (
    CONTRACTS,
    CONVENTIONS,
    STEP_LEARNING_RATES,
    calls_for,
    gradient_run,
    to_convention,
)
from twolayer_jax.checks.diagnosis import (
    DELTAS_CONTRADICT_GRADIENTS,
    RIGHT,
    Mistake,
    explain,
    first_wrong,
    lab_backward,
    localise,
    near_miss_hint,
    precision_hint,
)
from twolayer_jax.checks.learner import (
    FORBIDDEN_IMPORTS,
    Call,
    LearnerRun,
    parse_target,
    printable,
    run_learner,
    snapshot_sources,
)
from twolayer_jax.checks.platforms import FORMATS as PLATFORMS
from twolayer_jax.checks.sandbox import (
    Isolation,
    Limits,
    Supervisor,
    choose_isolation,
    concurrent_isolations,
    limits_without_forking,
)
from twolayer_jax.checks.terms import BACKWARD_ORDER, DELTA_KEYS, PARAM_KEYS, SYMBOLS, accepted_shapes
from twolayer_jax.cli import (
    OneLineParser,
    UsageError,
    add_activation_flags,
    int_at_least,
    number_in,
    progress_bars,
    writable_file,
    write_atomically,
)
from twolayer_jax.model import layer_shapes
from twolayer_jax.network import Network

# (batch size, (h1, h2)): batch 1, square widths (where a mixed-up layer still runs), non-square
# ones in both orders (where a missing transpose cannot hide), and the lab's own sizes (21 and
# 100 points, 100 units); never n = 2, where 2/n = 1
PROBLEM_SHAPES = ((1, (4, 4)), (5, (6, 6)), (16, (3, 5)), (7, (5, 3)), (3, (8, 2)), (21, (100, 100)),
                  (100, (100, 40)))  # fmt: skip
RIGHT_EXIT, WRONG_EXIT, ERROR_EXIT = 0, 1, 2
VERDICTS = {RIGHT_EXIT: "right", WRONG_EXIT: "wrong", ERROR_EXIT: "error"}


@dataclasses.dataclass
class Report:
    target: str
    exit_code: int
    reason: str = ""  # one line, in the checker's words only, for anything but "right"
    errors: dict[str, float] = dataclasses.field(default_factory=dict)  # worst relative error
    notes: dict[str, str] = dataclasses.field(default_factory=dict)  # why a term is wrong beyond its number
    localisation: str = ""
    hints: list[str] = dataclasses.field(default_factory=list)
    remarks: list[str] = dataclasses.field(default_factory=list)  # facts that change no verdict
    learner_text: str = ""  # the submission's own traceback or output, shown under a label
    isolation: str = ""

    @property
    def verdict(self) -> str:
        return VERDICTS[self.exit_code]


def draw_problem(rng: np.random.Generator, n: int, hidden: tuple[int, int]) -> dict[str, np.ndarray]:
    """Random weights (scaled by fan-in), non-zero biases, inputs and 0/1 labels, float64."""
    params = {name: rng.standard_normal(shape) * parameter_scale(name, shape)
              for name, shape in layer_shapes(hidden).items()}  # fmt: skip
    x = rng.standard_normal((n, 2))
    return params | {"x": x, "y": (rng.standard_normal((n, 1)) > 0).astype(np.float64)}


def make_problems(seed: int) -> list[dict[str, np.ndarray]]:
    """The random problems, as the NumPy dicts the learner's function receives (plus x and y)."""
    rng = np.random.default_rng(seed)
    return [draw_problem(rng, n, hidden) for n, hidden in PROBLEM_SHAPES]


def reference_terms(problem: dict, network: Network) -> dict[str, np.ndarray]:
    """The six gradients and three deltas of the lab's backward pass in NumPy float64 (no
    compiled program per shape; the tests hold it to ``jax.grad`` on every problem shape)."""
    params = {k: problem[k] for k in PARAM_KEYS}
    return lab_backward(params, problem["x"], problem["y"], network, Mistake())


def describe_problem(problem: dict) -> str:
    return f"batch {len(problem['x'])}, widths {problem['W2'].shape[0]}x{problem['W2'].shape[1]}"


class Judgement(NamedTuple):
    error: float  # the worst relative error over the problems
    note: str  # why the term is unusable somewhere, beyond its number ("" if it is not)
    reshaped: tuple[int, ...] | None  # the other shape its right-sized values came in, if any


def shape_pattern(shape: tuple[int, ...]) -> str:
    """``(4,)`` → "a vector (h,)", ``(1, 4)`` → "a row (1, h)", ``(4, 1)`` → "a column (h, 1)"."""
    if len(shape) == 1:
        return "a vector (1,)" if shape == (1,) else "a vector (h,)"
    if shape == (1, 1):
        return "a (1, 1) array"
    return "a row (1, h)" if shape[0] == 1 and shape[1] != 1 else "a column (h, 1)"


def telling(problem: dict) -> bool:
    """A problem whose shapes cannot be mistaken for each other: n > 1 and h1 ≠ h2, so a
    (1, h) bias and an (n, h) one, or h1 and h2, never read alike in a message."""
    h1, h2 = problem["W2"].shape
    return len(problem["x"]) > 1 and h1 != h2


def judge_term(term: str, calls: list[Call], problems: list, references: list) -> Judgement:
    """The worst relative error of one term over the problems that returned a dict, and, when the
    term is unusable somewhere, why (a shape is described on a telling problem when one shows it)."""
    worst, notes, missing, reshaped = 0.0, [], 0, None
    for call, problem, reference in zip(calls, problems, references, strict=True):
        value, expected = call.arrays.get(term), reference[term]
        if (
            value is not None
            and value.shape != expected.shape
            and value.shape in accepted_shapes(term, expected.shape)
        ):
            reshaped, value = value.shape, value.reshape(expected.shape)  # the same values, unambiguously
        if value is None:
            missing += 1
            notes.append((True, call.notes.get(term, "")))
            worst = np.inf
        elif value.shape != expected.shape:
            where = describe_problem(problem)
            shape_note = f"has shape {value.shape}, expected {expected.shape} (on {where})"
            notes.append((not telling(problem), shape_note))
            worst = np.inf
        elif not np.isfinite(value).all():
            notes.append((True, f"contains NaN or inf (on {describe_problem(problem)})"))
            worst = np.inf
        else:
            worst = max(worst, relative_error(value, expected))  # never NaN: see relative_error
    note = min((n for n in notes if n[1]), key=lambda n: n[0], default=(True, ""))[1]
    if missing and not note:
        note = f"not returned (on {missing} of {len(calls)} problems)"
    # a (1, h) from an n = 1 problem may be an unsummed bias: a reshape counts only if every
    # problem's shape was acceptable
    return Judgement(worst, note, None if notes else reshaped)


def judged_terms(calls: list[Call]) -> list[str]:
    """The six gradients always; a delta once it is returned on any problem."""
    deltas = [d for d in DELTA_KEYS if any(d in c.arrays or d in c.notes for c in calls)]
    return [t for t in BACKWARD_ORDER if t in PARAM_KEYS or t in deltas]


def failed_calls_line(run: LearnerRun, problems: list) -> str:
    failed = [(i, c) for i, c in enumerate(run.calls) if c.failure]
    if not failed:
        return ""
    i, call = failed[0]
    return (
        f"{call.failure} on {len(failed)} of {len(problems)} problems (e.g. {describe_problem(problems[i])})"
    )


def grade(run: LearnerRun, problems: list, references: list, args) -> Report:
    """Everything about one submission, from what this process read back of its run."""
    if run.failure:
        return Report("", ERROR_EXIT, f"could not run it: {run.failure}", learner_text=run.learner_text)
    done = [i for i, c in enumerate(run.calls) if not c.failure]
    if not done:
        call = run.calls[0]
        every = f"{call.failure} on every problem"
        return Report("", ERROR_EXIT, f"could not grade it: {every}", learner_text=call.learner_text)
    calls = [run.calls[i] for i in done]
    solved, answers = [problems[i] for i in done], [references[i] for i in done]
    terms = judged_terms(calls)
    judged = {t: judge_term(t, calls, solved, answers) for t in terms}
    errors = {t: judgement.error for t, judgement in judged.items()}
    notes = {t: judgement.note for t, judgement in judged.items() if judgement.note}
    wrong = {t for t, error in errors.items() if not error <= RIGHT}
    failures = failed_calls_line(run, problems)
    report = Report("", WRONG_EXIT if wrong or failures else RIGHT_EXIT, errors=errors, notes=notes)
    report.learner_text = next((c.learner_text for c in run.calls if c.learner_text), "")
    report.remarks += [
        f"{SYMBOLS[t]} came as {shape_pattern(judgement.reshaped)} where the contract says "
        f"{shape_pattern(answers[0][t].shape)}: its values were compared as they are"
        for t, judgement in judged.items()
        if judgement.reshaped
    ]
    extra = sorted({key for c in calls for key in c.extra_keys})
    if extra:
        report.remarks.append(f"the returned dict also has {', '.join(extra)}, which the contract does not "
                              f"name (allowed: {', '.join(PARAM_KEYS + DELTA_KEYS)}): ignored")  # fmt: skip
    if wrong:
        present = [t for t in terms if all(t in c.arrays for c in calls)]
        learner = [{t: c.arrays[t] for t in present} for c in calls]
        report.localisation = localise(wrong, set(present))
        report.hints = diagnose(learner, solved, answers, wrong, errors, args)
        first = first_wrong(wrong)
        report.reason = f"{SYMBOLS[first]} {notes[first]}" if first in notes else f"{SYMBOLS[first]} is wrong"
    if failures:
        report.reason = f"{report.reason}; {failures}" if report.reason else failures
    return report


def diagnose(learner: list, problems: list, references: list, wrong: set, errors: dict, args) -> list[str]:
    if wrong <= set(DELTA_KEYS) and all(errors[t] <= RIGHT for t in PARAM_KEYS):
        return [DELTAS_CONTRADICT_GRADIENTS]
    comparable = wrong & set(learner[0])
    explanation = explain(learner, problems, references, comparable, args.network)
    hints = [h.hint for h in explanation.fits]
    hints += [near_miss_hint(explanation.near_miss)] if explanation.near_miss else []
    precision = precision_hint(learner, errors)
    return [*hints, precision] if precision else hints


def notebook_magic(file: Path | None) -> str:
    """Why a file cannot run as Python when it does not parse and a line of it is a notebook magic
    (``%time``, ``!pip``), as a notebook exported to a script keeps them; "" otherwise (a file
    that parses has no magic, whatever its strings hold)."""
    if file is None or not file.is_file():
        return ""
    source = file.read_text(encoding="utf-8", errors="replace")
    try:
        ast.parse(source)
        return ""
    except (SyntaxError, ValueError):
        pass
    lines = source.splitlines()
    number = next((i for i, line in enumerate(lines, start=1) if line.lstrip()[:1] in ("%", "!")), None)
    if number is None:
        return ""
    shown = printable(lines[number - 1].strip()[:40], False)
    return f"line {number} is a notebook magic ({shown}), not Python: remove it"


def not_gradient_descent(apart: float) -> str:
    first, second = STEP_LEARNING_RATES
    return (
        f"the step is not plain gradient descent θ − lr·g: the gradient it implies differs between "
        f"lr {first:g} and lr {second:g} by {apart:.0e} (momentum, a decay or a clipped step?)"
    )


def check_target(
    target: str,
    problems: list,
    references: list,
    args,
    isolation: Isolation,
    supervisor: Supervisor | None = None,
    sources: dict[Path, bytes] | None = None,
) -> Report:
    """Run, read back, compare, localise, diagnose: everything about one submission."""
    limits = Limits(timeout=args.timeout, memory=args.memory_limit * 2**20)
    forbidden = tuple(name for name in FORBIDDEN_IMPORTS if name not in args.allow_import)
    learner = parse_target(target, args.contract)
    magic = notebook_magic(learner.file)
    if magic:
        return Report(target, ERROR_EXIT, f"could not run it: {magic}", isolation=isolation.description)
    sent = [to_convention(problem, args.convention) for problem in problems]
    calls = calls_for(args.contract, len(problems))
    run = run_learner(
        learner,
        sent,
        limits,
        isolation,
        forbidden,
        calls,
        jax_contract=False,
        supervisor=supervisor,
        sources=sources,
    )
    run, apart = gradient_run(run, sent, args.contract, args.convention)
    report = grade(run, problems, references, args)
    if apart > RIGHT:
        report.exit_code = max(report.exit_code, WRONG_EXIT)
        report.reason = "; ".join(filter(None, [report.reason, not_gradient_descent(apart)]))
    report.target, report.isolation = target, isolation.description
    return report


def learner_block(text: str) -> list[str]:
    """The submission's own text, each line behind a bar so that none can pose as the checker's."""
    lines = printable(text.rstrip()).splitlines()[-60:]
    if not lines:
        return []
    return ["the submission's own output (not the checker's):", *(f"  | {line}" for line in lines)]


def report_lines(report: Report) -> list[str]:
    lines = []
    if report.errors:
        lines.append("term  relative error  verdict")
        for term in BACKWARD_ORDER:
            if term in report.errors:
                error = report.errors[term]
                shown = f"{error:.1e}" if np.isfinite(error) else "-"
                verdict = "right" if error <= RIGHT else "WRONG"
                note = f": {report.notes[term]}" if term in report.notes else ""
                lines.append(f"{SYMBOLS[term]:<4}  {shown:>14}  {verdict}{note}")
            elif term.startswith("delta"):
                lines.append(f"{SYMBOLS[term]:<4}  {'not returned':>14}")
    if report.localisation:
        lines.append(f"where: {report.localisation}")
    if report.localisation:
        lines += [f"hint: {hint}" for hint in report.hints] or [
            "hint: none of the known mistakes fits these numbers (an unrecognised error)"
        ]
    lines += [f"note: {remark}" for remark in report.remarks]
    lines += learner_block(report.learner_text)
    summary = {RIGHT_EXIT: f"RIGHT: every gradient matches the lab's backward pass (float64) on all "
                           f"{len(PROBLEM_SHAPES)} problems",
               WRONG_EXIT: f"WRONG: {report.reason}", ERROR_EXIT: f"ERROR: {report.reason}"}  # fmt: skip
    lines.append(summary[report.exit_code])
    return lines


def json_record(report: Report) -> dict:
    """A report as JSON: an error too large to be finite (a wrong shape, a NaN) becomes null."""
    errors = {SYMBOLS[t]: (e if np.isfinite(e) else None) for t, e in report.errors.items()}
    notes = {SYMBOLS[t]: note for t, note in report.notes.items()}
    record = dataclasses.asdict(report) | {"verdict": report.verdict, "errors": errors, "notes": notes}
    return record | {
        "target": printable(report.target, False),
        "learner_text": printable(report.learner_text),
    }


def json_output(reports: list[Report], skipped: list[tuple[str, str]], form: str) -> list | dict:
    """What ``--json`` holds: a record per file, or one submission's platform result."""
    if form in PLATFORMS:
        return PLATFORMS[form](reports[0], report_lines(reports[0]))
    records = [json_record(r) for r in reports]
    return records + [
        {"target": printable(p, False), "verdict": "skipped", "reason": why} for p, why in skipped
    ]


def names_bound(node: ast.AST) -> set[str]:
    """The names one statement binds in its module's namespace."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {node.name}
    if isinstance(node, ast.Import | ast.ImportFrom):
        return {(alias.asname or alias.name).partition(".")[0] for alias in node.names}
    targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
    return {t.id for t in targets if isinstance(t, ast.Name)}


def defines_at_top_level(source: str, name: str) -> bool | None:
    """Whether a module defines ``name`` at its top level (including inside if/try/with blocks),
    read without running it; None when it does not parse."""
    try:
        statements = list(ast.parse(source).body)
    except (SyntaxError, ValueError):
        return None
    while statements:
        node = statements.pop()
        if name in names_bound(node):
            return True
        for block in ("body", "orelse", "finalbody", "handlers"):
            statements += [n for n in getattr(node, block, []) if isinstance(n, ast.stmt | ast.excepthandler)]
    return False


def why_skipped(path: Path, function: str) -> str:
    """Why a file of a folder is not a submission to grade ("" when it is one)."""
    if path.is_symlink() and not path.exists():
        return "a broken link"
    if path.is_dir():
        return "a folder, not a file"
    if not path.is_file():
        return "not a regular file"
    try:
        source = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return ""  # graded, and the run says what is wrong with it
    defines = defines_at_top_level(source, function)
    return "" if defines is None or defines else f"defines no function {function!r} (a helper module?)"


def targets_from(paths: list[str], function: str = "backward") -> tuple[list[str], list[tuple[str, str]]]:
    """Files as given, folders as their ``*.py`` files that define the function (the others are
    returned as skipped, with why), ``module:function`` as is."""
    targets, skipped = [], []
    for path in paths:
        if Path(path).is_dir():
            found = sorted(Path(path).glob("*.py"))
            if not found:
                raise UsageError(f"no .py files in folder {path!r}")
            for file in found:
                why = why_skipped(file, function)
                (skipped.append((str(file), why)) if why else targets.append(str(file)))
        else:
            targets.append(path)
    return targets, skipped


TIMEOUT_LIMIT = 86400.0  # seconds: a day; beyond, a grader has a bug, not a slow submission
MEMORY_LIMIT_MIB = 2**30  # a pebibyte, far beyond any machine, still a number prlimit reads


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
    parser.add_argument("--format", choices=("records", *PLATFORMS), default="records",
                        help="what --json holds: the checker's records (default), or one submission's "
                        "result as Gradescope or PrairieLearn reads it")  # fmt: skip
    parser.add_argument("--timeout", type=number_in(1, TIMEOUT_LIMIT, closed_high=True), default=60.0,
                        help=f"seconds per submission, 1 to {TIMEOUT_LIMIT:g} (default 60)")  # fmt: skip
    memory = int_at_least(64, MEMORY_LIMIT_MIB)
    parser.add_argument("--memory-limit", type=memory, default=2048, metavar="MIB",
                        help="address space a submission may use, in MiB (default 2048)")  # fmt: skip
    parser.add_argument("--allow-import", action="append", default=[], choices=FORBIDDEN_IMPORTS,
                        metavar="NAME", help="let submissions import NAME, one of "
                        f"{', '.join(FORBIDDEN_IMPORTS)} (forbidden by default; repeatable)")  # fmt: skip
    parser.add_argument("--seed", type=int_at_least(0), default=0, help="seed of the random problems")
    parser.add_argument("--jobs", type=int_at_least(1), default=usable_cores(),
                        help="submissions of a folder run at once (default: the usable cores, "
                        f"{usable_cores()} here)")  # fmt: skip
    parser.add_argument("--contract", choices=CONTRACTS, default="backward",
                        help="backward(params, x, y) -> grads (default), or step(params, x, y, lr) -> "
                        "new params, whose gradient is recovered at two learning rates")  # fmt: skip
    parser.add_argument("--convention", choices=CONVENTIONS, default="row",
                        help="row (x·W + b, W (in, out), the default) or column (W·x + b: weights "
                        "(out, in), biases (out, 1), given and returned that way)")  # fmt: skip
    add_activation_flags(parser, "the hidden layers' activation the learner implemented")
    return parser


def network_from(args) -> Network:
    """The network the learner implemented, from its two activation flags (the loss is the lab's)."""
    try:
        return Network(args.activation, args.output_activation)
    except ValueError as error:
        raise UsageError(str(error)) from None


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def grading_isolations(isolation: Isolation, jobs: int) -> queue.SimpleQueue:
    """The isolations the runs of one folder take in turn: as many as may run at once."""
    free = queue.SimpleQueue()
    for each in concurrent_isolations(isolation, jobs if limits_without_forking() else 1):
        free.put(each)
    return free


def grade_all(targets: list[str], args, isolation: Isolation) -> list[Report]:
    """One report per target, in their order, ``args.jobs`` graded at once (each waits in a thread
    for its own child process); a checker failure on one never stops the others."""
    jax.config.update("jax_enable_x64", True)
    problems = make_problems(args.seed)
    references = [reference_terms(p, args.network) for p in problems]
    supervisor, free = Supervisor(), grading_isolations(isolation, min(args.jobs, len(targets)))
    files = [target.file for target in map(parse_target, targets) if target.file and target.file.is_file()]
    sources = snapshot_sources(files)  # before any submission runs

    def report_on(target: str) -> Report:
        held = free.get()
        try:
            return check_target(target, problems, references, args, held, supervisor, sources)
        except Exception as error:  # a checker bug must not stop the grading of the others
            reason = f"the checker failed on it ({type(error).__name__}); please report this"
            return Report(target, ERROR_EXIT, reason, isolation=held.description)
        finally:
            free.put(held)

    with progress_bars(len(targets) > 1) as start, ThreadPoolExecutor(free.qsize()) as pool:
        advance = start("checking submissions", len(targets)) or (lambda done: None)
        futures = [pool.submit(report_on, target) for target in targets]
        try:
            for done, _ in enumerate(as_completed(futures), start=1):
                advance(done)
        except BaseException:  # ctrl-C: the queued ones never start, the running ones end now
            pool.shutdown(wait=False, cancel_futures=True)
            supervisor.stop_all()
            raise
    return [future.result() for future in futures]


def print_reports(reports: list[Report], skipped: list[tuple[str, str]], isolation: Isolation) -> None:
    many = len(reports) + len(skipped) > 1
    for report in reports:
        if many:
            print(f"== {printable(report.target, False)}")
        print("\n".join(report_lines(report)))
    for path, why in skipped:
        print(f"== {printable(path, False)}\nskipped: {why}")
    if many:
        counts = {v: sum(r.verdict == v for r in reports) for v in VERDICTS.values()}
        print(f"\n{len(reports)} submissions: {counts['right']} right, {counts['wrong']} wrong, "
              f"{counts['error']} could not be graded; {len(skipped)} files skipped")  # fmt: skip
    if not isolation.shields_the_checker:
        print(f"note: the submissions ran as {isolation.description}")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.network = network_from(args)
    if args.template:
        print(files("twolayer_jax.checks").joinpath("backward_template.py").read_text(), end="")
        return 0
    if not args.targets:
        raise UsageError("give a file, module:function or folder to check (or --template)")
    targets, skipped = targets_from(args.targets, args.contract)
    if not targets:
        raise UsageError("no file to grade: every .py file was skipped (" + "; ".join(
            f"{Path(p).name}: {why}" for p, why in skipped[:3]) + ")")  # fmt: skip
    if args.format != "records" and not (args.json and len(targets) == 1 and not skipped):
        raise UsageError(
            f"--format {args.format} writes one submission's result: give one file and --json PATH"
        )
    if args.json:
        writable_file(args.json)
        if any(Path(target.split(":")[0]).resolve() == args.json.resolve() for target in targets):
            raise UsageError(f"--json {str(args.json)!r} is a submission: the report would replace it")
    isolation = choose_isolation()
    reports = grade_all(targets, args, isolation)
    print_reports(reports, skipped, isolation)
    if args.json:
        write_atomically(args.json, json.dumps(json_output(reports, skipped, args.format), indent=2) + "\n")
    return max(r.exit_code for r in reports)
