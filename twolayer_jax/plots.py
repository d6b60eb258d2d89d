"""The lab's figures, drawn with matplotlib's object API (no pyplot state, no backend choice here:
the CLIs and the tests select Agg), and the grid of network outputs the heat maps are drawn from."""

import itertools
import math
import warnings

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

from twolayer_jax.config import TrainConfig
from twolayer_jax.model import Params, forward

LABEL_COLOURS = np.array(["red", "blue"])  # label 0 red, label 1 blue, as the handout draws them
BOUNDARY_POINTS = 221  # grid points per axis of the decision-boundary heat maps
BOUNDARY_MARGIN = 0.05


def draw_points(ax, x: np.ndarray, labels: np.ndarray, title: str) -> None:
    ax.scatter(x[:, 0], x[:, 1], c=LABEL_COLOURS[labels.ravel().astype(int)], s=24)
    ax.set_title(title)
    ax.set_xlabel("x[0]")
    ax.set_ylabel("x[1]")
    ax.set_aspect("equal")


def comparison_figure(
    x: np.ndarray, target: np.ndarray, predicted: np.ndarray | None, note: str = ""
) -> Figure:
    """The handout's figure: "Ground truth" beside "Predict result" (thresholded predictions).

    ``predicted`` is None for a diverged run; the right panel then says so instead of guessing.
    """
    fig = Figure(figsize=(9, 4.4), layout="constrained")
    truth_ax, predict_ax = fig.subplots(1, 2, sharex=True, sharey=True)
    draw_points(truth_ax, x, target, "Ground truth")
    if predicted is None:
        predict_ax.set_title("Predict result")
        predict_ax.text(0.5, 0.5, "diverged", ha="center", va="center", transform=predict_ax.transAxes)
    else:
        draw_points(predict_ax, x, predicted, "Predict result")
    if note:
        fig.suptitle(note)
    return fig


CURVE_BINS = 240  # bins of a learning curve's log epoch axis: about one per pixel of a panel


def epoch_bins(columns: int, bins: int = CURVE_BINS) -> np.ndarray:
    """Edges of at most ``bins`` bins covering epochs 0..columns−1, equal in width on a log axis
    of epoch + 1: the early epochs one to a bin, the late ones many. ``edges[i]`` to
    ``edges[i + 1]`` (exclusive) is bin i; the first edge is 0 and the last ``columns``."""
    return np.unique(np.round(np.geomspace(1, columns + 1, bins + 1)).astype(int) - 1)


def quantiles(
    history: np.ndarray, qs: tuple[float, ...], bins: int = CURVE_BINS
) -> tuple[np.ndarray, np.ndarray]:
    """Quantiles of a (runs, epochs + 1) history, pooled over the runs and the epochs of each bin
    of :func:`epoch_bins`, ignoring diverged (non-finite) entries: (each bin's middle epoch, an
    array (len(qs), bins)). Per-epoch quantiles of runs that flip between two values from one
    epoch to the next (an accuracy at 20 or 21 of 21 points, a loss at a rate that overshoots)
    fill the space between the values with ink; pooled per bin they draw as a line and a band."""
    finite = np.where(np.isfinite(history), history, np.nan)
    edges = epoch_bins(history.shape[1], bins)
    middles = (edges[:-1] + edges[1:] - 1) / 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # bins where every run diverged
        pooled = [np.nanquantile(finite[:, a:b], qs) for a, b in itertools.pairwise(edges)]
    return middles, np.array(pooled).T


def draw_history(ax, history: np.ndarray, colour: str) -> None:
    """One line for one run; for several, the median with the interquartile and min–max bands
    (over runs and the epochs of a bin of the log epoch axis: :func:`quantiles`)."""
    if history.shape[0] == 1:
        ax.plot(np.arange(history.shape[1]), history[0], color=colour)
        return
    epochs, (low, q1, median, q3, high) = quantiles(history, (0.0, 0.25, 0.5, 0.75, 1.0))
    ax.fill_between(epochs, low, high, color=colour, alpha=0.12, lw=0, label="min–max")
    ax.fill_between(epochs, q1, q3, color=colour, alpha=0.3, lw=0, label="interquartile range")
    ax.plot(epochs, median, color=colour, label=f"median of {history.shape[0]} seeds")
    ax.legend(loc="best", fontsize="small")


