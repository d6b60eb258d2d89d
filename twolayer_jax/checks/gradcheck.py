"""``python -m twolayer_jax.gradcheck``: the hand-written backward pass against ``jax.grad`` and
centred finite differences, one row per parameter tensor and per delta, for every network the
registries know: every hidden activation, every output activation and every loss.

Each row shows the worst relative error over several random problems (batch sizes including 1,
non-square widths, so a missing transpose cannot hide). Exit 0 when every row passes, 1 when
any fails, 2 for bad usage.

``--backward MODULE:FUNCTION`` (or ``path/to/file.py:FUNCTION``) checks another implementation:
``fn(params, x, y, activation, output_activation, loss) -> (grads, deltas)``, the network given by
its three names (a :class:`twolayer_jax.network.Network` does not cross into the child process),
the rest as ``manual.backward_with_deltas`` returns them. It runs contained,
as the learner checker runs a submission (:mod:`twolayer_jax.checks.sandbox`), under ``--timeout``: what
it returned is read back and judged here, so exiting, hanging or crashing is reported, never
taken for a pass. Exit 2 when nothing could be checked (it could not be loaded, or failed on
every problem).
"""

import argparse
from typing import NamedTuple

import jax
import numpy as np

from manual import backward_with_deltas
from twolayer_jax.activations import ACTIVATIONS
from twolayer_jax.checks.comparison import (
    COLUMNS,
    TOLERANCES,
    TermCheck,
    Tolerance,
    checked_problems,
    compare_terms,
    hand_written_terms,
    passes,
    worst_case,
)
from twolayer_jax.checks.learner import parse_target, run_learner
from twolayer_jax.checks.sandbox import Limits, choose_isolation
from twolayer_jax.checks.terms import DELTA_KEYS, SYMBOLS
from twolayer_jax.cli import OneLineParser, UsageError, int_at_least, positive_float
from twolayer_jax.losses import LOSSES
from twolayer_jax.network import Network

CONV_NETWORKS = (Network(), Network("relu", "sigmoid", "bce"))
DEFAULT_BACKWARD = "manual:backward_with_deltas"
# a JAX child needs threads and address space that a NumPy submission does not
JAX_LIMITS = {"memory": 16 * 2**30, "processes": 4096}


def networks_to_check() -> list[Network]:
    """Every hidden activation (sigmoid output, MSE), every output activation (sigmoid hidden,
    MSE), and every loss: each derivative and each loss gradient is exercised at least once."""
    hidden = [Network(name) for name in ACTIVATIONS]
    output = [Network(output_activation=name) for name in ACTIVATIONS if name != "sigmoid"]
    losses = [Network(name, loss=loss) for loss in LOSSES if loss != "mse" for name in ("sigmoid", "relu")]
    per_layer = [Network("tanh,relu")]  # each hidden layer its own activation
    return hidden + output + losses + per_layer


class NetworkChoice(NamedTuple):
    conv: bool
    network: Network


def network_spec(text: str) -> NetworkChoice:
    """``relu/sigmoid/bce`` → a dense network; ``conv/relu/sigmoid/bce`` → the conv model's."""
    conv = text.startswith("conv/")
    try:
        return NetworkChoice(conv, Network.from_spec(text.removeprefix("conv/")))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{error} (or conv/HIDDEN/OUTPUT/LOSS)") from None


def build_parser() -> OneLineParser:
    parser = OneLineParser(
        prog="python -m twolayer_jax.gradcheck",
        description="The hand-written backward pass against jax.grad and finite differences.",
    )
    parser.add_argument("--dtype", choices=tuple(TOLERANCES), default="float64")
    parser.add_argument("--problems", type=int_at_least(1), default=3, help="random problems per network")
    parser.add_argument("--seed", type=int_at_least(0), default=0)
    parser.add_argument(
        "--network",
        action="append",
        type=network_spec,
        metavar="HIDDEN/OUTPUT/LOSS",
        help="check only this network, e.g. relu/sigmoid/bce (repeatable); conv: conv/HIDDEN/OUTPUT/LOSS",
    )
    parser.add_argument("--backward", default=DEFAULT_BACKWARD, metavar="MODULE:FUNCTION",
                        help="the implementation to check (default: the package's own)")  # fmt: skip
    parser.add_argument("--timeout", type=positive_float, default=300.0,
                        help="seconds the --backward function may take in all (default 300)")  # fmt: skip
    return parser


def checked_target(spec: str):
    """``module:function`` or ``file.py:function``, checked before anything runs."""
    location, _, name = spec.rpartition(":")
    if not location or not name:
        raise UsageError(f"--backward wants MODULE:FUNCTION or FILE.py:FUNCTION, got {spec!r}")
    target = parse_target(spec)
    if target.file is not None and not target.file.is_file():
        raise UsageError(f"--backward: no file {str(target.file)!r}")
    return target


