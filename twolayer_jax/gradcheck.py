"""``python -m twolayer_jax.gradcheck``: the hand-written backward pass against ``jax.grad`` and
centred finite differences, one row per parameter tensor and per delta, for every network the
registries know: every hidden activation, every output activation and every loss.

Each row shows the worst relative error over several random problems (batch sizes including 1,
non-square widths, so a missing transpose cannot hide). Exit 0 when every row passes, 1 when
any fails, 2 for bad usage.

``--backward MODULE:FUNCTION`` (or ``path/to/file.py:FUNCTION``) checks another implementation
with the contract of ``manual.backward_with_deltas``:
``fn(params, x, y, activation, output_activation, loss) -> (grads, deltas)``.
"""

import argparse
import importlib
import importlib.util
import sys
from pathlib import Path

import jax

from twolayer_jax.activations import ACTIVATIONS
from twolayer_jax.cli import OneLineParser, UsageError, int_at_least, run_cli
from twolayer_jax.engine import TrainConfig
from twolayer_jax.gradients import (
    COLUMNS,
    TERM_NAMES,
    TOLERANCES,
    BackwardFn,
    Problem,
    TermCheck,
    Tolerance,
    check_terms,
    passes,
    random_problem,
)
from twolayer_jax.losses import LOSSES
from twolayer_jax.model import conv_layer_shapes

# (batch size, (h1, h2)) of the random problems, cycled: batch 1, non-square widths in both orders
PROBLEM_SHAPES = ((1, (3, 5)), (7, (6, 2)), (33, (9, 4)), (4, (1, 8)), (12, (5, 5)))
# (batch size, h1, channels, kernel width) of the conv model's problems: odd and even kernels
# (an even one pads unevenly), one channel and several, a width-1 kernel
CONV_PROBLEM_SHAPES = ((1, 6, 2, 3), (5, 7, 3, 4), (9, 5, 1, 1), (3, 8, 2, 6))
CONV_NETWORKS = (("sigmoid", "sigmoid", "mse"), ("relu", "sigmoid", "bce"))


def networks_to_check() -> list[tuple[str, str, str]]:
    """Every hidden activation (sigmoid output, MSE), every output activation (sigmoid hidden,
    MSE), and every loss: each derivative and each loss gradient is exercised at least once."""
    hidden = [(name, "sigmoid", "mse") for name in ACTIVATIONS]
    output = [("sigmoid", name, "mse") for name in ACTIVATIONS if name != "sigmoid"]
    losses = [(name, "sigmoid", loss) for loss in LOSSES if loss != "mse" for name in ("sigmoid", "relu")]
    per_layer = [("tanh,relu", "sigmoid", "mse")]  # each hidden layer its own activation
    return hidden + output + losses + per_layer


def network_spec(text: str) -> tuple[str, ...]:
    """``relu/sigmoid/bce`` → a dense network; ``conv/relu/sigmoid/bce`` → the conv model's."""
    parts = tuple(text.split("/"))
    conv = parts[:1] == ("conv",)
    network = parts[1:] if conv else parts
    if len(network) != 3:
        raise argparse.ArgumentTypeError(f"want HIDDEN/OUTPUT/LOSS or conv/HIDDEN/OUTPUT/LOSS, got {text!r}")
    try:
        TrainConfig(activation=network[0], output_activation=network[1], loss=network[2])
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return ("conv", *network) if conv else network


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
    parser.add_argument("--backward", default="manual:backward_with_deltas", metavar="MODULE:FUNCTION",
                        help="the implementation to check (default: the package's own)")  # fmt: skip
    return parser


