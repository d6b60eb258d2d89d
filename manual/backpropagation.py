"""The lab's backward pass, by hand, term by term (row-vector convention, ⊙ elementwise):

    δ3 = ∂L/∂y_pred ⊙ σ'(x3);          ∂L/∂W3 = z2ᵀ·δ3;  ∂L/∂b3 = Σ_rows δ3
    δ2 = (δ3·W3ᵀ) ⊙ σ'(x2);       ∂L/∂W2 = z1ᵀ·δ2;  ∂L/∂b2 = Σ_rows δ2
    δ1 = (δ2·W2ᵀ) ⊙ σ'(x1);       ∂L/∂W1 = xᵀ·δ1;   ∂L/∂b1 = Σ_rows δ1

x1, x2, x3 are the layers' pre-activations and δk = ∂L/∂xk. A bias is the weight of an input
fixed at 1, so where a layer has many units out (layers 1 and 2) its two gradients come from one
product, [inputᵀ; 1ᵀ]·δk = [∂L/∂Wk; Σ_rows δk] (:func:`weight_and_bias_gradients`). Every value
comes from one forward pass (:func:`twolayer_jax.model.forward_layers`); each layer's backward
reads only its own cached values. Pure functions; nothing is jitted here.
"""

from typing import NamedTuple

import jax.numpy as jnp
from jax import Array

from manual.conv import conv_bias_gradient, conv_input_gradient, conv_kernel_gradient
from manual.derivatives import activation_derivative, output_delta
from twolayer_jax.model import ForwardCache, Params, forward_layers, is_conv
from twolayer_jax.network import LAB_NETWORK, Network


class Deltas(NamedTuple):
    """δk = ∂L/∂xk, the loss's gradient in each layer's pre-activation, shapes (n, h1), (n, h2),
    (n, 1); the conv model's δ2 is (n, C, h1)."""

    delta1: Array
    delta2: Array
    delta3: Array


def hidden_delta(
    next_delta: Array, next_weights: Array, pre_activation: Array, output: Array, activation: str
) -> Array:
    """δk = (δk+1 · Wk+1ᵀ) ⊙ f'(xk): the next layer's delta sent back through its weights."""
    return (next_delta @ next_weights.T) * activation_derivative(activation, pre_activation, output)


def weight_gradient(layer_input: Array, delta: Array) -> Array:
    """∂L/∂Wk = (layer input)ᵀ · δk, summing over the batch's rows."""
    return layer_input.T @ delta


def bias_gradient(delta: Array) -> Array:
    """∂L/∂bk = Σ_rows δk: the bias is added to every row, so its gradient sums over them."""
    return delta.sum(axis=0)


def weight_and_bias_gradients(layer_input: Array, delta: Array) -> tuple[Array, Array]:
    """∂L/∂Wk and ∂L/∂bk, as :func:`weight_gradient` and :func:`bias_gradient` define them.

    With more than one unit out they come from one product: the bias is the weight of an input
    fixed at 1, so a row of ones stacked under the input's transpose makes the product's last row
    Σ_rows δk, [inputᵀ; 1ᵀ]·δk = [∂L/∂Wk; ∂L/∂bk]. The same numbers to rounding; only speed
    depends on it. XLA:CPU's fast matmul library takes no left operand contracted along its major
    axis, so a bare z1ᵀ·δ2 would be folded into a slower dot of XLA's own; the stacked input is an
    array of its own, which the library takes, and the separate column sum goes away (the speed-up
    is in benchmarks/README.md). With one unit out (layer 3) z2ᵀ·δ3 is a matrix-vector product
    that reads z2 in place, and stacking would copy z2, so that layer keeps the two terms apart."""
    if delta.shape[-1] == 1:
        return weight_gradient(layer_input, delta), bias_gradient(delta)
    ones = jnp.ones((1, layer_input.shape[0]), delta.dtype)
    stacked = jnp.concatenate([layer_input.T, ones]) @ delta
    return stacked[:-1], stacked[-1]


def backward_from_cache(
    params: Params, cache: ForwardCache, target: Array, network: Network = LAB_NETWORK
) -> tuple[Params, Deltas]:
    """The gradient pytree (same structure as ``params``) and the deltas, from a forward cache."""
    first, second = network.hidden
    delta3 = output_delta(network, cache, target)
    if is_conv(params):
        delta2, delta1, layer_2 = conv_layer_backward(params, cache, delta3, first, second)
    else:
        delta2 = hidden_delta(delta3, params["W3"], cache.x2, cache.z2, second)
        delta1 = hidden_delta(delta2, params["W2"], cache.x1, cache.z1, first)
        grad_w2, grad_b2 = weight_and_bias_gradients(cache.z1, delta2)
        layer_2 = {"W2": grad_w2, "b2": grad_b2}
    grad_w1, grad_b1 = weight_and_bias_gradients(cache.x, delta1)
    layer_3_input = cache.z2.reshape(cache.z2.shape[0], -1)  # the conv model's channels, flattened
    grad_w3, grad_b3 = weight_and_bias_gradients(layer_3_input, delta3)
    grads = {"W1": grad_w1, "b1": grad_b1, **layer_2, "W3": grad_w3, "b3": grad_b3}
    return grads, Deltas(delta1, delta2, delta3)


def conv_layer_backward(
    params: Params, cache: ForwardCache, delta3: Array, first: str, second: str
) -> tuple[Array, Array, Params]:
    """δ2, δ1 and layer 2's gradients when layer 2 is a convolution (``manual/conv.py``): layer 3
    reads z2 flattened, so δ3·W3ᵀ is unflattened to (n, C, h1) before σ'(x2); layer 2 sends δ2
    back through the kernel instead of W2ᵀ."""
    back_from_3 = (delta3 @ params["W3"].T).reshape(cache.z2.shape)
    delta2 = back_from_3 * activation_derivative(second, cache.x2, cache.z2)
    delta1 = conv_input_gradient(delta2, params["K2"]) * activation_derivative(first, cache.x1, cache.z1)
    kernel_size = params["K2"].shape[-1]
    layer_2 = {"K2": conv_kernel_gradient(cache.z1, delta2, kernel_size), "b2": conv_bias_gradient(delta2)}
    return delta2, delta1, layer_2


def backward_with_deltas(
    params: Params, x: Array, y: Array, network: Network = LAB_NETWORK
) -> tuple[Params, Deltas]:
    """One forward pass, then :func:`backward_from_cache`: the gradients and every delta."""
    cache = forward_layers(params, x, network)
    return backward_from_cache(params, cache, y, network)


def backward(params: Params, x: Array, y: Array, network: Network = LAB_NETWORK) -> Params:
    """∂L/∂params by hand: a dict with the keys and shapes of ``params``, like ``jax.grad``."""
    return backward_with_deltas(params, x, y, network)[0]


def manual_gradient(network: Network):
    """The hand-written backward pass as a training ``GradFn`` (see :mod:`twolayer_jax.gradients`):
    ``(params, x, y) -> (grads, cache)``."""

    def grad_fn(params: Params, x: Array, y: Array) -> tuple[Params, ForwardCache]:
        cache = forward_layers(params, x, network)
        grads, _ = backward_from_cache(params, cache, y, network)
        return grads, cache

    return grad_fn
