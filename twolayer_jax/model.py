"""The lab's network as pure functions over a params pytree.

    x (n, 2) → z1 = σ(x·W1 + b1) (n, h1) → z2 = σ(z1·W2 + b2) (n, h2) → y = σ(z2·W3 + b3) (n, 1)

Params is a plain dict ``{"W1", "b1", "W2", "b2", "W3", "b3"}`` with shapes (2, h1), (h1,),
(h1, h2), (h2,), (h2, 1), (1,). Nothing here is jitted; the engine jits the whole run.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import Array

from twolayer_jax.activations import get_activation

Params = dict[str, Array]

PARAM_NAMES = ("W1", "b1", "W2", "b2", "W3", "b3")


class ForwardCache(NamedTuple):
    """Every value of one forward pass, named as in LAB.md: ``x1, x2, x3`` are the three layers'
    pre-activations, ``z1, z2`` the hidden outputs and ``y`` the network's output. The
    hand-written backward pass reads these."""

    x: Array  # (n, 2)
    x1: Array  # (n, h1)
    z1: Array  # (n, h1)
    x2: Array  # (n, h2)
    z2: Array  # (n, h2)
    x3: Array  # (n, 1), the output logits
    y: Array  # (n, 1)


def layer_shapes(hidden: tuple[int, int], n_inputs: int = 2, n_outputs: int = 1) -> dict:
    """The shape of each parameter for hidden widths ``(h1, h2)``."""
    h1, h2 = hidden
    return {
        "W1": (n_inputs, h1), "b1": (h1,),
        "W2": (h1, h2), "b2": (h2,),
        "W3": (h2, n_outputs), "b3": (n_outputs,),
    }  # fmt: skip


def init_params(key: Array, hidden: tuple[int, int] = (100, 100), dtype=jnp.float32) -> Params:
    """LeCun-normal weights, ``W ~ N(0, 1/fan_in)``, and zero biases.

    Scaling by fan-in keeps every pre-activation at roughly unit variance for inputs of unit
    scale, so the sigmoids start in their sensitive middle range rather than saturated (where
    σ' ≈ 0 and gradient descent stalls). Zero biases are enough: the random weights already break
    the symmetry between hidden units.
    """
    shapes = layer_shapes(hidden)
    params = {}
    for layer, layer_key in enumerate(jax.random.split(key, 3), start=1):
        fan_in = shapes[f"W{layer}"][0]
        normal = jax.random.normal(layer_key, shapes[f"W{layer}"], dtype)
        params[f"W{layer}"] = normal / jnp.sqrt(jnp.asarray(fan_in, dtype))
        params[f"b{layer}"] = jnp.zeros(shapes[f"b{layer}"], dtype)
    return params


def forward_layers(
    params: Params, x: Array, activation: str = "sigmoid", output_activation: str = "sigmoid"
) -> ForwardCache:
    """One forward pass, keeping every intermediate value (see :class:`ForwardCache`)."""
    hidden_fn, output_fn = get_activation(activation), get_activation(output_activation)
    x1 = x @ params["W1"] + params["b1"]
    z1 = hidden_fn(x1)
    x2 = z1 @ params["W2"] + params["b2"]
    z2 = hidden_fn(x2)
    x3 = z2 @ params["W3"] + params["b3"]
    return ForwardCache(x, x1, z1, x2, z2, x3, output_fn(x3))


def forward(
    params: Params, x: Array, activation: str = "sigmoid", output_activation: str = "sigmoid"
) -> Array:
    """The network's output ``y``, shape (n, 1)."""
    return forward_layers(params, x, activation, output_activation).y


def predict_labels(output: Array) -> Array:
    """Label 1 where ``output >= 0.5`` (an output of exactly 0.5 is labelled 1), else 0."""
    return (output >= 0.5).astype(output.dtype)


def accuracy(output: Array, target: Array) -> Array:
    """The fraction of points whose thresholded output equals the 0/1 target."""
    return jnp.mean(predict_labels(output) == target, dtype=output.dtype)
