"""Grids of runs: every cell of a sweep, times every seed, in one training program per padding.

A cell is one setting of the traced knobs (the hyper-parameters and the hidden widths); every
cell trains the same seeds, so two cells differ only in the swept value. A width sweep pads each
cell only to its group's width (:func:`width_groups`), not to the widest cell's: the work of a
dense layer grows with the square of its padded width, so width 1 padded to 100 would cost what
width 100 costs. What a cell came to is reduced on the host to plain numbers
(:class:`CellOutcome`), ready for a table or JSON.
"""

import dataclasses
import math
from collections.abc import Callable
from functools import partial
from statistics import NormalDist

import jax
import numpy as np

from twolayer_jax.config import Architecture, TrainConfig
from twolayer_jax.data import Dataset
from twolayer_jax.many_runs import (
    ProgressFn,
    default_chunk_size,
    fit_many,
    initial_params_many,
    on_the_devices,
    seed_keys,
    seed_layout,
)
from twolayer_jax.model import Params
from twolayer_jax.one_run import TrainResult
from twolayer_jax.optimizers import HParams
from twolayer_jax.summary import RunSummary, summarise


@dataclasses.dataclass(frozen=True)
class Cell:
    """One setting of a grid: its label, its hyper-parameters, for a width sweep the hidden widths
    actually used inside the config's padded ``hidden``, and the weight initialisation its runs
    start from (an :mod:`twolayer_jax.initialisations` spec; None: the config's). Only the
    initial params depend on the initialisation, so cells that differ in it still train in one
    program."""

    label: str
    hparams: HParams = dataclasses.field(default_factory=HParams)
    widths: tuple[int, int] | None = None
    init: str | None = None


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


# A width sweep's cells are padded to the smallest of these widths (capped at the grid's) that
# holds them: 1–8 units to 8, 9–32 to 32, wider to the grid's width. One program per padding;
# each costs a compilation (seconds), which outweighs the matmuls padding saves below about 8
# units (the figures are in benchmarks/README.md).
WIDTH_PADDINGS = (8, 32)


def padding_of(widths: tuple[int, int], hidden: tuple[int, int]) -> tuple[int, int]:
    """The hidden widths a cell of ``widths`` is trained at, inside a grid padded to ``hidden``."""
    return tuple(
        min(next((p for p in WIDTH_PADDINGS if p >= w), h), h) for w, h in zip(widths, hidden, strict=True)
    )


def width_groups(cells: list[Cell], hidden: tuple[int, int]) -> dict[tuple[int, int], list[int]]:
    """The indices of ``cells`` by the padding each trains at (:func:`padding_of`; a cell without
    widths trains at ``hidden``), in order of first appearance: every cell in exactly one group."""
    groups: dict[tuple[int, int], list[int]] = {}
    for index, cell in enumerate(cells):
        groups.setdefault(padding_of(cell.widths or hidden, hidden), []).append(index)
    return groups


def cropped(params: Params, shapes: dict[str, tuple[int, ...]]) -> Params:
    """The leading rows and columns of each parameter (after the run axis) to ``shapes``."""
    return {name: leaf[(slice(None), *(slice(0, n) for n in shapes[name]))] for name, leaf in params.items()}


def zero_padded(params: Params, shapes: dict[str, tuple[int, ...]]) -> Params:
    """Each parameter (after the run axis) filled out to ``shapes`` with zeros: the masked units."""
    return {
        name: np.pad(leaf, [(0, 0), *((0, n - m) for n, m in zip(shapes[name], leaf.shape[1:], strict=True))])
        for name, leaf in params.items()
    }


def train_cells(
    config: TrainConfig,
    padding: tuple[int, int],
    dataset: Dataset,
    cells: list[Cell],
    seeds: int,
    progress: ProgressFn | None,
) -> TrainResult:
    """Seeds 0..S−1 of each of ``cells`` (cell-major: run c·S + s is seed s of cell c) in one
    training program at hidden widths ``padding`` (at most ``config.hidden``); the result as
    read-only NumPy arrays.

    Each cell starts from its seeds' draws at ``config.hidden`` (:func:`cells_initial_params`); a
    narrower padding keeps their leading rows and columns: the same initial network as padded to
    the full width (its unused units zero either way), so the padding changes a run's arithmetic
    only by the exact zeros its dot products add. The params come back padded to
    ``config.hidden`` with zeros. The bookkeeping around the program (order, crop, padding) is
    NumPy's: on JAX arrays each operation would compile a program of its own, for every shape."""
    order = device_balanced_order(len(cells), seeds, jax.device_count())
    hparams = jax.tree.map(
        lambda *values: np.repeat(np.asarray(values, config.dtype), seeds)[order], *(c.hparams for c in cells)
    )
    widths = None
    if any(c.widths is not None for c in cells):
        per_cell = np.asarray([c.widths or config.hidden for c in cells], np.int32)
        widths = np.repeat(per_cell, seeds, axis=0)[order]
    narrow = dataclasses.replace(config, hidden=padding)
    layout = seed_layout(len(cells) * seeds, jax.device_count(), default_chunk_size())
    drawn = jax.tree.map(lambda leaf: leaf[order], cells_initial_params(config, cells, seeds))
    params = on_the_devices(layout, cropped(drawn, narrow.param_shapes))
    result = fit_many(narrow, layout, params, hparams, dataset.x, dataset.y, widths, progress=progress)
    result = jax.tree.map(np.asarray, result)
    result = in_cell_order(result._replace(params=zero_padded(result.params, config.param_shapes)), order)
    return jax.tree.map(read_only, result)


