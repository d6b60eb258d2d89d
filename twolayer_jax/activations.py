"""Activation functions by name: the one registry the model, the engine and the CLIs read.

Adding an activation is one entry here (for example ``"tanh": jnp.tanh``); its hand-written
derivative, for the manual backward pass, lives in ``manual/``.
"""

from collections.abc import Callable

import jax
from jax import Array

from twolayer_jax.registry import lookup

Activation = Callable[[Array], Array]

ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": jax.nn.sigmoid,
    "identity": lambda t: t,  # the lab's "without activation functions": a linear network
}


def get_activation(name: str) -> Activation:
    """The activation called ``name``; a ``ValueError`` naming the known ones otherwise."""
    return lookup(ACTIVATIONS, "activation", name)
