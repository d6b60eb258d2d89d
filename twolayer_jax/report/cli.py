"""``python -m twolayer_jax.report --out DIR``: the lab's whole report, regenerated from real runs.

Runs every experiment (each grid one compiled program, every cell trained on the same S seeds),
then writes ``DIR/results.json`` with every number, the PNG figures, and ``DIR/REPORT.md`` in the
lab's section order. The report's text is built from ``results.json`` alone: no number in it is
typed by hand. ``--quick`` is a fast look (few seeds and epochs); ``--seeds``/``--epochs``
override either setting.
"""

import dataclasses
import json
import math
import sys
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import jax
import numpy as np

from twolayer_jax import formats
from twolayer_jax.activations import ACTIVATIONS as ACTIVATION_REGISTRY
from twolayer_jax.cli import (
    OneLineParser,
    OutputFolder,
    checking_ctrl_c,
    int_at_least,
    output_path,
    progress_bars,
    refuse,
)
from twolayer_jax.config import DTYPES, TrainConfig
from twolayer_jax.data import DATASET_NAMES, XOR_EASY, Dataset, load_dataset
from twolayer_jax.devices import platform, use_every_cpu_core
from twolayer_jax.footprint import (
    bytes_needed,
    epochs_problem,
    memory_problem,
    memory_problem_of,
    parameter_count,
    seeds_problem,
)
from twolayer_jax.many_runs import progress_total, select_run
from twolayer_jax.model import forward, predict_labels
from twolayer_jax.network import Network
from twolayer_jax.optimizers import LEARNING_RATES as OPTIMIZER_RATES
from twolayer_jax.optimizers import HParams
from twolayer_jax.plots import BOUNDARY_POINTS, boundary_axis, boundary_grid
from twolayer_jax.report.explain import SECTION as EXPLANATIONS
from twolayer_jax.report.explain import explanation_experiments, explanation_records, explanation_seeds
from twolayer_jax.report.initialisation import SECTION as INITIALISATION
from twolayer_jax.report.initialisation import (
    initialisation_experiment,
    initialisation_figure_histories,
    initialisation_record,
)
from twolayer_jax.report.study import (
    INTERVAL_CONFIDENCE,
    Cell,
    CellOutcome,
    Experiment,
    GridResult,
    run_grid,
)
from twolayer_jax.report.text import write_report
from twolayer_jax.report.watch import watch_files, watch_section
from twolayer_jax.summary import representative_index

DEFAULT_SEEDS = 32
QUICK_SEEDS = 4
QUICK_EPOCHS = 200
LAB = TrainConfig()  # the lab's own settings
LAB_LR = float(HParams().lr)
LEARNING_RATES = (0.001, 0.01, 0.1, 0.3, 1.0, 3.0, 10.0)  # four decades and more
HIDDEN_UNITS = (1, 2, 4, 8, 16, 32, 100)  # both hidden layers; padded in groups (study.width_groups)
# the all-linear network: stable below about 0.03, diverging within a few epochs above it
NO_ACTIVATION_RATES = (0.001, 0.01, 0.03, 0.1, 1.0)
# every hidden activation but the linear one (its own section), the lab's first; all with sgd, lr 1
ACTIVATIONS = (
    LAB.network.activation,
    *(a for a in ACTIVATION_REGISTRY if a not in (LAB.network.activation, "identity")),
)
# a 1-D convolution over 32 first-layer features, not 100: its work grows with the signal it slides
# over, and the report must stay inside its time (benchmarks/README.md times both)
CONV = {"hidden": (32, 32), "channels": 4, "kernel_size": 5}
CONV_OPTIMIZERS = ("sgd", "adam")  # each at its usual rate (OPTIMIZER_RATES)
# The conv model against dense controls, each with every optimizer above: the lab's dense network,
# and a dense network as narrow as the conv model's first layer, so neither the optimizer nor the
# first layer's width decides the comparison.
CONV_MODELS = (("conv", CONV["hidden"]), ("dense", LAB.hidden), ("dense", CONV["hidden"]))
GRADCHECK_PROBLEMS = 2  # random problems per network: batch 1 and batch 7, non-square widths
LINEAR_NETWORK = Network("identity", "identity")  # the lab's network without activation functions


