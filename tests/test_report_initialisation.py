"""The report's initialisation grid and discussion: cells with their own initialisation train as
their own grids would, the start is measured on the networks the grid trains, and each sentence
chooses its wording from made-up records, both ways."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from report_records import outcome

from twolayer_jax import data
from twolayer_jax.config import TrainConfig
from twolayer_jax.initialisations import FORMULAS, INITIALISATIONS, formula
from twolayer_jax.network import LAB_NETWORK
from twolayer_jax.optimizers import HParams
from twolayer_jax.report import initialisation as init_section
from twolayer_jax.report.study import (
    Cell,
    GridResult,
    cell_initial_params,
    cropped,
    run_grid,
)

CONFIG = TrainConfig(epochs=30, grad="manual", optimizer_impl="manual")


def same_results(first: GridResult, second: GridResult) -> bool:
    pairs = zip(jax.tree.leaves(first.results), jax.tree.leaves(second.results), strict=True)
    return all(np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True) for a, b in pairs)


def one_cell(grid: GridResult, index: int) -> GridResult:
    fields = (grid.cells, grid.outcomes, grid.results, grid.summaries)
    return GridResult(*([field[index]] for field in fields))


def test_cells_with_their_own_initialisation_train_as_their_own_grids():
    """One grid whose cells start from different initialisations (and widths, and rates) trains
    each cell as a grid of that initialisation alone would, to the last bit; a cell that names none
    takes the config's."""
    xor = data.xor_easy()
    cells = [
        Cell("a", HParams(lr=1.0), (10, 10), "normal"),
        Cell("b", HParams(lr=0.5), (100, 100), "he_normal"),
        Cell("c", HParams(lr=1.0), (4, 4)),
    ]
    mixed = run_grid(CONFIG, xor, cells, 3)
    for index, cell in enumerate(cells):
        config = CONFIG if cell.init is None else dataclasses.replace(CONFIG, init=cell.init)
        alone = run_grid(config, xor, [dataclasses.replace(cell, init=None)], 3)
        assert same_results(one_cell(mixed, index), alone), cell.label
    # and the initialisations do differ: the first cell from lecun_normal trains otherwise
    lecun = run_grid(CONFIG, xor, [dataclasses.replace(cells[0], init=None)], 3)
    assert not same_results(one_cell(mixed, 0), lecun)


def test_the_start_is_measured_on_the_networks_the_grid_starts_from():
    """The statistics of one run by hand: the weights' spread as drawn, each layer's pre-activation
    spread across the points (median over units), the output's range, the loss."""
    seeds, width = 3, 10
    cell = Cell("", widths=(width, width), init="normal")
    narrow = dataclasses.replace(CONFIG, hidden=(width, width))
    params = cropped(cell_initial_params(CONFIG, cell, seeds), narrow.param_shapes)
    xor = data.xor_easy()
    x, y = jnp.asarray(xor.x, jnp.float32), jnp.asarray(xor.y, jnp.float32)
    statistics = init_section.starting_statistics(params, x, y, LAB_NETWORK)
    run = jax.tree.map(lambda leaf: np.asarray(leaf[1], np.float64), params)
    a1 = np.asarray(x, np.float64) @ run["W1"] + run["b1"]
    z1 = 1 / (1 + np.exp(-a1))
    a2 = z1 @ run["W2"] + run["b2"]
    output = 1 / (1 + np.exp(-(1 / (1 + np.exp(-a2)) @ run["W3"] + run["b3"])))
    expected = {
        "w1_std": run["W1"].std(),
        "w2_std": run["W2"].std(),
        "layer1_spread": np.median(a1.std(axis=0)),
        "layer2_spread": np.median(a2.std(axis=0)),
        "output_range": output.max() - output.min(),
        "loss": np.mean((output - xor.y) ** 2),
    }
    for name, value in expected.items():
        assert float(statistics[name][1]) == pytest.approx(value, rel=1e-4), name
    assert params["W2"].shape == (seeds, width, width)