def read_only(leaf) -> np.ndarray:
    """``leaf`` as a NumPy array that cannot be written to, as the JAX arrays it replaces could
    not: a grid's cells are views of one array, and a cell may sit in two grids (the lab's width)."""
    array = np.asarray(leaf)
    array.setflags(write=False)
    return array


def device_balanced_order(cells: int, seeds: int, devices: int) -> np.ndarray:
    """The runs of ``cells`` × ``seeds`` (cell-major: run c·S + s) in the order they train in:
    the seeds split into one block per device, and within a block cell after cell. The devices
    split the runs in contiguous blocks, so each then trains a like share of every cell, and
    chunks hold one cell each. A run's numbers do not depend on where it trains (tested); the
    time does: a chunk whose runs have all diverged skips its epochs
    (:func:`twolayer_jax.many_runs.fit_segment`), and a device that drew the diverging cells
    alone would leave the other's work to set the pace."""
    block = np.arange(seeds) * devices // seeds
    runs = np.arange(cells * seeds)
    return np.lexsort((runs % seeds, runs // seeds, block[runs % seeds]))


def in_cell_order(result: TrainResult, order: np.ndarray) -> TrainResult:
    """A result trained in ``order`` (:func:`device_balanced_order`) back in cell-major order."""
    inverse = np.argsort(order)
    return jax.tree.map(lambda leaf: leaf[inverse], result)


def cells_initial_params(config: TrainConfig, cells: list[Cell], seeds: int) -> Params:
    """Every cell's seeds 0..S−1 drawn by its own initialisation (``config``'s where it names
    none) and widths at ``config.hidden``, cell after cell (leading axis: cells × seeds), as NumPy
    arrays. Cells that would draw alike (a grid of rates) share one draw."""
    draws: dict[tuple[Architecture, tuple[int, ...] | None], Params] = {}

    def drawn(cell: Cell) -> Params:
        alike = (cell_architecture(config, cell), None if cell.widths is None else tuple(cell.widths))
        if alike not in draws:
            draws[alike] = cell_initial_params(config, cell, seeds)
        return draws[alike]

    return jax.tree.map(lambda *leaves: np.concatenate(leaves), *(drawn(c) for c in cells))


def cell_initial_params(config: TrainConfig, cell: Cell, seeds: int) -> Params:
    """Seeds 0..S−1 of one cell at ``config.hidden`` (leading axis: seeds), from the cell's
    initialisation and widths, as NumPy arrays."""
    return seeds_initial_params(cell_architecture(config, cell), seeds, cell.widths)


def cell_architecture(config: TrainConfig, cell: Cell) -> Architecture:
    """What a cell's initial params depend on: ``config``'s architecture with the cell's
    initialisation (``config``'s where it names none)."""
    return dataclasses.replace(config, init=cell.init or config.init).architecture


def seeds_initial_params(
    architecture: Architecture, seeds: int, widths: tuple[int, int] | None = None
) -> Params:
    """Seeds 0..S−1's initial params at ``architecture.hidden`` (leading axis: seeds), as NumPy
    arrays, masked to ``widths`` if given: one compiled program per architecture, S and whether
    widths are given (traced, so every cell of a width sweep shares it), whatever grid asks."""
    layout = seed_layout(seeds, jax.device_count(), default_chunk_size())
    per_run = None if widths is None else np.tile(np.asarray(widths, np.int32), (seeds, 1))
    drawn = initial_params_many(architecture, layout, seed_keys(0, seeds), per_run)
    return jax.tree.map(lambda leaf: np.asarray(leaf)[:seeds], drawn)


def run_grid(
    config: TrainConfig,
    dataset: Dataset,
    cells: list[Cell],
    seeds: int,
    progress: Callable[[int], None] | None = None,
) -> GridResult:
    """Train seeds 0..S−1 of every cell, one compiled program per padding of
    :func:`width_groups` (one in all unless the cells have widths), and reduce each cell.
    ``progress`` hears the epochs done, as from one ``train_many`` call: the groups' progress
    in equal shares of ``config.epochs``."""
    groups = width_groups(cells, config.hidden)
    per_cell: list[TrainResult | None] = [None] * len(cells)
    for number, (padding, members) in enumerate(groups.items()):
        share = None
        if progress is not None:
            share = partial(group_progress, progress, number, len(groups), config.epochs)
        result = train_cells(config, padding, dataset, [cells[i] for i in members], seeds, share)
        for position, index in enumerate(members):
            per_cell[index] = jax.tree.map(lambda leaf, p=position: leaf[p * seeds : (p + 1) * seeds], result)
    summaries = [summarise(list(range(seeds)), cell_result) for cell_result in per_cell]
    outcomes = [cell_outcome(c.label, s) for c, s in zip(cells, summaries, strict=True)]
    return GridResult(cells, outcomes, per_cell, summaries)


def group_progress(progress: ProgressFn, number: int, groups: int, epochs: int, done: int) -> None:
    """Group ``number`` of ``groups`` at ``done`` epochs, as epochs of the whole grid."""
    progress((number * epochs + done) // groups)
