"""The report's figures read as they should: a tick label at every swept value and at least two
on every log axis, every seed of a sweep drawn, curves that lie on each other both visible, and
epochs on a log axis."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from twolayer_jax.plots import (
    CURVE_BINS,
    coinciding,
    curves_figure,
    epoch_bins,
    learning_curve_figure,
    line_styles,
    quantiles,
    sweep_figure,
)
from twolayer_jax.report.study import cell_outcome
from twolayer_jax.summary import RunSummary

WIDTHS = [1, 2, 4, 8, 16, 32, 100]


def at_100(seed: int, epochs: int) -> RunSummary:
    return RunSummary(seed, 0.01 + 0.001 * seed, 1.0, epochs, None, epochs)


def stuck(seed: int) -> RunSummary:
    return RunSummary(seed, 0.25, 11 / 21, None, None)


def split_sweep(seeds: int = 6) -> dict[str, list[list[RunSummary]]]:
    """Narrow widths split (half their seeds at 100 %), wide ones all get there; every epoch
    count lies within one decade (300 to 900), where matplotlib's log axis labels one tick."""
    cells = []
    for index, _ in enumerate(WIDTHS):
        reached = seeds // 2 if index < 3 else seeds
        cells.append([at_100(s, 300 + 100 * index) if s < reached else stuck(s) for s in range(seeds)])
    cells[-1][0] = RunSummary(0, None, None, None, 17)  # one diverged run
    return {"xor_easy": cells, "linear": [[at_100(s, 500) for s in range(seeds)] for _ in WIDTHS]}


def draw_sweep(per_seed):
    outcomes = {name: [cell_outcome(str(w), runs) for w, runs in zip(WIDTHS, cells, strict=True)]
                for name, cells in per_seed.items()}  # fmt: skip
    fig = sweep_figure(WIDTHS, outcomes, per_seed, "hidden units per layer", "t", 2)
    fig.canvas.draw()
    return fig


def labelled_ticks(axis) -> list[str]:
    """The labels of the ticks inside the axis's view, as drawn."""
    low, high = sorted(axis.get_view_interval())
    ticks = zip(axis.get_majorticklocs(), axis.get_majorticklabels(), strict=True)
    return [label.get_text() for at, label in ticks if low <= at <= high and label.get_text()]


def test_every_log_axis_of_a_sweep_figure_has_at_least_two_labelled_ticks():
    fig = draw_sweep(split_sweep())
    log_axes = [(ax, axis) for ax in fig.axes for axis in (ax.xaxis, ax.yaxis) if axis.get_scale() == "log"]
    assert len(log_axes) == 2 * 4 - 1  # every x axis, the epochs', and both per-seed panels' y
    for ax, axis in log_axes:
        assert len(labelled_ticks(axis)) >= 2, (ax.get_ylabel() or ax.get_title(), labelled_ticks(axis))


def test_every_swept_value_is_a_labelled_tick():
    for ax in draw_sweep(split_sweep()).axes:
        assert labelled_ticks(ax.xaxis) == [str(w) for w in WIDTHS]


def test_the_share_panel_draws_each_cells_interval():
    fig = draw_sweep(split_sweep(seeds=4))
    share_ax = fig.axes[0]
    # errorbar draws the bars as one LineCollection per dataset, a segment per cell
    bars = [c for c in share_ax.collections if len(c.get_segments()) == len(WIDTHS)]
    segments = np.array([s[:, 1] for s in bars[0].get_segments()])  # xor_easy first
    z2 = 1.959963984540054**2
    half = np.sqrt(1 / 4 - (1 / 4) / (1 + z2 / 4))  # 2 of 4: 1/2 ± this, by hand
    np.testing.assert_allclose(segments[0], [100 * (0.5 - half), 100 * (0.5 + half)])
    np.testing.assert_allclose(segments[3], [100 * 4 / (4 + z2), 100])  # 4 of 4


def test_every_seed_is_a_dot_and_the_split_has_two_colours():
    per_seed = split_sweep()
    fig = draw_sweep(per_seed)
    xor_ax = next(ax for ax in fig.axes if ax.get_title().startswith("xor_easy"))
    drawn = {c.get_label(): len(c.get_offsets()) for c in xor_ax.collections}
    runs = [r for cell in per_seed["xor_easy"] for r in cell]
    assert drawn == {
        "ends at 100 %": sum(r.final_accuracy == 1.0 for r in runs),
        "ends below 100 %": sum(r.final_accuracy is not None and r.final_accuracy < 1 for r in runs),
        "diverged (drawn at the top)": 1,
    }
    colours = {c.get_label(): tuple(c.get_facecolor()[0]) for c in xor_ax.collections}
    assert colours["ends at 100 %"] != colours["ends below 100 %"]


def histories(curves: dict[str, float], seeds: int = 3, epochs: int = 300) -> dict[str, np.ndarray]:
    """Loss histories falling at the given rates; equal rates give equal curves."""
    t = np.arange(epochs + 1)
    return {label: np.tile(0.25 * np.exp(-rate * t), (seeds, 1)) for label, rate in curves.items()}