def learning_curve_figure(loss: np.ndarray, accuracy: np.ndarray, title: str) -> Figure:
    """Loss (log scale) and accuracy against epochs (log scale: :func:`set_epoch_axis`);
    ``loss``/``accuracy`` are (runs, epochs+1)."""
    accuracy = np.where(np.isfinite(loss), accuracy, np.nan)  # a diverged net has no accuracy
    fig = Figure(figsize=(10, 4), layout="constrained")
    loss_ax, accuracy_ax = fig.subplots(1, 2, sharex=True)
    draw_history(loss_ax, loss, "tab:blue")
    loss_ax.set_yscale("log")
    plain_log_labels(loss_ax.yaxis)
    loss_ax.set_ylabel("loss")
    draw_history(accuracy_ax, 100 * accuracy, "tab:green")
    accuracy_ax.set_ylabel("accuracy (%)")
    accuracy_ax.set_ylim(0, 102)
    for ax in (loss_ax, accuracy_ax):
        set_epoch_axis(ax, loss.shape[1] - 1)
        draw_grid(ax)
    diverged = int(np.sum(~np.all(np.isfinite(loss), axis=1)))
    fig.suptitle(title + (f" ({diverged} diverged, left out)" if diverged else ""))
    return fig


def sigmoid_figure() -> Figure:
    """σ(t) and σ'(t) = σ(t)(1 − σ(t)): the derivative peaks at 1/4 and vanishes where σ saturates."""
    t = np.linspace(-8, 8, 401)
    sigma = 1 / (1 + np.exp(-t))
    fig = Figure(figsize=(6.4, 3.6), layout="constrained")
    ax = fig.subplots()
    ax.plot(t, sigma, color="tab:blue", label="σ(t) = 1 / (1 + e^(−t))")
    ax.plot(t, sigma * (1 - sigma), color="tab:orange", label="σ'(t) = σ(t)(1 − σ(t))")
    ax.axhline(0.25, color="tab:orange", lw=0.8, ls=":")
    ax.set_xlabel("t (pre-activation)")
    ax.set_ylabel("value")
    ax.set_title("The sigmoid and its derivative")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    return fig


def boundary_axis(points: int = BOUNDARY_POINTS) -> np.ndarray:
    """The heat maps' axis: the unit square and a margin, so points on its edge show whole."""
    return np.linspace(-BOUNDARY_MARGIN, 1 + BOUNDARY_MARGIN, points)


def boundary_inputs(points: int = BOUNDARY_POINTS) -> np.ndarray:
    """The heat maps' grid as network inputs, (points², 2) float64: row i·points + j is the point
    x[0] = axis[j], x[1] = axis[i], so outputs reshaped to (points, points) are indexed [i, j]."""
    axis = boundary_axis(points)
    return np.stack(np.meshgrid(axis, axis), axis=-1).reshape(-1, 2)


def boundary_grid(
    params: Params, config: TrainConfig, points: int = BOUNDARY_POINTS
) -> tuple[np.ndarray, np.ndarray]:
    """The network's output on a ``points``² grid over (a little more than) the unit square: the
    axis and the (points, points) outputs, ``output[i, j]`` at x[0] = axis[j], x[1] = axis[i]."""
    grid = boundary_inputs(points).astype(config.dtype)
    output = np.asarray(forward(params, grid, config.network))
    return boundary_axis(points), output.reshape(points, points)


def draw_output_map(ax, axis: np.ndarray, output: np.ndarray):
    """The output as a heat map on a fixed scale, 0 (red, label 0) to 1 (blue, label 1), so maps of
    different networks, or of one network as it learns, compare by colour. Returns the mesh."""
    return ax.pcolormesh(axis, axis, output, cmap="RdBu", vmin=0, vmax=1, shading="auto")


def draw_boundary(ax, axis: np.ndarray, output: np.ndarray):
    """The 0.5 contour (the decision boundary) in black, or None where the output never crosses
    0.5 (or is not finite) and there is no boundary to draw."""
    finite = output[np.isfinite(output)]
    if finite.size == 0 or not finite.min() < 0.5 < finite.max():
        return None
    return ax.contour(axis, axis, output, levels=[0.5], colors="black", linewidths=1.2)


