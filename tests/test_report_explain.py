"""The report's explanations: each measurement on a case whose answer is known by hand, and each
sentence choosing its wording from made-up records, both ways."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from twolayer_jax import data
from twolayer_jax.config import TrainConfig
from twolayer_jax.model import init_params
from twolayer_jax.network import LAB_NETWORK
from twolayer_jax.one_run import TrainResult
from twolayer_jax.report import explain
from twolayer_jax.report.study import wilson_interval
from twolayer_jax.summary import RunSummary

# ---------------------------------------------------------------- measurements


def test_the_best_line_on_xor_easy_gets_16_of_21_points():
    """The 11 zeros lie on the diagonal x₀ = x₁, the 10 ones on the other diagonal with its
    centre left out. All ones are collinear, so a half-plane holding ones from both arms holds
    the segment between them, centre (a zero) included; its trace on the zeros' diagonal is a
    ray through the centre, so it holds at least 6 zeros: at most 10 + 5 = 15 right. A half-plane
    holding one arm only (x₁ − x₀ > 0.1 holds the 5 ones of the upper arm) gets those 5 and all 11
    zeros right: 16 of 21, the best."""
    xor = data.xor_easy()
    assert explain.best_line_accuracy(xor.x, xor.y) == pytest.approx(16 / 21)


@pytest.mark.parametrize(
    ("points", "labels", "best"),
    [
        ([[0, 0], [1, 1], [0, 1], [1, 0]], [0, 0, 1, 1], 3 / 4),  # XOR's four corners
        ([[0, 0], [0, 1], [1, 0], [1, 1]], [0, 0, 0, 1], 1.0),  # AND: one line does it
        ([[0, 0], [1, 0], [2, 0], [3, 0]], [1, 0, 1, 0], 3 / 4),  # collinear, alternating
        ([[0, 0], [1, 0], [2, 0], [3, 0]], [0, 1, 0, 1], 3 / 4),  # the same, mirrored
        ([[0, 0], [-1, 1], [1, 1]], [1, 0, 0], 1.0),  # the 1 cut off only by a line whose 1 side is below
    ],
)
def test_the_best_line_on_small_cases_known_by_hand(points, labels, best):
    x, y = np.array(points, float), np.array(labels, float)
    assert explain.best_line_accuracy(x, y) == pytest.approx(best)


def test_a_linear_dataset_is_split_by_some_line_exactly():
    linear = data.linear(jax.random.key(0))
    assert explain.best_line_accuracy(linear.x, linear.y) == 1.0


def test_a_rise_counts_and_rounding_noise_does_not():
    loss = np.array(
        [
            [0.30, 0.28, 0.28 * (1 + 1e-7), 0.27, 0.26, 0.25],  # float32 rounding: no rise
            [0.30, 0.28, 0.33, 0.27, 0.29, 0.25],  # two rises, the largest 0.05
            [0.30, 0.29, 0.28, 0.27, 0.26, 0.40],  # a rise after the window
            [0.30, np.nan, np.nan, np.nan, np.nan, np.nan],  # diverged: counted elsewhere
        ]
    )
    rising = explain.rises(loss, window=4)
    assert rising.sum(axis=1).tolist() == [0, 2, 0, 0]
    assert explain.largest_rise(loss, window=4) == pytest.approx(0.05)


def test_the_output_layers_curvature_where_it_is_known_by_hand():
    """With W₂ = 0 every z₂ is σ(0) = 1/2, and with W₃ = 0 the output is σ(0) with σ' = 1/4 and
    σ'' = 0; the Hessian in (W₃, b₃) is (2/n)·σ'²·Σᵢ z̃ᵢz̃ᵢᵀ with z̃ = (1/2, …, 1/2, 1) the same for
    every point, so its largest eigenvalue is (2/16)·‖z̃‖² = (100/4 + 1)/8 = 3.25."""
    xor = data.xor_easy()
    params = init_params(jax.random.key(0), (100, 100), jnp.float64)
    params |= {"W2": jnp.zeros_like(params["W2"]), "W3": jnp.zeros_like(params["W3"])}
    curvature = explain.output_layer_curvature(params, jnp.asarray(xor.x), jnp.asarray(xor.y), LAB_NETWORK)
    assert float(curvature) == pytest.approx(3.25)


def test_a_saturated_constant_output_has_no_slope():
    xor = data.xor_easy()
    params = init_params(jax.random.key(0), (8, 8), jnp.float32)
    params["W3"] = jnp.zeros_like(params["W3"])
    params["b3"] = jnp.full_like(params["b3"], 30.0)
    state = explain.output_state(params, xor, LAB_NETWORK)
    assert state["spread"] == 0 and state["largest_slope"] == 0 and state["median_output"] == 1
    assert state["smallest_logit"] == pytest.approx(30.0)
    assert explain.sigmoid_slope(0.0) == 0.25
    sigma = 1 / (1 + math.exp(-2.0))
    assert explain.sigmoid_slope(-2.0) == pytest.approx(sigma * (1 - sigma))


def stacked(*trees):
    return jax.tree.map(lambda *leaves: jnp.stack(leaves), *trees)


def test_only_a_failed_run_with_a_constant_saturated_output_is_stuck():
    """Of three runs, one at 100 %, one whose output is σ(30) everywhere (stuck) and one whose
    output is σ(0.5) everywhere (constant, but σ' ≈ 0.235: not stuck), one is stuck of two failed."""
    xor = data.xor_easy()
    base = init_params(jax.random.key(0), (4, 4), jnp.float32)
    constant = {"W3": jnp.zeros_like(base["W3"])}
    runs_params = [
        base,
        base | constant | {"b3": jnp.array([30.0], jnp.float32)},
        base | constant | {"b3": jnp.array([0.5], jnp.float32)},
    ]
    result = TrainResult(stacked(*runs_params), None, None)
    runs = [
        RunSummary(0, 0.01, 1.0, 10, None, 10),
        RunSummary(1, 0.5, 0.5, None, None),
        RunSummary(2, 0.25, 0.5, None, None),
    ]
    failed, stuck = explain.failed_outputs(runs, result, xor, LAB_NETWORK)
    assert failed == 2 and len(stuck) == 1 and stuck[0]["median_output"] == 1


def test_the_distance_to_linears_boundary():
    distance = explain.diagonal_distance(np.array([[0.0, 1.0], [0.5, 0.5], [0.2, 0.1]]))
    np.testing.assert_allclose(distance, [1 / math.sqrt(2), 0.0, 0.1 / math.sqrt(2)])


def test_the_misclassified_points_of_a_network_that_says_one_everywhere():
    linear = data.linear(jax.random.key(0))
    params = init_params(jax.random.key(0), (4, 4), jnp.float32)
    params["W3"] = jnp.zeros_like(params["W3"])
    params["b3"] = jnp.full_like(params["b3"], 5.0)
    np.testing.assert_array_equal(
        explain.misclassified(params, linear, LAB_NETWORK), np.flatnonzero(linear.y.ravel() == 0)
    )


def test_a_width_h_network_at_lr_times_100_over_h():
    assert explain.scaled_rate(8, 100, 1.0) == 12.5
    assert explain.scaled_rate(100, 100, 1.0) == 1.0


def test_momentums_step_and_adamws_shrink():
    assert explain.momentum_record()["effective_lr"] == pytest.approx(1.0)
    decay = explain.weight_decay_record({}, 5000)
    assert decay["per_step"] == pytest.approx(1e-6)
    assert decay["shrink"] == pytest.approx(math.exp(-5000 * 1e-6), rel=1e-6)  # 0.995


@pytest.mark.slow  # compiles a backward pass per activation (~20 s on two cores)
def test_sigmoid_passes_the_least_gradient_back():
    """σ' ≤ 1/4 per sigmoid layer, tanh' ≤ 1, relu' = 1 where on: at initialisation the
    sigmoid network's ‖δ₁‖/‖δ₃‖ is the smallest, below 1/16 · ‖W₂‖‖W₃‖-scale factors near 1."""
    config = TrainConfig(epochs=1)
    ratios = explain.delta_ratio_record(data.xor_easy(), config, ["sigmoid", "tanh", "relu"], 4)
    assert ratios["sigmoid"]["delta1"] < min(ratios["tanh"]["delta1"], ratios["relu"]["delta1"]) / 4
    assert ratios["sigmoid"]["delta1"] < ratios["sigmoid"]["delta2"] < 1 / 4


# ---------------------------------------------------------------- sentences


def outcome(at_100: int, seeds: int = 8, epochs: int | None = 1000) -> dict:
    return {
        "label": "x",
        "seeds": seeds,
        "at_100": at_100,
        "at_100_interval": wilson_interval(at_100, seeds),
        "median_epochs_to_100": epochs if at_100 else None,
        "quartiles_epochs_to_100": (epochs, epochs) if at_100 else None,
        "diverged": 0,
        "first_divergence": None,
        "median_final_loss": 0.01,
        "median_final_accuracy": 1.0 if at_100 == seeds else 0.5,
    }


SETTINGS = {"lab_lr": 1.0, "hidden": [100, 100], "dtype": "float32"}


def rise(label: str, rising: int) -> dict:
    return {"label": label, "seeds": 8, "rising": rising, "median_rises": 3.0, "largest_rise": 0.08}


def early_rise(rising_below: int, limit: float) -> dict:
    cells = [rise("0.1", 0), rise("0.3", rising_below), rise("1", 8), rise("3", 8)]
    return {
        "epochs": 500,
        "tolerance": 1e-5,
        "cells": {"linear": cells},
        "stability_limit": {"linear": limit},
    }


def test_the_overshoot_is_explained_only_when_the_counts_and_the_limit_agree():
    explained = explain.overshoot_sentences(
        {"settings": SETTINGS, "explanations": {"early_rise": early_rise(0, 0.63)}}
    )
    assert "At lr 0.1 and 0.3 it never does." in explained
    assert explained[-1].startswith("The output layer explains it")
    for record in (early_rise(2, 0.63), early_rise(0, 1.5)):
        sentences = explain.overshoot_sentences(
            {"settings": SETTINGS, "explanations": {"early_rise": record}}
        )
        assert not sentences[-1].startswith("The output layer explains it")
        assert "does not by itself account" in sentences[-1]


def collapse(stuck: int, bce_at_100: int, bce_stuck: int = 0) -> dict:
    return {
        "lr": "10",
        "seeds": 8,
        "failed": 6,
        "constant_and_saturated": stuck,
        "not_stuck": 6 - stuck,
        "at_one": min(stuck, 2),
        "largest_spread": 0.0 if stuck else None,
        "largest_slope": 0.0 if stuck else None,
        "smallest_logit": 17.0 if stuck else None,
        "slope_bound": 4.1e-8 if stuck else None,
        "mse": outcome(2),
        "bce": outcome(bce_at_100),
        "bce_failed": 8 - bce_at_100,
        "bce_constant_and_saturated": bce_stuck,
    }


def collapse_text(record: dict) -> str:
    results = {"settings": SETTINGS, "explanations": {"collapse": {"datasets": {"linear": record}}}}
    return " ".join(explain.collapse_sentences(results))


def test_the_collapse_is_called_stuck_only_when_the_outputs_are():
    stuck = collapse_text(collapse(6, 8))
    assert "6 of them have collapsed: the output is the same at every point" in stuck
    assert "A saturated output is stuck" in stuck and "exactly 0 or 1" in stuck
    assert "(more than the 2 of the same seeds with MSE)" in stuck
    loose = collapse_text(collapse(0, 1))
    assert "0 of them have collapsed." not in loose and "in 6 the output still varies" in loose
    assert "A saturated output is stuck" not in loose and "(fewer than the 2" in loose
    assert "The cross-entropy runs that still fail (7 on `linear`)" in loose
    assert "The cross-entropy runs that still fail" not in collapse_text(collapse(0, 1, bce_stuck=7))


def boundary(misclassified_distance: float) -> dict:
    return {
        "label": "0.01",
        "seeds": 8,
        "short": 8,
        "misclassified": 21,
        "median_misclassified_distance": misclassified_distance,
        "median_distance": 0.23,
        "farthest_rank": 24,
        "points": 100,
    }


def test_the_points_left_wrong_are_called_the_nearest_only_when_they_are():
    def text(distance):
        results = {"explanations": {"boundary_points": {"linear": [boundary(distance)]}}}
        return explain.boundary_point_sentences(results)[0]

    assert "are those nearest the boundary" in text(0.02)
    assert "are not only those nearest the boundary" in text(0.2)


def widths(unscaled: list[int], scaled: list[int]) -> dict:
    rows = [
        {"width": h, "lr": 100 / h, "scaled": outcome(8, epochs=s), "unscaled": outcome(8, epochs=u)}
        for h, u, s in zip((8, 32, 100), unscaled, scaled, strict=True)
    ]
    return {
        "widths": rows,
        "unscaled_ratio": unscaled[0] / unscaled[-1],
        "scaled_ratio": scaled[0] / scaled[-1],
    }


@pytest.mark.parametrize(
    ("scaled", "verdict"),
    [
        ([500, 700, 1000], "the narrow network is no slower"),
        ([1400, 1200, 1000], "narrow the gap without closing it"),
        ([3000, 2000, 1000], "do not close the gap but widen it"),
    ],
)
def test_wider_is_faster_is_judged_by_what_scaling_the_rate_does(scaled, verdict):
    results = {
        "settings": SETTINGS,
        "explanations": {"scaled_widths": {"linear": widths([2000, 1500, 1000], scaled)}},
    }
    (sentence,) = explain.scaled_width_sentences(results)
    assert verdict in sentence
    assert "widths 8, 32 and 100 take a median of 2000, 1500 and 1000 epochs" in sentence


def test_a_width_1_run_above_the_best_line_is_flagged():
    def text(above):
        record = {"width": 1, "best_line_accuracy": 16 / 21, "runs": 8, "median_final_accuracy": 15 / 21,
                  "max_final_accuracy": 16 / 21, "above_best_line": above}  # fmt: skip
        results = {
            "datasets": {"xor_easy": {"points": 21}},
            "explanations": {"best_line": {"xor_easy": record}},
        }
        return " ".join(explain.best_line_sentences(results))

    assert "76.19 %" in text(0) and "never above it" in text(0)
    assert "which a linear classifier cannot be" in text(2)


def momentum_text(momentum_epochs: int) -> str:
    results = {
        "explanations": {"momentum": explain.momentum_record()},
        "optimizers": {
            "outcomes": {"linear": {"sgd": outcome(8), "momentum": outcome(8, epochs=momentum_epochs)}}
        },
    }
    return explain.momentum_sentences(results)[0]


def test_momentum_and_sgd_are_called_alike_only_when_their_times_are():
    assert "about as long, as equal steps predict" in momentum_text(1100)
    assert "momentum gets there sooner on `linear`" in momentum_text(600)
    assert "momentum gets there later on `linear`" in momentum_text(2000)


def test_adamw_and_adam_coincide_only_when_their_losses_do():
    def text(relative):
        record = explain.weight_decay_record({}, 5000) | {
            "final_loss": {"linear": {"difference": 1e-8, "relative": relative}}
        }
        return explain.weight_decay_sentences({"explanations": {"weight_decay": record}})[0]

    assert "so their curves coincide" in text(1e-4)
    assert "so their curves coincide" not in text(0.5)


def activation_text(sigmoid_ratio: float, sigmoid_epochs: int) -> str:
    ratios = {"sigmoid": {"delta1": sigmoid_ratio, "delta2": 0.2}, "tanh": {"delta1": 0.7, "delta2": 0.9}}
    outcomes = {"sigmoid": outcome(8, epochs=sigmoid_epochs), "tanh": outcome(8, epochs=500)}
    results = {
        "explanations": {"delta_ratios": {"linear": ratios}},
        "activations": {"outcomes": {"linear": outcomes}},
    }
    return " ".join(explain.activation_sentences(results))


def test_sigmoid_is_called_the_slowest_only_when_it_is():
    assert "and it is the slowest" in activation_text(0.05, 1000)
    assert "not the slowest here" in activation_text(0.05, 300)
    assert "not the smallest" in activation_text(0.9, 1000)
