"""``python -m benchmarks.throughput``: seed-epochs per second of three ways to train the lab's
network, side by side in one run, on the current device.

The CLI only: ``benchmarks.measure`` times the variants (listed there) and ``benchmarks.report``
writes the records, the plot and RESULTS.md from what was measured, after every dataset and dtype.
"""

if __name__ == "__main__":  # before the slow imports below: see twolayer_jax.cli
    from twolayer_jax.cli import remember_ctrl_c_quietly

    remember_ctrl_c_quietly()

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.measure import (
    ACCELERATOR_SEEDS,
    CPU_SEEDS,
    HIDDEN,
    contenders,
    default_gradient,
    default_seeds,
    machine,
    other_gradient,
    peak_records,
    race,
)
from benchmarks.report import RESULTS_TITLE, TARGET_SEEDS, is_results_file, output_paths, write_results
from twolayer_jax.cli import UsageError, refuse, writable_file
from twolayer_jax.config import DTYPES, TrainConfig
from twolayer_jax.data import DATASET_NAMES, load_dataset
from twolayer_jax.devices import platform as device_platform
from twolayer_jax.devices import use_every_cpu_core
from twolayer_jax.footprint import epochs_problem, memory_problem


def parse_list(kind, choices=None):
    def parse(text: str):
        items = [kind(item) for item in text.split(",") if item]
        if not items or (choices and any(item not in choices for item in items)):
            raise argparse.ArgumentTypeError(f"want a comma-separated list of {choices or kind.__name__}")
        if kind is int and min(items) < 1:
            raise argparse.ArgumentTypeError("seed counts must be positive")
        return items

    return parse


def build_parser():
    from twolayer_jax.cli import OneLineParser, int_at_least, output_path

    parser = OneLineParser(prog="python -m benchmarks.throughput", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--seeds",
        type=parse_list(int),
        default=None,
        help=f"default: {','.join(map(str, CPU_SEEDS))} on a CPU, up to {ACCELERATOR_SEEDS[-1]} on a GPU/TPU",
    )
    parser.add_argument("--datasets", type=parse_list(str, DATASET_NAMES), default=list(DATASET_NAMES))
    parser.add_argument("--dtypes", type=parse_list(str, DTYPES), default=list(DTYPES))
    parser.add_argument("--epochs", type=int_at_least(1), default=200, help="epochs per timed run")
    parser.add_argument(
        "--repeats", type=int_at_least(1), default=5, help="timed rounds; each variant runs once per round"
    )
    parser.add_argument("--json", type=output_path, default=Path("benchmarks/results.json"))
    parser.add_argument("--plot", type=output_path, default=None, help="default: beside --json, .png")
    parser.add_argument(
        "--markdown",
        type=output_path,
        default=None,
        help="also write the table here, as this kind of device's section of the file (RESULTS.md)",
    )
    return parser


def check_outputs(args) -> None:
    """Each file the run writes: writable, one of its own (two flags naming one file would
    overwrite each other), and a markdown file that is a RESULTS file (its sections are rewritten)."""
    writable_file(args.json)
    paths = output_paths(args)
    for path in paths:
        writable_file(path)
    if len({path.resolve() for path in paths}) < len(paths):
        raise UsageError("--json, its .meta.json, its plot (--plot, by default --json's name with .png) "
                         "and --markdown must all be different files")  # fmt: skip
    if args.markdown and args.markdown.exists() and not is_results_file(args.markdown):
        raise UsageError(f"--markdown {str(args.markdown)!r} exists and is not a RESULTS file "
                         f"(one starting {RESULTS_TITLE!r}): its text would be replaced")  # fmt: skip


def check_bounds(args, seeds: list[int], datasets: list) -> None:
    """Epochs the loop counts and the memory of the largest batch, before anything is measured."""
    refuse([epochs_problem(args.epochs)])  # before a TrainConfig is made of them
    configs = [TrainConfig(epochs=args.epochs, hidden=HIDDEN, dtype=dtype) for dtype in args.dtypes]
    problems = [memory_problem(c, max(seeds), len(d.x)) for c in configs for d in datasets]
    refuse(problems)


def main(argv: list[str] | None = None) -> int:
    use_every_cpu_core()
    args = build_parser().parse_args(argv)
    check_outputs(args)
    import jax

    if "float64" in args.dtypes:
        jax.config.update("jax_enable_x64", True)
    import matplotlib

    matplotlib.use("Agg")
    seeds = args.seeds or default_seeds(device_platform())
    command = "python -m benchmarks.throughput " + " ".join(sys.argv[1:] if argv is None else argv)
    datasets = [load_dataset(name, jax.random.key(0)) for name in args.datasets]
    check_bounds(args, seeds, datasets)
    groups = [(dataset, dtype) for dataset in datasets for dtype in args.dtypes]
    info = {"date": datetime.now(UTC).strftime("%Y-%m-%d"), "machine": machine(), "epochs": args.epochs,
            "repeats": args.repeats, "hidden": HIDDEN, "grad": default_gradient(),
            "other_grad": other_gradient(), "command": command, "groups": len(groups)}  # fmt: skip
    measured = []
    for done, (dataset, dtype) in enumerate(groups, start=1):
        fields = {"dataset": dataset.name, "dtype": dtype, "epochs": args.epochs}
        group = contenders(dataset, dtype, seeds, args.epochs, TARGET_SEEDS)
        measured += [fields | record for record in race(group, args.repeats, f"{dataset.name} {dtype}")]
        # written after every group, so a run stopped part-way keeps (and says) what it measured
        text = write_results(peak_records(measured), info | {"groups_done": done}, args)
    print(text)
    return 0


if __name__ == "__main__":
    from twolayer_jax.cli import exit_process, run_cli

    exit_process(run_cli(main, None, "python -m benchmarks.throughput"))
