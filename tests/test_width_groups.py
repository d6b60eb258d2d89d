"""The report's grids: a width sweep trains each group of widths at its own padding, and every
cell comes back, in its place, as the same run the widest padding would have trained."""

import collections
import dataclasses
import logging
import re

import chex
import jax
import numpy as np
import pytest

from twolayer_jax import data
from twolayer_jax.config import TrainConfig
from twolayer_jax.many_runs import seed_keys, train_many
from twolayer_jax.optimizers import HParams
from twolayer_jax.report.cli import LAB, lab_index, with_lab_width
from twolayer_jax.report.study import WIDTH_PADDINGS, Cell, padding_of, run_grid, width_groups

XOR = data.xor_easy()
WIDE = (40, 40)
# out of order, and one cell with unequal widths, so that three paddings hold them
WIDTHS = [(12, 12), (1, 1), (9, 3), (2, 2), (40, 40)]


def test_every_cell_is_in_one_group_padded_to_the_smallest_width_that_holds_it():
    cells = [Cell(str(w), widths=w) for w in WIDTHS] + [Cell("full")]
    groups = width_groups(cells, WIDE)
    assert sorted(i for members in groups.values() for i in members) == list(range(len(cells)))
    assert groups == {(32, 32): [0], (8, 8): [1, 3], (32, 8): [2], WIDE: [4, 5]}
    for padding, members in groups.items():
        for cell in (cells[i] for i in members):
            widths = cell.widths or WIDE
            assert all(w <= p <= h for w, p, h in zip(widths, padding, WIDE, strict=True))
            smaller = [p for p in (*WIDTH_PADDINGS, *WIDE) if p < max(padding)]
            assert not any(all(w <= s for w in widths) and s < min(padding) for s in smaller)
    assert padding_of((3, 3), (4, 6)) == (4, 6)  # never wider than the grid


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_grouped_width_sweep_trains_each_cell_as_the_widest_padding_does(dtype):
    """Each cell of a grouped sweep against the same seeds of that width alone in one program
    padded to the grid's width (the sweep before grouping): same history, same params, the
    masked units zero. float64 to rounding (the padding adds exact zeros to each dot product),
    float32 with every summary the report prints the same."""
    config = TrainConfig(epochs=300, hidden=WIDE, dtype=dtype)
    cells = [Cell(str(w), HParams(lr=2.0), w) for w in WIDTHS]
    grid = run_grid(config, XOR, cells, seeds=3)
    for cell, outcome, result in zip(cells, grid.outcomes, grid.results, strict=True):
        assert outcome.label == cell.label
        alone = train_many(config, seed_keys(0, 3), HParams(lr=2.0), XOR.x, XOR.y, cell.widths)
        assert jax.tree.map(np.shape, result) == jax.tree.map(np.shape, alone)
        if dtype == "float64":
            chex.assert_trees_all_close(result, alone, rtol=1e-12, atol=1e-15)
        else:
            np.testing.assert_array_equal(result.accuracy, alone.accuracy)
            np.testing.assert_allclose(result.loss, alone.loss, rtol=1e-5, atol=0)
        assert np.all(np.asarray(result.params["W2"])[:, cell.widths[0] :, :] == 0)
        assert np.all(np.asarray(result.params["W2"])[:, :, cell.widths[1] :] == 0)


@pytest.mark.slow  # XLA's optimisations on, as the report compiles (the fast set skips them)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_lab_width_is_the_learning_rate_grids_lab_cell_to_the_last_bit(dtype):
    """A cell of the full width (masks of ones) trains what the unmasked lab's cell trains
    wherever it sits in a grid of the same layout (the report's width and rate grids both hold
    7·S runs), so the width sweep takes it from the learning-rate grid, in order of width. In
    float32, the report's default, bit for bit as the report compiles them (with XLA's
    optimisations, which the fast set skips); in float64 to the last bit or two."""
    config = TrainConfig(epochs=200, hidden=LAB.hidden, dtype=dtype)
    rates = run_grid(config, XOR, [Cell("0.1", HParams(lr=0.1)), Cell("1", HParams(lr=1.0))], seeds=2)
    full = [Cell("100", HParams(lr=1.0), LAB.hidden), Cell("100 at 0.1", HParams(lr=0.1), LAB.hidden)]
    full = run_grid(config, XOR, full, seeds=2)
    lab = lab_index(rates)
    if dtype == "float32":
        chex.assert_trees_all_equal(full.results[0], rates.results[lab])
        assert full.outcomes[0] == dataclasses.replace(rates.outcomes[lab], label="100")
    else:
        chex.assert_trees_all_close(full.results[0], rates.results[lab], rtol=1e-13, atol=1e-15)
    narrow = run_grid(config, XOR, [Cell("2", HParams(lr=1.0), (2, 2))], seeds=2)
    joined = with_lab_width(narrow, rates)
    assert [c.label for c in joined.cells] == [o.label for o in joined.outcomes] == ["2", "100"]
    assert joined.outcomes == [narrow.outcomes[0], dataclasses.replace(rates.outcomes[lab], label="100")]
    chex.assert_trees_all_equal(joined.results, [narrow.results[0], rates.results[lab]])


def compiled_programs(action) -> collections.Counter:
    """The names of the programs JAX compiles while ``action()`` runs."""
    names = collections.Counter()

    class Collect(logging.Handler):
        def emit(self, record):
            match = re.match(r"Compiling jit\(([^)]+)\)", record.getMessage())
            if match:
                names[match.group(1)] += 1

    handler = Collect()
    logging.getLogger("jax").addHandler(handler)
    try:
        with jax.log_compiles():
            action()
    finally:
        logging.getLogger("jax").removeHandler(handler)
    return names


def test_a_grid_compiles_its_programs_and_next_to_nothing_else():
    """A grid's bookkeeping (training order, crop, padding, each cell's share) is NumPy's: on JAX
    arrays every operation compiles a program of its own per shape, hundreds in a report. What
    else compiles is JAX's own joining of the histories (the seeds' keys are made beforehand)."""
    cells = [Cell("a", HParams(lr=1.0), (3, 5)), Cell("b", HParams(lr=0.5), (13, 13))]
    cells.append(Cell("c", HParams(lr=0.7)))
    seed_keys(0, 5)
    names = compiled_programs(lambda: run_grid(TrainConfig(epochs=7, hidden=(37, 35)), XOR, cells, seeds=5))
    assert names["fit_segment"] == 3  # one per padding: (8, 8), (32, 32) and (37, 35)
    assert names["initial_params_many"] <= 2  # with widths and without
    assert set(names) <= {"fit_segment", "initial_params_many", "concatenate"}, names