def draw_labelled_points(
    ax, x: np.ndarray, labels: np.ndarray, size: float = 26, edgecolor: str = "black"
) -> None:
    """The dataset's points, coloured by label and ringed (in black, or ``edgecolor`` where the
    map under them has dark colours) so they show on the heat map."""
    colours = LABEL_COLOURS[labels.ravel().astype(int)]
    ax.scatter(x[:, 0], x[:, 1], c=colours, s=size, edgecolors=edgecolor, lw=0.6)


def decision_boundary_figure(
    axis: np.ndarray, output: np.ndarray | None, x: np.ndarray, labels: np.ndarray, title: str
) -> Figure:
    """The network's output over the unit square (``output[i, j]`` at x[0] = axis[j], x[1] =
    axis[i]) as a heat map, the 0.5 contour (the decision boundary) and the points on top."""
    fig = Figure(figsize=(5.6, 4.6), layout="constrained")
    ax = fig.subplots()
    if output is None:
        ax.text(0.5, 0.5, "diverged", ha="center", va="center", transform=ax.transAxes)
    else:
        fig.colorbar(draw_output_map(ax, axis, output), ax=ax, label="network output ŷ")
        draw_boundary(ax, axis, output)
    draw_labelled_points(ax, x, labels)
    ax.set(xlabel="x[0]", ylabel="x[1]", title=title)
    ax.set_aspect("equal")
    return fig


LOG_MARGIN = 1.08  # room beyond the data on a log axis, so no mark sits on the frame


def nice_log_limits(low: float, high: float) -> tuple[float, float]:
    """The 1–2–5 ladder's steps just at or outside [low, high] (both positive), never equal."""
    steps = [m * 10.0**e for e in range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 2)
             for m in (1, 2, 5)]  # fmt: skip
    bottom = max(v for v in steps if v <= low * (1 + 1e-9))
    top = min(v for v in steps if v >= high * (1 - 1e-9))
    return bottom, top if top > bottom else steps[steps.index(bottom) + 1]


def plain_log_labels(axis) -> None:
    """Tick labels of a log axis written plainly (0.3, not 3×10⁻¹). The decades are labelled;
    the ticks between them too where few decades show: all of them across less than half a
    decade, the 2s and 5s across less than two decades."""

    def minor_label(value: float, _) -> str:
        low, high = axis.get_view_interval()
        decades = math.log10(high / low)
        leading = round(value / 10 ** math.floor(math.log10(value) + 1e-9))
        return f"{value:g}" if decades < 0.5 or (decades < 2 and leading in (2, 5)) else ""

    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(FuncFormatter(minor_label))


def label_log_axis(ax, low: float, high: float) -> None:
    """A log y axis from ``low`` to ``high`` (positive data limits) with at least two labelled
    ticks: across two decades or more the decades are labelled; across less, where matplotlib
    would label one tick or none, every 1, 2 and 5 is, written plainly (500, not 5×10²)."""
    bottom, top = nice_log_limits(low / LOG_MARGIN, high * LOG_MARGIN)
    ax.set_ylim(bottom, top)
    if math.log10(top / bottom) < 2:
        ax.yaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        ax.yaxis.set_minor_locator(NullLocator())


def set_swept_axis(ax, values: list[float], xlabel: str, log_base: float) -> None:
    """The swept value on a log axis with a tick, labelled with the value, at every cell."""
    ax.set_xscale("log", base=log_base)
    ax.set_xticks(values, [f"{v:g}" for v in values])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlim(values[0] / log_base**0.3, values[-1] * log_base**0.3)
    ax.set_xlabel(xlabel)
    ax.grid(alpha=0.3)


def spread(count: int, width: float) -> np.ndarray:
    """``count`` offsets evenly across (−width/2, width/2): where side-by-side marks go."""
    return ((np.arange(count) + 0.5) / max(count, 1) - 0.5) * width


