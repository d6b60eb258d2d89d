"""Reducing a run's history to its outcome: first epoch at 100 %, divergence, the shown seed."""

import numpy as np
import pytest

from twolayer_jax.summary import RunSummary, fraction_at_100, representative_index, summarise_run


def test_a_run_that_learns_reports_its_first_epoch_at_100_percent():
    loss = np.array([0.3, 0.2, 0.1, 0.05, 0.04])
    accuracy = np.array([0.5, 0.9, 1.0, 0.95, 1.0])
    run = summarise_run(3, loss, accuracy)
    assert run == RunSummary(3, 0.04, 1.0, 2, None, settled_at_100=4)  # 100 % at 2, lost at 3
    assert not run.diverged


@pytest.mark.parametrize(
    ("accuracy", "settled"),
    [([1.0, 1.0, 1.0], 0), ([0.5, 1.0, 1.0], 1), ([0.5, 1.0, 0.5, 1.0], 3), ([1.0, 1.0, 0.5], None)],
)
def test_a_run_settles_at_100_percent_from_the_epoch_it_stays_there(accuracy, settled):
    run = summarise_run(0, np.full(len(accuracy), 0.1), np.array(accuracy))
    assert run.settled_at_100 == settled


def test_a_run_that_never_gets_there_has_no_first_epoch():
    run = summarise_run(0, np.array([0.3, 0.25]), np.array([0.5, 0.6]))
    assert run.first_epoch_at_100 is None and run.final_accuracy == pytest.approx(0.6)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_diverged_run_has_no_final_numbers_and_says_when(bad):
    loss = np.array([0.3, 0.2, bad, np.nan])
    accuracy = np.array([0.5, 1.0, 0.0, 1.0])
    run = summarise_run(1, loss, accuracy)
    assert run.diverged and run.diverged_at == 2
    assert run.final_loss is None and run.final_accuracy is None
    assert run.first_epoch_at_100 == 1  # reached before it diverged
    assert run.settled_at_100 is None


def test_accuracy_read_off_a_diverged_network_does_not_count():
    run = summarise_run(1, np.array([0.3, np.nan, np.nan]), np.array([0.5, 0.5, 1.0]))
    assert run.first_epoch_at_100 is None


def test_the_representative_run_is_the_median_loss_of_the_healthy_ones():
    runs = [
        RunSummary(0, 0.4, 1.0, 10, None),
        RunSummary(1, None, None, None, 5),
        RunSummary(2, 0.1, 1.0, 10, None),
        RunSummary(3, 0.3, 1.0, 10, None),
        RunSummary(4, 0.2, 1.0, 10, None),
    ]
    assert representative_index(runs) == 4  # losses 0.1 0.2 0.3 0.4: the lower median
    assert representative_index([runs[1]]) == 0
    assert fraction_at_100(runs) == pytest.approx(0.8)