def contained_answers(args, sections: list) -> list[list[dict | str]]:
    """The --backward function's answer on every problem of every section, computed contained:
    a dict of returned tensors, or why there is none (in the checker's words)."""
    target = checked_target(args.backward)
    problems = [p for _, _, section_problems in sections for p in section_problems]
    arrays = [{**{k: np.asarray(v) for k, v in p.params.items()}, "x": np.asarray(p.x), "y": np.asarray(p.y)}
              for p in problems]  # fmt: skip
    calls, index = [], 0
    for _, network, section_problems in sections:
        # across the process boundary a network travels as its three names
        network_names = (network.activation, network.output_activation, network.loss)
        calls += [(index + i, *network_names) for i in range(len(section_problems))]
        index += len(section_problems)
    names = tuple({name for p in problems for name in p.params}) + DELTA_KEYS
    limits = Limits(timeout=args.timeout, **JAX_LIMITS)
    run = run_learner(target, arrays, limits, choose_isolation(), (), calls, names)
    if run.failure:
        raise UsageError(f"--backward: could not run {args.backward!r}: {run.failure}")
    if all(call.failure for call in run.calls):
        raise UsageError(f"--backward: {args.backward!r}: {run.calls[0].failure} on every problem")
    answers, flat = [], iter(run.calls)
    for _, _, section_problems in sections:
        answers.append([(call.failure or call.arrays) for call in (next(flat) for _ in section_problems)])
    return answers


def own_answers(sections: list) -> list[list[dict]]:
    """The package's own hand-written pass, trusted, computed in this process."""
    return [[hand_written_terms(p, backward_with_deltas, network) for p in problems]
            for _, network, problems in sections]  # fmt: skip


def format_table(checks: dict[str, TermCheck], tolerance: Tolerance) -> tuple[list[str], bool]:
    widths = [max(len(column), 9) for column in COLUMNS]
    header = "term  " + "  ".join(f"{c:>{w}}" for c, w in zip(COLUMNS, widths, strict=True)) + "  verdict"
    lines, all_pass = [header], True
    for name, check in checks.items():
        cells = [f"{check.errors[c]:.1e}" if c in check.errors else "-" for c in COLUMNS]
        ok = passes(check, tolerance)
        all_pass &= ok
        verdict = "ok" if ok else "WRONG" + (f": {check.note}" if check.note else "")
        row = "  ".join(f"{cell:>{w}}" for cell, w in zip(cells, widths, strict=True))
        lines.append(f"{SYMBOLS[name]:<4}  {row}  {verdict}")
    return lines, all_pass


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    jax.config.update("jax_enable_x64", True)
    tolerance = TOLERANCES[args.dtype]
    dense_problems, conv_problems, description = checked_problems(args.problems, args.seed, args.dtype)
    if args.network:
        chosen = [c.network for c in args.network if not c.conv], [c.network for c in args.network if c.conv]
    else:
        chosen = networks_to_check(), list(CONV_NETWORKS)
    sections = [("", network, dense_problems) for network in chosen[0]]
    sections += [("conv model: ", network, conv_problems) for network in chosen[1]]
    own = args.backward == DEFAULT_BACKWARD
    answers = own_answers(sections) if own else contained_answers(args, sections)
    print(
        f"gradient check of {args.backward} in {args.dtype}: worst relative error ‖a−b‖/max(‖a‖,‖b‖) "
        f"over {args.problems} random problems per network ({description})"
    )
    print(
        f"a row passes when manual vs jax.grad ≤ {tolerance.analytic:.0e} and every finite-difference "
        f"comparison ≤ {tolerance.finite_difference:.0e} (step {tolerance.step:.0e}); in float64, "
        "≲1e-7 is right and ≳1e-2 a real mistake"
    )
    everything_passes = True
    for (label, network, problems), returned in zip(sections, answers, strict=True):
        title = f"{label}hidden {network.activation}, output {network.output_activation}, loss {network.loss}"
        failure = next((r for r in returned if isinstance(r, str)), None)
        if failure:  # the checked implementation failed on a valid input
            print(f"\n{title}: the backward function failed: {failure}")
            everything_passes = False
            continue
        checks = [compare_terms(r, p, network, tolerance) for r, p in zip(returned, problems, strict=True)]
        lines, table_passes = format_table(worst_case(checks), tolerance)
        everything_passes &= table_passes
        print(f"\n{title}")
        print("\n".join(lines))
    print("\nall terms pass" if everything_passes else "\nSOME TERMS ARE WRONG")
    return 0 if everything_passes else 1