def build_parser() -> OneLineParser:
    parser = OneLineParser(
        prog="python -m twolayer_jax.report",
        description="Run every experiment of the lab's report; write REPORT.md, its figures, results.json.",
    )
    parser.add_argument(
        "--out", type=output_path, default=Path("runs/report"),
        help="output folder (default runs/report): a report replaces the files of the last one there, "
        "all at once when it is done",
    )  # fmt: skip
    quick_help = f"a fast look: {QUICK_SEEDS} seeds and {QUICK_EPOCHS} epochs per setting"
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--seeds", type=int_at_least(1), default=None,
                        help=f"seeds per setting (default {DEFAULT_SEEDS})")  # fmt: skip
    parser.add_argument("--epochs", type=int_at_least(1), default=None,
                        help=f"epochs per run (default {LAB.epochs})")  # fmt: skip
    parser.add_argument("--dtype", choices=DTYPES, default=LAB.dtype)
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    return parser


@dataclasses.dataclass(frozen=True)
class Settings:
    seeds: int  # per setting of every grid
    epochs: int
    dtype: str


def plan(settings: Settings, datasets: list[Dataset]) -> list[Experiment]:
    """Every grid the report trains, in the order it trains them."""
    base = lr_config(settings)
    seeds = settings.seeds
    experiments = []
    for dataset in datasets:
        lr_cells = [Cell(f"{lr:g}", HParams(lr=lr)) for lr in LEARNING_RATES]
        experiments.append(Experiment("learning_rate", "", dataset, base, lr_cells, seeds))
        # the lab's width is the learning-rate grid's lr-1 cell (see with_lab_width)
        width_cells = [Cell(str(h), HParams(lr=LAB_LR), (h, h)) for h in HIDDEN_UNITS if (h, h) != LAB.hidden]
        experiments.append(Experiment("hidden_units", "", dataset, base, width_cells, seeds))
        linear_net = dataclasses.replace(base, network=LINEAR_NETWORK)
        rate_cells = [Cell(f"{lr:g}", HParams(lr=lr)) for lr in NO_ACTIVATION_RATES]
        experiments.append(Experiment("no_activation", "", dataset, linear_net, rate_cells, seeds))
        for name, lr in OPTIMIZER_RATES.items():
            if name != "sgd":  # the lab's sgd at lr 1 is the learning-rate grid's cell
                config = dataclasses.replace(base, optimizer=name)
                experiments.append(
                    Experiment("optimizers", name, dataset, config, [Cell(name, HParams(lr=lr))], seeds)
                )
        for name in ACTIVATIONS[1:]:  # the lab's, likewise, is already trained
            config = dataclasses.replace(base, network=Network(name))
            experiments.append(
                Experiment("activations", name, dataset, config, [Cell(name, HParams(lr=LAB_LR))], seeds)
            )
        for model, hidden in CONV_MODELS:
            if (model, hidden) == ("dense", LAB.hidden):
                continue  # the lab's network: trained by the learning-rate and optimizer grids
            for name in CONV_OPTIMIZERS:
                config = conv_comparison_config(base, model, hidden, name)
                cells = [Cell(name, HParams(lr=OPTIMIZER_RATES[name]))]
                key = conv_comparison_key(model, hidden, name)
                experiments.append(Experiment("conv", key, dataset, config, cells, seeds))
    experiments.append(initialisation_experiment(base, seeds, datasets))
    return experiments + explanation_experiments(
        base, explanation_seeds(settings.seeds), datasets, max(LEARNING_RATES)
    )


def conv_comparison_config(base: TrainConfig, model: str, hidden: tuple[int, int], optimizer: str):
    """One model of the conv comparison: the conv model, or a dense control of the given widths."""
    conv = {"channels": CONV["channels"], "kernel_size": CONV["kernel_size"]} if model == "conv" else {}
    return dataclasses.replace(base, model=model, hidden=hidden, optimizer=optimizer, **conv)


def conv_comparison_key(model: str, hidden: tuple[int, int], optimizer: str) -> str:
    return f"{model} {hidden[0]}x{hidden[1]} {optimizer}"


def least_squares_fit(dataset: Dataset) -> tuple[np.ndarray, float]:
    """The best affine fit y ≈ x·w + c to the labels: what a network without activations can
    reach. Returns ((w, c), its MSE)."""
    design = np.hstack([dataset.x, np.ones((len(dataset.x), 1))])
    weights, *_ = np.linalg.lstsq(design, dataset.y, rcond=None)
    return weights.ravel(), float(np.mean((design @ weights - dataset.y) ** 2))


