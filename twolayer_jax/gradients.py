"""Gradients three ways:

- ``autodiff_gradient``: ``jax.grad`` of the loss, the reference;
- ``manual.manual_gradient``: the hand-written backward pass, which the lab trains with;
- ``finite_difference_gradient``: centred differences, which assume nothing about either.

``reference_deltas`` gives δk = ∂L/∂xk (each layer's pre-activation) by autodiff, so a
hand-written pass can be checked term by term, not only by its final gradients
(``twolayer_jax.checks`` compares them).
"""

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax import Array
from jax.flatten_util import ravel_pytree

from manual import Deltas, manual_gradient
from twolayer_jax.model import ForwardCache, Params, forward_layers, layer_2, layer_3
from twolayer_jax.network import Network

GradFn = Callable[[Params, Array, Array], tuple[Params, ForwardCache]]


def autodiff_gradient(network: Network) -> GradFn:
    """The reference ``GradFn``: ``jax.grad`` of the network's loss through
    :func:`forward_layers`, returning ``(grads, cache)``."""
    loss_fn = network.loss_function()

    def objective(params: Params, x: Array, y: Array) -> tuple[Array, ForwardCache]:
        cache = forward_layers(params, x, network)
        return loss_fn(cache.x3, cache.y, y), cache

    return jax.grad(objective, has_aux=True)


# name → factory(network) → GradFn
GRADIENTS: dict[str, Callable[[Network], GradFn]] = {
    "autodiff": autodiff_gradient,
    "manual": manual_gradient,
}


def network_loss(network: Network) -> Callable[[Params, Array, Array], Array]:
    """``loss(params, x, y)``: the scalar the gradients above differentiate."""
    loss_fn = network.loss_function()

    def loss_of(params: Params, x: Array, y: Array) -> Array:
        cache = forward_layers(params, x, network)
        return loss_fn(cache.x3, cache.y, y)

    return loss_of


def reference_deltas(params: Params, x: Array, y: Array, network: Network) -> Deltas:
    """δk = ∂L/∂xk by autodiff: the loss written as a function of each pre-activation, then
    ``jax.grad`` of that function at the forward pass's value."""
    first, second = network.hidden_functions()
    output, loss_fn = network.output_function(), network.loss_function()

    def loss_from_x3(x3: Array) -> Array:
        return loss_fn(x3, output(x3), y)

    def loss_from_x2(x2: Array) -> Array:
        return loss_from_x3(layer_3(params, second(x2)))

    def loss_from_x1(x1: Array) -> Array:
        return loss_from_x2(layer_2(params, first(x1)))

    cache = forward_layers(params, x, network)
    return Deltas(
        jax.grad(loss_from_x1)(cache.x1), jax.grad(loss_from_x2)(cache.x2), jax.grad(loss_from_x3)(cache.x3)
    )


def finite_difference_gradient(
    loss_of_params: Callable[[Params], Array], params: Params, step: float
) -> Params:
    """Centred differences ``(L(θ + h·e_i) − L(θ − h·e_i)) / 2h`` for every coordinate i."""
    flat, unravel = ravel_pytree(params)

    def along(i: Array) -> Array:
        nudge = jnp.zeros_like(flat).at[i].set(step)
        return (loss_of_params(unravel(flat + nudge)) - loss_of_params(unravel(flat - nudge))) / (2 * step)

    return unravel(jax.lax.map(along, jnp.arange(flat.size), batch_size=64))