def draw_shares(ax, values: list[float], outcomes: dict[str, list], log_base: float) -> None:
    """Each dataset's share of seeds at 100 %, with its Wilson interval as an error bar; the
    datasets side by side at each value, so their bars do not hide each other."""
    for (name, cells), marker, shift in zip(
        outcomes.items(), "os^", spread(len(outcomes), 0.12), strict=False
    ):
        xs = np.asarray(values) * log_base**shift
        share = np.array([c.fraction_at_100 for c in cells])
        low, high = np.array([c.at_100_interval for c in cells]).T
        yerr = 100 * np.array([share - low, high - share])
        ax.errorbar(xs, 100 * share, yerr=yerr, marker=marker, capsize=3, label=name)
    ax.set_ylabel("seeds ending at 100 % accuracy (%)\nbars: Wilson interval")
    ax.set_ylim(-3, 103)


def draw_epochs(ax, values: list[float], outcomes: dict[str, list]) -> None:
    """Each dataset's median epochs to 100 % with the interquartile range, over the seeds that
    get there; the panel says so when none does."""
    extent = []
    for (name, cells), marker in zip(outcomes.items(), "os^", strict=False):
        reached = [(v, c) for v, c in zip(values, cells, strict=True) if c.median_epochs_to_100 is not None]
        if reached:
            xs = [v for v, _ in reached]
            mid = np.array([c.median_epochs_to_100 for _, c in reached])
            quartiles = np.array([c.quartiles_epochs_to_100 for _, c in reached]).T
            ax.errorbar(xs, mid, yerr=np.abs(quartiles - mid), marker=marker, capsize=3, label=name)
            extent += [q for q in quartiles.ravel() if q > 0]
    ax.set_ylabel("epochs until it stays at 100 %\n(median and IQR of the seeds that do)")
    ax.set_yscale("log")
    if extent:
        label_log_axis(ax, min(extent), max(extent))
        ax.legend(loc="best", fontsize="small")
    else:
        ax.text(0.5, 0.5, "no seed reached 100 %", transform=ax.transAxes, ha="center", va="center")


def draw_seeds(ax, values: list[float], per_seed: list[list], colour: str, log_base: float) -> None:
    """Every seed of every cell as a dot at its final loss, in ``colour`` if it ends at 100 %
    accuracy and grey if not, so a cell whose seeds split shows both colours where a median shows
    one number; a diverged seed is a cross along the top. Seeds sit side by side within a cell
    (many seeds overlap, so the two kinds differ in colour: hollow and filled would merge)."""
    finite, diverged = [], []
    for value, runs in zip(values, per_seed, strict=True):
        xs = value * log_base ** spread(len(runs), 0.3)
        for x, run in zip(xs, runs, strict=True):
            (diverged if run.diverged else finite).append((x, run))
    done = [(x, r.final_loss) for x, r in finite if r.final_accuracy == 1.0]
    short = [(x, r.final_loss) for x, r in finite if r.final_accuracy != 1.0]
    if done:
        ax.scatter(*zip(*done, strict=True), s=14, color=colour, label="ends at 100 %", zorder=3)
    if short:
        ax.scatter(*zip(*short, strict=True), s=14, color="0.55", label="ends below 100 %", zorder=3)
    ax.set_yscale("log")
    losses = [loss for _, loss in done + short if loss > 0]
    if losses:
        label_log_axis(ax, min(losses), max(losses))
    if diverged:
        at_top = ax.get_xaxis_transform()  # x in data, y in axes fractions
        ax.scatter([x for x, _ in diverged], [0.96] * len(diverged), marker="x", s=18, color="black",
                   transform=at_top, label="diverged (drawn at the top)", zorder=3)  # fmt: skip
    ax.set_ylabel("final loss of each seed")
    ax.legend(loc="best", fontsize="x-small")


