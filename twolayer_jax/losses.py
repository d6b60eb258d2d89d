"""Losses by name. Each takes the output layer's pre-activation ``logits``, the network's
``output`` (the output activation of the logits) and the 0/1 ``target``, all (n, 1), and returns
a scalar. Both views are passed because cross-entropy must be computed from the logits to stay
finite, while the lab's MSE is a function of the output.
"""

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax import Array

from twolayer_jax.registry import lookup

Loss = Callable[[Array, Array, Array], Array]


def mse(logits: Array, output: Array, target: Array) -> Array:
    """The lab's loss, ``mean((output - target)**2)``; its gradient in the output is
    ``(2/n)(output - target)``."""
    del logits  # MSE is a function of the output alone
    return jnp.mean((output - target) ** 2)


def bce(logits: Array, output: Array, target: Array) -> Array:
    """Binary cross-entropy of a sigmoid output, from the logits: ``mean(softplus(t) − y·t)``,
    finite even where σ(t) rounds to 0 or 1 (the output is then only used by the caller for
    accuracy). Needs a sigmoid output activation."""
    del output  # log σ(t) from σ(t) would lose everything once σ(t) rounds to 0 or 1
    # 1 − σ(t) = σ(−t); log σ is computed from t directly, so its gradient, −y·σ(−t) + (1 − y)·σ(t),
    # never forms 1 − σ(t) by subtraction (softplus(t) − y·t, equal in value, would: σ(t) − y)
    return -jnp.mean(target * jax.nn.log_sigmoid(logits) + (1 - target) * jax.nn.log_sigmoid(-logits))


LOSSES: dict[str, Loss] = {
    "mse": mse,
    "bce": bce,
}

# losses that interpret the logits through a sigmoid, so the output activation must be one
NEEDS_SIGMOID_OUTPUT = frozenset({"bce"})


def get_loss(name: str) -> Loss:
    """The loss called ``name``; a ``ValueError`` naming the known ones otherwise."""
    return lookup(LOSSES, "loss", name)
