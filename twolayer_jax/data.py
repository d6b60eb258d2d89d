"""The lab's two datasets, reproduced exactly.

Both return a :class:`Dataset` of NumPy float64 arrays: ``x`` of shape (n, 2) and labels ``y`` of
shape (n, 1) holding 0.0 or 1.0. Datasets are data, not traced computation, so they stay NumPy;
training casts them to the run's dtype.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from twolayer_jax.validation import seed_number, single_key, text, whole_number

# the datasets' names, as every command line, record and file name spells them
LINEAR = "linear"
XOR_EASY = "xor_easy"


class Dataset(NamedTuple):
    name: str
    x: np.ndarray  # (n, 2) float64
    y: np.ndarray  # (n, 1) float64, 0.0 or 1.0


def label_linear(points: np.ndarray) -> np.ndarray:
    """The handout's rule: label 0 when p[0] > p[1], else 1 (a point on the diagonal is 1)."""
    return np.where(points[:, 0] > points[:, 1], 0.0, 1.0).reshape(-1, 1)


def uniform_float64(key: jax.Array, shape: tuple[int, ...]) -> np.ndarray:
    """Uniform float64 draws in [0, 1) on the 2^-53 grid, whether or not JAX runs in x64 mode.

    Two 32-bit words per value give 27 + 26 random bits, combined as NumPy's own
    ``random_sample`` does, so the points are the same float64 values in every dtype mode.
    """
    words = np.asarray(jax.random.bits(key, (*shape, 2), dtype=jnp.uint32)).astype(np.uint64)
    high, low = words[..., 0] >> np.uint64(5), words[..., 1] >> np.uint64(6)
    return (high * np.float64(67108864.0) + low) / np.float64(9007199254740992.0)


LINEAR_POINTS = 100  # the lab's linear dataset


def linear(key: jax.Array, n: int = LINEAR_POINTS) -> Dataset:
    """``n`` points uniform in [0, 1)^2, labelled by :func:`label_linear`; deterministic in ``key``."""
    single_key("key", key)
    n = whole_number("n", n, expected="a whole number >= 1 (linear needs at least one point)")
    points = uniform_float64(key, (n, 2))
    return Dataset(LINEAR, points, label_linear(points))


def linear_handout(n: int = LINEAR_POINTS, seed: int | None = None) -> Dataset:
    """The handout's own generator: ``np.random.uniform(0, 1, (n, 2))`` and the same rule.

    With ``seed`` it reproduces a student's run that called ``np.random.seed(seed)`` first; with
    ``None`` it draws fresh entropy, as the handout does.
    """
    n = whole_number("n", n, expected="a whole number >= 1 (at least one point)")
    if seed is not None:
        seed = seed_number("seed", seed)
    points = np.random.RandomState(seed).uniform(0, 1, (n, 2))
    return Dataset(LINEAR, points, label_linear(points))


def xor_easy() -> Dataset:
    """The handout's 21 fixed points, in its order and with its float64 arithmetic.

    For i = 0..10: (0.1*i, 0.1*i) labelled 0, then, unless i = 5, (0.1*i, 1 - 0.1*i) labelled 1.
    """
    points, labels = [], []
    for i in range(11):
        points.append([0.1 * i, 0.1 * i])
        labels.append(0.0)
        if i == 5:
            continue  # the two diagonals cross here; the handout keeps only the 0 point
        points.append([0.1 * i, 1 - 0.1 * i])
        labels.append(1.0)
    return Dataset(XOR_EASY, np.array(points, dtype=np.float64), np.array(labels).reshape(-1, 1))


DATASET_NAMES = (LINEAR, XOR_EASY)


def load_dataset(name: str, key: jax.Array, n_linear: int = LINEAR_POINTS) -> Dataset:
    """A dataset by its name: ``linear`` (drawn with ``key``) or ``xor_easy`` (fixed)."""
    text("name", name, DATASET_NAMES)
    single_key("key", key)
    n_linear = whole_number("n_linear", n_linear)
    if name == LINEAR:
        return linear(key, n_linear)
    if name == XOR_EASY:
        return xor_easy()
    raise ValueError(f"unknown dataset {name!r}; name must be one of {', '.join(DATASET_NAMES)}")
