"""``python -m twolayer_jax.train``: the lab's main job.

Trains the network on each dataset for S seeds at once (one compiled program per dataset),
prints the handout's training, per-point and summary lines, and writes into ``--out`` the
comparison figure and learning curve of each dataset and ``metrics.json``.

Seed s trains from ``jax.random.key(s)``; ``--seeds S`` runs seeds ``--seed`` .. ``--seed + S - 1``,
so any row of a study reproduces alone with ``--seed s --seeds 1``: the same network, the same
data, the same steps, and numbers equal up to float rounding (a batch of runs adds some sums in
another order than a run alone; the README gives the tolerance the tests hold).

Every number is checked before any work (seeds that a key holds, epochs the loop can count, the
memory the runs need, a learning rate the dtype can hold), and so is ``--out``; the outputs are
written into a staging folder that replaces ``--out`` only once complete, so a failure or ctrl-C
leaves the previous output whole.
"""

if __name__ == "__main__":  # before the slow imports below: see twolayer_jax.cli
    from twolayer_jax.cli import remember_ctrl_c_quietly

    remember_ctrl_c_quietly()

import dataclasses
import json
import sys
from importlib.metadata import version
from pathlib import Path

import jax
import numpy as np

from twolayer_jax import formats
from twolayer_jax.activations import hidden_activations, parse_activation
from twolayer_jax.cli import (
    OneLineParser,
    OutputFolder,
    UsageError,
    add_activation_flags,
    checked_by,
    checking_ctrl_c,
    exit_process,
    fraction,
    int_at_least,
    non_negative_float,
    output_path,
    positive_float,
    progress_bars,
    refuse,
    run_cli,
)
from twolayer_jax.config import DTYPES, OPTIMIZER_IMPLS, TrainConfig
from twolayer_jax.data import (
    DATASET_NAMES,
    LINEAR,
    LINEAR_POINTS,
    Dataset,
    linear_handout,
    load_dataset,
    xor_easy,
)
from twolayer_jax.devices import use_every_cpu_core
from twolayer_jax.footprint import epochs_problem, memory_problem, seeds_problem
from twolayer_jax.gradients import GRADIENTS
from twolayer_jax.initialisations import INITIALISATIONS, PARAMETERS, parse_initialisation
from twolayer_jax.losses import LOSSES
from twolayer_jax.many_runs import TrainingInterrupted, progress_total, seed_keys, select_run, train_many
from twolayer_jax.model import forward, predict_labels
from twolayer_jax.network import Network
from twolayer_jax.optimizers import LEARNING_RATES, OPTIMIZERS, HParams, default_hparams
from twolayer_jax.summary import RunSummary, fraction_at_100, representative_index, summarise

LINEAR_DATA = ("keyed", "handout")  # how --linear-data draws the linear dataset's points