def load_function(spec: str) -> BackwardFn:
    """``module:function`` or ``file.py:function`` → the function."""
    target, _, name = spec.rpartition(":")
    if not target or not name:
        raise UsageError(f"--backward wants MODULE:FUNCTION or FILE.py:FUNCTION, got {spec!r}")
    try:
        if target.endswith(".py"):
            module_spec = importlib.util.spec_from_file_location(Path(target).stem, target)
            if module_spec is None or not Path(target).is_file():
                raise UsageError(f"--backward: no file {target!r}")
            module = importlib.util.module_from_spec(module_spec)
            module_spec.loader.exec_module(module)
        else:
            module = importlib.import_module(target)
    except UsageError:
        raise
    except Exception as error:  # the module's own failure, reported in one line
        raise UsageError(f"--backward: cannot load {target!r}: {type(error).__name__}: {error}") from None
    function = getattr(module, name, None)
    if not callable(function):
        raise UsageError(f"--backward: {target!r} has no function {name!r}")
    return function


def worst_case(checks: list[dict[str, TermCheck]]) -> dict[str, TermCheck]:
    """Per term, the largest error of each comparison over all problems (and any note)."""
    merged = {}
    for name in checks[0]:
        errors = {column: max(c[name].errors[column] for c in checks) for column in checks[0][name].errors}
        notes = sorted({c[name].note for c in checks if c[name].note})
        merged[name] = TermCheck(errors, "; ".join(notes))
    return merged


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
        lines.append(f"{TERM_NAMES[name]:<4}  {row}  {verdict}")
    return lines, all_pass


def make_problems(count: int, seed: int, dtype: str) -> tuple[list[Problem], list[Problem], str]:
    """Dense and conv problems, cycling through their shapes, and a line describing them."""
    keys = jax.random.split(jax.random.key(seed), 2 * count)
    dense = [PROBLEM_SHAPES[i % len(PROBLEM_SHAPES)] for i in range(count)]
    conv = [CONV_PROBLEM_SHAPES[i % len(CONV_PROBLEM_SHAPES)] for i in range(count)]
    dense_problems = [
        random_problem(k, n, hidden, dtype) for k, (n, hidden) in zip(keys[:count], dense, strict=True)
    ]
    conv_problems = [
        random_problem(k, n, (h1, h1), dtype, conv_layer_shapes(h1, channels, width))
        for k, (n, h1, channels, width) in zip(keys[count:], conv, strict=True)
    ]
    description = (
        "dense (batch, h1xh2): " + ", ".join(f"{n}, {h1}x{h2}" for n, (h1, h2) in dense)
        + "; conv (batch, h1, channels, kernel): " + ", ".join(", ".join(map(str, c)) for c in conv)
    )  # fmt: skip
    return dense_problems, conv_problems, description


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    jax.config.update("jax_enable_x64", True)
    backward_fn = load_function(args.backward)
    tolerance = TOLERANCES[args.dtype]
    dense_problems, conv_problems, description = make_problems(args.problems, args.seed, args.dtype)
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
    if args.network:
        chosen = [n for n in args.network if n[0] != "conv"], [n[1:] for n in args.network if n[0] == "conv"]
    else:
        chosen = networks_to_check(), list(CONV_NETWORKS)
    sections = [("", network, dense_problems) for network in chosen[0]]
    sections += [("conv model: ", network, conv_problems) for network in chosen[1]]
    for label, network, problems in sections:
        title = f"{label}hidden {network[0]}, output {network[1]}, loss {network[2]}"
        try:
            checks = [check_terms(backward_fn, p, network, tolerance) for p in problems]
        except Exception as error:  # the checked implementation failed on a valid input
            print(f"\n{title}: the backward function raised {type(error).__name__}: {error}")
            everything_passes = False
            continue
        lines, table_passes = format_table(worst_case(checks), tolerance)
        everything_passes &= table_passes
        print(f"\n{title}")
        print("\n".join(lines))
    print("\nall terms pass" if everything_passes else "\nSOME TERMS ARE WRONG")
    return 0 if everything_passes else 1


if __name__ == "__main__":
    sys.exit(run_cli(main, None, "python -m twolayer_jax.gradcheck"))
