"""The lab trained the way its students do: NumPy, a Python loop over epochs, full batch, one seed
at a time. It lives here only, as the baseline the engine's speed is measured against."""

import itertools

import numpy as np


def sigmoid(t: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-t))


def init_params(seed: int, hidden: tuple[int, int], dtype) -> dict[str, np.ndarray]:
    """LeCun-normal weights, zero biases, as the engine initialises (from NumPy's own generator)."""
    rng = np.random.default_rng(seed)
    sizes = (2, *hidden, 1)
    params = {}
    for layer, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes), start=1):
        params[f"W{layer}"] = (rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in)).astype(dtype)
        params[f"b{layer}"] = np.zeros(fan_out, dtype)
    return params


def train(params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray, lr: float, epochs: int) -> np.ndarray:
    """Plain gradient descent on the MSE for ``epochs`` updates; the loss before each update.
    Updates ``params`` in place, as a student's loop does."""
    W1, b1, W2, b2, W3, b3 = (params[name] for name in ("W1", "b1", "W2", "b2", "W3", "b3"))
    lr = x.dtype.type(lr)
    scale = x.dtype.type(2.0 / len(x))
    losses = np.empty(epochs, x.dtype)
    for epoch in range(epochs):
        z1 = sigmoid(x @ W1 + b1)
        z2 = sigmoid(z1 @ W2 + b2)
        out = sigmoid(z2 @ W3 + b3)
        error = out - y
        losses[epoch] = np.mean(error**2)
        delta3 = scale * error * out * (1 - out)
        delta2 = (delta3 @ W3.T) * z2 * (1 - z2)
        delta1 = (delta2 @ W2.T) * z1 * (1 - z1)
        W3 -= lr * (z2.T @ delta3)
        b3 -= lr * delta3.sum(axis=0)
        W2 -= lr * (z1.T @ delta2)
        b2 -= lr * delta2.sum(axis=0)
        W1 -= lr * (x.T @ delta1)
        b1 -= lr * delta1.sum(axis=0)
    return losses
