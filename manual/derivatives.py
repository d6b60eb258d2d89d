"""Hand-written derivatives of the activations and of the loss.

The handout's helper ``derivative_sigmoid(x) = x*(1 - x)`` wants the sigmoid's OUTPUT σ(t), not
the pre-activation t; feeding it t is the lab's classic mistake. So every derivative here names
the quantity it takes (``..._from_output`` or ``..._from_pre_activation``), and the backward pass
calls them through :func:`activation_derivative`, which hands each one the right quantity.
"""

from collections.abc import Callable
from typing import Literal, NamedTuple

import jax.numpy as jnp
from jax import Array

from twolayer_jax.registry import lookup


def sigmoid_derivative_from_output(output: Array) -> Array:
    """σ'(t) = σ(t)(1 − σ(t)), computed from the output z = σ(t)."""
    return output * (1 - output)


def identity_derivative_from_output(output: Array) -> Array:
    """The identity's derivative is 1 everywhere."""
    return jnp.ones_like(output)


class Derivative(NamedTuple):
    takes: Literal["output", "pre_activation"]
    fn: Callable[[Array], Array]


# activation name → its derivative and the quantity that derivative takes
DERIVATIVES: dict[str, Derivative] = {
    "sigmoid": Derivative("output", sigmoid_derivative_from_output),
    "identity": Derivative("output", identity_derivative_from_output),
}


def activation_derivative(name: str, pre_activation: Array, output: Array) -> Array:
    """f'(pre_activation) of the activation ``name``, from whichever quantity its formula takes."""
    derivative = lookup(DERIVATIVES, "activation", name)
    return derivative.fn(output if derivative.takes == "output" else pre_activation)


def mse_gradient(output: Array, target: Array) -> Array:
    """∂L/∂y of L = mean((y − ŷ)²) over n rows: (2/n)(y − ŷ)."""
    return 2 * (output - target) / output.size  # n rows of one output each


# loss name → ∂L/∂output
LOSS_GRADIENTS: dict[str, Callable[[Array, Array], Array]] = {
    "mse": mse_gradient,
}


def loss_gradient(name: str, output: Array, target: Array) -> Array:
    return lookup(LOSS_GRADIENTS, "loss", name)(output, target)