def test_the_starting_record_tells_the_scales_apart():
    """N(0, 1) ignores the fan-in and LeCun's draw divides by it: at width 100, layer 2's weights
    have a standard deviation near 1 against near 1/√100."""
    rows = init_section.starting_record(CONFIG, data.xor_easy(), 8)
    by_key = {(r["init"], r["width"]): r for r in rows}
    assert len(rows) == len(init_section.COMPARED) * len(init_section.WIDTHS)
    assert by_key["normal", 100]["w2_std"] == pytest.approx(1.0, rel=0.05)
    assert by_key["lecun_normal", 100]["w2_std"] == pytest.approx(0.1, rel=0.05)
    assert by_key["normal", 100]["layer2_spread"] > 5 * by_key["lecun_normal", 100]["layer2_spread"]


def test_every_initialisation_has_a_formula_and_an_alias_shares_its_entrys():
    assert set(FORMULAS) == set(INITIALISATIONS.values())
    assert formula("glorot") == formula("xavier_uniform")
    assert formula("normal:0.5") == r"\mathcal N(0,\ 0.5^2)"
    assert formula("uniform:2") == r"U(-2,\ 2)"


# ---------------------------------------------------------------- sentences


def record(
    epochs: dict[str, int | None], spreads: dict[str, float], at_100: int = 32, loss: float = 0.01
) -> dict:
    """One width (100) and rate (1): each initialisation's median epochs (None: no seed got there)
    and layer-2 spread."""
    inits = list(epochs)
    return {
        "dataset": "xor_easy",
        "points": 21,
        "lab_init": inits[0],
        "compared": inits,
        "widths": [100],
        "rates": [1.0],
        "cells": [
            {
                "init": i,
                "width": 100,
                "lr": 1.0,
                "outcome": outcome(at_100 if e else 0, seeds=32, epochs=e, loss=loss),
            }
            for i, e in epochs.items()
        ],
        "start": [
            {
                "init": i,
                "width": 100,
                "w1_std": 1,
                "w2_std": 1,
                "layer1_spread": 0.3,
                "layer2_spread": spreads[i],
                "output_range": spreads[i] / 10,
                "loss": 0.25,
            }
            for i in inits
        ],
    }


def test_the_ordering_is_claimed_only_when_the_pairs_bear_it_out():
    agreeing = record({"a": 1600, "b": 550, "c": 900}, {"a": 0.06, "b": 0.8, "c": 0.3})
    assert init_section.ordered_pairs(agreeing, "layer2_spread") == (3, 3)
    assert "sooner in 3 of 3 pairs" in init_section.ordering_sentence(agreeing)[0]
    reversed_ = record({"a": 500, "b": 1600, "c": 900}, {"a": 0.06, "b": 0.8, "c": 0.3})
    assert init_section.ordered_pairs(reversed_, "layer2_spread") == (0, 3)
    assert "so no starting statistic here orders them" in init_section.ordering_sentence(reversed_)[0]
    # a cell where fewer than half the seeds get there is no comparison
    few = record({"a": 1600, "b": 550}, {"a": 0.06, "b": 0.8}, at_100=10)
    assert (
        init_section.ordered_pairs(few, "layer2_spread") == (0, 0)
        and init_section.ordering_sentence(few) == []
    )


def test_the_lab_setting_names_the_soonest_and_says_apart_only_when_it_is():
    near = record({"lecun_normal": 1600, "normal": 1500}, {"lecun_normal": 0.06, "normal": 0.8})
    for cell in near["cells"]:
        cell["outcome"]["quartiles_epochs_to_100"] = (1400, 1700)
    (sentence,) = init_section.lab_setting_sentence(near, 1.0)
    assert "`normal` gets to 100 % in a median of 1500 epochs" in sentence and "apart" not in sentence
    apart = record({"lecun_normal": 1600, "normal": 550}, {"lecun_normal": 0.06, "normal": 0.8})
    assert "(interquartile ranges apart)" in init_section.lab_setting_sentence(apart, 1.0)[0]
    own_soonest = record({"lecun_normal": 500, "normal": 550}, {"lecun_normal": 0.06, "normal": 0.8})
    assert init_section.lab_setting_sentence(own_soonest, 1.0) == []