def least_squares_loss(dataset: Dataset) -> float:
    return least_squares_fit(dataset)[1]


def least_squares_record(dataset: Dataset) -> dict:
    """The best affine fit's loss, the length of its slope (w) and its constant (c)."""
    (w0, w1, constant), loss = least_squares_fit(dataset)
    return {
        "least_squares_loss": loss,
        "least_squares_slope": float(np.hypot(w0, w1)),
        "least_squares_constant": float(constant),
    }


def lab_index(grid: GridResult) -> int:
    """The cell of a learning-rate grid that is the lab's own setting (lr 1)."""
    return [c.hparams.lr for c in grid.cells].index(LAB_LR)


def main_result(dataset: Dataset, config: TrainConfig, grid: GridResult, out: Path) -> dict:
    """The lab's own run (sigmoid, lr 1) on one dataset: its figures and its numbers."""
    from twolayer_jax.plots import comparison_figure, decision_boundary_figure, learning_curve_figure

    cell = lab_index(grid)
    runs, result = grid.summaries[cell], grid.results[cell]
    shown = representative_index(runs)
    run = runs[shown]
    files = {
        key: f"{dataset.name}_{key}.png" for key in ("comparison", "decision_boundary", "learning_curve")
    }
    record = {
        "representative_seed": run.seed,
        "summary": dataclasses.asdict(run),
        "outcome": dataclasses.asdict(grid.outcomes[cell]),
        "files": files,
        "predictions": None,
        "printout": printout_record(np.asarray(result.loss)[shown], config.epochs),
    }
    predicted, output_grid = None, None
    if not run.diverged:
        params = select_run(result.params, shown)
        output = np.asarray(forward(params, dataset.x.astype(config.dtype), config.network)).ravel()
        record["predictions"] = [
            {"point": i, "target": float(t), "output": float(o)}
            for i, (t, o) in enumerate(zip(dataset.y.ravel(), output, strict=True))
        ]
        predicted = np.asarray(predict_labels(output))
        _, output_grid = boundary_grid(params, config)  # a diverged run has no map
    note = f"{dataset.name}, seed {run.seed}: {formats.summary_line(run)}"
    comparison_figure(dataset.x, dataset.y, predicted, note).savefig(out / files["comparison"], dpi=110)
    decision_boundary_figure(
        boundary_axis(), output_grid, dataset.x, dataset.y,
        f"{dataset.name}: output of seed {run.seed} (black: ŷ = 0.5)",
    ).savefig(out / files["decision_boundary"], dpi=110)  # fmt: skip
    seeds = len(runs)
    learning_curve_figure(
        np.asarray(result.loss),
        np.asarray(result.accuracy),
        f"{dataset.name}: {seeds} seeds, {LAB.network.activation}, lr {LAB_LR:g}",
    ).savefig(out / files["learning_curve"], dpi=110)
    return record


def printout_record(loss_history: np.ndarray, epochs: int) -> dict:
    """The handout's training printout of one run: its loss every ``every`` epochs (None once
    the run has diverged, since JSON holds no inf or NaN)."""
    every = formats.default_print_every(epochs)
    losses = [[k, float(loss_history[k])] for k in range(every, len(loss_history), every)]
    return {"every": every, "losses": [[k, loss if np.isfinite(loss) else None] for k, loss in losses]}


def device_phrase() -> str:
    """The devices the grids ran on, in words: ``2 CPU devices``, ``1 NVIDIA H200``."""
    count, kind = jax.device_count(), jax.devices()[0].device_kind
    if platform() == "cpu":
        return f"{count} CPU device{'s' if count > 1 else ''}"
    return f"{count} × {kind}" if count > 1 else kind


def checked_networks() -> list[tuple[str, Network]]:
    """The networks this report trains: every hidden activation, the lab's network on
    cross-entropy and the linear network (dense), and the conv model."""
    dense = [("dense", Network(name)) for name in ACTIVATIONS]
    cross_entropy = Network(LAB.network.activation, LAB.network.output_activation, "bce")
    return [*dense, ("dense", cross_entropy), ("dense", LINEAR_NETWORK), ("conv", LAB.network)]


