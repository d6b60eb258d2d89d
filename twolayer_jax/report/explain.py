"""Explanations backed by measurements: why the report's grids come out as they do.

Each phenomenon the discussion shows (the loss rising early at the lab's rate, the collapse at
the largest rate, the points a small rate leaves wrong, width against step size, the single-unit
network on XOR, momentum against sgd, AdamW against Adam, sigmoid the slowest activation) gets a
measurement the report makes itself: read off the grids it already trains, or off two small extra
grids (:func:`explanation_experiments`), or off the networks at initialisation. The records
(:func:`explanation_records`, ``results["explanations"]``) hold only numbers; the sentences (the
``*_sentences`` functions, called by :mod:`twolayer_jax.report.text`) read them and claim only what
they show: where a number comes out the other way, the sentence says so instead.
"""

import dataclasses
import math
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from manual import backward_with_deltas
from twolayer_jax.config import TrainConfig
from twolayer_jax.data import LINEAR, Dataset
from twolayer_jax.many_runs import select_run
from twolayer_jax.model import forward_layers
from twolayer_jax.network import Network
from twolayer_jax.optimizers import LEARNING_RATES as OPTIMIZER_RATES
from twolayer_jax.optimizers import HParams
from twolayer_jax.report.study import (
    Cell,
    CellOutcome,
    Experiment,
    GridResult,
    cell_outcome,
    epoch_quantiles,
    seeds_initial_params,
)
from twolayer_jax.report.wording import (
    epochs_overlap,
    faster_apart,
    interquartile,
    intervals_overlap,
    listing,
    number,
    percent,
    scientific,
    share_interval,
    significant,
    whole_percent,
)

SECTION = "explanations"  # the extra grids' section in plan() and in the trained grids
BCE = "bce"  # the extra grid that retrains the collapsing rate with cross-entropy
SCALED = "scaled widths"  # the extra grid of narrow widths at a rate scaled by 100/h
# Narrow widths of the hidden-units grid retrained at lr · (lab width)/h; the lab's width is that
# grid's own cell at the lab's rate. The grid is padded to 32, not 100, so it stays cheap.
SCALED_WIDTHS = (8, 16, 32)
EARLY_EPOCHS = 500  # "early": the first epochs, where the lab's rate overshoots
# A loss that grows by more than this fraction in one epoch rises; float32 rounding of a loss
# near 0.25 is about 1e-7 of it, and gradient descent below its stability limit never rises.
RISE_TOLERANCE = 1e-5
CONSTANT_SPREAD = 0.01  # an output whose range over the data is below this is constant
SATURATED_SLOPE = 1e-3  # σ'(a₃) below this at every point: the output unit is saturated


# ---------------------------------------------------------------- the extra grids


def scaled_rate(width: int, lab_width: int, lab_rate: float) -> float:
    """The rate at which a width-h network's output moves as the lab's does at ``lab_rate``.

    a₃ = Σⱼ z₂ⱼ W₃ⱼ + b₃ sums h terms, and a step changes each W₃ⱼ by −lr·Σᵢ δ₃ᵢ z₂ᵢⱼ, so point k's
    a₃ moves by −lr·Σᵢ δ₃ᵢ Σⱼ z₂ₖⱼ z₂ᵢⱼ: a sum over j of h terms of about the same size (z₂ starts
    near 1/2). The same lr moves a width-h
    output about h/100 as far as the lab's; lr·100/h moves it as far."""
    return lab_rate * lab_width / width


