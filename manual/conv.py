"""The convolution's backward pass, by hand.

Forward (``twolayer_jax.model.conv_layer``): the h1 features z1[n, :] of each row are a 1-D
signal; padded with zeros (p_before, p_after) to ẑ, each output channel c slides its own k-wide
kernel K[c, 0, :] along it:

    x2[n, c, i] = b2[c] + Σ_j K[c, 0, j] · ẑ[n, i + j]        (i = 0..h1−1, j = 0..k−1)

so every kernel weight touches every position (weight sharing), and its gradient sums over them:

    ∂L/∂K[c, 0, j] = Σ_n Σ_i δ2[n, c, i] · ẑ[n, i + j]
    ∂L/∂b2[c]      = Σ_n Σ_i δ2[n, c, i]
    ∂L/∂ẑ[n, i + j] += Σ_c δ2[n, c, i] · K[c, 0, j]    (then the padding is cut off)

One loop over the k kernel taps; each tap is a shifted window of the padded signal.
"""

import jax.numpy as jnp
from jax import Array

from twolayer_jax.model import same_padding


def padded(z1: Array, kernel_size: int) -> Array:
    """ẑ: the signal with the "same" zero padding, (n, h1 + k − 1)."""
    return jnp.pad(z1, ((0, 0), same_padding(kernel_size)))


def conv_kernel_gradient(z1: Array, delta2: Array, kernel_size: int) -> Array:
    """∂L/∂K[c, 0, j] = Σ_n Σ_i δ2[n, c, i] · ẑ[n, i + j], shape (C, 1, k)."""
    signal, width = padded(z1, kernel_size), z1.shape[1]
    taps = [jnp.einsum("nci,ni->c", delta2, signal[:, j : j + width]) for j in range(kernel_size)]
    return jnp.stack(taps, axis=-1)[:, None, :]


def conv_bias_gradient(delta2: Array) -> Array:
    """∂L/∂b2[c] = Σ over rows and positions of δ2[:, c, :]."""
    return delta2.sum(axis=(0, 2))


def conv_input_gradient(delta2: Array, kernel: Array) -> Array:
    """∂L/∂z1: each tap sends δ2 back to the positions it read, through the same kernel weight;
    the padding's share is dropped, (n, h1)."""
    n, _, width = delta2.shape
    kernel_size = kernel.shape[-1]
    before, _ = same_padding(kernel_size)
    grad_signal = jnp.zeros((n, width + kernel_size - 1), delta2.dtype)
    for j in range(kernel_size):
        grad_signal = grad_signal.at[:, j : j + width].add(jnp.einsum("nci,c->ni", delta2, kernel[:, 0, j]))
    return grad_signal[:, before : before + width]
