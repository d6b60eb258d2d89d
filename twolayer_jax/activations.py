"""Activation functions by name: the one registry the model, the engine and the CLIs read.

An activation is named by a spec string: its name (``"tanh"``), or for one with a parameter the
name and the value (``"leaky_relu:0.2"``, the negative slope; plain ``"leaky_relu"`` takes
JAX's default 0.01). Strings keep the network's description hashable, so it stays static under
``jit``. Adding an activation is one entry here; its hand-written derivative lives in ``manual/``.
"""

from collections.abc import Callable
from functools import partial

import jax
import jax.numpy as jnp
from jax import Array

from twolayer_jax.registry import lookup

Activation = Callable[[Array], Array]


def identity(t: Array) -> Array:
    """The lab's "without activation functions": the network becomes linear."""
    return t


ACTIVATIONS: dict[str, Callable[..., Array]] = {
    "sigmoid": jax.nn.sigmoid,
    "tanh": jnp.tanh,
    "relu": jax.nn.relu,
    "leaky_relu": jax.nn.leaky_relu,
    "elu": jax.nn.elu,
    "gelu": partial(jax.nn.gelu, approximate=False),  # the exact, erf-based GELU
    "identity": identity,
}

# activations that take a parameter: name → the keyword it is passed as
PARAMETERS: dict[str, str] = {"leaky_relu": "negative_slope"}


def parse_activation(spec: str) -> tuple[str, float | None]:
    """``"leaky_relu:0.2"`` → ``("leaky_relu", 0.2)``; ``"tanh"`` → ``("tanh", None)``."""
    name, _, value = spec.partition(":")
    lookup(ACTIVATIONS, "activation", name)
    if not value:
        return name, None
    if name not in PARAMETERS:
        raise ValueError(f"activation {name!r} takes no parameter, got {spec!r}")
    try:
        return name, float(value)
    except ValueError:
        raise ValueError(f"activation parameter must be a number, got {spec!r}") from None


def get_activation(spec: str) -> Activation:
    """The activation a spec names, with its parameter bound; a ``ValueError`` otherwise."""
    name, value = parse_activation(spec)
    if value is None:
        return ACTIVATIONS[name]
    return partial(ACTIVATIONS[name], **{PARAMETERS[name]: value})
