"""The activations and their derivatives in NumPy float64, for the learner checker's reference
pass: grading a submission then costs no compiled program per problem shape.

Each twin computes what the registry's JAX function (``twolayer_jax.activations``) and its
hand-written derivative (``manual/derivatives.py``) compute, and the tests hold them to it. A
derivative takes the quantity ``manual.derivatives.DERIVATIVES`` says it takes (the output z, or
the pre-activation t), so a modelled mistake such as "σ' fed the pre-activation" means the same
in the checker as in the derivation.
"""

import math
from collections.abc import Callable

import numpy as np

from twolayer_jax.activations import parse_activation
from twolayer_jax.registry import lookup

LEAKY_RELU_SLOPE = 0.01  # JAX's default negative slope
erf = np.vectorize(math.erf, otypes=[np.float64])


def sigmoid(t: np.ndarray) -> np.ndarray:
    return 0.5 * np.tanh(0.5 * t) + 0.5  # the registry's form of 1 / (1 + e^−t)


def relu(t: np.ndarray) -> np.ndarray:
    return np.maximum(t, 0.0)


def leaky_relu(t: np.ndarray, negative_slope: float = LEAKY_RELU_SLOPE) -> np.ndarray:
    return np.where(t >= 0, t, negative_slope * t)


def elu(t: np.ndarray) -> np.ndarray:
    return np.where(t > 0, t, np.expm1(np.minimum(t, 0.0)))


def normal_cdf(t: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + erf(t / math.sqrt(2)))


def gelu(t: np.ndarray) -> np.ndarray:
    """The exact GELU, t·Φ(t)."""
    return t * normal_cdf(t)


def identity(t: np.ndarray) -> np.ndarray:
    return t


ACTIVATIONS: dict[str, Callable[..., np.ndarray]] = {
    "sigmoid": sigmoid, "tanh": np.tanh, "relu": relu, "leaky_relu": leaky_relu, "elu": elu,
    "gelu": gelu, "identity": identity,
}  # fmt: skip


def sigmoid_derivative(z: np.ndarray) -> np.ndarray:
    return z * (1 - z)


def tanh_derivative(z: np.ndarray) -> np.ndarray:
    return 1 - z**2


def relu_derivative(z: np.ndarray) -> np.ndarray:
    return (z > 0).astype(np.float64)


def leaky_relu_derivative(z: np.ndarray, negative_slope: float = LEAKY_RELU_SLOPE) -> np.ndarray:
    return np.where(z >= 0, 1.0, negative_slope)


def elu_derivative(t: np.ndarray) -> np.ndarray:
    return np.where(t > 0, 1.0, np.exp(np.minimum(t, 0.0)))


def gelu_derivative(t: np.ndarray) -> np.ndarray:
    return normal_cdf(t) + t * np.exp(-0.5 * t**2) / math.sqrt(2 * math.pi)


def identity_derivative(z: np.ndarray) -> np.ndarray:
    return np.ones_like(z)


# each from the quantity manual.derivatives.DERIVATIVES names for it
DERIVATIVES: dict[str, Callable[..., np.ndarray]] = {
    "sigmoid": sigmoid_derivative, "tanh": tanh_derivative, "relu": relu_derivative,
    "leaky_relu": leaky_relu_derivative, "elu": elu_derivative, "gelu": gelu_derivative,
    "identity": identity_derivative,
}  # fmt: skip


def with_parameter(table: dict[str, Callable[..., np.ndarray]], spec: str) -> Callable[..., np.ndarray]:
    """The twin ``spec`` names (``"leaky_relu:0.2"`` binds its slope)."""
    name, parameter = parse_activation(spec)
    function = lookup(table, "activation", name)
    return function if parameter is None else lambda value: function(value, parameter)


def activation(spec: str) -> Callable[[np.ndarray], np.ndarray]:
    return with_parameter(ACTIVATIONS, spec)


def derivative(spec: str) -> Callable[[np.ndarray], np.ndarray]:
    return with_parameter(DERIVATIVES, spec)
