"""The report's explanations: each measurement on a case whose answer is known by hand, and each
sentence choosing its wording from made-up records, both ways."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from report_records import outcome

from twolayer_jax import data
from twolayer_jax.config import TrainConfig
from twolayer_jax.model import init_params
from twolayer_jax.network import LAB_NETWORK
from twolayer_jax.one_run import TrainResult
from twolayer_jax.report import explain
from twolayer_jax.report.wording import significant
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
    assert explain.epoch_quantiles(rising.sum(axis=1).tolist(), (0.5,)) == (0,)  # a count, not 0.5 or 1
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
    """lr·λ_max = lr · 2/limit: sgd at lr 1 past plain descent's 2 where the limit is 0.63,
    momentum at lr 0.1 inside heavy ball's 2(1 + 0.9) = 3.8."""
    momentum = explain.momentum_record({"linear": 0.63})
    assert momentum["effective_lr"] == pytest.approx(1.0) and momentum["momentum_bound"] == 3.8
    assert momentum["step_times_curvature"]["linear"] == {"sgd": 3.2, "momentum": 0.32}
    decay = explain.weight_decay_record({}, 5000)
    assert decay["per_step"] == pytest.approx(1e-6)
    assert decay["shrink"] == 0.995 and decay["shrinks_by"] == 0.005  # (1 − 1e-6)^5000 ≈ e^−0.005


@pytest.mark.slow  # compiles a backward pass per activation (~20 s on two cores)
def test_sigmoid_passes_the_least_gradient_back():
    """σ' ≤ 1/4 per sigmoid layer, tanh' ≤ 1, relu' = 1 where on: at initialisation the
    sigmoid network's ‖δ₁‖/‖δ₃‖ is the smallest, below 1/16 · ‖W₂‖‖W₃‖-scale factors near 1."""
    config = TrainConfig(epochs=1)
    ratios = explain.delta_ratio_record(data.xor_easy(), config, ["sigmoid", "tanh", "relu"], 4)
    assert ratios["sigmoid"]["delta1"] < min(ratios["tanh"]["delta1"], ratios["relu"]["delta1"]) / 4
    assert ratios["sigmoid"]["delta1"] < ratios["sigmoid"]["delta2"] < 1 / 4


def test_a_record_keeps_two_significant_digits_and_a_median_some_run_had():
    assert significant(0.6282128095626831) == 0.63 and significant(0.0167831723079338) == 0.017
    assert significant(0.9950124767050064, 3) == 0.995
    assert explain.lower_median([0.6, 0.8, 0.5, 0.7]) == 0.6  # not 0.65, which no run ended at
    assert explain.lower_median([]) is None


# ---------------------------------------------------------------- sentences


SETTINGS = {"lab_lr": 1.0, "hidden": [100, 100], "dtype": "float32", "seeds": 32, "epochs": 5000}


def rise(label: str, rising: int, rises: int = 3) -> dict:
    return {"label": label, "seeds": 8, "rising": rising, "median_rises": rises, "largest_rise": 0.08}


def early_rise(rising_below: int, limit: float, rises_at_3: int = 200) -> dict:
    cells = [rise("0.1", 0), rise("0.3", rising_below), rise("1", 8, 15), rise("3", 8, rises_at_3)]
    return {
        "epochs": 500,
        "tolerance": 1e-5,
        "cells": {"linear": cells},
        "stability_limit": {"linear": limit},
    }


def rate_cells(epochs_at_1: int = 859, epochs_at_3: int = 2033) -> list[dict]:
    cells = [
        outcome(0) | {"median_final_loss": 0.2493},
        outcome(8, epochs=epochs_at_1),
        outcome(8, epochs=epochs_at_3),
    ]
    return [c | {"label": label} for c, label in zip(cells, ("0.001", "1", "3"), strict=True)]


def overshoot(record: dict, epochs_at_3: int = 2033) -> list[str]:
    results = {
        "settings": SETTINGS,
        "explanations": {"early_rise": record},
        "learning_rate": {"linear": rate_cells(epochs_at_3=epochs_at_3)},
    }
    return explain.overshoot_sentences(results)


