"""Hand-written derivatives of the activations and of the losses.

The handout's helper ``derivative_sigmoid(x) = x*(1 - x)`` wants the sigmoid's OUTPUT σ(t), not
the pre-activation t; feeding it t is the lab's classic mistake. So every derivative here names
the quantity it takes (``..._from_output`` or ``..._from_pre_activation``), and the backward pass
calls them through :func:`activation_derivative`, which hands each one the right quantity.
Each equals ``jax.grad`` of its activation everywhere, including at the kinks (relu' (0) = 0,
leaky_relu'(0) = 1, as JAX defines them) and at large |t|.
"""

from collections.abc import Callable
from typing import Literal, NamedTuple

import jax
import jax.numpy as jnp
import jax.scipy.stats.norm as normal
from jax import Array

from twolayer_jax.activations import parse_activation
from twolayer_jax.model import ForwardCache
from twolayer_jax.network import Network
from twolayer_jax.registry import lookup


def sigmoid_derivative_from_output(output: Array) -> Array:
    """σ'(t) = σ(t)(1 − σ(t)), computed from the output z = σ(t)."""
    return output * (1 - output)


def tanh_derivative_from_output(output: Array) -> Array:
    """tanh'(t) = 1 − tanh(t)², from z = tanh(t)."""
    return 1 - output**2


def relu_derivative_from_output(output: Array) -> Array:
    """1 where z = max(t, 0) > 0, else 0 (0 at t = 0, as JAX defines it)."""
    return (output > 0).astype(output.dtype)


def leaky_relu_derivative_from_output(output: Array, negative_slope: float = 0.01) -> Array:
    """1 where t ≥ 0, else the slope; z keeps t's sign (for a positive slope), so z decides."""
    return jnp.where(output >= 0, 1.0, negative_slope).astype(output.dtype)


def elu_derivative_from_pre_activation(pre_activation: Array) -> Array:
    """1 where t > 0, else eᵗ. (From the output it would be z + 1, but for t ≪ 0 that adds 1 to
    z ≈ −1 and loses every digit of eᵗ: this one takes t.)"""
    return jnp.where(pre_activation > 0, 1.0, jnp.exp(jnp.minimum(pre_activation, 0.0)))


def gelu_derivative_from_pre_activation(pre_activation: Array) -> Array:
    """GELU(t) = t·Φ(t), so GELU'(t) = Φ(t) + t·φ(t): this one needs t, not the output."""
    return normal.cdf(pre_activation) + pre_activation * normal.pdf(pre_activation)


def identity_derivative_from_output(output: Array) -> Array:
    """The identity's derivative is 1 everywhere."""
    return jnp.ones_like(output)


class Derivative(NamedTuple):
    takes: Literal["output", "pre_activation"]
    fn: Callable[..., Array]


# activation name → its derivative and the quantity that derivative takes
DERIVATIVES: dict[str, Derivative] = {
    "sigmoid": Derivative("output", sigmoid_derivative_from_output),
    "tanh": Derivative("output", tanh_derivative_from_output),
    "relu": Derivative("output", relu_derivative_from_output),
    "leaky_relu": Derivative("output", leaky_relu_derivative_from_output),
    "elu": Derivative("pre_activation", elu_derivative_from_pre_activation),
    "gelu": Derivative("pre_activation", gelu_derivative_from_pre_activation),
    "identity": Derivative("output", identity_derivative_from_output),
}


def activation_derivative(spec: str, pre_activation: Array, output: Array) -> Array:
    """f'(pre_activation) of the activation ``spec`` names, from the quantity its formula takes."""
    name, parameter = parse_activation(spec)
    derivative = lookup(DERIVATIVES, "activation", name)
    argument = output if derivative.takes == "output" else pre_activation
    return derivative.fn(argument) if parameter is None else derivative.fn(argument, parameter)


def mse_gradient(output: Array, target: Array) -> Array:
    """∂L/∂y_pred of L = mean((y_pred − y)²) over n rows: (2/n)(y_pred − y)."""
    return 2 * (output - target) / output.size  # n rows of one output each


def mse_output_delta(cache: ForwardCache, target: Array, output_activation: str) -> Array:
    """δ3 = ∂L/∂y_pred ⊙ f'(x3)."""
    return mse_gradient(cache.y, target) * activation_derivative(output_activation, cache.x3, cache.y)


def bce_output_delta(cache: ForwardCache, target: Array, output_activation: str) -> Array:
    """For L = mean(−y log σ(t) − (1 − y) log(1 − σ(t))):
    ∂L/∂y_pred = (y_pred − y)/(n·y_pred(1 − y_pred)), and σ'(t) = y_pred(1 − y_pred) cancels it, so
    δ3 = (σ(t) − y)/n: no division that could blow up. Written as ((1 − y)·σ(t) − y·σ(−t))/n,
    equal for 0/1 targets, so 1 − σ(t) is never formed by subtraction (which would lose every
    digit once σ(t) rounds near 1)."""
    del output_activation  # always a sigmoid (Network checks)
    logits = cache.x3
    return ((1 - target) * jax.nn.sigmoid(logits) - target * jax.nn.sigmoid(-logits)) / logits.size


# loss name → δ3 = ∂L/∂x3, from the forward cache, the target and the output activation
OUTPUT_DELTAS: dict[str, Callable[[ForwardCache, Array, str], Array]] = {
    "mse": mse_output_delta,
    "bce": bce_output_delta,
}


def output_delta(network: Network, cache: ForwardCache, target: Array) -> Array:
    """δ3 = ∂L/∂x3 of ``network``'s loss and output activation."""
    return lookup(OUTPUT_DELTAS, "loss", network.loss)(cache, target, network.output_activation)
