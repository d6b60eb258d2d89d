"""The report's figures read as they should: a tick label at every swept value and at least two
on every log axis, every seed of a sweep drawn, curves that lie on each other both visible, and
epochs on a log axis."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from twolayer_jax.plots import (
    BAND_NOTE,
    CURVE_BINS,
    coinciding,
    curves_figure,
    epoch_bins,
    learning_curve_figure,
    line_styles,
    paired_styles,
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
    assert coinciding({k: v[0] for k, v in by_label.items()}, 0.01) == {"adamw": "adam"}
    fig = curves_figure({"linear": by_label}, "t")
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["adam", "adamw (on adam's curve)", "sgd"]


def test_curves_apart_are_not_called_coinciding():
    by_label = histories({"a": 0.02, "b": 0.021})
    assert coinciding({k: v[0] for k, v in by_label.items()}, 0.05) == {}


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


def legend_texts(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_a_curve_that_wobbles_early_by_a_few_percent_still_lies_on_the_earlier_one():
    """Momentum and Nesterov differ by a few per cent in their first epochs: invisible on a log
    axis of several decades, and no reason to call the curves apart."""
    by_label = histories({"momentum": 0.02, "nesterov": 0.02})
    by_label["nesterov"] = by_label["nesterov"] * (1 + 0.05 * np.exp(-np.arange(301) / 10))
    fig = curves_figure({"linear": by_label}, "t")
    assert legend_texts(fig.axes[0]) == ["momentum", "nesterov (on momentum's curve)"]


def test_every_curve_on_an_earlier_one_is_named_not_only_the_first():
    """Three rates that all stay on the plateau: the second and the third each lie on the first."""
    by_label = histories({"lr 0.001": 1e-5, "lr 0.01": 1e-5, "lr 0.1": 1e-4, "lr 1": 0.02})
    fig = curves_figure({"xor_easy": by_label}, "t")
    assert legend_texts(fig.axes[0]) == [
        "lr 0.001",
        "lr 0.01 (on lr 0.001's curve)",
        "lr 0.1 (on lr 0.001's curve)",
        "lr 1",
    ]


def split_seeds(epochs: int = 300) -> np.ndarray:
    """Four seeds: two stay on the plateau, two fall four decades after epoch 100."""
    t = np.arange(epochs + 1)
    falling = 0.25 * np.exp(-np.clip(t - 100, 0, None) * np.log(1e4) / (epochs - 100))
    return np.stack([np.full(epochs + 1, 0.25), np.full(epochs + 1, 0.24), falling, falling * 1.1])


def band_extent(ax, colour) -> list[np.ndarray]:
    """The (x, y) vertices of the bands (fill_between's polygons) drawn in ``colour``."""
    from matplotlib.colors import to_rgb

    bands = [c for c in ax.collections if np.allclose(c.get_facecolor()[0][:3], to_rgb(colour))]
    return [path.vertices for band in bands for path in band.get_paths()]


def test_a_band_where_the_seeds_split_is_left_out_and_the_legend_says_so():
    by_label = {"lr 1": histories({"a": 0.02}, seeds=4)["a"], "lr 10": split_seeds()}
    fig = curves_figure({"xor_easy": by_label}, "t")
    ax = fig.axes[0]
    assert legend_texts(ax) == ["lr 1", "lr 10" + BAND_NOTE]
    split_band = band_extent(ax, "C1")
    assert split_band, "drawn where the seeds agree (before they split)"
    for vertices in split_band:
        low, high = vertices[:, 1].min(), vertices[:, 1].max()
        assert np.log10(high / low) <= 1.5, (low, high)
    assert max(v[:, 0].max() for v in split_band) < 200, "and not where they split"


def test_styles_colour_by_one_setting_and_dash_by_the_other_and_suffixes_add_to_the_legend():
    models = ("conv", "dense 100–100", "dense 32–32")
    groups = {f"{model}, {opt}": (model, opt) for model in models for opt in ("sgd", "adam")}
    styles = paired_styles(groups)
    by_label = histories({label: 0.005 * (i + 1) for i, label in enumerate(groups)})
    suffixes = {label: f", lr {1 if label.endswith('sgd') else 0.01:g}" for label in groups}
    fig = curves_figure({"linear": by_label}, "t", styles=styles, suffixes=suffixes)
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    assert list(lines) == [label + suffixes[label] for label in groups]
    colours = {label: lines[label + suffixes[label]].get_color() for label in groups}
    dashes = {label: lines[label + suffixes[label]].get_linestyle() for label in groups}
    for model in ("conv", "dense 100–100", "dense 32–32"):
        assert colours[f"{model}, sgd"] == colours[f"{model}, adam"]
    assert len(set(colours.values())) == 3
    assert {dashes[label] for label in groups if label.endswith("sgd")} != {
        dashes[label] for label in groups if label.endswith("adam")
    }
    assert len(set(dashes.values())) == 2
    widths = [line.get_linewidth() for line in lines.values()]
    assert widths == sorted(widths, reverse=True), "later curves still thinner, on top"


def test_minor_gridlines_are_much_lighter_than_major_ones():
    fig = curves_figure({"linear": histories({"a": 0.03})}, "t")
    fig.canvas.draw()
    ax = fig.axes[0]
    major = [line for tick in ax.yaxis.get_major_ticks() for line in [tick.gridline] if line.get_visible()]
    minor = [line for tick in ax.yaxis.get_minor_ticks() for line in [tick.gridline] if line.get_visible()]
    assert major and minor
    assert max(line.get_alpha() for line in minor) <= 0.1 < min(line.get_alpha() for line in major)


def test_on_each_other_is_judged_on_the_panel_as_drawn():
    """Two curves 10 % apart (0.04 decades) draw as one line across six decades of a panel, and
    as two across one decade."""
    for low, expected in ((1e-6, ["a", "b (on a's curve)"]), (0.025, ["a", "b"])):
        a = np.tile(np.geomspace(0.25, low, 301), (3, 1))
        fig = curves_figure({"linear": {"a": a, "b": a * 1.1}}, "t")
        assert legend_texts(fig.axes[0]) == expected, low