def test_the_overshoot_is_explained_only_when_the_counts_and_the_limit_agree():
    explained = overshoot(early_rise(0, 0.63))
    assert "At lr 0.1 and 0.3 it never does." in explained
    assert explained[2].startswith("The output layer explains it")
    assert "a median of 15 rising epochs each" in explained[0]
    for record in (early_rise(2, 0.63), early_rise(0, 1.5)):
        sentences = overshoot(record)
        assert not sentences[2].startswith("The output layer explains it")
        assert "does not by itself account" in sentences[2]


def test_the_rate_above_is_called_slower_for_oscillating_only_when_both_agree():
    agree = " ".join(overshoot(early_rise(0, 0.63, rises_at_3=230)))
    assert "a median of 230 at lr 3 on `linear` (lr 1: 15)" in agree
    assert (
        "(2033 against 859 epochs): so on each dataset, of these two rates, the one whose loss rises" in agree
    )
    disagree = " ".join(overshoot(early_rise(0, 0.63, rises_at_3=5)))  # rises less, yet slower
    assert "does not line up with which rate is faster" in disagree


def plateau_text(affine_loss: float, slope: float = 0.0) -> str:
    results = {
        "settings": SETTINGS,
        "learning_rate": {"xor_easy": rate_cells()},
        "no_activation": {"xor_easy": {"least_squares_loss": affine_loss, "least_squares_slope": slope}},
    }
    return " ".join(explain.plateau_sentences(results))


def test_the_plateau_is_called_the_affine_fit_only_when_their_losses_agree():
    assert "within 1 % of 0.2494, the loss of the best affine fit" in plateau_text(0.2494)
    assert "which on this dataset is a constant" in plateau_text(0.2494)
    assert "a constant" not in plateau_text(0.2494, slope=1.5)
    assert plateau_text(0.0663) == ""  # linear's plateau is not its affine fit's loss


def collapse(stuck: int, bce_at_100: int, bce_stuck: int = 0, mse_at_100: int = 2) -> dict:
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
        "mse": outcome(mse_at_100),
        "bce": outcome(bce_at_100),
        "bce_failed": 8 - bce_at_100,
        "bce_constant_and_saturated": bce_stuck,
        "bce_failed_median_accuracy": 5 / 7 if bce_at_100 < 8 else None,
    }


def collapse_text(record: dict) -> str:
    results = {"settings": SETTINGS, "explanations": {"collapse": {"datasets": {"linear": record}}}}
    return " ".join(explain.collapse_sentences(results) + explain.bce_sentences(results))


def test_the_collapse_is_called_stuck_only_when_the_outputs_are():
    stuck = collapse_text(collapse(6, 8))
    assert "6 of them have collapsed: the output is the same at every point" in stuck
    assert "A saturated output is stuck" in stuck and "exactly 0 or 1" in stuck
    loose = collapse_text(collapse(0, 1))
    assert "0 of them have collapsed." not in loose and "in 6 the output still varies" in loose
    assert "A saturated output is stuck" not in loose


def test_cross_entropy_is_called_different_only_where_the_intervals_are_apart():
    apart = collapse_text(collapse(6, 8, mse_at_100=1))  # 8 of 8 (68–100 %) against 1 of 8 (2–47 %)
    assert (
        "on the first 8 seeds only" in apart
        and "(interval 68–100 %) against 1 of 8 with MSE (2–47 %)" in apart
    )
    assert "they are apart: cross-entropy brings more seeds to 100 %" in apart
    overlapping = collapse_text(collapse(0, 6))  # 6 of 8 against 2 of 8: the intervals overlap
    assert "the two intervals overlap: on 8 seeds these intervals do not separate" in overlapping
    assert "more seeds" not in overlapping and "fewer" not in overlapping


def test_where_the_failed_cross_entropy_runs_end_and_whether_they_are_stuck():
    loose = collapse_text(collapse(0, 1))
    assert "The cross-entropy runs that fail (7 on `linear`) have no saturated constant output" in loose
    assert "they end at a median accuracy of 71.43 % on `linear`" in loose
    assert "6 on `linear` have a constant saturated output" in collapse_text(collapse(0, 2, bce_stuck=6))