def gradient_check() -> dict:
    """The hand-written backward pass against jax.grad and finite differences in float64: the
    lab's network term by term, and the worst error of every network the report trains (the
    ``gradcheck`` CLI covers every network the registries know)."""
    from manual import backward_with_deltas
    from twolayer_jax.checks.comparison import (
        COLUMNS,
        TOLERANCES,
        check_terms,
        checked_problems,
        passes,
        worst_case,
    )
    from twolayer_jax.checks.terms import SYMBOLS

    tolerance = TOLERANCES["float64"]
    dense, conv, description = checked_problems(GRADCHECK_PROBLEMS, 0, "float64")
    problems = {"dense": dense, "conv": conv}

    def worst_checks(model, network):
        return worst_case([check_terms(backward_with_deltas, p, network, tolerance) for p in problems[model]])

    table = worst_checks("dense", LAB.network)
    summary = []
    for model, network in checked_networks():
        checks = worst_checks(model, network)
        worst = {c: max(check.errors.get(c, 0.0) for check in checks.values()) for c in COLUMNS}
        passed = all(passes(check, tolerance) for check in checks.values())
        summary.append({"model": model, "network": network.spec, "worst": worst, "passes": passed})
    return {
        "problems": description,
        "tolerance": tolerance._asdict(),
        "columns": list(COLUMNS),
        "lab_network": [
            {"term": SYMBOLS[name], "errors": check.errors, "passes": passes(check, tolerance)}
            for name, check in table.items()
        ],
        "networks": summary,
    }


def sweep_records(grids: dict[str, GridResult]) -> dict[str, list[dict]]:
    return {name: [dataclasses.asdict(o) for o in grid.outcomes] for name, grid in grids.items()}


def lab_cell(grid: GridResult) -> tuple[CellOutcome, np.ndarray]:
    """The lab's setting (lr 1) of a learning-rate grid, trained on the same seeds as the extras:
    its outcome and losses."""
    cell = lab_index(grid)
    return grid.outcomes[cell], np.asarray(grid.results[cell].loss)


def with_lab_width(widths: GridResult, rates: GridResult) -> GridResult:
    """The width grid with the lab's own width (``LAB.hidden``) added in its place: the
    learning-rate grid's lr-1 cell, which is that run, on the same seeds and initial weights.
    Masks of the full width multiply every gradient by 1, so it trains what a full-width cell
    of a grid laid out alike trains, without training it twice: in float32 to the last bit, in
    float64 to rounding (tested)."""
    cell = lab_index(rates)
    label = str(LAB.hidden[0])
    lab = Cell(label, HParams(lr=LAB_LR), LAB.hidden)
    at = sum(c.widths < LAB.hidden for c in widths.cells)  # the cells are in order of width
    outcome = dataclasses.replace(rates.outcomes[cell], label=label)
    return GridResult(
        [*widths.cells[:at], lab, *widths.cells[at:]],
        [*widths.outcomes[:at], outcome, *widths.outcomes[at:]],
        [*widths.results[:at], rates.results[cell], *widths.results[at:]],
        [*widths.summaries[:at], rates.summaries[cell], *widths.summaries[at:]],
    )


def single_cell_records(grids: dict[str, dict[str, GridResult]], reuse: dict[str, GridResult], label: str):
    """{dataset: {setting: outcome}} for one-cell grids, with ``label``'s from the lr grid."""
    records = {}
    for name, by_label in grids.items():
        outcome = dataclasses.replace(lab_cell(reuse[name])[0], label=label)
        records[name] = {label: dataclasses.asdict(outcome)} | {
            key: dataclasses.asdict(grid.outcomes[0]) for key, grid in by_label.items()
        }
    return records


def single_cell_histories(grids, reuse, label: str) -> dict[str, dict[str, np.ndarray]]:
    histories = {}
    for name, by_label in grids.items():
        histories[name] = {label: lab_cell(reuse[name])[1]} | {
            key: np.asarray(grid.results[0].loss) for key, grid in by_label.items()
        }
    return histories


# each section's grids, as the progress lines and the report's timing name them
SECTION_TITLES = {
    "learning_rate": "learning rates",
    "hidden_units": "hidden units",
    "no_activation": "learning rates without activations",
    "optimizers": "optimizer",
    "activations": "activation",
    "conv": "conv comparison",
    INITIALISATION: "initialisations",
    EXPLANATIONS: "explanation",
}