def sweep_figure(
    values: list[float],
    outcomes: dict[str, list],
    per_seed: dict[str, list[list]],
    xlabel: str,
    title: str,
    log_base: float,
) -> Figure:
    """Against a swept value: on top, one line per dataset, the share of seeds that end at 100 %
    accuracy (with its Wilson interval) and the median epochs to 100 % (interquartile range as
    error bars) over the seeds that get there; below, one panel per dataset, every seed's final
    loss. ``outcomes`` maps a dataset to its cells' CellOutcomes, ``per_seed`` to its cells'
    RunSummary lists, both in the order of ``values``."""
    fig = Figure(figsize=(10, 7.6), layout="constrained")
    top, bottom = fig.subfigures(2, 1)
    share_ax, epochs_ax = top.subplots(1, 2)
    draw_shares(share_ax, values, outcomes, log_base)
    share_ax.legend(loc="best", fontsize="small")
    draw_epochs(epochs_ax, values, outcomes)
    seed_axes = np.atleast_1d(bottom.subplots(1, len(per_seed)))
    for index, (ax, (name, cells)) in enumerate(zip(seed_axes, per_seed.items(), strict=True)):
        draw_seeds(ax, values, cells, f"C{index}", log_base)
        ax.set_title(f"{name}: each seed", fontsize="medium")
    for ax in (share_ax, epochs_ax, *seed_axes):
        set_swept_axis(ax, values, xlabel, log_base)
    fig.suptitle(title)
    return fig


LINE_STYLES = ("-", "--", "-.", ":")


def line_styles(count: int) -> list[dict]:
    """Matplotlib keywords for ``count`` curves drawn on one axes in order: a distinct colour and
    a distinct (colour, dash) pair for each, and lines that get thinner as they are drawn later
    (and higher), so a curve that lies exactly on an earlier one shows as a dashed line inside it
    and neither hides the other."""
    widths = np.linspace(3.0, 1.2, count) if count > 1 else [1.8]
    return [
        {
            "color": f"C{i % 10}",
            "ls": LINE_STYLES[i % len(LINE_STYLES)],
            "lw": float(widths[i]),
            "zorder": 2 + i,
        }
        for i in range(count)
    ]


# Curves this close on a log axis, as a share of the panel's height, draw on each other: about the
# width of the thickest line (3 points) on a panel some 3.3 inches high.
COINCIDING_SHARE = 0.015


def coinciding(curves: dict[str, np.ndarray], decades: float) -> dict[str, str]:
    """{label: earlier label} for each curve that lies on an earlier one: within ``decades`` of it
    on the log axis they are drawn on (a ratio of 10**decades; :data:`COINCIDING_SHARE` of the
    decades a panel shows) at every point where both are positive and finite, and not finite
    where it is not, so a legend can say that two curves are drawn on each other. Each curve is
    compared with every earlier one, those on others too, and named with the first it lies on.
    ``curves`` are what is drawn (:func:`quantiles`' medians per bin): a tolerance relative to
    each epoch's value would read an early wobble of a few per cent, invisible on the figure, as
    curves apart."""
    same = {}
    labels = list(curves)
    for later_index, later in enumerate(labels):
        for earlier in labels[:later_index]:
            if on_each_other(curves[later], curves[earlier], decades):
                same[later] = earlier
                break
    return same


