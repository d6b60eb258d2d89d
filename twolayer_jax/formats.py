"""The handout's printed formats, in one place for every tool that prints them.

    epoch 10000 loss : 0.16234523253277644
    Iter91 |     Ground truth: 1.0 |     prediction: 0.99943 |
    loss=0.03844 accuracy=100.00%

A diverged value is written as the word "diverged", never as a number.
"""

import numpy as np

from twolayer_jax.summary import RunSummary


def training_line(epoch: int, loss: float, diverged_at: int | None) -> str:
    if diverged_at is not None and epoch >= diverged_at:
        return f"epoch {epoch} loss : diverged at epoch {diverged_at}"
    return f"epoch {epoch} loss : {float(loss)!r}"


def default_print_every(epochs: int) -> int:
    """Ten training lines a run, whatever its length (at least one epoch apart)."""
    return max(1, epochs // 10)


def training_lines(loss_history: np.ndarray, print_every: int, diverged_at: int | None) -> list[str]:
    """One line every ``print_every`` epochs; ``loss_history[k]`` is the loss after k updates."""
    epochs = range(print_every, len(loss_history), print_every)
    return [training_line(k, loss_history[k], diverged_at) for k in epochs]


def prediction_lines(target: np.ndarray, output: np.ndarray) -> list[str]:
    """One line per point, numbered from 0 in the dataset's order."""
    return [
        f"Iter{i} |     Ground truth: {float(t):.1f} |     prediction: {float(p):.5f} |"
        for i, (t, p) in enumerate(zip(target.ravel(), output.ravel(), strict=True))
    ]


def summary_line(run: RunSummary) -> str:
    if run.diverged:
        return f"loss=diverged accuracy=diverged (diverged at epoch {run.diverged_at})"
    return f"loss={run.final_loss:.5f} accuracy={100 * run.final_accuracy:.2f}%"