def grid_title(experiment: Experiment) -> str:
    """``learning rates on linear``, ``optimizer adam on xor_easy``."""
    what = f"{SECTION_TITLES[experiment.section]} {experiment.label}".strip()
    return f"{what} on {experiment.dataset.name}"


def run_experiments(experiments: list[Experiment], show_progress: bool) -> tuple[dict, dict]:
    """Train every experiment: its grids by section and dataset, and the seconds each took."""
    grids: dict = {}
    seconds: dict = {}
    with progress_bars(show_progress) as start_progress:
        overall = start_progress("all experiments", len(experiments))
        for number, experiment in enumerate(experiments, start=1):
            name = experiment.dataset.name
            title = grid_title(experiment)
            cells, seeds = len(experiment.cells), experiment.seeds
            progress = checking_ctrl_c(start_progress(title, progress_total(experiment.config)))
            started = time.perf_counter()
            grid = run_grid(experiment.config, experiment.dataset, experiment.cells, seeds, progress)
            took = time.perf_counter() - started
            print(f"[{number:>2}/{len(experiments)}] {title}: {cells * seeds} runs, {took:.1f} s",
                  file=sys.stderr, flush=True)  # fmt: skip
            if overall:
                overall(number)
            by_section = grids.setdefault(experiment.section, {})
            if experiment.label:
                by_section.setdefault(name, {})[experiment.label] = grid
            else:
                by_section[name] = grid
            seconds[title] = round(took, 1)
    return grids, seconds


def settings_from_args(args) -> Settings:
    seeds = args.seeds or (QUICK_SEEDS if args.quick else DEFAULT_SEEDS)
    epochs = args.epochs or (QUICK_EPOCHS if args.quick else LAB.epochs)
    return Settings(seeds, epochs, args.dtype)


def save(fig, out: Path, file: str) -> str:
    fig.savefig(out / file, dpi=110)
    return file


def loss_histories(grids: dict[str, GridResult]) -> dict[str, dict[str, np.ndarray]]:
    """{dataset: {"lr <rate>": (seeds, epochs + 1) losses}} of a grid over learning rates."""
    return {
        name: {f"lr {c.label}": np.asarray(r.loss) for c, r in zip(g.cells, g.results, strict=True)}
        for name, g in grids.items()
    }


def no_activation_figures(grids: dict, datasets: list[Dataset], results: dict, out: Path) -> dict[str, str]:
    """The linear network's loss curves, and its output on XOR at the first stable rate."""
    from twolayer_jax.plots import curves_figure, decision_boundary_figure

    section = grids["no_activation"]
    histories = loss_histories(section)
    fig = curves_figure(histories, "Without activation functions (a linear network)", loss_ceiling=1e3)
    levels = [results["no_activation"][name]["least_squares_loss"] for name in histories]
    files = {"no_activation": save(with_affine_fit(fig, levels, "upper right"), out, "no_activation.png")}
    xor = next(d for d in datasets if d.name == XOR_EASY)
    grid = section[xor.name]
    cell = best_stable_cell(grid.outcomes)
    output = None
    title = f"{xor.name} without activations: every rate diverged"
    if cell is not None:
        linear_net = TrainConfig(network=LINEAR_NETWORK)
        _, output = boundary_grid(select_run(grid.results[cell].params, 0), linear_net)
        low, high = f"{output.min():.3f}", f"{output.max():.3f}"
        span = low if low == high else f"{low} to {high}"
        title = (
            f"{xor.name} without activations (seed 0, lr {grid.cells[cell].label}):\noutput {span} everywhere"
        )
    boundary = decision_boundary_figure(boundary_axis(), output, xor.x, xor.y, title)
    files["no_activation_boundary"] = save(boundary, out, "no_activation_boundary.png")
    return files


def with_affine_fit(fig, levels: list[float], legend_at: str):
    """``fig`` with each panel's best affine fit's loss drawn across it, dashed, in its legend."""
    for ax, level in zip(fig.axes, levels, strict=False):
        ax.axhline(level, color="black", ls="--", lw=0.8, label=f"best affine fit {level:.4g}")
        ax.legend(loc=legend_at, fontsize="x-small")
    return fig


def best_stable_cell(outcomes: list[CellOutcome]) -> int | None:
    """The cell no run of which diverged with the lowest median final loss: the rate the text
    discusses and the figure shows."""
    stable = [i for i, o in enumerate(outcomes) if o.diverged == 0]
    return min(stable, key=lambda i: outcomes[i].median_final_loss) if stable else None