def explanation_seeds(seeds: int) -> int:
    """The extra grids' seeds: a quarter of the discussion's (8 of 32), enough for a count and a
    median, so that both grids on both datasets add about half a minute to a full report."""
    return max(1, seeds // 4)


def explanation_experiments(
    base: TrainConfig, seeds: int, datasets: list[Dataset], collapse_rate: float
) -> list[Experiment]:
    """The two extra grids per dataset: the lab's network on cross-entropy at ``collapse_rate``
    (the learning-rate grid's largest), and :data:`SCALED_WIDTHS` at their scaled rates."""
    lab_rate = float(HParams().lr)
    bce = dataclasses.replace(base, network=dataclasses.replace(base.network, loss=BCE))
    narrow = dataclasses.replace(base, hidden=(max(SCALED_WIDTHS),) * 2)
    widths = [
        Cell(str(h), HParams(lr=scaled_rate(h, base.hidden[0], lab_rate)), (h, h)) for h in SCALED_WIDTHS
    ]
    experiments = []
    for dataset in datasets:
        collapse = [Cell(f"{collapse_rate:g}", HParams(lr=collapse_rate))]
        experiments.append(Experiment(SECTION, BCE, dataset, bce, collapse, seeds))
        experiments.append(Experiment(SECTION, SCALED, dataset, narrow, widths, seeds))
    return experiments


# ---------------------------------------------------------------- (a) the early rise


def rises(loss: np.ndarray, window: int) -> np.ndarray:
    """Per run, the epochs among the first ``window`` in which the loss grew by more than
    :data:`RISE_TOLERANCE` of itself; ``loss`` is (runs, epochs + 1). A diverged run's
    non-finite losses count as no rise (its divergence is counted elsewhere)."""
    early = loss[:, : window + 1]
    with np.errstate(invalid="ignore"):
        return np.nan_to_num(early[:, 1:] - early[:, :-1] * (1 + RISE_TOLERANCE), nan=-1.0) > 0


def largest_rise(loss: np.ndarray, window: int) -> float:
    """The largest growth of the loss in one of the first ``window`` epochs, over every run
    (0 if it never grows; non-finite losses are left out)."""
    early = loss[:, : window + 1]
    steps = early[:, 1:] - early[:, :-1]
    finite = steps[np.isfinite(steps)]
    return float(max(0.0, finite.max(initial=0.0)))


def early_rise_record(grid: GridResult, window: int) -> list[dict]:
    """Per rate: the runs whose loss rises in an early epoch, the median count of such epochs per
    run (oscillation rises again and again; the lower median, a count some run had) and the largest
    single rise (2 significant digits)."""
    records = []
    for cell, result in zip(grid.cells, grid.results, strict=True):
        loss = np.asarray(result.loss)
        rising = rises(loss, window)
        records.append(
            {
                "label": cell.label,
                "seeds": len(loss),
                "rising": int(rising.any(axis=1).sum()),
                "median_rises": epoch_quantiles(rising.sum(axis=1).tolist(), (0.5,))[0],
                "largest_rise": significant(largest_rise(loss, window)),
            }
        )
    return records


def output_layer_curvature(params: dict, x: np.ndarray, y: np.ndarray, network: Network) -> jax.Array:
    """The largest eigenvalue of the loss's Hessian in the output layer's weights and bias
    (W₃, b₃), the rest held fixed. Gradient descent on a quadratic is stable only for
    lr < 2/λ_max; this block is a principal submatrix of the whole Hessian, so its largest
    eigenvalue is at most the whole one's, and 2/λ here bounds the stable rate from above."""
    cache = forward_layers(params, x, network)
    inputs = jnp.hstack([cache.z2, jnp.ones((len(x), 1), cache.z2.dtype)])
    loss_fn, output = network.loss_function(), network.output_function()

    def loss_of(weights):
        logits = inputs @ weights[:, None]
        return loss_fn(logits, output(logits), y)

    weights = jnp.concatenate([params["W3"].ravel(), params["b3"]])
    return jnp.linalg.eigvalsh(jax.hessian(loss_of)(weights))[-1]


@partial(jax.jit, static_argnames="network")
def curvatures(params: dict, x: jax.Array, y: jax.Array, network: Network) -> jax.Array:
    """:func:`output_layer_curvature` of every run of ``params`` (leading axis: runs)."""
    return jax.vmap(output_layer_curvature, in_axes=(0, None, None, None))(params, x, y, network)


def stability_limit(dataset: Dataset, config: TrainConfig, seeds: int) -> float:
    """The median over seeds of 2/λ_max of the output layer's Hessian at initialisation: the
    largest rate at which even that layer alone would not overshoot."""
    params = seeds_initial_params(config.architecture, seeds)
    x, y = (jnp.asarray(a, config.dtype) for a in (dataset.x, dataset.y))
    curvature = curvatures(params, x, y, config.network)
    return float(np.median(2 / np.asarray(curvature)))


# ---------------------------------------------------------------- (b) the collapse


def output_state(params: dict, dataset: Dataset, network: Network) -> dict:
    """What one run's output unit does over the data: ŷ's range (max − min), the smallest |a₃|,
    the largest σ'(a₃) = ŷ(1 − ŷ), and the side ŷ sits on (its median)."""
    cache = forward_layers(params, jnp.asarray(dataset.x, params["W1"].dtype), network)
    output, logits = np.asarray(cache.y).ravel(), np.asarray(cache.x3).ravel()
    return {
        "spread": float(output.max() - output.min()),
        "smallest_logit": float(np.abs(logits).min()),
        "largest_slope": float((output * (1 - output)).max()),
        "median_output": float(np.median(output)),
    }


def sigmoid_slope(logit: float) -> float:
    """σ'(t) = e^−|t| / (1 + e^−|t|)² in float64, exact where the run's own dtype rounds σ(t) to
    0 or 1 and σ' to 0: the largest σ' of an output whose |a₃| is at least ``logit``."""
    tail = math.exp(-abs(logit))
    return tail / (1 + tail) ** 2


def failed_outputs(runs: list, result, dataset: Dataset, network: Network) -> tuple[int, list[dict]]:
    """How many runs neither reach 100 % nor diverge, and the :func:`output_state` of each of
    them whose output is constant over the data and saturated (stuck)."""
    failed = [i for i, r in enumerate(runs) if not r.diverged and r.final_accuracy < 1]
    states = [output_state(select_run(result.params, i), dataset, network) for i in failed]
    stuck = [s for s in states if s["spread"] < CONSTANT_SPREAD and s["largest_slope"] < SATURATED_SLOPE]
    return len(failed), stuck


def collapse_record(grid: GridResult, bce: GridResult, dataset: Dataset, network: Network) -> dict:
    """The collapsing rate's runs that neither reach 100 % nor diverge, and how many of them have
    a constant, saturated output; beside them, what cross-entropy at that rate does, and how
    many of its failed runs are stuck that way."""
    cell = [c.label for c in grid.cells].index(bce.cells[0].label)
    runs, result = grid.summaries[cell], grid.results[cell]
    failed, stuck = failed_outputs(runs, result, dataset, network)
    bce_network = dataclasses.replace(network, loss=BCE)
    bce_failed, bce_stuck = failed_outputs(bce.summaries[0], bce.results[0], dataset, bce_network)
    smallest = min((s["smallest_logit"] for s in stuck), default=None)
    bce_failed_accuracy = [
        r.final_accuracy for r in bce.summaries[0] if not r.diverged and r.final_accuracy < 1
    ]
    return {
        "lr": grid.cells[cell].label,
        "seeds": len(runs),
        "failed": failed,
        "constant_and_saturated": len(stuck),
        "not_stuck": failed - len(stuck),
        "at_one": sum(s["median_output"] >= 0.5 for s in stuck),
        "largest_spread": max((s["spread"] for s in stuck), default=None),
        "largest_slope": max((s["largest_slope"] for s in stuck), default=None),
        "smallest_logit": smallest,
        "slope_bound": None if smallest is None else sigmoid_slope(smallest),
        "mse": dataclasses.asdict(first_seeds(grid, bce.outcomes[0].seeds)[cell]),
        "bce": dataclasses.asdict(bce.outcomes[0]),
        "bce_failed": bce_failed,
        "bce_constant_and_saturated": len(bce_stuck),
        # the lower median, an accuracy some failed run ended at
        "bce_failed_median_accuracy": lower_median(bce_failed_accuracy),
    }


def lower_median(values: list[float]) -> float | None:
    """The lower of the two middle values (the middle one of an odd count): a value some run had."""
    return float(np.quantile(values, 0.5, method="inverted_cdf")) if values else None


# ---------------------------------------------------------------- (c) the points left wrong


def diagonal_distance(x: np.ndarray) -> np.ndarray:
    """Each point's distance to ``linear``'s boundary, the diagonal x₀ = x₁: |x₀ − x₁|/√2."""
    return np.abs(x[:, 0] - x[:, 1]) / math.sqrt(2)


def boundary_points_record(grid: GridResult, dataset: Dataset, network: Network, below: float) -> list[dict]:
    """For each rate below ``below`` where some run that did not diverge ends short of 100 %:
    the points those runs misclassify, against all points, by their distance to the diagonal.
    ``farthest_rank`` is the rank (1 = nearest) of the farthest misclassified point; distances are
    kept to 2 significant digits."""
    distance = diagonal_distance(dataset.x)
    rank = np.argsort(np.argsort(distance)) + 1
    records = []
    for cell, runs, result in zip(grid.cells, grid.summaries, grid.results, strict=True):
        short = [i for i, r in enumerate(runs) if not r.diverged and r.final_accuracy < 1]
        if cell.hparams.lr >= below or not short:
            continue
        wrong = np.concatenate([misclassified(select_run(result.params, i), dataset, network) for i in short])
        records.append(
            {
                "label": cell.label,
                "seeds": len(runs),
                "short": len(short),
                "misclassified": int(wrong.size),
                "median_misclassified_distance": significant(float(np.median(distance[wrong]))),
                "median_distance": significant(float(np.median(distance))),
                "farthest_rank": int(rank[wrong].max()),
                "points": len(distance),
            }
        )
    return records


def misclassified(params: dict, dataset: Dataset, network: Network) -> np.ndarray:
    """The indices of the points one run's thresholded output gets wrong."""
    output = np.asarray(forward_layers(params, jnp.asarray(dataset.x, params["W1"].dtype), network).y)
    return np.flatnonzero((output >= 0.5).astype(float) != dataset.y)


# ---------------------------------------------------------------- (d) width and step size


def first_seeds(grid: GridResult, seeds: int) -> list[CellOutcome]:
    """Each cell's outcome over its first ``seeds`` seeds, to compare like with like with an
    extra grid that trains seeds 0..seeds−1."""
    return [cell_outcome(c.label, runs[:seeds]) for c, runs in zip(grid.cells, grid.summaries, strict=True)]


def narrowest_over_widest(rows: list[dict], key: str) -> float | None:
    """The narrowest width's median epochs to 100 % over the widest's (None unless some run of
    both got there): above 1, wider is faster."""
    first, last = rows[0][key]["median_epochs_to_100"], rows[-1][key]["median_epochs_to_100"]
    return None if first is None or last is None else first / last


def scaled_widths_record(
    widths: GridResult, scaled: GridResult, lab_rate: float, limits: dict[int, float]
) -> dict:
    """Per width: its outcome at the lab's rate (the hidden-units grid) and at the rate scaled
    by 100/h (the extra grid; the lab's width is its own scaled cell), on the same count of seeds
    (the first ones), and its output layer's stability limit at initialisation (``limits``, by
    width); and each way, the narrowest's median epochs to 100 % over the widest's."""
    seeds = scaled.outcomes[0].seeds
    at_lab = {c.label: o for c, o in zip(widths.cells, first_seeds(widths, seeds), strict=True)}
    rescaled = {c.label: (c.hparams.lr, o) for c, o in zip(scaled.cells, scaled.outcomes, strict=True)}
    lab_width = max(at_lab, key=int)
    rescaled[lab_width] = (lab_rate, at_lab[lab_width])
    rows = [
        {
            "width": int(label),
            "lr": float(rate),
            "scaled": dataclasses.asdict(outcome),
            "unscaled": dataclasses.asdict(at_lab[label]),
            "stability_limit": significant(limits[int(label)]),
        }
        for label, (rate, outcome) in sorted(rescaled.items(), key=lambda item: int(item[0]))
    ]
    return {
        "seeds": seeds,
        "widths": rows,
        "unscaled_ratio": narrowest_over_widest(rows, "unscaled"),
        "scaled_ratio": narrowest_over_widest(rows, "scaled"),
    }


# ---------------------------------------------------------------- (h) one unit is a line


def best_line_accuracy(x: np.ndarray, y: np.ndarray) -> float:
    """The best accuracy any half-plane (label 1 on one side of a line, 0 on the other) reaches
    on the points ``x`` with 0/1 labels ``y``, by exhausting the finitely many ways a line splits
    them.

    A line splits the points by thresholding their projections on its normal u(θ); the order of
    the projections changes only at the angles where u is perpendicular to x_i − x_j. Between two
    such neighbouring angles every split by a threshold is the same, so one angle inside each gap
    (and every threshold between consecutive projections, both labellings) covers every split; a
    split at an angle with ties is also made at an angle beside it."""
    differences = (x[:, None, :] - x[None, :, :]).reshape(-1, 2)
    differences = differences[np.any(differences != 0, axis=1)]
    critical = np.unique(np.mod(np.arctan2(differences[:, 1], differences[:, 0]) + np.pi / 2, np.pi))
    edges = np.concatenate([critical, [critical[0] + np.pi]]) if critical.size else np.array([0.0, np.pi])
    angles = (edges[:-1] + edges[1:]) / 2
    labels = y.ravel().astype(bool)
    return max(split_accuracy(x @ np.array([np.cos(t), np.sin(t)]), labels) for t in angles)


def split_accuracy(projection: np.ndarray, labels: np.ndarray) -> float:
    """The best accuracy of thresholding one projection: label 1 above the threshold or below,
    at every threshold between consecutive values (and beyond both ends)."""
    ones = labels[np.argsort(projection)]
    ones_below = np.concatenate([[0], np.cumsum(ones)])  # label-1 points below each cut
    below = np.arange(len(ones) + 1)
    zeros_below = below - ones_below
    above_is_one = zeros_below + (ones.sum() - ones_below)
    best = max(above_is_one.max(), (len(ones) - above_is_one).max())
    return float(best / len(ones))


def correct(accuracy: float, points: int) -> int:
    """The points an accuracy counts as right (a float32 mean of 0/1 is off in its last bits)."""
    return round(accuracy * points)


def best_line_record(widths: GridResult, dataset: Dataset) -> dict:
    """The narrowest width's final accuracies against the best any line reaches."""
    narrowest = min(range(len(widths.cells)), key=lambda c: int(widths.cells[c].label))
    accuracies = [r.final_accuracy for r in widths.summaries[narrowest] if not r.diverged]
    best, points = best_line_accuracy(dataset.x, dataset.y), len(dataset.x)
    return {
        "width": int(widths.cells[narrowest].label),
        "best_line_accuracy": best,
        "runs": len(accuracies),
        "median_final_accuracy": float(np.median(accuracies)) if accuracies else None,
        "max_final_accuracy": max(accuracies, default=None),
        "above_best_line": sum(correct(a, points) > correct(best, points) for a in accuracies),
    }


# ---------------------------------------------------------------- (f, g) the optimizers


def momentum_record(limits: dict[str, float]) -> dict:
    """Momentum's step once its velocity v ← g + β·v has built up: v → g/(1 − β), so the step is
    lr/(1 − β) times the gradient, as sgd's at that rate. On a quadratic of curvature λ, plain
    gradient descent is stable for lr·λ < 2 and heavy-ball momentum for lr·λ < 2(1 + β); per
    dataset, lr·λ_max of each at the output layer's curvature at initialisation (``limits``:
    2/λ_max), to 2 significant digits."""
    beta = float(HParams().momentum)
    rate, sgd_rate = OPTIMIZER_RATES["momentum"], OPTIMIZER_RATES["sgd"]
    return {
        "lr": rate,
        "beta": beta,
        "effective_lr": rate / (1 - beta),
        "sgd_lr": sgd_rate,
        "momentum_bound": significant(2 * (1 + beta)),
        "step_times_curvature": {
            name: {"sgd": significant(2 * sgd_rate / limit), "momentum": significant(2 * rate / limit)}
            for name, limit in limits.items()
        },
    }


def weight_decay_record(optimizers: dict[str, dict[str, GridResult]], epochs: int) -> dict:
    """AdamW's decoupled decay θ ← θ − lr·(u + λθ) scales every weight by (1 − lr·λ) per step
    besides Adam's update u; over the run that is (1 − lr·λ)^epochs (3 significant digits; the
    shrink, 1 minus it, to 1). Beside it, per dataset, how far AdamW's median final loss is from
    Adam's (absolute, and relative to Adam's)."""
    rate, decay = OPTIMIZER_RATES["adamw"], float(HParams().weight_decay)
    differences = {}
    for name, by_optimizer in optimizers.items():
        adam, adamw = (by_optimizer[k].outcomes[0].median_final_loss for k in ("adam", "adamw"))
        if adam is not None and adamw is not None:
            differences[name] = {"difference": adamw - adam, "relative": abs(adamw - adam) / adam}
    return {
        "lr": rate,
        "weight_decay": decay,
        "per_step": rate * decay,
        "epochs": epochs,
        "shrink": significant((1 - rate * decay) ** epochs, 3),
        "shrinks_by": significant(1 - (1 - rate * decay) ** epochs, 1),
        "final_loss": differences,
    }


# ---------------------------------------------------------------- (i) the gradient through σ'


def delta_ratios(params: dict, x: jax.Array, y: jax.Array, network: Network) -> jax.Array:
    """‖δ₂‖/‖δ₃‖ and ‖δ₁‖/‖δ₃‖ of one network, from the hand-written backward pass."""
    _, deltas = backward_with_deltas(params, x, y, network)
    norms = [jnp.linalg.norm(d) for d in deltas]
    return jnp.stack([norms[1] / norms[2], norms[0] / norms[2]])


@partial(jax.jit, static_argnames="networks")
def many_delta_ratios(params: dict, x: jax.Array, y: jax.Array, networks: tuple[Network, ...]) -> jax.Array:
    """:func:`delta_ratios` of every network and every run of ``params`` (leading axis: runs),
    shape (networks, runs, 2): one program for all of them, compiled once."""
    return jnp.stack(
        [jax.vmap(delta_ratios, in_axes=(0, None, None, None))(params, x, y, network) for network in networks]
    )


def delta_ratio_record(dataset: Dataset, config: TrainConfig, activations: list[str], seeds: int) -> dict:
    """Per hidden activation, the median over seeds of ‖δ₂‖/‖δ₃‖ and ‖δ₁‖/‖δ₃‖ at
    initialisation (‖δ₁‖/‖δ₃‖, which the report prints, to 2 significant digits): how much of the
    output's gradient reaches each hidden layer."""
    params = seeds_initial_params(config.architecture, seeds)
    x, y = (jnp.asarray(a, config.dtype) for a in (dataset.x, dataset.y))
    networks = tuple(dataclasses.replace(config.network, activation=name) for name in activations)
    ratios = np.median(np.asarray(many_delta_ratios(params, x, y, networks)), axis=1)
    return {
        name: {"delta2": float(r[0]), "delta1": significant(float(r[1]))}
        for name, r in zip(activations, ratios, strict=True)
    }


# ---------------------------------------------------------------- all of them


def explanation_records(grids: dict, datasets: list[Dataset], config: TrainConfig) -> dict:
    """Every measurement above, for ``results["explanations"]``. ``config`` is the lab's (its
    epochs and dtype the report's); what is measured at initialisation takes the extra grids'
    seeds."""
    lab_rate = float(HParams().lr)
    lr_grids, width_grids, extra = grids["learning_rate"], grids["hidden_units"], grids[SECTION]
    activations = [config.network.activation, *grids["activations"][datasets[0].name]]
    window = min(EARLY_EPOCHS, config.epochs)
    by_name = {d.name: d for d in datasets}
    seeds = extra[datasets[0].name][BCE].outcomes[0].seeds
    limits = {d.name: stability_limit(d, config, seeds) for d in datasets}
    # the narrow widths' limits take their own initialisations (a few seconds: one small program each)
    narrow_limits = {
        d.name: {
            h: stability_limit(d, dataclasses.replace(config, hidden=(h, h)), seeds) for h in SCALED_WIDTHS
        }
        | {config.hidden[1]: limits[d.name]}
        for d in datasets
    }
    return {
        "early_rise": {
            "epochs": window,
            "tolerance": RISE_TOLERANCE,
            "cells": {name: early_rise_record(grid, window) for name, grid in lr_grids.items()},
            "stability_limit": {name: significant(limit) for name, limit in limits.items()},
        },
        "collapse": {
            "constant_spread": CONSTANT_SPREAD,
            "saturated_slope": SATURATED_SLOPE,
            "datasets": {
                d.name: collapse_record(lr_grids[d.name], extra[d.name][BCE], d, config.network)
                for d in datasets
            },
        },
        "boundary_points": {
            name: boundary_points_record(lr_grids[name], by_name[name], config.network, lab_rate)
            for name in lr_grids
            if name == LINEAR
        },
        "scaled_widths": {
            d.name: scaled_widths_record(
                width_grids[d.name], extra[d.name][SCALED], lab_rate, narrow_limits[d.name]
            )
            for d in datasets
        },
        "best_line": {d.name: best_line_record(width_grids[d.name], d) for d in datasets},
        "momentum": momentum_record(limits),
        "weight_decay": weight_decay_record(grids["optimizers"], config.epochs),
        "delta_ratios": {d.name: delta_ratio_record(d, config, activations, seeds) for d in datasets},
    }


# ---------------------------------------------------------------- the sentences

SAME_SPEED = 1.25  # two medians of epochs within this factor of each other are "about as long"
LOSS_NOISE = 0.05  # median final losses within this fraction of each other are "the same"
PLATEAU_MATCH = 0.01  # a plateau loss within this fraction of the best affine fit's loss is that fit's
ROUNDING_SLOPE = 1e-9  # a least-squares slope below this is zero to float64's rounding
INFORMATIVE_RANK = 0.25  # "all among the k points nearest" says something only for k up to this share


def rate_label(rate: float) -> str:
    """A rate as the grids label it (``f"{lr:g}"``): ``1``, ``0.3``."""
    return f"{rate:g}"


def seeds_phrase(count: int, seeds: int) -> str:
    return f"{count} of {seeds} seeds"


def labelled(cells: list[dict], label: str) -> dict | None:
    """The cell of ``cells`` with this label, or None."""
    return next((c for c in cells if c["label"] == label), None)


def slower_or_faster(first: dict, second: dict) -> str | None:
    """``slower`` or ``faster``: the first outcome's median epochs to 100 % against the second's
    (None when either has none, or they are equal)."""
    a, b = first["median_epochs_to_100"], second["median_epochs_to_100"]
    if a is None or b is None or a == b:
        return None
    return "slower" if a > b else "faster"


def overshoot_sentences(results: dict) -> list[str]:
    """(a) The loss rising early at the lab's rate and not at the two rates below it, the output
    layer's curvature that explains it, as far as the counts bear it out, and the rate above."""
    record, lab = results["explanations"]["early_rise"], results["settings"]["lab_lr"]
    cells = record["cells"]
    at_lab = {name: labelled(by_rate, rate_label(lab)) for name, by_rate in cells.items()}
    below = {name: [c for c in by_rate if float(c["label"]) < lab][-2:] for name, by_rate in cells.items()}
    parts = [
        f"{seeds_phrase(c['rising'], c['seeds'])} on `{name}` (a median of {c['median_rises']} rising "
        f"epochs each, the largest rise {number(c['largest_rise'])})"
        for name, c in at_lab.items()
    ]
    only_lab = all(
        c["rising"] > 0 and all(d["rising"] == 0 for d in below[name]) for name, c in at_lab.items()
    )
    hidden = results["settings"]["hidden"][1]
    return [
        f"In the first {record['epochs']} epochs at lr {rate_label(lab)}, the loss rises in some epoch for "
        f"{listing(parts)}.",
        *calmer_sentence(below),
        curvature_sentence(record["stability_limit"], lab, hidden, only_lab),
        *above_lab_sentences(results),
    ]


def calmer_sentence(below: dict[str, list[dict]]) -> list[str]:
    """How often the loss rises at the rates just below the lab's."""
    cells = [c for by_rate in below.values() for c in by_rate]
    if not cells:
        return []
    labels = listing(list(dict.fromkeys(c["label"] for c in cells)))
    if all(c["rising"] == 0 for c in cells):
        return [f"At lr {labels} it never does."]
    counts = [
        f"{seeds_phrase(c['rising'], c['seeds'])} at lr {c['label']} on `{name}`"
        for name, by_rate in below.items()
        for c in by_rate
    ]
    return [f"At lr {labels} it does for {listing(counts)}."]


def curvature_sentence(limits: dict[str, float], lab: float, hidden: int, only_lab: bool) -> str:
    """Why the lab's rate overshoots: the output layer's stability limit, and where lr lies."""
    where = listing([f"{number(limit)} on `{name}`" for name, limit in limits.items()])
    measured = (
        "the loss's curvature in the output layer's weights at initialisation allows steps only up to "
        f"lr {where} ($2/\\lambda_{{max}}$ of that layer's Hessian, median over seeds; a larger step "
        "overshoots the valley's floor)"
    )
    beyond = all(lab > limit for limit in limits.values())
    if only_lab and beyond:
        return (
            f"The output layer explains it: $a_3 = \\sum_j z_{{2j}} W_{{3j}} + b_3$ sums {hidden} terms, and, "
            "for one point, one step moves every W₃ⱼ by lr·δ₃·z₂ⱼ with the same sign (every z₂ⱼ > 0), so a₃ moves "
            "by $\\mathrm{lr}\\,\\delta_3 \\sum_j z_{2j}^2$, a sum over every unit rather than one unit's share "
            "(over the whole batch, point k's a₃ moves by "
            "$-\\mathrm{lr} \\sum_i \\delta_3^{(i)} \\left(z_2^{(k)} \\cdot z_2^{(i)} + 1\\right)$, with "
            "$z_2^{(i)}$ point i's layer-2 outputs and the 1 from the bias: such a sum over units for every "
            "pair of points); "
            f"{measured}, and lr {rate_label(lab)} is beyond it: the output overshoots back and forth "
            "across the valley until the weights reach where it is flatter and settle."
        )
    return (
        f"In the output layer, {measured}; lr {rate_label(lab)} {'is' if beyond else 'is not'} beyond it, so "
        "that layer's overshoot does not by itself account for which rates rise."
    )


def above_lab_sentences(results: dict) -> list[str]:
    """The rate above the lab's: how often its loss rises early against the lab's rate, and whether,
    on each dataset, the rate whose loss rises more often is the slower to 100 %."""
    lab, record = rate_label(results["settings"]["lab_lr"]), results["explanations"]["early_rise"]
    rows = []
    for name, by_rate in record["cells"].items():
        above = [c for c in by_rate if float(c["label"]) > float(lab)]
        at, outcomes = labelled(by_rate, lab), results["learning_rate"][name]
        if above and at is not None:
            rows.append(
                (name, at, above[0], labelled(outcomes, at["label"]), labelled(outcomes, above[0]["label"]))
            )
    if not rows:
        return []
    counts = listing(
        [
            f"{up['median_rises']} at lr {up['label']} on `{name}` (lr {lab}: {at['median_rises']})"
            for name, at, up, _, _ in rows
        ]
    )
    sentences = [
        f"One rate up, the loss rises in a median of {counts} of the first {record['epochs']} epochs."
    ]
    clauses, agree = [], True
    for name, at, up, at_outcome, up_outcome in rows:
        speed = None if at_outcome is None or up_outcome is None else slower_or_faster(up_outcome, at_outcome)
        if speed is None:
            continue
        more = "more" if up["median_rises"] > at["median_rises"] else "less"
        agree &= up["median_rises"] != at["median_rises"] and (more == "more") == (speed == "slower")
        clauses.append(
            f"on `{name}` lr {up['label']}'s loss rises {more} often and it is {speed} to 100 % "
            f"({number(up_outcome['median_epochs_to_100'])} against {number(at_outcome['median_epochs_to_100'])} epochs)"
        )
    if clauses:
        verdict = (
            "so on each dataset, of these two rates, the one whose loss rises more often early is the slower"
            if agree
            else "so how often the loss rises early does not line up with which rate is faster"
        )
        text = "; ".join(clauses)
        sentences.append(f"{text[0].upper()}{text[1:]}: {verdict}.")
    return sentences


def plateau_sentences(results: dict) -> list[str]:
    """The smallest rate's plateau, where its final loss is the best affine fit's: near
    initialisation the sigmoids are almost linear, so the network first fits that."""
    sentences = []
    for name, cells in results["learning_rate"].items():
        small, affine = cells[0], results.get("no_activation", {}).get(name)
        if affine is None or small["median_final_loss"] is None:
            continue
        fit = affine["least_squares_loss"]
        if abs(small["median_final_loss"] - fit) > PLATEAU_MATCH * fit:
            continue
        shape = (
            ", which on this dataset is a constant (its slope is zero)"
            if affine["least_squares_slope"] < ROUNDING_SLOPE
            else ""
        )
        sentences.append(
            f"On `{name}` the median run at lr {small['label']} ends at loss {number(small['median_final_loss'])}, "
            f"within {whole_percent(PLATEAU_MATCH)} % of {number(fit)}, the loss of the best affine fit (the network "
            "without activations, below): near initialisation the sigmoids are almost linear, so the network is "
            f"nearly an affine function of the input, and no affine function does better than that fit{shape}; at this "
            "rate its "
            f"loss is still at that fit's after {results['settings']['epochs']} epochs."
        )
    return sentences


def collapse_sentences(results: dict) -> list[str]:
    """(b) What the output unit does in the runs the largest rate leaves short of 100 %."""
    datasets, dtype = results["explanations"]["collapse"]["datasets"], results["settings"]["dtype"]
    sentences = [stuck_sentence(name, c, dtype) for name, c in datasets.items()]
    if any(c["constant_and_saturated"] for c in datasets.values()):
        sentences.append(
            "A saturated output is stuck: every gradient starts from $\\delta_3 = \\frac{2}{n}(\\hat y - y)\\,"
            "\\sigma'(a_3)$, and with σ'(a₃) ≈ 0 nothing reaches any weight, however wrong ŷ is; one step too "
            "large threw a₃ that far out along the sigmoid."
        )
    return sentences


def stuck_sentence(name: str, c: dict, dtype: str) -> str:
    """One dataset's failed runs at the collapsing rate, and how many of them are stuck."""
    if c["failed"] == 0:
        return f"At lr {c['lr']} on `{name}` no run ends short of 100 % without diverging."
    text = (
        f"At lr {c['lr']} on `{name}`, {c['failed']} of {c['seeds']} runs end short of 100 % without "
        f"diverging, and {c['constant_and_saturated']} of them have collapsed"
    )
    if c["constant_and_saturated"]:
        constant = (
            "the same at every point"
            if c["largest_spread"] == 0
            else f"one constant over the data (its range at most {scientific(c['largest_spread'])})"
        )
        text += (
            f": the output is {constant}, saturated at 1 in {c['at_one']} of them and at 0 in the others, "
            f"with |a₃| ≥ {number(c['smallest_logit'])} at every point, so σ'(a₃) ≤ {scientific(c['slope_bound'])}"
        )
        if c["largest_slope"] == 0:
            text += f" (in {dtype} ŷ rounds to exactly 0 or 1, and σ'(a₃) to 0)"
    if c["not_stuck"]:
        text += f"; in {c['not_stuck']} the output still varies"
    return text + "."


def bce_sentences(results: dict) -> list[str]:
    """Cross-entropy's δ₃ has no σ' factor: per dataset, its count at 100 % against MSE's on the
    same (few) seeds with their Wilson intervals, a difference only where those are apart; and
    where its failed runs end."""
    datasets = results["explanations"]["collapse"]["datasets"]
    first = next(iter(datasets.values()))
    rate, seeds = first["lr"], first["bce"]["seeds"]
    parts = [
        f"on `{name}` {c['bce']['at_100']} of {seeds} end at 100 % (interval {share_interval(c['bce'])}) against "
        f"{c['mse']['at_100']} of {seeds} with MSE ({share_interval(c['mse'])})"
        for name, c in datasets.items()
    ]
    sentences = [
        f"Cross-entropy's $\\delta_3 = (\\hat y - y)/n$ has no σ' factor, so a saturated wrong output still gets "
        f"a full gradient. Retrained with it at lr {rate} on the first {seeds} seeds only, {listing(parts)}."
    ]
    overlapping = [name for name, c in datasets.items() if intervals_overlap(c["bce"], c["mse"])]
    if overlapping:
        where = (
            "both datasets"
            if len(overlapping) == len(datasets) == 2
            else listing([f"`{n}`" for n in overlapping])
        )
        sentences.append(
            f"On {where} the two intervals overlap: on {seeds} seeds these intervals do not separate the two "
            "losses."
        )
    for name, c in datasets.items():
        if name not in overlapping:
            more = "more" if c["bce"]["at_100"] > c["mse"]["at_100"] else "fewer"
            sentences.append(f"On `{name}` they are apart: cross-entropy brings {more} seeds to 100 %.")
    return sentences + bce_failure_sentences(datasets)


def bce_failure_sentences(datasets: dict) -> list[str]:
    """Where the cross-entropy runs that fail end, and whether any is a stuck output."""
    failing = {name: c for name, c in datasets.items() if c["bce_failed"]}
    if not failing:
        return []
    counts = listing([f"{c['bce_failed']} on `{name}`" for name, c in failing.items()])
    if any(c["bce_constant_and_saturated"] for c in failing.values()):
        stuck = listing([f"{c['bce_constant_and_saturated']} on `{name}`" for name, c in failing.items()])
        text = f"Of the cross-entropy runs that fail ({counts}), {stuck} have a constant saturated output"
    else:
        text = f"The cross-entropy runs that fail ({counts}) have no saturated constant output"
    ends = [
        f"{percent(c['bce_failed_median_accuracy'])} on `{name}`"
        for name, c in failing.items()
        if c.get("bce_failed_median_accuracy") is not None
    ]
    if ends:
        text += f"; they end at a median accuracy of {listing(ends)}"
    return [text + "."]


def boundary_point_sentences(results: dict) -> list[str]:
    """(c) Which points the small rates leave wrong on ``linear``, by distance to the diagonal; "the
    nearest" only where the farthest of them ranks within :data:`INFORMATIVE_RANK` of the points."""
    sentences = []
    for name, cells in results["explanations"]["boundary_points"].items():
        if not cells:
            continue
        near = [c for c in cells if c["farthest_rank"] <= INFORMATIVE_RANK * c["points"]]
        parts = "; ".join(
            f"at lr {c['label']}, {c['misclassified']} points over {c['short']} runs, a median "
            f"{number(c['median_misclassified_distance'])} from the diagonal"
            + (f", all among the {c['farthest_rank']} points nearest it" if c in near else "")
            for c in cells
        )
        text = (
            f"On `{name}`, the runs of the small rates that end short of 100 % get wrong (counting a point once "
            f"per run): {parts}. All {cells[0]['points']} points lie a median "
            f"{number(cells[0]['median_distance'])} from it."
        )
        if near:
            text += (
                f" At lr {listing([c['label'] for c in near])} the points left wrong are those nearest the boundary: "
                "a line a little off the diagonal gets wrong only the points between the two, and those few add "
                "little to the loss, so at a small rate the last turn of the line toward the diagonal is slow."
            )
        sentences.append(text)
    return sentences


def rate_paragraphs(results: dict) -> list[str]:
    """The learning-rate grid's explanations, one short paragraph each: (a) the early rise, the
    smallest rate's plateau, (b) the collapse at the largest rate, the cross-entropy test, (c) the
    points left wrong. The report puts a blank line between them."""
    parts = [
        overshoot_sentences(results),
        plateau_sentences(results),
        collapse_sentences(results),
        bce_sentences(results),
        boundary_point_sentences(results),
    ]
    return [" ".join(sentences) for sentences in parts if sentences]


def scaled_width_sentences(results: dict) -> list[str]:
    """(d) Whether "wider is faster" survives giving every width the same step on its output, on
    the extra grid's few seeds (said, since the hidden-units table above is over all of them)."""
    lab, lab_width = results["settings"]["lab_lr"], results["settings"]["hidden"][1]
    records = results["explanations"]["scaled_widths"]
    seeds = next(iter(records.values()))["widths"][0]["scaled"]["seeds"]
    sentences = [
        f"Retraining the narrow widths at lr · {lab_width}/h, which moves every width's output about as far as "
        f"width {lab_width}'s at lr {rate_label(lab)}, takes the first {seeds} seeds only, so the medians here "
        f"are over those {seeds}, not the table's {results['settings']['seeds']}."
    ]
    directions = {}
    for name, record in records.items():
        rows = record["widths"]
        before = listing([epochs_phrase(r["unscaled"]) for r in rows])
        after = listing([f"{epochs_phrase(r['scaled'])} at lr {number(r['lr'])}" for r in rows])
        directions[name] = scaled_direction(rows[:-1])
        text = (
            f"On `{name}`, widths {listing([str(r['width']) for r in rows])} take a median of {before} epochs to "
            f"100 % at lr {rate_label(lab)}, and {after}"
        )
        if directions[name] is None:
            text += ": the scaled rate speeds some narrow widths up and slows others"
        else:
            apart = all(not epochs_overlap(r["unscaled"], r["scaled"]) for r in rows[:-1])
            text += f": every narrow width is {directions[name]} at its scaled rate"
            text += " (interquartile ranges apart)" if apart else ""
        sentences.append(text + ".")
    found = set(directions.values())
    if len(directions) > 1 and None not in found and len(found) > 1:
        sentences.append(
            "The two datasets give opposite answers, so this grid cannot say whether equal steps on the output "
            "would close the gap between narrow and wide networks."
        )
    elif found == {"faster"}:
        sentences.append("On every dataset the larger step on the narrow outputs speeds them up.")
    elif found == {"slower"}:
        sentences.append(
            "On every dataset the larger step slows the narrow networks down, against what their outputs' smaller "
            "sums predict."
        )
    return sentences + scaled_overshoot_sentences(results, directions)


def scaled_direction(rows: list[dict]) -> str | None:
    """``slower`` or ``faster`` when every narrow width's scaled rate is that against the lab's rate
    (None when they differ, or one has no median)."""
    found = {slower_or_faster(r["scaled"], r["unscaled"]) for r in rows}
    return found.pop() if len(found) == 1 and None not in found else None


def scaled_overshoot_sentences(results: dict, directions: dict[str, str | None]) -> list[str]:
    """Whether the scaled rates are past each width's stable step at initialisation, and whether
    the scaled widths go the way the lab's width goes one rate past the lab's on each dataset."""
    records, lab = results["explanations"]["scaled_widths"], rate_label(results["settings"]["lab_lr"])
    rows = {name: record["widths"] for name, record in records.items()}
    if not all("stability_limit" in r for by in rows.values() for r in by):
        return []
    widths = listing([str(r["width"]) for r in next(iter(rows.values()))])
    limits = listing(
        [f"{listing([number(r['stability_limit']) for r in by])} on `{name}`" for name, by in rows.items()]
    )
    if not all(r["lr"] > r["stability_limit"] for by in rows.values() for r in by):
        return [
            f"Not every scaled rate is past its width's stable step at initialisation (2/λmax of the output layer: "
            f"{limits} for widths {widths})."
        ]
    sentences = [
        f"Every scaled rate is past its width's stable step at initialisation (2/λmax of the output layer: "
        f"{limits} for widths {widths}), as lr {lab} is past width {rows[next(iter(rows))][-1]['width']}'s."
    ]
    clauses, agree, speeds = [], True, set()
    for name, direction in directions.items():
        outcomes = results["learning_rate"][name]
        at = labelled(outcomes, lab)
        above = [c for c in outcomes if float(c["label"]) > float(lab)]
        speed = None if at is None or not above else slower_or_faster(above[0], at)
        if speed is None or direction is None:
            agree = False
            continue
        agree &= speed == direction
        speeds.add(speed)
        clauses.append(
            f"on `{name}` it is already {speed} for width {rows[name][-1]['width']} (lr {above[0]['label']}: "
            f"{number(above[0]['median_epochs_to_100'])} against lr {lab}'s {number(at['median_epochs_to_100'])} "
            f"epochs), and the scaled narrow widths are {direction} too"
        )
    if clauses and agree:
        sentences.append(
            f"A step past the stable one {'goes both ways' if len(speeds) > 1 else 'goes one way'}: "
            f"{'; '.join(clauses)}. So the scaled widths may simply "
            "follow what so large a step does on each dataset; this grid does not show why the datasets differ."
        )
    elif clauses:
        sentences.append(
            "How the lab's width fares one rate past its stable step does not match how the scaled widths fare."
        )
    return sentences


def epochs_phrase(outcome: dict) -> str:
    """``1200`` (every seed got there), ``1200 (6 of 8 seeds)``, or ``none (0 of 8 seeds)``."""
    if outcome["median_epochs_to_100"] is None:
        return f"none ({seeds_phrase(0, outcome['seeds'])})"
    text = number(outcome["median_epochs_to_100"])
    if outcome["at_100"] < outcome["seeds"]:
        text += f" ({seeds_phrase(outcome['at_100'], outcome['seeds'])})"
    return text


def best_line_sentences(results: dict) -> list[str]:
    """(h) Why one unit per hidden layer cannot solve XOR: it is a linear classifier."""
    sentences = []
    for name, r in results["explanations"]["best_line"].items():
        if r["best_line_accuracy"] == 1 or r["median_final_accuracy"] is None:
            continue  # a line can do it all, or no run to compare
        verdict = (
            "never above it"
            if r["above_best_line"] == 0
            else f"yet {r['above_best_line']} runs are above it, which a linear classifier cannot be"
        )
        sentences.append(
            f"With {r['width']} unit per hidden layer the output $\\sigma(w_3\\,\\sigma(w_2\\,\\sigma(w_1 \\cdot x "
            "+ b_1) + b_2) + b_3)$ is a monotone function of the one projection w₁·x, so its 0.5 level set is a "
            f"line: the network is a linear classifier. The best any line does on `{name}` is "
            f"{percent(r['best_line_accuracy'])} (over every way a line splits its "
            f"{results['datasets'][name]['points']} points); the width-{r['width']} runs end at a median "
            f"{percent(r['median_final_accuracy'])} and at most {percent(r['max_final_accuracy'])}, {verdict}."
        )
    return sentences


def width_paragraphs(results: dict) -> list[str]:
    """The hidden-units grid's explanations, one paragraph each: (d), (h)."""
    parts = [scaled_width_sentences(results), best_line_sentences(results)]
    return [" ".join(sentences) for sentences in parts if sentences]


def speed_comparison(first: dict, second: dict) -> str | None:
    """``in about as many epochs``, ``sooner`` or ``later``: the first outcome's median epochs to 100 %
    against the second's (None when either has none)."""
    a, b = first["median_epochs_to_100"], second["median_epochs_to_100"]
    if a is None or b is None:
        return None
    if 1 / SAME_SPEED <= a / b <= SAME_SPEED:
        return "in about as many epochs"
    return "sooner" if a < b else "later"


def momentum_sentences(results: dict) -> list[str]:
    """(f) Momentum at lr 0.1, β 0.9 takes sgd-at-lr-1's long-run steps, yet each of its steps is a
    tenth of sgd's: against the output layer's stability limit, sgd overshoots and momentum need
    not. Whether that shows in their epochs to 100 %, only as far as the medians say."""
    m, lab = results["explanations"]["momentum"], results["settings"]["lab_lr"]
    rises = {
        name: labelled(by_rate, rate_label(m["sgd_lr"]))
        for name, by_rate in results["explanations"]["early_rise"]["cells"].items()
    }
    sentences = [
        f"Momentum's velocity $v \\leftarrow g + \\beta v$ grows to $g/(1-\\beta)$, so at lr {number(m['lr'])} with "
        f"β {number(m['beta'])} its steps are lr/(1 − β) = {number(m['effective_lr'])} times the gradient once it "
        f"has built up, the same as sgd's at lr {number(m['sgd_lr'])}."
    ]
    steps = m["step_times_curvature"]
    contrast = (
        m["sgd_lr"] == lab
        and all(s["sgd"] > 2 and s["momentum"] < m["momentum_bound"] for s in steps.values())
        and all(rises[name] is not None and rises[name]["rising"] for name in steps)
    )
    sgd_steps = listing([f"{number(s['sgd'])} on `{name}`" for name, s in steps.items()])
    momentum_steps = listing([number(s["momentum"]) for s in steps.values()])
    where = (
        f"On a quadratic of curvature λ, plain gradient descent is stable only for lr·λ < 2, heavy-ball momentum "
        f"for lr·λ < 2(1 + β) = {number(m['momentum_bound'])}. At the output layer's λmax at initialisation (from "
        f"the early rise above), sgd at lr {number(m['sgd_lr'])} has lr·λmax = {sgd_steps} and momentum at lr "
        f"{number(m['lr'])} has {momentum_steps}"
    )
    if contrast:
        rising = listing([f"{rises[name]['median_rises']} on `{name}`" for name in steps])
        sentences.append(
            f"{where}: sgd is past its limit, and its loss rises early (in a median of {rising} of the first "
            f"{results['explanations']['early_rise']['epochs']} epochs), while momentum is well inside its own, so "
            "it reaches the same long-run step without overshooting that layer."
        )
    else:
        sentences.append(f"{where}: these limits do not set the two apart here.")
    parts, verdicts = [], {}
    for name, by_optimizer in results["optimizers"]["outcomes"].items():
        mo, sgd = by_optimizer["momentum"], by_optimizer["sgd"]
        parts.append(f"{epochs_phrase(mo)} against {epochs_phrase(sgd)} on `{name}`")
        verdicts[name] = speed_comparison(mo, sgd)
    text = f"Their median epochs to 100 % (momentum's against sgd's): {listing(parts)}"
    by_verdict = {
        v: [n for n, w in verdicts.items() if w == v] for v in dict.fromkeys(verdicts.values()) if v
    }
    told = listing([f"{v} on {listing([f'`{n}`' for n in names])}" for v, names in by_verdict.items()])
    if not by_verdict:
        sentences.append(text + ".")
    elif set(by_verdict) == {"in about as many epochs"}:
        sentences.append(
            f"{text}: about as long{', so the overshoot costs sgd nothing measurable' if contrast else ''}."
        )
    elif "later" in by_verdict or not contrast:
        sentences.append(
            f"{text}: momentum gets there {told}, which the stability limits do not account for."
        )
    else:
        sooner = by_verdict.get("sooner", [])
        alike = by_verdict.get("in about as many epochs", [])
        most = alike and min(rises[n]["median_rises"] for n in sooner) > max(
            rises[n]["median_rises"] for n in alike
        )
        sentences.append(
            f"{text}: momentum gets there {told}"
            + ("; it is sooner where sgd's loss rose more often early" if most else "")
            + "; avoiding the overshoot fits that, though these numbers do not measure what the overshoot costs."
        )
    return sentences


def weight_decay_sentences(results: dict) -> list[str]:
    """(g) AdamW's decay at the lab's λ is too weak to tell it from Adam in this many epochs: the
    comparison can only show that, and says so."""
    w = results["explanations"]["weight_decay"]
    differences = listing(
        [f"{scientific(d['difference'])} on `{name}`" for name, d in w["final_loss"].items()]
    )
    relative = listing([f"{whole_percent(d['relative'])} %" for d in w["final_loss"].values()])
    small = all(d["relative"] < LOSS_NOISE for d in w["final_loss"].values())
    text = (
        "AdamW differs from Adam only by its decay, which shrinks every weight by a factor 1 − lr·λ per step: at "
        f"lr {number(w['lr'])} and λ {number(w['weight_decay'])} that is "
        f"$(1 - {scientific(w['per_step'])})^{{{w['epochs']}}}$ = {number(w['shrink'])} over the whole run, a "
        f"shrink of {percent(w['shrinks_by'])}, so the two are bound to end alike. Their median final losses "
        f"differ by {differences} (AdamW's minus Adam's; {relative} of Adam's)"
    )
    if small:
        return [
            f"{text}: at this λ the decay moves the final loss by less than {whole_percent(LOSS_NOISE)} %, which is "
            "all this comparison can show; it says nothing of a larger λ."
        ]
    return [f"{text}, more than so weak a pull can account for."]


def optimizer_sentences(results: dict) -> list[str]:
    """The optimizers' explanations: (f), (g)."""
    return momentum_sentences(results) + weight_decay_sentences(results)


def activation_sentences(results: dict) -> list[str]:
    """(i) How much of the output's gradient each activation lets through to layer 1 at
    initialisation, against how fast each one trains: the sigmoid against each other activation
    by their interquartile ranges of epochs, and whether the ratio ranks the others."""
    ratios, outcomes = results["explanations"]["delta_ratios"], results["activations"]["outcomes"]
    lab = next(iter(next(iter(ratios.values()))))  # the lab's activation comes first
    sentences = [
        f"On `{name}`, ‖δ₁‖/‖δ₃‖ at initialisation (median over seeds) is "
        + listing([f"{a} {number(r['delta1'])}" for a, r in by_activation.items()])
        + "."
        for name, by_activation in ratios.items()
    ]
    why = (
        "Each sigmoid layer multiplies δ by $\\sigma'(a) \\le 1/4$ on its way back, so the two hidden layers shrink "
        "it at least sixteenfold besides what the weights do, while $\\tanh' \\le 1$ and "
        "$\\mathrm{relu}' = 1$ wherever the unit is on"
    )
    if not all(min(by, key=lambda a: by[a]["delta1"]) == lab for by in ratios.values()):
        return [*sentences, f"{why}; here, though, the sigmoid's ratio is not the smallest."]
    sentences.append(f"{why}: the sigmoid's first layer gets the least of the output's gradient.")
    others = [a for a in next(iter(outcomes.values())) if a != lab]
    clear = [a for a in others if all(faster_apart(by[a], by[lab]) for by in outcomes.values())]
    text = "Trained, the sigmoid network is slower than " + (
        f"{listing(clear)} on every dataset, interquartile ranges apart, as that predicts"
        if clear
        else "none of the others everywhere"
    )
    exceptions = [
        f"{a} (ratio {number(ratios[name][a]['delta1'])}) on `{name}`, whose interquartile range of epochs "
        f"({interquartile(by[a])}) {'overlaps' if not faster_apart(by[lab], by[a]) else 'lies above'} the sigmoid's ({interquartile(by[lab])})"
        for a in others
        if a not in clear
        for name, by in outcomes.items()
        if not faster_apart(by[a], by[lab])
    ]
    if exceptions:
        text += f"; but not than {listing(exceptions)}: the small ratio tells the sigmoid from " + (
            f"{listing(clear)}, not from every activation" if clear else "none of them"
        )
    sentences.append(text + ".")
    return sentences + ranking_sentences(ratios, outcomes, others)


def ranking_sentences(ratios: dict, outcomes: dict, others: list[str]) -> list[str]:
    """Whether ‖δ₁‖/‖δ₃‖ ranks the activations other than the sigmoid: every pair whose
    interquartile ranges are apart where the faster has the smaller ratio goes against it; pairs
    whose ranges overlap are not ranked."""
    against = []
    for name, by in outcomes.items():
        beaten = {
            a: [
                b
                for b in others
                if faster_apart(by[a], by[b]) and ratios[name][a]["delta1"] < ratios[name][b]["delta1"]
            ]
            for a in others
        }
        clauses = [f"{a} is faster than {listing(bs)}" for a, bs in beaten.items() if bs]
        if clauses:
            against.append(f"on `{name}` {listing(clauses)}, each with the smaller ratio")
    if against:
        return [f"Nor does the ratio rank the others: {'; '.join(against)} (interquartile ranges apart)."]
    return [
        "Among the others, wherever two interquartile ranges are apart the larger ratio is the faster; those whose "
        "ranges overlap are not ranked."
    ]
