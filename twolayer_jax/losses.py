"""Losses by name. Each takes the output layer's pre-activation ``logits``, the network's
``output`` (the output activation of the logits) and the 0/1 ``target``, all (n, 1), and returns
a scalar.

Both views are passed so that a loss that must be computed from logits to stay finite, such as
binary cross-entropy (``optax.sigmoid_binary_cross_entropy(logits, target).mean()``), is one more
entry here, beside the lab's MSE, which is a function of the output.
"""

from collections.abc import Callable

import jax.numpy as jnp
from jax import Array

from twolayer_jax.registry import lookup

Loss = Callable[[Array, Array, Array], Array]


def mse(logits: Array, output: Array, target: Array) -> Array:
    """The lab's loss, ``mean((output - target)**2)``; its gradient in the output is
    ``(2/n)(output - target)``."""
    del logits  # MSE is a function of the output alone
    return jnp.mean((output - target) ** 2)


LOSSES: dict[str, Loss] = {
    "mse": mse,
}


def get_loss(name: str) -> Loss:
    """The loss called ``name``; a ``ValueError`` naming the known ones otherwise."""
    return lookup(LOSSES, "loss", name)