def build_parser() -> OneLineParser:
    parser = OneLineParser(
        prog="python -m twolayer_jax.train",
        description="Train the lab's 2-h1-h2-1 sigmoid network with plain gradient descent.",
    )
    parser.add_argument("--dataset", choices=(*DATASET_NAMES, "both"), default="both")
    lab = TrainConfig()
    parser.add_argument(
        "--hidden",
        type=int_at_least(1),
        nargs="+",
        default=list(lab.hidden),
        metavar="H",
        help="hidden widths: one value for both layers, or two (h1 h2); default "
        + " ".join(map(str, lab.hidden)),
    )
    parser.add_argument(
        "--lr",
        type=positive_float,
        default=None,
        help="learning rate (default: the optimizer's own, "
        + ", ".join(f"{name} {lr:g}" for name, lr in LEARNING_RATES.items())
        + ")",
    )
    parser.add_argument("--epochs", type=int_at_least(1), default=lab.epochs)
    parser.add_argument(
        "--seeds",
        type=int_at_least(1),
        default=1,
        help="how many seeds to train at once (one vmapped program)",
    )
    parser.add_argument("--seed", type=int_at_least(0), default=0, help="the first seed")
    parser.add_argument(
        "--data-seed",
        type=int_at_least(0),
        default=0,
        help="seed of the linear dataset's points (shared by every run)",
    )
    parser.add_argument(
        "--linear-data",
        choices=LINEAR_DATA,
        default=LINEAR_DATA[0],
        help="keyed (the default): linear's points drawn from jax.random.key(--data-seed); handout: "
        "the handout's np.random.uniform after np.random.seed(--data-seed), a student's points",
    )
    parser.add_argument("--linear-points", type=int_at_least(1), default=LINEAR_POINTS)
    parser.add_argument(
        "--print-every",
        type=int_at_least(1),
        default=None,
        help="epochs between training lines (default: epochs/10)",
    )
    add_activation_flags(parser, "hidden layers' activation (identity: the lab's no-activation network)")
    parameters = ", ".join(
        f"{name}:{what.upper()} (default {value:g})" for name, (what, value) in PARAMETERS.items()
    )
    parser.add_argument(
        "--init",
        type=checked_by(parse_initialisation),
        default=lab.init,
        metavar="SPEC",
        help=f"the weights' initialisation, one of {', '.join(INITIALISATIONS)} (default {lab.init}; "
        f"glorot is xavier_uniform; {parameters}); biases start at zero",
    )
    parser.add_argument(
        "--grad",
        choices=tuple(GRADIENTS),
        default=lab.grad,
        help="manual (the default): the hand-written backward pass of manual/; autodiff: jax.grad",
    )
    conv = parser.add_argument_group("convolutional model")
    conv.add_argument(
        "--model",
        choices=("dense", "conv"),
        default=lab.model,
        help="conv: layer 2 is a 1-D convolution over layer 1's h1 features",
    )
    conv.add_argument("--channels", type=int_at_least(1), default=lab.channels, help="conv: output channels")
    conv.add_argument("--kernel-size", type=int_at_least(1), default=lab.kernel_size,
                      help="conv: kernel width < h1 ('same' zero padding, stride 1)")  # fmt: skip
    parser.add_argument(
        "--loss",
        choices=tuple(LOSSES),
        default=lab.network.loss,
        help="mse (the lab's) or bce: cross-entropy from the logits (sigmoid output)",
    )
    optimizer = parser.add_argument_group("optimizer")
    optimizer.add_argument(
        "--optimizer",
        choices=tuple(OPTIMIZERS),
        default=lab.optimizer,
        help="sgd is the lab's plain gradient descent",
    )
    optimizer.add_argument(
        "--optimizer-impl",
        choices=tuple(OPTIMIZER_IMPLS),
        default=lab.optimizer_impl,
        help="optax, or the hand-written twins of manual/optimizers.py",
    )
    defaults = HParams()
    for name, meaning in (
        ("momentum", "momentum, nesterov"),
        ("b1", "adam, adamw"),
        ("b2", "adam, adamw"),
        ("decay", "rmsprop's average of squares"),
    ):
        optimizer.add_argument(
            f"--{name}",
            type=fraction,
            default=defaults._asdict()[name],
            help=f"{meaning} (default {defaults._asdict()[name]})",
        )
    optimizer.add_argument(
        "--eps", type=positive_float, default=defaults.eps, help="adagrad, rmsprop, adam(w)"
    )
    optimizer.add_argument(
        "--weight-decay",
        type=non_negative_float,
        default=defaults.weight_decay,
        help=f"adamw (default {defaults.weight_decay})",
    )
    parser.add_argument("--dtype", choices=DTYPES, default=lab.dtype)
    parser.add_argument("--out", type=output_path, default=Path("runs"),
                        help="output folder (default runs/): a run replaces the files its last run "
                        "wrote there, all at once when it is done")  # fmt: skip
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--animate", action="store_true",
                        help="also write <dataset>_learning.gif, the shown seed's decision boundary as it "
                        "learns, and its last frame <dataset>_learning.png (sgd only)")  # fmt: skip
    return parser


def config_from_args(args) -> TrainConfig:
    if len(args.hidden) > 2:
        raise UsageError(f"--hidden takes one or two widths, got {len(args.hidden)}")
    hidden = tuple(args.hidden) * 2 if len(args.hidden) == 1 else tuple(args.hidden)
    for spec in (*hidden_activations(args.activation), args.output_activation):
        _, parameter = parse_activation(spec)
        problem = None if parameter is None else dtype_problem(parameter, args.dtype)
        if problem:
            raise UsageError(f"--activation {spec}: its parameter {problem}")
    name, parameter = parse_initialisation(args.init)
    if name in PARAMETERS and (problem := dtype_problem(parameter, args.dtype)):
        raise UsageError(f"--init {args.init}: its parameter {problem}")
    try:
        return TrainConfig(
            epochs=args.epochs,
            hidden=hidden,
            network=Network(args.activation, args.output_activation, args.loss),
            model=args.model,
            channels=args.channels,
            kernel_size=args.kernel_size,
            optimizer=args.optimizer,
            optimizer_impl=args.optimizer_impl,
            grad=args.grad,
            dtype=args.dtype,
            init=args.init,
        )
    except ValueError as error:  # the config's own checks (bce needs a sigmoid output, k < h1 ...)
        raise UsageError(str(error)) from None


def hparams_from_args(args) -> HParams:
    """The numeric hyper-parameters; without ``--lr``, the optimizer's own learning rate. Each
    must keep its meaning in the run's dtype."""
    lr = default_hparams(args.optimizer).lr if args.lr is None else args.lr
    hparams = HParams(**{name: getattr(args, name) for name in HParams._fields if name != "lr"}, lr=lr)
    for name, value in hparams._asdict().items():
        problem = dtype_problem(value, args.dtype)
        if problem:
            raise UsageError(f"--{name.replace('_', '-')} {value} {problem}")
    return hparams