def overshoots(grid: GridResult) -> list[int]:
    """Per cell, the runs that did not diverge but whose loss rose above its starting value on
    the way: they overshot and came back."""
    counts = []
    for result in grid.results:
        loss = np.asarray(result.loss)
        finite = np.isfinite(loss).all(axis=1)
        counts.append(int(np.sum(finite & (np.max(loss, axis=1, initial=-np.inf) > loss[:, 0]))))
    return counts


def no_activation_record(grid: GridResult, dataset: Dataset) -> dict:
    cell = best_stable_cell(grid.outcomes)
    return {
        "cells": [dataclasses.asdict(o) for o in grid.outcomes],
        "overshot_and_recovered": overshoots(grid),
        "shown_lr": None if cell is None else grid.cells[cell].label,
    } | least_squares_record(dataset)


def figures(grids: dict, datasets: list[Dataset], results: dict, out: Path) -> dict[str, str]:
    """The set-up's, discussion's and extras' figures; their file names by key."""
    from twolayer_jax.plots import curves_figure, paired_styles, sigmoid_figure, sweep_figure
    from twolayer_jax.report.diagram import network_diagram

    seeds = results["settings"]["seeds"]
    lr_grids = grids["learning_rate"]
    files = {
        "sigmoid": save(sigmoid_figure(), out, "sigmoid.png"),
        "network": save(network_diagram(LAB.param_shapes), out, "network.png"),
    }
    title = f"Plain gradient descent, sigmoid, {LAB.hidden[0]} hidden units: {seeds} seeds per rate"
    outcomes = {name: grid.outcomes for name, grid in lr_grids.items()}
    per_seed = {name: grid.summaries for name, grid in lr_grids.items()}
    files["learning_rate"] = save(
        sweep_figure(list(LEARNING_RATES), outcomes, per_seed, "learning rate", title, 10),
        out,
        "learning_rate.png",
    )
    histories = loss_histories(lr_grids)  # under the same title as the sweep's
    files["learning_rate_curves"] = save(curves_figure(histories, title), out, "learning_rate_curves.png")
    title = f"Sigmoid, lr {LAB_LR:g}: {seeds} seeds per width"
    outcomes = {name: grid.outcomes for name, grid in grids["hidden_units"].items()}
    per_seed = {name: grid.summaries for name, grid in grids["hidden_units"].items()}
    files["hidden_units"] = save(
        sweep_figure(list(HIDDEN_UNITS), outcomes, per_seed, "hidden units per layer", title, 2),
        out,
        "hidden_units.png",
    )
    files |= no_activation_figures(grids, datasets, results, out)
    histories = single_cell_histories(grids["optimizers"], lr_grids, "sgd")
    title = "Optimizers (sigmoid), each at its usual learning rate"
    suffixes = {name: f", lr {rate:g}" for name, rate in OPTIMIZER_RATES.items()}
    files["optimizers"] = save(curves_figure(histories, title, suffixes=suffixes), out, "optimizers.png")
    histories = single_cell_histories(grids["activations"], lr_grids, LAB.network.activation)
    title = f"Hidden activations (plain gradient descent, lr {LAB_LR:g})"
    files["activations"] = save(curves_figure(histories, title), out, "activations.png")
    conv = {
        name: {
            conv_comparison_label(model, hidden, optimizer): conv_comparison_cell(
                grids, name, model, hidden, optimizer
            )[1]
            for model, hidden in CONV_MODELS
            for optimizer in CONV_OPTIMIZERS
        }
        for name in lr_grids
    }
    title = (
        f"A convolutional layer 2 (over {CONV['hidden'][0]} features, {CONV['channels']} channels, kernel "
        f"{CONV['kernel_size']}) against dense networks"
    )
    compared = [(model, hidden, optimizer) for model, hidden in CONV_MODELS for optimizer in CONV_OPTIMIZERS]
    styles = paired_styles({conv_comparison_label(*c): (f"{c[0]} {c[1]}", c[2]) for c in compared})
    suffixes = {conv_comparison_label(*c): f", lr {OPTIMIZER_RATES[c[2]]:g}" for c in compared}
    files["conv"] = save(curves_figure(conv, title, styles=styles, suffixes=suffixes), out, "conv.png")
    ((name, grid),) = grids[INITIALISATION].items()
    title = f"Initialisations on {name}, sigmoid, plain gradient descent: {seeds} seeds each"
    histories = initialisation_figure_histories(grid)
    level = results["no_activation"][name]["least_squares_loss"]
    fig = with_affine_fit(curves_figure(histories, title), [level] * len(histories), "lower left")
    files["initialisation"] = save(fig, out, "initialisation.png")
    return files