def boundary(farthest_rank: int) -> dict:
    return {
        "label": "0.01",
        "seeds": 8,
        "short": 8,
        "misclassified": 21,
        "median_misclassified_distance": 0.017,
        "median_distance": 0.23,
        "farthest_rank": farthest_rank,
        "points": 100,
    }


def test_the_points_left_wrong_are_called_the_nearest_only_when_their_rank_says_so():
    def text(rank):
        results = {"explanations": {"boundary_points": {"linear": [boundary(rank)]}}}
        return explain.boundary_point_sentences(results)[0]

    assert "all among the 24 points nearest it" in text(24) and "are those nearest the boundary" in text(24)
    assert "a median 0.017 from the diagonal." in text(90)  # only the median distance
    assert "nearest" not in text(90)


def test_the_rate_explanations_are_separate_paragraphs():
    results = {
        "settings": SETTINGS,
        "learning_rate": {"linear": rate_cells()},
        "no_activation": {"linear": {"least_squares_loss": 0.0663, "least_squares_slope": 1.5}},
        "explanations": {
            "early_rise": early_rise(0, 0.63),
            "collapse": {"datasets": {"linear": collapse(6, 8)}},
            "boundary_points": {"linear": [boundary(24)]},
        },
    }
    paragraphs = explain.rate_paragraphs(results)
    assert [p.split(" ")[0] for p in paragraphs] == ["In", "At", "Cross-entropy's", "On"]
    assert all("\n" not in p for p in paragraphs)


def widths(unscaled: list[int], scaled: list[int], limits=(5.4, 1.8, 0.63)) -> dict:
    rows = [
        {
            "width": h,
            "lr": 100 / h,
            "scaled": outcome(8, epochs=s),
            "unscaled": outcome(8, epochs=u),
            "stability_limit": limit,
        }
        for h, u, s, limit in zip((8, 32, 100), unscaled, scaled, limits, strict=True)
    ]
    return {"seeds": 8, "widths": rows, "unscaled_ratio": None, "scaled_ratio": None}


def width_text(records: dict, epochs_at_3: int = 2033) -> str:
    results = {
        "settings": SETTINGS,
        "learning_rate": {name: rate_cells(epochs_at_3=epochs_at_3) for name in records},
        "explanations": {"scaled_widths": records},
    }
    return " ".join(explain.scaled_width_sentences(results))


def test_the_scaled_widths_say_their_seeds_and_that_opposite_answers_settle_nothing():
    slower, faster = widths([1102, 975, 852], [1618, 1235, 852]), widths([2820, 2305, 1663], [417, 819, 1663])
    text = width_text({"linear": slower, "xor_easy": faster})
    assert "takes the first 8 seeds only, so the medians here are over those 8, not the table's 32" in text
    assert "take a median of 1102, 975 and 852 epochs to 100 % at lr 1" in text
    assert (
        "every narrow width is slower at its scaled rate" in text and "every narrow width is faster" in text
    )
    assert "The two datasets give opposite answers" in text
    alike = width_text({"linear": slower, "xor_easy": slower})
    assert (
        "opposite" not in alike and "On every dataset the larger step slows the narrow networks down" in alike
    )


def test_the_scaled_widths_overshoot_is_said_only_when_past_the_stable_step_and_matching():
    slower = widths([1102, 975, 852], [1618, 1235, 852])
    matching = width_text({"linear": slower})  # lr 3 slower than lr 1, and the scaled widths slower
    assert "Every scaled rate is past its width's stable step" in matching
    assert "5.4, 1.8 and 0.63 on `linear`" in matching and "scaled narrow widths are slower too" in matching
    assert "does not match" in width_text({"linear": slower}, epochs_at_3=500)
    inside = width_text({"linear": widths([1102, 975, 852], [1618, 1235, 852], limits=(20, 1.8, 0.63))})
    assert "Not every scaled rate is past" in inside and "slower too" not in inside


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


