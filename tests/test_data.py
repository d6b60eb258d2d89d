"""The datasets reproduce the handout's values exactly."""

import jax
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from twolayer_jax import data


def handout_xor_easy():
    """The handout's generator, copied verbatim in spirit: Python floats, its loop, its order."""
    inputs, labels = [], []
    for i in range(11):
        inputs.append([0.1 * i, 0.1 * i])
        labels.append(0)
        if 0.1 * i == 0.5:
            continue
        inputs.append([0.1 * i, 1 - 0.1 * i])
        labels.append(1)
    return np.array(inputs), np.array(labels).reshape(21, 1)


def handout_linear(n):
    pts = np.random.uniform(0, 1, (n, 2))
    labels = [0 if pt[0] > pt[1] else 1 for pt in pts]
    return pts, np.array(labels).reshape(n, 1)


def test_xor_easy_is_the_handouts_points_bit_for_bit():
    expected_x, expected_y = handout_xor_easy()
    dataset = data.xor_easy()
    assert dataset.x.dtype == np.float64 and dataset.y.shape == (21, 1)
    np.testing.assert_array_equal(dataset.x, expected_x)  # exact, not approximate
    np.testing.assert_array_equal(dataset.y, expected_y)


def test_xor_easy_keeps_the_float64_arithmetic_of_the_handout():
    x = data.xor_easy().x
    # i = 6 gives the points (0.6000000000000001, ...) and (0.6000000000000001, 0.3999999999999999)
    assert x[11].tolist() == [0.6000000000000001, 0.6000000000000001]
    assert x[12].tolist() == [0.6000000000000001, 0.3999999999999999]
    assert x[10].tolist() == [0.5, 0.5]  # i = 5: the 0 point only
    assert x[9].tolist() == [0.4, 0.6]


def test_xor_easy_has_11_zeros_and_10_ones_and_a_linear_fit_cannot_solve_it():
    dataset = data.xor_easy()
    assert int((dataset.y == 0).sum()) == 11 and int((dataset.y == 1).sum()) == 10
    constant_accuracy = max(np.mean(dataset.y == 0), np.mean(dataset.y == 1))
    assert constant_accuracy == pytest.approx(11 / 21)
    design = np.hstack([dataset.x, np.ones((21, 1))])
    coefficients, *_ = np.linalg.lstsq(design, dataset.y, rcond=None)
    assert np.mean((design @ coefficients - dataset.y) ** 2) == pytest.approx(0.2494, abs=5e-5)


def test_linear_labels_follow_the_handout_rule_and_the_diagonal_is_one():
    points = np.array([[0.7, 0.2], [0.2, 0.7], [0.5, 0.5], [0.0, 0.0]])
    np.testing.assert_array_equal(data.label_linear(points), [[0.0], [1.0], [1.0], [1.0]])


# a few sizes, each one compiled draw: determinism does not depend on the size
@given(seed=st.integers(0, 2**31 - 1), n=st.sampled_from([1, 2, 21, 100, 300]))
def test_linear_is_deterministic_in_its_key_and_well_formed(seed, n):
    first, second = data.linear(jax.random.key(seed), n), data.linear(jax.random.key(seed), n)
    np.testing.assert_array_equal(first.x, second.x)
    assert first.x.shape == (n, 2) and first.y.shape == (n, 1) and first.x.dtype == np.float64
    assert np.all((first.x >= 0) & (first.x < 1))
    np.testing.assert_array_equal(first.y, data.label_linear(first.x))


def test_linear_points_use_float64_resolution_and_differ_between_keys():
    x = data.linear(jax.random.key(0)).x
    assert not np.array_equal(x, data.linear(jax.random.key(1)).x)
    # float32 draws would all survive a round trip through float32; float64 draws do not
    assert np.any(x.astype(np.float32).astype(np.float64) != x)
    assert 0.35 < np.mean(x) < 0.65  # uniform on [0, 1): mean 1/2


def test_linear_handout_reproduces_a_seeded_student_run():
    np.random.seed(7)
    expected_x, expected_y = handout_linear(100)
    dataset = data.linear_handout(100, seed=7)
    np.testing.assert_array_equal(dataset.x, expected_x)
    np.testing.assert_array_equal(dataset.y, expected_y)


def test_unknown_dataset_is_a_value_error():
    with pytest.raises(ValueError, match="unknown dataset 'circle'"):
        data.load_dataset("circle", jax.random.key(0))
    with pytest.raises(ValueError, match="at least one point"):
        data.linear(jax.random.key(0), 0)