def conv_comparison_label(model: str, hidden: tuple[int, int], optimizer: str) -> str:
    """``conv over 32 features, adam``, ``dense 100–100, sgd``."""
    if model == "conv":
        return f"conv over {hidden[0]} features, {optimizer}"
    return f"{model} {hidden[0]}–{hidden[1]}, {optimizer}"


def conv_comparison_cell(
    grids: dict, name: str, model: str, hidden: tuple[int, int], optimizer: str
) -> tuple[CellOutcome, np.ndarray]:
    """One model of the conv comparison on dataset ``name``: its outcome and its loss histories.
    The lab's dense network comes from the grids that already trained it."""
    if (model, hidden) != ("dense", LAB.hidden):
        grid = grids["conv"][name][conv_comparison_key(model, hidden, optimizer)]
    elif optimizer == "sgd":
        return lab_cell(grids["learning_rate"][name])
    else:
        grid = grids["optimizers"][name][optimizer]
    return grid.outcomes[0], np.asarray(grid.results[0].loss)


def conv_comparison_records(grids: dict, settings: "Settings") -> dict[str, list[dict]]:
    """Per dataset, every model of the conv comparison: what it is, its size and its outcome."""
    base = lr_config(settings)
    return {
        name: [
            {
                "model": model,
                "hidden": list(hidden),
                "optimizer": optimizer,
                "lr": OPTIMIZER_RATES[optimizer],
                "parameters": parameter_count(conv_comparison_config(base, model, hidden, optimizer)),
                "outcome": dataclasses.asdict(conv_comparison_cell(grids, name, model, hidden, optimizer)[0]),
            }
            for model, hidden in CONV_MODELS
            for optimizer in CONV_OPTIMIZERS
        ]
        for name in grids["learning_rate"]
    }


def dataset_record(dataset: Dataset) -> dict:
    ones = int(dataset.y.sum())
    return {
        "points": len(dataset.x),
        "label_1": ones,
        "label_0": len(dataset.y) - ones,
        "constant_accuracy": max(ones, len(dataset.y) - ones) / len(dataset.y),
    }


def collect_results(grids: dict, datasets: list[Dataset], settings: Settings, out: Path) -> dict:
    """Every number the report quotes, keyed by section; main-result figures are drawn here."""
    lr_grids = grids["learning_rate"]
    no_activation = {d.name: no_activation_record(grids["no_activation"][d.name], d) for d in datasets}
    return {
        "settings": dataclasses.asdict(settings)
        | {
            "lab_lr": LAB_LR,
            "hidden": list(LAB.hidden),
            "inputs": 2,
            "outputs": 1,
            "threshold": 0.5,
            "interval_confidence": INTERVAL_CONFIDENCE,
            "boundary_points": BOUNDARY_POINTS,
            "shapes": {name: list(shape) for name, shape in LAB.param_shapes.items()},
            "parameters": parameter_count(LAB),
            "layer_parameters": [
                math.prod(LAB.param_shapes[f"W{k}"]) + math.prod(LAB.param_shapes[f"b{k}"]) for k in (1, 2, 3)
            ],
        },
        "datasets": {d.name: dataset_record(d) for d in datasets},
        "main": {d.name: main_result(d, lr_config(settings), lr_grids[d.name], out) for d in datasets},
        "learning_rate": sweep_records(lr_grids),
        "hidden_units": sweep_records(grids["hidden_units"]),
        "no_activation": no_activation,
        "optimizers": {
            "rates": OPTIMIZER_RATES,
            "outcomes": single_cell_records(grids["optimizers"], lr_grids, "sgd"),
        },
        "activations": {
            "lr": LAB_LR,
            "outcomes": single_cell_records(grids["activations"], lr_grids, LAB.network.activation),
        },
        "conv": {
            "features": CONV["hidden"][0],
            "channels": CONV["channels"],
            "kernel_size": CONV["kernel_size"],
            "models": conv_comparison_records(grids, settings),
        },
        INITIALISATION: initialisation_results(grids[INITIALISATION], datasets, settings),
        EXPLANATIONS: explanation_records(grids, datasets, lr_config(settings)),
    }


