"""Grids of runs: every cell of a sweep, times every seed, in one ``train_many`` call.

A cell is one setting of the traced knobs (the hyper-parameters and the hidden widths); every
cell trains the same seeds, so two cells differ only in the swept value. What a cell came to is
reduced on the host to plain numbers (:class:`CellOutcome`), ready for a table or JSON.
"""

import dataclasses
import math
from collections.abc import Callable
from statistics import NormalDist

import jax
import jax.numpy as jnp
import numpy as np

from twolayer_jax.config import TrainConfig
from twolayer_jax.data import Dataset
from twolayer_jax.many_runs import seed_keys, train_many
from twolayer_jax.one_run import TrainResult
from twolayer_jax.optimizers import HParams
from twolayer_jax.summary import RunSummary, summarise


@dataclasses.dataclass(frozen=True)
class Cell:
    """One setting of a grid: its label, its hyper-parameters and, for a width sweep, the hidden
    widths actually used inside the config's padded ``hidden``."""

    label: str
    hparams: HParams = dataclasses.field(default_factory=HParams)
    widths: tuple[int, int] | None = None


INTERVAL_CONFIDENCE = 0.95  # of the intervals on a share of seeds


def wilson_interval(
    successes: int, trials: int, confidence: float = INTERVAL_CONFIDENCE
) -> tuple[float, float]:
    """The Wilson score interval on a binomial proportion, as fractions (low, high) in [0, 1].

    Seeds are independent draws of the initialisation, so ``successes`` of ``trials`` seeds at
    100 % says where the true share of such seeds lies; Wilson's interval (unlike the normal
    approximation p ± z·√(p(1−p)/n)) stays inside [0, 1] and is not zero-width at 0 of n or n of n,
    where a sweep's cells mostly are. No trials say nothing: (0, 1), never NaN."""
    if trials == 0:
        return 0.0, 1.0
    z = NormalDist().inv_cdf((1 + confidence) / 2)
    share = successes / trials
    centre = (share + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z / (1 + z * z / trials) * math.sqrt(share * (1 - share) / trials + z * z / (4 * trials * trials))
    # at 0 of n and n of n the bound is exactly the end; rounding must not move it off
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return low, high


@dataclasses.dataclass(frozen=True)
class CellOutcome:
    """What S seeds of one cell came to. Epoch counts are updates done; a statistic over runs
    that reached 100 % (or diverged) is None when none did."""

    label: str
    seeds: int
    at_100: int  # runs that end at 100 % accuracy
    fraction_at_100: float
    at_100_interval: tuple[float, float]  # the share's Wilson interval (INTERVAL_CONFIDENCE), fractions
    median_epochs_to_100: int | None  # from when it stays at 100 %, over the runs ending there
    quartiles_epochs_to_100: tuple[int, int] | None
    diverged: int
    first_divergence: int | None  # the earliest epoch any run diverged at
    median_final_loss: float | None  # over runs that did not diverge
    median_final_accuracy: float | None


def median(values: list[float]) -> float | None:
    return float(np.median(values)) if values else None


def epoch_quantiles(epochs: list[int], qs: tuple[float, ...]) -> tuple[int, ...] | None:
    """Quantiles of epoch counts, each one of the counts (the empirical distribution's inverse),
    so a median of 32 runs is an epoch some run took, never a fraction half-way between two."""
    if not epochs:
        return None
    return tuple(int(q) for q in np.quantile(epochs, qs, method="inverted_cdf"))


def cell_outcome(label: str, runs: list[RunSummary]) -> CellOutcome:
    reached = [r.settled_at_100 for r in runs if r.settled_at_100 is not None]
    finite = [r for r in runs if not r.diverged]
    at_100 = sum(r.final_accuracy == 1.0 for r in finite)
    diverged = [r.diverged_at for r in runs if r.diverged]
    return CellOutcome(
        label=label,
        seeds=len(runs),
        at_100=at_100,
        fraction_at_100=at_100 / len(runs),
        at_100_interval=wilson_interval(at_100, len(runs)),
        median_epochs_to_100=(epoch_quantiles(reached, (0.5,)) or (None,))[0],
        quartiles_epochs_to_100=epoch_quantiles(reached, (0.25, 0.75)),
        diverged=len(diverged),
        first_divergence=min(diverged) if diverged else None,
        median_final_loss=median([r.final_loss for r in finite]),
        median_final_accuracy=median([r.final_accuracy for r in finite]),
    )


@dataclasses.dataclass(frozen=True)
class Experiment:
    """One grid on one dataset: a config and its cells, trained in one program."""

    section: str
    label: str  # the cell label when the grid has one cell (an optimizer, an activation)
    dataset: Dataset
    config: TrainConfig
    cells: list[Cell]
    seeds: int


@dataclasses.dataclass(frozen=True)
class GridResult:
    """A grid's outcomes, plus each cell's raw result (leading axis: the cell's seeds)."""

    cells: list[Cell]
    outcomes: list[CellOutcome]
    results: list[TrainResult]
    summaries: list[list[RunSummary]]


def run_grid(
    config: TrainConfig,
    dataset: Dataset,
    cells: list[Cell],
    seeds: int,
    progress: Callable[[int], None] | None = None,
) -> GridResult:
    """Train seeds 0..S−1 of every cell in one compiled program and reduce each cell."""
    keys = jnp.tile(seed_keys(0, seeds), len(cells))  # cell-major: run c·S + s is seed s of cell c
    hparams = jax.tree.map(
        lambda *values: jnp.repeat(jnp.asarray(values, config.dtype), seeds), *(c.hparams for c in cells)
    )
    widths = None
    if any(c.widths is not None for c in cells):
        widths = jnp.repeat(jnp.asarray([c.widths or config.hidden for c in cells]), seeds, axis=0)
    result = train_many(config, keys, hparams, dataset.x, dataset.y, widths, progress=progress)
    per_cell = [
        jax.tree.map(lambda leaf, c=c: leaf[c * seeds : (c + 1) * seeds], result) for c in range(len(cells))
    ]
    summaries = [summarise(list(range(seeds)), cell_result) for cell_result in per_cell]
    outcomes = [cell_outcome(c.label, s) for c, s in zip(cells, summaries, strict=True)]
    return GridResult(cells, outcomes, per_cell, summaries)
