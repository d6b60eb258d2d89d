"""The lab's figures, drawn with matplotlib's object API (no pyplot state, no backend choice here:
the CLIs and the tests select Agg), and the grid of network outputs the heat maps are drawn from."""

import warnings

import numpy as np
from matplotlib.figure import Figure

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


def quantiles(history: np.ndarray, qs: tuple[float, ...]) -> np.ndarray:
    """Per-epoch quantiles over runs, ignoring diverged (non-finite) entries."""
    finite = np.where(np.isfinite(history), history, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # epochs where every run diverged
        return np.nanquantile(finite, qs, axis=0)


def draw_history(ax, history: np.ndarray, colour: str) -> None:
    """One line for one run; for several, the median with the interquartile and min–max bands."""
    epochs = np.arange(history.shape[1])
    if history.shape[0] == 1:
        ax.plot(epochs, history[0], color=colour)
        return
    low, q1, median, q3, high = quantiles(history, (0.0, 0.25, 0.5, 0.75, 1.0))
    ax.fill_between(epochs, low, high, color=colour, alpha=0.12, lw=0, label="min–max")
    ax.fill_between(epochs, q1, q3, color=colour, alpha=0.3, lw=0, label="interquartile range")
    ax.plot(epochs, median, color=colour, label=f"median of {history.shape[0]} seeds")
    ax.legend(loc="best", fontsize="small")


def learning_curve_figure(loss: np.ndarray, accuracy: np.ndarray, title: str) -> Figure:
    """Loss (log scale) and accuracy against epochs; ``loss``/``accuracy`` are (runs, epochs+1)."""
    accuracy = np.where(np.isfinite(loss), accuracy, np.nan)  # a diverged net has no accuracy
    fig = Figure(figsize=(10, 4), layout="constrained")
    loss_ax, accuracy_ax = fig.subplots(1, 2, sharex=True)
    draw_history(loss_ax, loss, "tab:blue")
    loss_ax.set_yscale("log")
    loss_ax.set_ylabel("loss")
    draw_history(accuracy_ax, 100 * accuracy, "tab:green")
    accuracy_ax.set_ylabel("accuracy (%)")
    accuracy_ax.set_ylim(0, 102)
    for ax in (loss_ax, accuracy_ax):
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
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


def draw_labelled_points(ax, x: np.ndarray, labels: np.ndarray, size: float = 26) -> None:
    """The dataset's points, coloured by label and ringed in black so they show on the heat map."""
    colours = LABEL_COLOURS[labels.ravel().astype(int)]
    ax.scatter(x[:, 0], x[:, 1], c=colours, s=size, edgecolors="black", lw=0.6)


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
        fig.colorbar(draw_output_map(ax, axis, output), ax=ax, label="network output y")
        draw_boundary(ax, axis, output)
    draw_labelled_points(ax, x, labels)
    ax.set(xlabel="x[0]", ylabel="x[1]", title=title)
    ax.set_aspect("equal")
    return fig


def sweep_figure(
    values: list[float], outcomes: dict[str, list], xlabel: str, title: str, log_base: float
) -> Figure:
    """Two panels against a swept value, one line per dataset: the share of seeds that end at
    100 % accuracy, and the median epochs to 100 % (with the interquartile range as error bars)
    over the seeds that get there. ``outcomes`` maps a dataset to its cells' CellOutcomes."""
    fig = Figure(figsize=(10, 4), layout="constrained")
    share_ax, epochs_ax = fig.subplots(1, 2, sharex=True)
    for (name, cells), marker in zip(outcomes.items(), "os^", strict=False):
        share_ax.plot(values, [100 * c.fraction_at_100 for c in cells], marker=marker, label=name)
        reached = [(v, c) for v, c in zip(values, cells, strict=True) if c.median_epochs_to_100 is not None]
        if reached:
            xs = [v for v, _ in reached]
            mid = np.array([c.median_epochs_to_100 for _, c in reached])
            spread = np.array([c.quartiles_epochs_to_100 for _, c in reached]).T
            epochs_ax.errorbar(xs, mid, yerr=np.abs(spread - mid), marker=marker, capsize=3, label=name)
    share_ax.set_ylabel("seeds ending at 100 % accuracy (%)")
    share_ax.set_ylim(-3, 103)
    epochs_ax.set_ylabel("epochs until it stays at 100 % (median, IQR)")
    epochs_ax.set_yscale("log")
    for ax in (share_ax, epochs_ax):
        ax.set_xscale("log", base=log_base)
        ax.set_xticks(values, [f"{v:g}" for v in values])
        ax.minorticks_off()
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3, which="both")
        if ax.get_legend_handles_labels()[1]:
            ax.legend(loc="best", fontsize="small")
        else:  # no dataset has a point to show here
            ax.text(0.5, 0.5, "no seed reached 100 %", transform=ax.transAxes, ha="center", va="center")
    fig.suptitle(title)
    return fig


def curves_figure(
    histories: dict[str, dict[str, np.ndarray]], title: str, loss_ceiling: float | None = None
) -> Figure:
    """One panel per dataset: the median loss over seeds of each setting, with its interquartile
    band (runs that diverged are left out, and the legend counts them). ``histories`` maps a
    dataset to {setting label: (seeds, epochs + 1) losses}. Settings alternate solid and dashed
    lines, so two that coincide both show; ``loss_ceiling`` caps the loss axis (a diverging run
    leaves through the top instead of squashing the rest)."""
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(histories), sharey=True))
    colours = [f"C{i}" for i in range(10)]
    for ax, (name, by_label) in zip(axes, histories.items(), strict=True):
        for index, (label, loss) in enumerate(by_label.items()):
            colour, style = colours[index % len(colours)], ("-", "--")[index % 2]
            diverged = int(np.sum(~np.all(np.isfinite(loss), axis=1)))
            epochs = np.arange(1, loss.shape[1] + 1)  # shifted by one so epoch 0 fits a log axis
            q1, mid, q3 = quantiles(loss, (0.25, 0.5, 0.75))
            note = f" ({diverged}/{loss.shape[0]} diverged)" if diverged else ""
            ax.plot(epochs, mid, color=colour, ls=style, label=label + note)
            ax.fill_between(epochs, q1, q3, color=colour, alpha=0.2, lw=0)
        ax.set(xscale="log", yscale="log", xlabel="epoch + 1", title=name)
        if loss_ceiling is not None:
            ax.set_ylim(top=loss_ceiling)
        ax.grid(alpha=0.3, which="both")
        ax.legend(loc="lower left", fontsize="x-small")
    axes[0].set_ylabel("loss (median over seeds, IQR band)")
    fig.suptitle(title)
    return fig