def initialisation_results(grids: dict[str, GridResult], datasets: list[Dataset], settings: Settings) -> dict:
    """The initialisation grid's record (it trains on one dataset)."""
    ((name, grid),) = grids.items()
    dataset = next(d for d in datasets if d.name == name)
    return initialisation_record(grid, dataset, lr_config(settings))


def lr_config(settings: Settings) -> TrainConfig:
    """The lab's network, trained on the hand-written gradients and optimizers of ``manual/``
    (the same numbers as ``jax.grad``'s and optax's to rounding, both tested): the report's runs
    use JAX as their array library and compiler, never its differentiation or optax's updates."""
    return dataclasses.replace(
        LAB, epochs=settings.epochs, dtype=settings.dtype, grad="manual", optimizer_impl="manual"
    )


def check_numbers(settings: Settings) -> None:
    """Seeds a key holds and epochs the loop counts, before any config is made of them."""
    refuse([seeds_problem(0, settings.seeds, None), epochs_problem(settings.epochs)])


def check_memory(experiments: list[Experiment]) -> None:
    """The memory the grids need, before any training: each one's while it trains, and all of
    them together, since the report keeps every grid's histories until it writes."""
    problems = [memory_problem(e.config, len(e.cells) * e.seeds, len(e.dataset.x)) for e in experiments]
    needed = sum(bytes_needed(e.config, len(e.cells) * e.seeds, len(e.dataset.x)) for e in experiments)
    problems.append(memory_problem_of(f"the report's {len(experiments)} grids", needed))
    refuse(problems)


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    use_every_cpu_core()
    args = build_parser().parse_args(argv)
    jax.config.update("jax_enable_x64", True)  # the gradient check's float64; training keeps its dtype
    import matplotlib

    matplotlib.use("Agg")

    settings = settings_from_args(args)
    check_numbers(settings)
    datasets = [load_dataset(name, jax.random.key(0)) for name in DATASET_NAMES]
    experiments = plan(settings, datasets)
    check_memory(experiments)
    out = OutputFolder(args.out, "report").check()
    print(f"report: {len(experiments)} grids, {settings.seeds} seeds per setting, {settings.epochs} epochs, "
          f"{settings.dtype}, on {device_phrase()}", file=sys.stderr)  # fmt: skip
    with out.staged() as folder:
        results = write_everything(experiments, datasets, settings, folder, args, argv, started)
    print(f"wrote {args.out}/REPORT.md, results.json and {len(results['files'])} figures "
          f"in {results['run']['total_seconds']} s")  # fmt: skip
    return 0


def write_everything(experiments, datasets, settings, folder: Path, args, argv, started: float) -> dict:
    """Train every grid, then draw and write the whole report into ``folder``; its results."""
    grids, seconds = run_experiments(experiments, not args.no_progress)
    rates, widths = grids["learning_rate"], grids["hidden_units"]
    grids["hidden_units"] = {name: with_lab_width(grid, rates[name]) for name, grid in widths.items()}
    results = collect_results(grids, datasets, settings, folder)
    checked = time.perf_counter()
    results["gradient_check"] = gradient_check()
    seconds["gradient check"] = round(time.perf_counter() - checked, 1)
    watched = time.perf_counter()
    shown = {name: record["representative_seed"] for name, record in results["main"].items()}
    results["watch"] = watch_section(datasets, lr_config(settings), shown, folder)
    seconds["watch it learn"] = round(time.perf_counter() - watched, 1)
    main_files = {f"main_{name}_{key}": file for name, record in results["main"].items()
                  for key, file in record["files"].items()}  # fmt: skip
    results["files"] = figures(grids, datasets, results, folder) | main_files | watch_files(results["watch"])
    results["run"] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "device": device_phrase(),
        "versions": {name: version(name) for name in ("jax", "jaxlib", "optax")},
        "seconds": seconds,
        "total_seconds": round(time.perf_counter() - started, 1),
        "command": "python -m twolayer_jax.report " + " ".join(sys.argv[1:] if argv is None else argv),
    }
    (folder / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (folder / "REPORT.md").write_text(write_report(results))
    return results
