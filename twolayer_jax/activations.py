"""Activation functions by name: the one registry the model, training and the CLIs read.

An activation is named by a spec string: its name (``"tanh"``), or for one with a parameter the
name and the value (``"leaky_relu:0.2"``, the negative slope; plain ``"leaky_relu"`` takes
JAX's default 0.01). The hidden layers take one spec for both or two joined by a comma
(``"relu,tanh"``). Strings keep the network's description hashable, so it stays static under
``jit``. Adding an activation is one entry here; its hand-written derivative lives in ``manual/``.
"""

import math
from collections.abc import Callable
from functools import partial

import jax
import jax.numpy as jnp
from jax import Array

from twolayer_jax.registry import lookup

Activation = Callable[[Array], Array]


@jax.custom_jvp
def sigmoid(t: Array) -> Array:
    """The logistic function σ(t) = 1 / (1 + e^−t), computed as ½·tanh(t/2) + ½, the same function.
    XLA's CPU backend evaluates one tanh faster than an exp and a division (the measurements
    are in benchmarks/README.md). It differs from ``jax.nn.sigmoid`` by at most 1.8e-7 in
    float32 (4.4e-16 in float64); far below t = 0 that is a large relative error, as σ(t)
    rounds to 0 from t = −16 in float32 instead of about −87. Its derivative is σ(t)(1 − σ(t)),
    from the output as ``jax.nn.sigmoid`` defines it, so ``jax.grad`` takes the same form as the
    hand-written one."""
    return 0.5 * jnp.tanh(0.5 * t) + 0.5


@sigmoid.defjvp
def _sigmoid_jvp(primals: tuple[Array], tangents: tuple[Array]) -> tuple[Array, Array]:
    (t,), (dt,) = primals, tangents
    output = sigmoid(t)
    return output, output * (1 - output) * dt


def identity(t: Array) -> Array:
    """The lab's "without activation functions": the network becomes linear."""
    return t


ACTIVATIONS: dict[str, Callable[..., Array]] = {
    "sigmoid": sigmoid,
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
    name, colon, value = spec.partition(":")
    lookup(ACTIVATIONS, "activation", name)
    if not colon:
        return name, None
    if name not in PARAMETERS:
        raise ValueError(f"activation {name!r} takes no parameter, got {spec!r}")
    try:
        parameter = float(value)
    except ValueError:
        raise ValueError(f"activation parameter must be a number, got {spec!r}") from None
    if not math.isfinite(parameter):
        raise ValueError(f"activation parameter must be finite, got {spec!r}")
    return name, parameter


def hidden_activations(spec: str) -> tuple[str, str]:
    """The two hidden layers' activation specs: ``"relu"`` gives both the same, ``"relu,tanh"``
    gives layer 1 relu and layer 2 tanh. Each is checked."""
    specs = tuple(spec.split(","))
    if len(specs) == 1:
        specs = specs * 2
    if len(specs) != 2:
        raise ValueError(f"give one hidden activation or two separated by a comma, got {spec!r}")
    for one in specs:
        parse_activation(one)
    return specs


def get_activation(spec: str) -> Activation:
    """The activation a spec names, with its parameter bound; a ``ValueError`` otherwise."""
    name, value = parse_activation(spec)
    if value is None:
        return ACTIVATIONS[name]
    return partial(ACTIVATIONS[name], **{PARAMETERS[name]: value})
