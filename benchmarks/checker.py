"""``python -m benchmarks.checker``: how long the learner checker takes, as a TA meets it.

It writes a class of submissions into a temporary folder, a mix as a class hands them in (right
ones, right ones with (1, h) biases, known mistakes, a near miss, one that does not parse), then
times, as a user would, a whole command line each time (the interpreter's start included): one
submission alone (the median of ``--repeats`` runs) and the whole folder in one call, once one
submission at a time (``--jobs 1``) and once over the usable cores (the default), side by side.
The goals are 1.5 s alone and 0.5 s per submission in a folder of 50, on a 2-core machine.
"""

if __name__ == "__main__":  # before the slow imports below: see twolayer_jax.cli
    from twolayer_jax.cli import remember_ctrl_c_quietly

    remember_ctrl_c_quietly()

import itertools
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from twolayer_jax.cli import OneLineParser, exit_process, int_at_least, run_cli

# A right NumPy backward pass, written the way a student writes it; the tests grade it too.
CORRECT = """
import numpy as np


def sigmoid(t):
    return 1 / (1 + np.exp(-t))


def derivative_sigmoid(z):
    return z * (1 - z)


def backward(params, x, y):
    W1, b1, W2, b2, W3, b3 = (params[k] for k in ("W1", "b1", "W2", "b2", "W3", "b3"))
    n = x.shape[0]
    x1 = x @ W1 + b1
    z1 = sigmoid(x1)
    x2 = z1 @ W2 + b2
    z2 = sigmoid(x2)
    x3 = z2 @ W3 + b3
    out = sigmoid(x3)
    dL_dout = 2 / n * (out - y)
    delta3 = dL_dout * derivative_sigmoid(out)
    grad_W3 = z2.T @ delta3
    grad_b3 = delta3.sum(axis=0)
    delta2 = (delta3 @ W3.T) * derivative_sigmoid(z2)
    grad_W2 = z1.T @ delta2
    grad_b2 = delta2.sum(axis=0)
    delta1 = (delta2 @ W2.T) * derivative_sigmoid(z1)
    grad_W1 = x.T @ delta1
    grad_b1 = delta1.sum(axis=0)
    grads = {"W1": grad_W1, "b1": grad_b1, "W2": grad_W2, "b2": grad_b2, "W3": grad_W3, "b3": grad_b3}
    return grads
"""

# cross-entropy's gradient with the common ε = 1e-4 inside its logs: a near miss of a known mistake
EPS_IN_THE_LOGS = (
    "    dL_dout = 2 / n * (out - y)\n",
    "    eps = 1e-4\n    dL_dout = (-(y / (out + eps)) + (1 - y) / (1 - out + eps)) / n\n",
)
# the class's mix: name → the lines that differ from CORRECT
VARIANTS = {
    "right": [],
    "right_with_row_biases": [("delta1.sum(axis=0)", "delta1.sum(axis=0, keepdims=True)")],
    "bias_not_summed": [("grad_b2 = delta2.sum(axis=0)", "grad_b2 = delta2")],
    "sigma_prime_of_pre_activation": [("derivative_sigmoid(z2)", "derivative_sigmoid(x2)")],
    "cross_entropy_with_eps": [EPS_IN_THE_LOGS],
    "syntax_error": [("def backward(params, x, y):", "def backward(params, x, y)")],
}  # fmt: skip


def variant(replacements: list[tuple[str, str]]) -> str:
    source = CORRECT
    for old, new in replacements:
        source = source.replace(old, new)
    return source


def write_class(folder: Path, size: int) -> list[Path]:
    """``size`` submissions, the variants in turn (so every kind is there once size ≥ 6)."""
    names = itertools.islice(itertools.cycle(VARIANTS), size)
    paths = []
    for index, name in enumerate(names):
        path = folder / f"student_{index:03d}_{name}.py"
        path.write_text(variant(VARIANTS[name]))
        paths.append(path)
    return paths


def seconds(*arguments: str) -> float:
    """The wall time of one checker command line (its exit code is the verdict, not an error)."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "twolayer_jax.check", *arguments], capture_output=True, check=False)
    return time.perf_counter() - started


def graded_folder(folder: Path, *options: str) -> tuple[float, list[dict]]:
    """Seconds to grade the class in one call, and its records (one per submission, in the
    folder's order)."""
    records = folder / "records.json"
    wall = seconds(str(folder / "class"), "--json", str(records), *options)
    return wall, json.loads(records.read_text())


def verdict_line(record: dict) -> str:
    """``"student_003_sigma_prime_of_pre_activation.py: wrong (∂W2 is wrong)"``."""
    return f"{Path(record['target']).name}: {verdict_and_reason(record)}"


def verdict_and_reason(record: dict) -> str:
    return f"{record['verdict']} ({record['reason']})" if record["reason"] else record["verdict"]


def verdicts_that_differ(one_at_a_time: list[dict], over_the_cores: list[dict]) -> str:
    """Each submission graded differently the two ways, joined by "; " (empty: none)."""
    if len(one_at_a_time) != len(over_the_cores):
        return f"{len(one_at_a_time)} records one at a time, {len(over_the_cores)} over the cores"
    pairs = zip(one_at_a_time, over_the_cores, strict=True)
    return "; ".join(
        f"{verdict_line(a)}, over the cores {verdict_and_reason(b)}"
        for a, b in pairs
        if a["verdict"] != b["verdict"]
    )


def measure(size: int, repeats: int) -> dict:
    """The timings, each verdict's count, and a line per submission (``graded``: its verdict and
    the reason, so an unexpected verdict says why). The folder graded over the cores must get the
    verdicts it gets one at a time."""
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        (folder / "class").mkdir()
        paths = write_class(folder / "class", size)
        alone = statistics.median(seconds(str(paths[0])) for _ in range(repeats))
        one_at_a_time, records = graded_folder(folder, "--jobs", "1")
        parallel, records_in_parallel = graded_folder(folder)
    if differing := verdicts_that_differ(records, records_in_parallel):
        raise RuntimeError(
            "the folder graded over the cores got other verdicts than one at a time: " + differing
        )
    return {"submissions": size, "alone_s": alone, "folder_s": parallel, "per_submission_s": parallel / size,
            "folder_one_at_a_time_s": one_at_a_time, "verdicts": dict(Counter(r["verdict"] for r in records)),
            "graded": [verdict_line(record) for record in records]}  # fmt: skip


def build_parser() -> OneLineParser:
    parser = OneLineParser(prog="python -m benchmarks.checker", description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int_at_least(1), default=50, help="the class's size")
    parser.add_argument("--repeats", type=int_at_least(1), default=3, help="runs of the one submission")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result = measure(args.submissions, args.repeats)
    print(
        f"one submission alone: {result['alone_s']:.2f} s (median of {args.repeats}); a folder of "
        f"{result['submissions']} over the cores: {result['folder_s']:.1f} s, "
        f"{result['per_submission_s']:.2f} s each (one at a time: {result['folder_one_at_a_time_s']:.1f} s); "
        f"verdicts {result['verdicts']}"
    )
    return 0


if __name__ == "__main__":
    exit_process(run_cli(main, None, "python -m benchmarks.checker"))