def test_curves_have_distinct_colour_and_dash_and_later_ones_are_thinner_and_on_top():
    by_label = histories({name: 0.01 for name in ("sgd", "momentum", "nesterov", "adagrad", "rmsprop",
                                                    "adam", "adamw")})  # fmt: skip
    fig = curves_figure({"linear": by_label}, "t")
    lines = [line for line in fig.axes[0].get_lines() if not line.get_label().startswith("_")]
    assert len(lines) == 7
    assert len({(line.get_color(), line.get_linestyle()) for line in lines}) == 7
    widths = [line.get_linewidth() for line in lines]
    orders = [line.get_zorder() for line in lines]
    assert widths == sorted(widths, reverse=True) and len(set(widths)) == 7
    assert orders == sorted(orders) and len(set(orders)) == 7


def test_line_styles_stay_distinct_beyond_the_colour_cycle():
    styles = line_styles(20)
    assert len({(s["color"], s["ls"]) for s in styles}) == 20


def test_a_curve_on_an_earlier_one_says_so_in_the_legend():
    by_label = histories({"adam": 0.02, "adamw": 0.02, "sgd": 0.005})
    by_label["adamw"] = by_label["adamw"] * 1.001  # a weight decay too small to see
    assert coinciding({k: v[0] for k, v in by_label.items()}) == {"adamw": "adam"}
    fig = curves_figure({"linear": by_label}, "t")
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["adam", "adamw (on adam's curve)", "sgd"]


def test_curves_apart_are_not_called_coinciding():
    by_label = histories({"a": 0.02, "b": 0.021})
    assert coinciding({k: v[0] for k, v in by_label.items()}) == {}


@pytest.mark.parametrize("figure", ["learning_curve", "curves"])
def test_epochs_are_on_a_log_axis_starting_at_epoch_0(figure):
    loss = histories({"a": 0.01})["a"]
    if figure == "learning_curve":
        fig = learning_curve_figure(loss, np.ones_like(loss), "t")
    else:
        fig = curves_figure({"linear": {"a": loss}}, "t")
    for ax in fig.axes:
        assert ax.get_xscale() == "symlog"
        assert ax.get_xlim() == (0, loss.shape[1] - 1)


def test_the_epoch_bins_cover_every_epoch_once_the_early_ones_alone():
    for columns in (1, 2, 41, 201, 5001):
        edges = epoch_bins(columns)
        assert edges[0] == 0 and edges[-1] == columns and np.all(np.diff(edges) > 0)
        assert len(edges) - 1 <= CURVE_BINS
    assert list(epoch_bins(5001)[:11]) == list(range(11))


def test_a_flickering_accuracy_draws_as_a_line_not_as_ink():
    """Seeds flipping between 20 and 21 of 21 points each epoch: per epoch, the median of an even
    number of seeds jumps between values; pooled per bin it is one value and the band holds both."""
    epochs = 5000
    flips = (np.arange(epochs + 1) % 2).astype(float)
    accuracy = np.stack(
        [20 / 21 + flips / 21, 21 / 21 - flips / 21, np.ones(epochs + 1), np.full(epochs + 1, 20 / 21)]
    )
    middles, (low, median, high) = quantiles(accuracy, (0.0, 0.5, 1.0))
    assert len(middles) <= CURVE_BINS
    late = middles > 100  # bins of several epochs
    assert np.all(np.diff(median[late]) == 0)
    np.testing.assert_allclose(low[late], 20 / 21)
    np.testing.assert_allclose(high[late], 1.0)
    fig = learning_curve_figure(np.full_like(accuracy, 0.1), accuracy, "t")
    median_line = next(line for line in fig.axes[1].get_lines() if line.get_label().startswith("median"))
    assert len(median_line.get_xdata()) <= CURVE_BINS


def drawn_labels(axis) -> list[str]:
    """Every tick label of an axis inside its view, major and minor, as drawn."""
    low, high = sorted(axis.get_view_interval())
    ticks = [
        *zip(axis.get_majorticklocs(), axis.get_majorticklabels(), strict=True),
        *zip(axis.get_minorticklocs(), axis.get_minorticklabels(), strict=True),
    ]
    return [label.get_text() for at, label in ticks if low <= at <= high and label.get_text()]


@pytest.mark.parametrize("span", [(0.25, 0.35), (0.02, 0.3), (1e-4, 1.0)])
def test_loss_and_epoch_labels_are_plain_numbers_and_at_least_two(span):
    """Under a decade matplotlib labels a log axis 3×10⁻¹ or not at all; the figures write 0.3."""
    loss = np.geomspace(span[1], span[0], 501)[None, :].repeat(3, axis=0)
    fig = learning_curve_figure(loss, np.ones_like(loss), "t")
    fig.canvas.draw()
    loss_ax = fig.axes[0]
    for axis in (loss_ax.yaxis, loss_ax.xaxis):
        labels = drawn_labels(axis)
        assert len(labels) >= 2, labels
        for label in labels:
            float(label.replace("−", "-"))  # a plain number: no 10^k, no ×