def momentum_text(momentum_epochs: int, limit: float = 0.63, sgd_rises: int = 15) -> str:
    record = early_rise(0, limit)
    record["cells"]["linear"][2]["median_rises"] = sgd_rises
    results = {
        "settings": SETTINGS,
        "explanations": {"momentum": explain.momentum_record({"linear": limit}), "early_rise": record},
        "optimizers": {
            "outcomes": {"linear": {"sgd": outcome(8), "momentum": outcome(8, epochs=momentum_epochs)}}
        },
    }
    return " ".join(explain.momentum_sentences(results))


def test_momentum_is_said_to_avoid_the_overshoot_only_where_sgd_is_past_its_limit():
    past = momentum_text(1100)
    assert "lr·λmax = 3.2 on `linear` and momentum at lr 0.1 has 0.32" in past
    assert "sgd is past its limit, and its loss rises early (in a median of 15 on `linear`" in past
    assert "about as long, so the overshoot costs sgd nothing measurable" in past
    assert "avoiding the overshoot fits that" in momentum_text(600)
    assert "which the stability limits do not account for" in momentum_text(2000)
    inside = momentum_text(600, limit=1.5)  # sgd's lr·λ = 1.3: inside its limit
    assert "these limits do not set the two apart here" in inside and "avoiding the overshoot" not in inside


def test_adamw_and_adam_are_said_to_coincide_as_foregone_only_when_their_losses_do():
    def text(relative):
        record = explain.weight_decay_record({}, 5000) | {
            "final_loss": {"linear": {"difference": 4.96e-8, "relative": relative}}
        }
        return explain.weight_decay_sentences({"explanations": {"weight_decay": record}})[0]

    assert "= 0.995 over the whole run, a shrink of 0.50 %, so the two are bound to end alike" in text(0.032)
    assert "differ by 5.0e-08 on `linear` (AdamW's minus Adam's; 3 % of Adam's)" in text(0.032)
    assert "the decay moves the final loss by less than 5 %" in text(0.032)
    assert "less than 5 %" not in text(0.5) and "more than so weak a pull" in text(0.5)


def activation_text(gelu_epochs: int, relu_epochs: int = 500) -> str:
    ratios = {
        "sigmoid": {"delta1": 0.054, "delta2": 0.24},
        "tanh": {"delta1": 0.71, "delta2": 0.87},
        "relu": {"delta1": 0.48, "delta2": 0.7},
        "gelu": {"delta1": 0.34, "delta2": 0.57},
    }
    outcomes = {
        "sigmoid": outcome(32, 32, epochs=859, spread=25),
        "tanh": outcome(32, 32, epochs=68, spread=8),
        "relu": outcome(32, 32, epochs=relu_epochs, spread=10),
        "gelu": outcome(32, 32, epochs=gelu_epochs, spread=150),
    }
    results = {
        "explanations": {"delta_ratios": {"linear": ratios}},
        "activations": {"outcomes": {"linear": outcomes}},
    }
    return " ".join(explain.activation_sentences(results))


def test_the_gradient_ratio_explains_only_the_activations_it_sets_apart():
    as_slow = activation_text(842)  # gelu's IQR 692–992 overlaps the sigmoid's 834–884
    assert "slower than tanh and relu on every dataset, interquartile ranges apart" in as_slow
    assert "but not than gelu (ratio 0.34) on `linear`" in as_slow and "not from every activation" in as_slow
    assert "is the slowest" not in as_slow
    ranked = activation_text(300, relu_epochs=500)  # gelu 0.34 faster than relu 0.48: against the ratio
    assert "Nor does the ratio rank the others: on `linear` gelu is faster than relu" in ranked
    assert "Nor does" not in activation_text(842, relu_epochs=400)


def test_a_sigmoid_ratio_that_is_not_the_smallest_is_said():
    results = {
        "explanations": {"delta_ratios": {"linear": {"sigmoid": {"delta1": 0.9}, "tanh": {"delta1": 0.7}}}},
        "activations": {"outcomes": {"linear": {"sigmoid": outcome(8), "tanh": outcome(8, epochs=500)}}},
    }
    assert "the sigmoid's ratio is not the smallest" in " ".join(explain.activation_sentences(results))
