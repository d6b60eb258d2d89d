"""The lab's figures, drawn with matplotlib's object API (no pyplot state, no backend choice here:
the CLIs and the tests select Agg)."""

import warnings

import numpy as np
from matplotlib.figure import Figure

LABEL_COLOURS = np.array(["red", "blue"])  # label 0 red, label 1 blue, as the handout draws them


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