def on_each_other(a: np.ndarray, b: np.ndarray, decades: float) -> bool:
    """Whether two curves of equal length draw as one line on a log axis: finite at the same
    points and, where both are positive, within ``decades`` of each other."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape or not np.array_equal(np.isfinite(a), np.isfinite(b)):
        return False
    both = np.isfinite(a) & np.isfinite(b) & (a > 0) & (b > 0)
    return bool(np.all(np.abs(np.log10(a[both]) - np.log10(b[both])) <= decades))


def set_epoch_axis(ax, last: int) -> None:
    """Epochs 0..``last`` on a symmetric-log axis (linear from 0 to 1, logarithmic beyond), so the
    first hundred epochs, where a run leaves its plateau, get as much room as the last thousands."""
    ax.set_xscale("symlog", linthresh=1, linscale=0.4)
    ax.set_xlim(0, last)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))  # 1000, not 10³
    ax.set_xlabel("epoch (log scale)")


# an interquartile band wider than this (in decades of loss) says the seeds are far apart (some
# still on the plateau while others fell, or some diverging): drawn, it would hide other curves
BAND_DECADES = 1.5
BAND_NOTE = f" (band left out where over {BAND_DECADES:g} decades of loss wide)"


def paired_styles(groups: dict[str, tuple[str, str]]) -> dict[str, dict]:
    """Colours and dashes for curves that differ in two ways: ``groups`` maps a curve's label to
    (what its colour says, what its dash says), e.g. (model, optimizer); each distinct first
    gets a colour and each distinct second a dash, in order of appearance. For ``curves_figure``'s
    ``styles``."""
    colours = list(dict.fromkeys(first for first, _ in groups.values()))
    dashes = list(dict.fromkeys(second for _, second in groups.values()))
    styles = {}
    for label, (first, second) in groups.items():
        dash = LINE_STYLES[dashes.index(second) % len(LINE_STYLES)]
        styles[label] = {"color": f"C{colours.index(first) % 10}", "ls": dash}
    return styles


def draw_grid(ax) -> None:
    """Major gridlines, and on a log axis barely visible minor ones: a line at every 2..9 of each
    decade would weigh as much as the curves."""
    ax.grid(which="major", alpha=0.3)
    ax.grid(which="minor", alpha=0.08, lw=0.5)


def curves_figure(
    histories: dict[str, dict[str, np.ndarray]],
    title: str,
    loss_ceiling: float | None = None,
    styles: dict[str, dict] | None = None,
    suffixes: dict[str, str] | None = None,
) -> Figure:
    """One panel per dataset: the median loss over seeds of each setting, with its interquartile
    band (runs that diverged are left out, and the legend counts them). ``histories`` maps a
    dataset to {setting label: (seeds, epochs + 1) losses}. Each setting has its own colour and
    dash, and later ones are drawn thinner on top (:func:`line_styles`); ``styles`` overrides the
    colour and dash of the labels it names (:func:`paired_styles`), ``suffixes`` adds a text to a
    label in the legend (its learning rate, say). A setting whose median lies on an earlier one's
    says so in the legend (:func:`coinciding`). Where the band spans more than
    :data:`BAND_DECADES` the seeds are far apart and the band would hide the other curves: it is
    left out there, and the legend says so. ``loss_ceiling`` caps the loss axis (a
    diverging run leaves through the top instead of squashing the rest)."""
    styles, suffixes = styles or {}, suffixes or {}
    fig = Figure(figsize=(11, 4.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(histories), sharey=True))
    drawn = {}  # per panel, label → (line, legend text before and after a coinciding note, median)
    for ax, (name, by_label) in zip(axes, histories.items(), strict=True):
        drawn[ax] = {}
        for (label, loss), style in zip(by_label.items(), line_styles(len(by_label)), strict=True):
            style = style | styles.get(label, {})
            epochs, (q1, median, q3) = quantiles(loss, (0.25, 0.5, 0.75))
            with np.errstate(divide="ignore", invalid="ignore"):
                narrow = np.log10(q3 / q1) <= BAND_DECADES
            ax.fill_between(epochs, q1, q3, where=narrow, color=style["color"], alpha=0.15, lw=0)
            diverged = int(np.sum(~np.all(np.isfinite(loss), axis=1)))
            notes = f" ({diverged}/{loss.shape[0]} diverged)" if diverged else ""
            cut = np.isfinite(q1) & np.isfinite(q3) & ~narrow
            notes += BAND_NOTE if np.any(cut) else ""
            (line,) = ax.plot(epochs, median, **style)
            drawn[ax][label] = (line, (label + suffixes.get(label, ""), notes), median)
        ax.set(yscale="log", title=name)
        plain_log_labels(ax.yaxis)
        set_epoch_axis(ax, max(loss.shape[1] for loss in by_label.values()) - 1)
        draw_grid(ax)
    if loss_ceiling is not None:
        axes[0].set_ylim(top=loss_ceiling)
    for ax in axes:
        # "on each other" as drawn: the panels' shared loss axis is settled once every curve is on it
        bottom, top = ax.get_ylim()
        same = coinciding(
            {label: median for label, (_, _, median) in drawn[ax].items()},
            COINCIDING_SHARE * math.log10(top / bottom),
        )
        for label, (line, (name, notes), _) in drawn[ax].items():
            line.set_label(name + (f" (on {same[label]}'s curve)" if label in same else "") + notes)
        ax.legend(loc="lower left", fontsize="x-small")
    axes[0].set_ylabel("loss (median over seeds, IQR band)")
    fig.suptitle(title)
    return fig
