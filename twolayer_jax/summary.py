"""What a batch of runs came to, per seed, read off a :class:`TrainResult` on the host.

A diverged run (its loss became NaN or inf) has no final loss or accuracy: those fields are
``None`` and ``diverged_at`` says when, so no caller can print a divergence as a number.
"""

import dataclasses

import numpy as np

from twolayer_jax.one_run import TrainResult


@dataclasses.dataclass(frozen=True)
class RunSummary:
    seed: int
    final_loss: float | None
    final_accuracy: float | None
    first_epoch_at_100: int | None  # updates after which accuracy first reached 100 %
    diverged_at: int | None  # first epoch whose loss is NaN or inf
    # updates after which accuracy is 100 % to the end (None unless the run ends there): a run
    # can touch 100 % on its way and lose it again, so sweeps compare this
    settled_at_100: int | None = None

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None


def first_index(flags: np.ndarray) -> int | None:
    """The first index where ``flags`` is true, or None."""
    hits = np.flatnonzero(flags)
    return int(hits[0]) if hits.size else None


def summarise_run(seed: int, loss: np.ndarray, accuracy: np.ndarray) -> RunSummary:
    """One run's history (``loss[k]``, ``accuracy[k]`` after k updates) reduced to its outcome."""
    diverged_at = first_index(~np.isfinite(loss))
    reached = first_index(accuracy == 1.0)
    if diverged_at is None:
        short = np.flatnonzero(accuracy != 1.0)
        settled = None if accuracy[-1] != 1.0 else (int(short[-1]) + 1 if short.size else 0)
        return RunSummary(seed, float(loss[-1]), float(accuracy[-1]), reached, None, settled)
    if reached is not None and reached > diverged_at:
        reached = None  # an accuracy read off a diverged network means nothing
    return RunSummary(seed, None, None, reached, diverged_at)


def summarise(seeds: list[int], result: TrainResult) -> list[RunSummary]:
    """One :class:`RunSummary` per run of a ``train_many`` result."""
    losses, accuracies = np.asarray(result.loss), np.asarray(result.accuracy)
    return [summarise_run(s, losses[i], accuracies[i]) for i, s in enumerate(seeds)]


def representative_index(summaries: list[RunSummary]) -> int:
    """The run to show in detail: the one with the median final loss among runs that did not
    diverge (the lower median for an even count), or the first run if all diverged."""
    finite = [i for i, s in enumerate(summaries) if not s.diverged]
    if not finite:
        return 0
    ranked = sorted(finite, key=lambda i: summaries[i].final_loss)
    return ranked[(len(ranked) - 1) // 2]


def fraction_at_100(summaries: list[RunSummary]) -> float:
    """The share of runs that end at 100 % accuracy (a diverged run counts as not there)."""
    return sum(s.final_accuracy == 1.0 for s in summaries) / len(summaries)
