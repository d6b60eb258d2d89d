"""The report's prose helpers, on made-up results: lists and verbs agree, epochs are whole, rounding
noise is not printed as data, headings are words, and the figures say what the shapes say."""

import dataclasses
import re

import jax
import matplotlib
import numpy as np
import pytest

from twolayer_jax import data
from twolayer_jax.config import TrainConfig
from twolayer_jax.model import layer_shapes
from twolayer_jax.report import text
from twolayer_jax.report.cli import Experiment, grid_title, printout_record
from twolayer_jax.report.diagram import network_diagram
from twolayer_jax.report.study import Cell, epoch_quantiles, wilson_interval

matplotlib.use("Agg")


def outcome(label: str, at_100: int, seeds: int = 4, epochs: int | None = 100) -> dict:
    return {
        "label": label,
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


@pytest.mark.parametrize(
    ("items", "expected"),
    [([], "none"), (["a"], "a"), (["a", "b"], "a and b"), (["a", "b", "c"], "a, b and c")],
)
def test_a_list_reads_as_english(items, expected):
    assert text.listing(items) == expected


def test_the_verb_agrees_with_how_many_settings_bring_every_seed():
    both = {"adam": outcome("adam", 4, epochs=50), "adamw": outcome("adamw", 4)}
    two = {"d": both | {"sgd": outcome("sgd", 0)}}
    assert "adam and adamw bring every seed" in text.fastest_sentence(two)
    one = {"d": {"adam": outcome("adam", 4), "sgd": outcome("sgd", 1)}}
    assert "adam brings every seed" in text.fastest_sentence(one)
    every = {"d": {"adam": outcome("adam", 4), "sgd": outcome("sgd", 4)}}
    assert "every setting brings every seed" in text.fastest_sentence(every)


def test_a_partial_cell_is_counted_with_the_right_verb():
    sentences = " ".join(text.sweep_sentences([outcome("1", 1), outcome("2", 3)], "width", 100))
    assert "1 of 4 seeds ends there" in sentences and "3 of 4 seeds end there" in sentences


def test_rates_that_agree_on_every_dataset_are_said_once():
    assert text.rates_where({"linear": "10", "xor_easy": "10"}, 2) == "lr 10 on both datasets"
    assert text.rates_where({"linear": "10", "xor_easy": "3"}, 2) == "lr 10 on linear and lr 3 on xor_easy"
    assert text.rates_where({"linear": "10"}, 2) == "lr 10 on linear"


def test_a_slope_that_is_rounding_noise_is_not_printed_as_data():
    assert text.slope_phrase(5.3e-16) == "no slope, to rounding"
    assert text.slope_phrase(1.513) == "a slope of length 1.513"


def test_epoch_statistics_are_epochs_some_run_took():
    epochs = [10, 11, 20, 31]  # an even count: numpy's median would be 15.5
    median, low, high = epoch_quantiles(epochs, (0.5, 0.25, 0.75))
    assert median in epochs and low in epochs and high in epochs
    assert all(isinstance(value, int) for value in (median, low, high))
    assert epoch_quantiles([], (0.5,)) is None


def test_headings_are_words_not_code_identifiers():
    for name in data.DATASET_NAMES:
        heading = text.dataset_heading(name)
        assert not re.fullmatch(r"`?[a-z_]+`?", heading), heading
        assert f"`{name}`" in heading


def test_a_grid_is_named_in_words():
    dataset = data.xor_easy()
    experiment = Experiment("learning_rate", "", dataset, TrainConfig(), [Cell("1")], 2)
    assert grid_title(experiment) == "learning rates on xor_easy"
    optimizer = dataclasses.replace(experiment, section="optimizers", label="adam")
    assert grid_title(optimizer) == "optimizer adam on xor_easy"


def test_the_printout_has_the_handouts_epochs_and_no_number_for_a_diverged_loss():
    history = np.array([0.3, 0.2, 0.1, 0.05, np.inf, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan])
    record = printout_record(history, 10)
    assert record["every"] == 1
    assert [epoch for epoch, _ in record["losses"]] == list(range(1, 11))
    assert record["losses"][2] == [3, pytest.approx(0.05)]
    assert all(loss is None for _, loss in record["losses"][3:])


@pytest.mark.parametrize("hidden", [(100, 100), (3, 7)])
def test_the_network_diagram_counts_what_the_shapes_hold(hidden):
    shapes = layer_shapes(hidden)
    figure = network_diagram(shapes)
    strings = [t.get_text() for t in figure.axes[0].texts] + [figure.axes[0].get_title()]
    total = sum(int(np.prod(shape)) for shape in shapes.values())
    assert strings[-1].replace(" ", "").endswith(f"{total}parameters")
    assert f"2 → {hidden[0]} → {hidden[1]} → 1" in strings[-1]
    layer_2 = hidden[0] * hidden[1] + hidden[1]
    assert any(f"W2: {hidden[0]} × {hidden[1]}" in s and s.replace(" ", "").endswith(f"{layer_2}parameters")
               for s in strings)  # fmt: skip


def no_activation_record(recovered: list[int], diverged: list[int]) -> dict:
    cells = [
        outcome(label, 0) | {"diverged": d, "first_divergence": 6 if d else None}
        for label, d in zip(("0.01", "0.03", "0.1"), diverged, strict=True)
    ]
    return {"cells": cells, "overshot_and_recovered": recovered}


def test_overshoots_the_datasets_share_are_said_once_and_every_run_is_counted():
    same = no_activation_record([0, 3, 0], [0, 1, 4])
    sentences = text.overshoot_sentences({"linear": same, "xor_easy": same})
    assert len(sentences) == 1 and sentences[0].startswith("On both datasets alike")
    assert (
        "at lr 0.03 every run overshoots, and of 4, 3 come back and 1 diverges (the first by epoch 6)"
        in sentences[0]
    )
    apart = text.overshoot_sentences({"linear": same, "xor_easy": no_activation_record([0, 2, 0], [0, 1, 4])})
    assert [s.split(",")[0] for s in apart] == ["On linear", "On xor_easy"]
    assert "at lr 0.03 runs overshoot, and of 4, 2 come back and 1 diverges" in apart[1]


def test_the_conclusion_names_the_settings_whose_seeds_split():
    results = {
        "learning_rate": {"linear": [outcome("0.1", 0), outcome("1", 4)], "xor_easy": [outcome("0.3", 3)]},
        "hidden_units": {"linear": [outcome("2", 4)], "xor_easy": [outcome("2", 1)]},
    }
    assert text.split_cells(results) == ["lr 0.3 on `xor_easy`, 3 of 4", "width 2 on `xor_easy`, 1 of 4"]


def test_one_seeds_comparison_of_losses_says_it_is_one_seed():
    run = {"settled_at_100": 800, "diverged_at": None, "final_loss": 0.001}
    sentence = text.cross_entropy_sentence(run, run | {"settled_at_100": 400})
    assert "On this one seed cross-entropy gets there sooner: epoch 400 against 800" in sentence
    assert "not a comparison" in sentence
    assert text.cross_entropy_sentence(run, run | {"settled_at_100": None}) == ""


def test_settings_whose_epochs_overlap_the_fastest_are_not_ranked_below_it():
    fast = outcome("adam", 4, epochs=95) | {"quartiles_epochs_to_100": (90, 100)}
    tied = outcome("adamw", 4, epochs=96) | {"quartiles_epochs_to_100": (91, 101)}
    slow = outcome("sgd", 4, epochs=800) | {"quartiles_epochs_to_100": (700, 900)}
    sentence = text.fastest_sentence({"d": {"adam": fast, "adamw": tied, "sgd": slow}})
    assert "adam the soonest (median 95 epochs), and adamw not told apart from it" in sentence
    assert "(its interquartile range of epochs overlaps adam's; median 96)" in sentence
    wide = outcome("gelu", 4, epochs=110) | {"quartiles_epochs_to_100": (92, 140)}
    narrow = outcome("tanh", 4, epochs=102) | {"quartiles_epochs_to_100": (101, 103)}
    sentence = text.fastest_sentence({"d": {"adam": fast, "gelu": wide, "tanh": narrow}})
    # gelu's range overlaps adam's though its median is slower than tanh's, whose range does not
    assert "adam the soonest (median 95 epochs), and gelu not told apart from it" in sentence
    assert "tanh" not in sentence.split("soonest", 1)[1]
    level = outcome("adamw", 4, epochs=95) | {"quartiles_epochs_to_100": (93, 99)}
    sentence = text.fastest_sentence({"d": {"adam": fast, "adamw": level, "sgd": slow}})
    assert "adam and adamw the soonest (median 95 epochs)." in sentence  # a tie is not broken by order
    alone = text.fastest_sentence({"d": {"adam": fast, "sgd": slow}})
    assert "adam the soonest (median 95 epochs)" in alone


def test_a_larger_width_is_said_to_be_sooner_only_by_its_median_and_overlaps_are_named():
    def width(label, epochs, low, high):
        return outcome(label, 4, epochs=epochs) | {"quartiles_epochs_to_100": (low, high)}

    apart = [width("8", 1100, 1050, 1150), width("16", 900, 850, 950), width("32", 700, 650, 750)]
    (sentence,) = text.ordering_sentence(apart, "width", "width")
    assert (
        "each larger one has the lower median (width 8: 1100, width 16: 900 and width 32: 700 epochs)."
        in sentence
    )
    close = [width("8", 1100, 1000, 1150), width("16", 1040, 1010, 1060), width("32", 700, 650, 750)]
    (sentence,) = text.ordering_sentence(close, "width", "width")
    assert sentence.endswith("epochs); neighbours whose interquartile ranges overlap: width 8 and width 16.")
    slower = [width("8", 1100, 1050, 1150), width("16", 1120, 1100, 1250)]
    (sentence,) = text.ordering_sentence(slower, "width", "width")
    assert "a larger one is not always sooner" in sentence and sentence.endswith("width 8 and width 16.")


def test_every_grid_of_the_report_trains_on_the_hand_written_gradient_and_optimizers():
    """The introduction says jax.grad and optax only serve as references: every grid's config
    says so too."""
    from twolayer_jax.report.cli import Settings, plan

    datasets = [data.load_dataset(name, jax.random.key(0)) for name in data.DATASET_NAMES]
    experiments = plan(Settings(seeds=2, epochs=10, dtype="float32"), datasets)
    assert len(experiments) > 30
    assert {(e.config.grad, e.config.optimizer_impl) for e in experiments} == {("manual", "manual")}