def dtype_problem(value: float, dtype: str) -> str | None:
    """Why ``value`` would not mean itself in ``dtype`` (None when it does): a positive number that
    rounds to 0 or overflows, or a fraction below 1 that rounds to 1."""
    with np.errstate(over="ignore"):
        stored = float(np.asarray(value, dtype))
    if not np.isfinite(stored):
        return f"does not fit in {dtype} (its largest number is {np.finfo(dtype).max:.3g})"
    if 0 < abs(value) < np.finfo(dtype).tiny:  # XLA on a CPU flushes subnormal numbers to 0
        return (
            f"rounds to 0 in {dtype}'s arithmetic (its smallest normal number is {np.finfo(dtype).tiny:.3g})"
        )
    if value < 1 and stored == 1:
        return f"rounds to 1 in {dtype}"
    return None


def points_of(name: str, args) -> int:
    return args.linear_points if name == LINEAR else len(xor_easy().x)


def check_numbers(args) -> None:
    """Seeds a key holds and epochs the loop counts, before any config is made of them."""
    problems = [seeds_problem(args.seed, args.seeds), seeds_problem(args.data_seed, 1, "--data-seed"),
                epochs_problem(args.epochs)]  # fmt: skip
    refuse(problems)


def check_memory(args, config: TrainConfig, names: tuple[str, ...]) -> None:
    """The memory the runs of each dataset need, before any work."""
    problems = [memory_problem(config, args.seeds, points_of(name, args)) for name in names]
    refuse(problems)


def describe_lr(args, hparams: HParams) -> str:
    """``lr 1`` when given, ``lr 0.01 (adam's default)`` when the optimizer chose it."""
    chosen = "" if args.lr is not None else f" ({args.optimizer}'s default)"
    return f"lr {hparams.lr:g}{chosen}"


def seed_table(runs: list[RunSummary]) -> str:
    rows = ["seed  final loss  accuracy  first epoch at 100%"]
    for run in runs:
        reached = "-" if run.first_epoch_at_100 is None else str(run.first_epoch_at_100)
        if run.diverged:
            rows.append(f"{run.seed:>4}  diverged at epoch {run.diverged_at}")
        else:
            rows.append(
                f"{run.seed:>4}  {run.final_loss:>10.5f}  {100 * run.final_accuracy:>7.2f}%  {reached:>19}"
            )
    return "\n".join(rows)


def describe_interruption(dataset: Dataset, config: TrainConfig, seeds: list[int], stop) -> str:
    """What the completed segments of an interrupted dataset reached."""
    finished = f"{dataset.name}: stopped after {stop.epochs_done} of {config.epochs} epochs"
    if stop.epochs_done == 0:
        return finished
    losses = np.asarray(stop.result.loss)[:, -1]
    finite = losses[np.isfinite(losses)]
    reached = f"median loss {np.median(finite):.5f}" if finite.size else "every seed diverged"
    return f"{finished} ({reached} over {len(seeds) - (len(losses) - finite.size)} of {len(seeds)} seeds)"


def describe_shown(runs: list[RunSummary], shown: RunSummary) -> str:
    if shown.diverged:
        return f"showing seed {shown.seed}: every seed diverged"
    return f"showing seed {shown.seed}: the median final loss of the seeds that did not diverge"


def describe_seeds(seeds: list[int]) -> str:
    return f"seed {seeds[0]}" if len(seeds) == 1 else f"{len(seeds)} seeds ({seeds[0]}..{seeds[-1]})"


def describe(dataset: Dataset, config: TrainConfig, args, hparams: HParams, seeds: list[int]) -> str:
    seed_text = describe_seeds(seeds)
    h1, h2 = config.hidden
    shape = f"hidden {h1}x{h2}"
    if config.model == "conv":
        shape = f"hidden {h1}, conv {config.channels}ch k={config.kernel_size}"
    return (
        f"== {dataset.name}: {len(dataset.x)} points, {seed_text}, {shape}, {describe_lr(args, hparams)}, "
        f"{config.epochs} epochs, {config.network.spec}, "
        f"{config.optimizer} ({config.optimizer_impl}), {config.grad} gradients, {config.init} init, "
        f"{config.dtype}"
    )