def test_the_plateau_names_every_initialisation_at_once_and_counts_the_cells_on_the_fit():
    stuck = record({"a": None, "b": None}, {"a": 0.06, "b": 0.8}, loss=0.2494)
    (sentence,) = init_section.plateau_sentences(stuck, 0.2494, 5000)
    assert "at 100 units, lr 1 (every initialisation)" in sentence
    assert "2 of these 2 cells still end on the plateau" in sentence
    partly = record({"a": None, "b": 900}, {"a": 0.06, "b": 0.8}, loss=0.1)
    (sentence,) = init_section.plateau_sentences(partly, 0.2494, 5000)
    assert "(`a`)" in sentence and "end on the plateau" not in sentence
    assert (
        "end at another loss, without getting there: `a` at 100 units, lr 1 "
        "(median loss 0.1, accuracy 50.00 %)" in sentence
    )
    assert init_section.plateau_sentences(record({"a": 900}, {"a": 0.1}), 0.2494, 5000) == []


def test_a_start_above_the_plateau_is_said_only_where_the_loss_is():
    start = record({"a": 900, "b": 500}, {"a": 0.06, "b": 0.8})
    assert not any("above it" in s for s in init_section.start_sentences(start, 0.2494))
    start["start"][1]["loss"] = 0.47
    (_, above) = init_section.start_sentences(start, 0.2494)
    assert above.startswith("1 of the 2 starts more than 10 % above the plateau's loss (0.2494), at 0.47")
    assert "(`b`): its output is nearly constant too, but far from the labels' mean" in above
    start["start"][0]["loss"] = 0.26  # 4 % above: on the plateau, for this sentence
    (_, above) = init_section.start_sentences(start, 0.2494)
    assert above.startswith("1 of the 2 starts") and "(`a`)" not in above
    start["start"][0]["loss"] = 0.44
    (_, above) = init_section.start_sentences(start, 0.2494)
    assert above.startswith("2 of the 2 start more") and ": their output" in above


def test_the_flattest_layer_1_is_blamed_only_where_it_never_gets_there():
    stuck = record(
        {"lecun_normal": 900, "xavier_uniform": None}, {"lecun_normal": 0.06, "xavier_uniform": 0.01}
    )
    stuck["start"][1]["layer1_spread"], stuck["start"][1]["w1_std"] = 0.06, 0.14
    (_, blamed) = init_section.plateau_sentences(stuck, 0.2494, 5000)
    assert blamed.startswith("`xavier_uniform` at width 100 starts with the flattest layer 1")
    assert "0.14 against `lecun_normal`'s 1" in blamed
    # the flattest layer 1 that does get there is not blamed
    stuck["cells"][1]["outcome"] = outcome(32, seeds=32, epochs=900)
    stuck["cells"][0]["outcome"] = outcome(0, seeds=32, epochs=None)
    assert init_section.flat_layer_1_sentence(stuck, [stuck["cells"][0]]) == []


def test_the_conclusion_names_only_a_lead_that_is_ranges_apart_and_the_cells_that_never_get_there():
    def results_of(rec):
        return {"initialisation": rec, "settings": {"lab_lr": 1.0}}

    apart = record(
        {"lecun_normal": 1600, "normal": 550, "xavier_uniform": None},
        {"lecun_normal": 0.06, "normal": 0.8, "xavier_uniform": 0.01},
    )
    (sentence,) = init_section.conclusion_sentence(results_of(apart))
    assert "`normal` gets there in a median of 550 epochs against `lecun_normal`'s 1600 epochs" in sentence
    assert sentence.endswith("`xavier_uniform` brings no seed there.")
    close = record({"lecun_normal": 1600, "normal": 1500}, {"lecun_normal": 0.06, "normal": 0.8})
    for cell in close["cells"]:
        cell["outcome"]["quartiles_epochs_to_100"] = (1400, 1700)
    assert init_section.conclusion_sentence(results_of(close)) == []
