"""Weight initialisations by name: the one registry the model, training and the CLI read.

An initialisation is named by a spec string, like an activation: its name (``"he_normal"``), or
for one with a parameter the name and the value (``"normal:0.5"``, the standard deviation;
``"uniform:2"``, the bound a of U(−a, a)). Each entry is a pure function of a PRNG key, the
weight's shape, its fan-in and fan-out and the dtype; biases always start at zero. The default,
``lecun_normal``, is the lab's N(0, 1/fan_in) draw, the same numbers the project has always
drawn. The fans may be traced (a masked network's used widths), so widths share one program.
"""

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from twolayer_jax.registry import lookup

# (key, shape, fan_in, fan_out, dtype, parameter) → weights
Initialisation = Callable[[Array, tuple[int, ...], ArrayLike, ArrayLike, jnp.dtype, float], Array]

LAB_INIT = "lecun_normal"


def lecun_normal(key: Array, shape, fan_in, fan_out, dtype, parameter: float) -> Array:
    """N(0, 1/fan_in): a unit-variance input keeps unit-variance pre-activations."""
    del fan_out, parameter
    return jax.random.normal(key, shape, dtype) / jnp.sqrt(jnp.asarray(fan_in, dtype))


def normal(key: Array, shape, fan_in, fan_out, dtype, std: float) -> Array:
    """N(0, std²), whatever the fans: the handout's ``np.random.randn`` at std 1."""
    del fan_in, fan_out
    return jax.random.normal(key, shape, dtype) * jnp.asarray(std, dtype)


def uniform(key: Array, shape, fan_in, fan_out, dtype, bound: float) -> Array:
    """U(−bound, bound), whatever the fans."""
    del fan_in, fan_out
    return jax.random.uniform(key, shape, dtype, -1.0, 1.0) * jnp.asarray(bound, dtype)


def xavier_uniform(key: Array, shape, fan_in, fan_out, dtype, parameter: float) -> Array:
    """Glorot's U(±sqrt(6 / (fan_in + fan_out))): variance 2 / (fan_in + fan_out)."""
    del parameter
    bound = jnp.sqrt(6.0 / jnp.asarray(fan_in + fan_out, dtype))
    return jax.random.uniform(key, shape, dtype, -1.0, 1.0) * bound


def he_normal(key: Array, shape, fan_in, fan_out, dtype, parameter: float) -> Array:
    """N(0, 2/fan_in), He et al.'s scale for ReLU layers."""
    del fan_out, parameter
    return jax.random.normal(key, shape, dtype) * jnp.sqrt(2.0 / jnp.asarray(fan_in, dtype))


INITIALISATIONS: dict[str, Initialisation] = {
    "lecun_normal": lecun_normal,
    "normal": normal,
    "uniform": uniform,
    "xavier_uniform": xavier_uniform,
    "glorot": xavier_uniform,  # another name for xavier_uniform
    "he_normal": he_normal,
}

# each initialisation's distribution in LaTeX, given its parameter (n_in, n_out: the fans), for the
# report; keyed by the function, so an alias shares its entry's
FORMULAS: dict[Initialisation, Callable[[float], str]] = {
    lecun_normal: lambda _: r"\mathcal N(0,\ 1/n_\mathrm{in})",
    normal: lambda std: rf"\mathcal N(0,\ {std:g}^2)",
    uniform: lambda bound: rf"U(-{bound:g},\ {bound:g})",
    xavier_uniform: lambda _: r"U(-a,\ a),\ a = \sqrt{6/(n_\mathrm{in} + n_\mathrm{out})}",
    he_normal: lambda _: r"\mathcal N(0,\ 2/n_\mathrm{in})",
}

# initialisations that take a parameter: name → (what it is, its value without one)
PARAMETERS: dict[str, tuple[str, float]] = {"normal": ("std", 1.0), "uniform": ("bound", 1.0)}


def parse_initialisation(spec: str) -> tuple[str, float]:
    """``"normal:0.5"`` → ``("normal", 0.5)``; ``"uniform"`` → ``("uniform", 1.0)``; a name that
    takes no parameter gives ``nan`` (unused). A ``ValueError`` for an unknown name or a parameter
    that is not a positive finite number."""
    if not isinstance(spec, str):
        raise TypeError(f"init must be a spec string such as 'normal:0.5', got {type(spec).__name__}")
    name, colon, value = spec.partition(":")
    lookup(INITIALISATIONS, "initialisation", name)
    if name not in PARAMETERS:
        if colon:
            takes = ", ".join(f"{one}:{what}" for one, (what, _) in PARAMETERS.items())
            raise ValueError(f"initialisation {name!r} takes no parameter ({takes} do), got {spec!r}")
        return name, math.nan
    if not colon:
        return name, PARAMETERS[name][1]
    try:
        parameter = float(value)
    except ValueError:
        raise ValueError(f"initialisation parameter must be a number, got {spec!r}") from None
    if not (math.isfinite(parameter) and parameter > 0):
        what = PARAMETERS[name][0]
        raise ValueError(f"the {what} of initialisation {name!r} must be positive and finite, got {spec!r}")
    return name, parameter


def init_weights(spec: str, key: Array, shape: tuple[int, ...], fan_in, fan_out, dtype) -> Array:
    """One weight array drawn as ``spec`` says, from ``key``, of ``shape`` and ``dtype``."""
    name, parameter = parse_initialisation(spec)
    return INITIALISATIONS[name](key, shape, fan_in, fan_out, dtype, parameter)


def formula(spec: str) -> str:
    """The distribution ``spec`` draws each weight from, in LaTeX: ``\\mathcal N(0,\\ 1^2)``."""
    name, parameter = parse_initialisation(spec)
    return FORMULAS[INITIALISATIONS[name]](parameter)