def train_dataset(
    dataset: Dataset, config: TrainConfig, hparams: HParams, args, start_progress, folder: Path
) -> dict:
    """Train every seed on ``dataset``, print its lines, save its figures in ``folder``; its
    metrics record."""
    from twolayer_jax.animation import record_seed, recording_problem, save_learning_files
    from twolayer_jax.plots import comparison_figure, learning_curve_figure

    if args.animate and (problem := recording_problem(config)):
        raise UsageError(f"--animate: {problem}")
    seeds = list(range(args.seed, args.seed + args.seeds))
    print(describe(dataset, config, args, hparams, seeds), flush=True)
    progress = checking_ctrl_c(start_progress(f"{dataset.name} ({len(seeds)} seeds)", progress_total(config)))
    try:
        result = train_many(
            config, seed_keys(args.seed, args.seeds), hparams, dataset.x, dataset.y, progress=progress
        )
    except TrainingInterrupted as stop:
        print(describe_interruption(dataset, config, seeds, stop), file=sys.stderr)
        raise
    runs = summarise(seeds, result)
    shown = representative_index(runs)
    run = runs[shown]
    if len(seeds) > 1:
        print(seed_table(runs))
        at_100 = sum(r.final_accuracy == 1.0 for r in runs)
        print(f"{at_100}/{len(runs)} seeds ({100 * fraction_at_100(runs):.2f}%) end at 100.00% accuracy")
        print(describe_shown(runs, run))

    loss_history = np.asarray(result.loss[shown])
    print("\n".join(formats.training_lines(loss_history, args.print_every, run.diverged_at)))
    predicted = None
    if not run.diverged:
        params = select_run(result.params, shown)
        output = np.asarray(forward(params, dataset.x.astype(config.dtype), config.network))
        print("\n".join(formats.prediction_lines(dataset.y, output)))
        predicted = np.asarray(predict_labels(output))
    print(formats.summary_line(run), flush=True)

    files = {
        "comparison": f"{dataset.name}_comparison.png",
        "learning_curve": f"{dataset.name}_learning_curve.png",
    }
    note = f"{dataset.name}, seed {run.seed}: {formats.summary_line(run)}"
    comparison_figure(dataset.x, dataset.y, predicted, note).savefig(folder / files["comparison"], dpi=110)
    curve = learning_curve_figure(
        np.asarray(result.loss), np.asarray(result.accuracy), f"{dataset.name}: {describe_seeds(seeds)}"
    )
    curve.savefig(folder / files["learning_curve"], dpi=110)
    if args.animate:  # the shown seed again, alone, its params kept along the way
        recording = record_seed(config, hparams, dataset, run.seed)
        files |= save_learning_files(recording, config, dataset, f"{dataset.name}, seed {run.seed}", folder)
    return {
        "points": len(dataset.x),
        "representative_seed": run.seed,
        "fraction_at_100": fraction_at_100(runs),
        "runs": [dataclasses.asdict(r) for r in runs],
        "files": files,
    }


def main(argv: list[str] | None = None) -> int:
    use_every_cpu_core()
    args = build_parser().parse_args(argv)
    check_numbers(args)
    config = config_from_args(args)
    hparams = hparams_from_args(args)
    args.print_every = args.print_every or formats.default_print_every(args.epochs)
    names = DATASET_NAMES if args.dataset == "both" else (args.dataset,)
    if args.dtype == "float64":  # before anything of JAX's sees the dtype, the memory check included
        jax.config.update("jax_enable_x64", True)
    check_memory(args, config, names)
    out = OutputFolder(args.out, "train").check()
    import matplotlib

    matplotlib.use("Agg")

    results = {}
    with out.staged() as folder, progress_bars(not args.no_progress) as start_progress:
        datasets = [load_data(name, args) for name in names]
        for dataset in datasets:
            results[dataset.name] = train_dataset(dataset, config, hparams, args, start_progress, folder)
            print()
        write_metrics(folder / "metrics.json", args, config, hparams, results)
    print(f"wrote {args.out}/metrics.json and the figures of {', '.join(results)}")
    return 0


def load_data(name: str, args) -> Dataset:
    """The dataset ``name``; linear's points from ``--data-seed``, drawn as ``--linear-data`` says."""
    if name == LINEAR and args.linear_data == "handout":
        return linear_handout(args.linear_points, args.data_seed)
    return load_dataset(name, jax.random.key(args.data_seed), args.linear_points)


def write_metrics(path: Path, args, config: TrainConfig, hparams: HParams, results: dict) -> None:
    run_settings = {"seeds": args.seeds, "seed": args.seed, "data_seed": args.data_seed,
                    "linear_data": args.linear_data, "linear_points": args.linear_points}  # fmt: skip
    metrics = {
        "config": dataclasses.asdict(config) | hparams._asdict() | run_settings,
        "versions": {name: version(name) for name in ("jax", "jaxlib", "optax")},
        "device": str(jax.devices()[0].device_kind),
        "results": results,
    }
    path.write_text(json.dumps(metrics, indent=2) + "\n")


if __name__ == "__main__":
    exit_process(run_cli(main, None, "python -m twolayer_jax.train"))
