"""The report's per-cell statistics: the Wilson interval on a share of seeds, and the outcome
that carries it."""

import math

import numpy as np
import pytest

from twolayer_jax.one_run import TrainResult
from twolayer_jax.report.study import cell_outcome, device_balanced_order, in_cell_order, wilson_interval
from twolayer_jax.summary import RunSummary

Z = 1.959963984540054  # the normal distribution's 97.5 % quantile
# by hand: at 0 of n the upper bound is z²/(n + z²); at 16 of 32 the bounds solve
# (1/2 − p)² = z² p(1 − p)/32, that is p = 1/2 ± √(1/4 − (1/4)/(1 + z²/32))
HAND = {
    (0, 32): (0.0, Z**2 / (32 + Z**2)),  # 0 – 0.1072
    (32, 32): (32 / (32 + Z**2), 1.0),  # 0.8928 – 1
    (16, 32): (0.3363088286932748, 0.6636911713067252),
}


@pytest.mark.parametrize(("successes", "trials"), list(HAND))
def test_the_wilson_interval_at_hand_computed_values(successes, trials):
    assert wilson_interval(successes, trials) == pytest.approx(HAND[successes, trials], abs=1e-12)


@pytest.mark.parametrize(("successes", "trials"), [(1, 4), (3, 7), (20, 32), (255, 256)])
def test_each_bound_is_where_the_score_test_is_just_rejected(successes, trials):
    """Wilson's bounds are the shares p at which |k/n − p| = z·√(p(1 − p)/n)."""
    share = successes / trials
    for p in wilson_interval(successes, trials):
        assert abs(share - p) == pytest.approx(Z * math.sqrt(p * (1 - p) / trials), rel=1e-9)


def test_the_ends_are_exact_and_nothing_is_nan():
    assert wilson_interval(0, 1)[0] == 0.0 and wilson_interval(1, 1)[1] == 1.0
    assert wilson_interval(0, 0) == (0.0, 1.0)  # no seeds say nothing
    for trials in (1, 2, 5, 32, 1000):
        for successes in range(trials + 1):
            low, high = wilson_interval(successes, trials)
            assert 0.0 <= low <= successes / trials <= high <= 1.0


def test_a_higher_confidence_gives_a_wider_interval():
    low95, high95 = wilson_interval(5, 10)
    low99, high99 = wilson_interval(5, 10, confidence=0.99)
    assert low99 < low95 < 0.5 < high95 < high99


def test_a_cell_outcome_carries_the_interval_of_its_count():
    runs = [RunSummary(s, 0.01, 1.0, 10, None, 12) for s in range(3)]
    runs.append(RunSummary(3, 0.25, 11 / 21, None, None))
    runs.append(RunSummary(4, None, None, None, 7))  # diverged: not at 100 %
    outcome = cell_outcome("x", runs)
    assert (outcome.at_100, outcome.seeds) == (3, 5)
    assert outcome.at_100_interval == wilson_interval(3, 5)


@pytest.mark.parametrize(
    ("cells", "seeds", "devices"), [(5, 32, 2), (3, 4, 2), (2, 3, 2), (4, 8, 1), (3, 8, 4)]
)
def test_the_training_order_gives_each_device_a_like_share_of_every_cell(cells, seeds, devices):
    order = device_balanced_order(cells, seeds, devices)
    assert sorted(order) == list(range(cells * seeds))  # every run once
    per_device = np.array_split(order, devices)  # the devices' contiguous blocks
    for block in per_device:
        counts = np.bincount(block // seeds, minlength=cells)
        assert counts.max() - counts.min() <= 1 if seeds % devices else len(set(counts)) == 1
    # within a block, cell after cell, so a chunk of consecutive runs holds one cell
    if seeds % devices == 0:
        for block in per_device:
            assert list(block // seeds) == sorted(block // seeds)
    trained = np.arange(cells * seeds)[order] * 10  # a "result" computed in the training order
    result = TrainResult(trained, trained, trained)
    np.testing.assert_array_equal(in_cell_order(result, order).loss, np.arange(cells * seeds) * 10)
