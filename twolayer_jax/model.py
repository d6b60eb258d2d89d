"""The lab's network as pure functions over a params pytree.

    x (n, 2) → z1 = σ(x·W1 + b1) (n, h1) → z2 = σ(z1·W2 + b2) (n, h2) → y_pred = σ(z2·W3 + b3) (n, 1)

Params is a plain dict ``{"W1", "b1", "W2", "b2", "W3", "b3"}`` with shapes (2, h1), (h1,),
(h1, h2), (h2,), (h2, 1), (1,). Nothing here is jitted; ``one_run`` jits the whole run.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import Array

from twolayer_jax import validation
from twolayer_jax.initialisations import LAB_INIT, init_weights
from twolayer_jax.network import LAB_NETWORK, Network

Params = dict[str, Array]

PARAM_NAMES = ("W1", "b1", "W2", "b2", "W3", "b3")
LAB_HIDDEN = (100, 100)  # the lab's hidden widths (h1, h2)


class ForwardCache(NamedTuple):
    """Every value of one forward pass, named as in ``manual/backpropagation.py``: ``x1, x2, x3``
    are the three layers' pre-activations, ``z1, z2`` the hidden outputs and ``y`` the network's
    output (y_pred in the equations, where y is the label). The hand-written backward pass reads
    these."""

    x: Array  # (n, 2)
    x1: Array  # (n, h1)
    z1: Array  # (n, h1)
    x2: Array  # (n, h2); the conv model's (n, C, h1)
    z2: Array  # (n, h2); the conv model's (n, C, h1)
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


def init_params(
    key: Array,
    hidden: tuple[int, int] = LAB_HIDDEN,
    dtype=jnp.float32,
    widths: Array | None = None,
    init: str = LAB_INIT,
) -> Params:
    """Weights drawn as ``init`` names (:mod:`twolayer_jax.initialisations`), one key of
    ``jax.random.split(key, 3)`` per layer, and zero biases. The default is LeCun-normal,
    ``W ~ N(0, 1/fan_in)``.

    Scaling by fan-in keeps every pre-activation at roughly unit variance for inputs of unit
    scale, so the sigmoids start in their sensitive middle range rather than saturated (where
    σ' ≈ 0 and gradient descent stalls). Zero biases are enough: the random weights already break
    the symmetry between hidden units.

    ``widths`` (two integers, may be traced) asks for a narrower network padded to ``hidden``:
    the fans (fan-ins, and xavier's fan-outs) are the used widths' and every weight of an unused
    unit is zero (see :func:`width_masks`).
    """
    check_key_and_dtype(key, dtype)
    hidden = validation.whole_numbers("hidden", hidden, 2, "two positive widths (whole numbers)")
    validation.widths("widths", widths, hidden, None)
    shapes = layer_shapes(hidden)
    fans = (2, *hidden, 1) if widths is None else (2, widths[0], widths[1], 1)
    params = {}
    for layer, layer_key in enumerate(jax.random.split(key, 3), start=1):
        weights = f"W{layer}"
        params[weights] = init_weights(init, layer_key, shapes[weights], fans[layer - 1], fans[layer], dtype)
        params[f"b{layer}"] = jnp.zeros(shapes[f"b{layer}"], dtype)
    if widths is None:
        return params
    return jax.tree.map(jnp.multiply, params, width_masks(widths, hidden, dtype))


def check_key_and_dtype(key: Array, dtype) -> None:
    """The initialisers' shared arguments: one PRNG key and a floating dtype."""
    validation.single_key("key", key)
    try:
        floating = jnp.issubdtype(dtype, jnp.floating)
    except (TypeError, ValueError):
        floating = False
    if not floating:
        raise TypeError(f"dtype must be a floating dtype such as jnp.float32, got {dtype!r}")


def width_masks(widths: Array, hidden: tuple[int, int], dtype=jnp.float32) -> Params:
    """0/1 masks shaped like the params of a ``hidden`` network that uses only the first
    ``widths = (w1, w2)`` units of each hidden layer (``widths`` may be traced, so networks of
    different widths share one compiled program).

    A parameter is kept when it belongs to used units only. An unused unit's incoming and
    outgoing weights and its bias are masked: zero at init, and with its gradient masked too it
    stays zero, so the unit's constant output (σ(0) = 0.5) meets only zero weights. It neither
    contributes nor learns, and the padded network computes what the narrow one computes.
    """
    first = (jnp.arange(hidden[0]) < widths[0]).astype(dtype)
    second = (jnp.arange(hidden[1]) < widths[1]).astype(dtype)
    return {
        "W1": jnp.broadcast_to(first, (2, hidden[0])), "b1": first,
        "W2": first[:, None] * second[None, :], "b2": second,
        "W3": second[:, None], "b3": jnp.ones((1,), dtype),
    }  # fmt: skip


def same_padding(kernel_size: int) -> tuple[int, int]:
    """Zeros added before and after the signal so a stride-1 convolution keeps its length:
    k − 1 in all, the extra one after for an even k (what JAX's "SAME" does)."""
    before = (kernel_size - 1) // 2
    return before, kernel_size - 1 - before


def is_conv(params: Params) -> bool:
    """The conv model has a kernel ``K2`` where the dense model has ``W2``."""
    return "K2" in params


def conv_layer(z1: Array, kernel: Array, bias: Array) -> Array:
    """A 1-D convolution over the h1 features of each row: one input channel, C output channels,
    a kernel of width k < h1 shared along the features, stride 1, "same" zero padding.
    (n, h1) → (n, C, h1).

    Written as k shifted windows of the padded signal, x2[n, c, i] = b[c] + Σ_j K[c, 0, j]·ẑ[n, i + j],
    the definition ``manual/conv.py`` differentiates term by term; it computes what
    ``lax.conv_general_dilated`` computes (a test compares them).
    """
    width, kernel_size = z1.shape[1], kernel.shape[-1]
    signal = jnp.pad(z1, ((0, 0), same_padding(kernel_size)))
    windows = jnp.stack([signal[:, j : j + width] for j in range(kernel_size)], axis=-1)  # (n, h1, k)
    return jnp.einsum("nij,cj->nci", windows, kernel[:, 0, :]) + bias[None, :, None]


def layer_2(params: Params, z1: Array) -> Array:
    """The second layer's pre-activation x2: dense (n, h2), or the convolution (n, C, h1)."""
    if is_conv(params):
        return conv_layer(z1, params["K2"], params["b2"])
    return z1 @ params["W2"] + params["b2"]


def layer_3(params: Params, z2: Array) -> Array:
    """The output layer's pre-activation x3 (n, 1); the conv model's channels are flattened."""
    return z2.reshape(z2.shape[0], -1) @ params["W3"] + params["b3"]


def conv_layer_shapes(h1: int, channels: int, kernel_size: int) -> dict:
    """The conv model's parameter shapes: the dense model's with layer 2 a (C, 1, k) kernel."""
    return {
        "W1": (2, h1), "b1": (h1,),
        "K2": (channels, 1, kernel_size), "b2": (channels,),
        "W3": (channels * h1, 1), "b3": (1,),
    }  # fmt: skip


def init_conv_params(
    key: Array, h1: int, channels: int, kernel_size: int, dtype=jnp.float32, init: str = LAB_INIT
) -> Params:
    """Drawn as ``init`` names, like :func:`init_params`. The kernel's fan-in is its width k,
    1 <= k < h1, and its fan-out C·k (each input feature reaches k outputs of each channel)."""
    check_key_and_dtype(key, dtype)
    h1 = validation.whole_number("h1", h1)
    channels = validation.whole_number("channels", channels)
    kernel_size = validation.whole_number(
        "kernel_size", kernel_size, high=h1 - 1, expected=f"a whole number in 1..h1 - 1 = {h1 - 1}"
    )
    shapes = conv_layer_shapes(h1, channels, kernel_size)
    fans = {"W1": (2, h1), "K2": (kernel_size, channels * kernel_size), "W3": (channels * h1, 1)}
    params = {}
    for (name, (fan_in, fan_out)), layer_key in zip(fans.items(), jax.random.split(key, 3), strict=True):
        params[name] = init_weights(init, layer_key, shapes[name], fan_in, fan_out, dtype)
        bias = "b" + name[-1]
        params[bias] = jnp.zeros(shapes[bias], dtype)
    return params


def forward_layers(params: Params, x: Array, network: Network = LAB_NETWORK) -> ForwardCache:
    """One forward pass of ``network``, keeping every intermediate value (see :class:`ForwardCache`)."""
    first, second = network.hidden_functions()
    # a JAX array from here on: with NumPy params and inputs (a report grid's results), layer 1
    # would otherwise run in NumPy, whose products may round otherwise than XLA's
    x = jnp.asarray(x)
    x1 = x @ params["W1"] + params["b1"]
    z1 = first(x1)
    x2 = layer_2(params, z1)
    z2 = second(x2)
    x3 = layer_3(params, z2)
    return ForwardCache(x, x1, z1, x2, z2, x3, network.output_function()(x3))


def forward(params: Params, x: Array, network: Network = LAB_NETWORK) -> Array:
    """The network's output ``y``, shape (n, 1)."""
    return forward_layers(params, x, network).y


def predict_labels(output: Array) -> Array:
    """Label 1 where ``output >= 0.5`` (an output of exactly 0.5 is labelled 1), else 0."""
    return (output >= 0.5).astype(output.dtype)


def accuracy(output: Array, target: Array) -> Array:
    """The fraction of points whose thresholded output equals the 0/1 target."""
    return jnp.mean(predict_labels(output) == target, dtype=output.dtype)
