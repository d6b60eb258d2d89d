"""The optimizers of ``twolayer_jax.optimizers``, written by hand in optax's shape: a pair of
pure functions ``init(params) -> state`` and ``update(grads, state, params) -> (updates, state)``
with a NamedTuple state, so each can be run beside its optax twin one step at a time.
``params + updates`` is the next step's params (``optax.apply_updates``).

In every formula g is the gradient, lr the learning rate, and all arithmetic is per element.
"""

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import Array

from twolayer_jax.optimizers import ADAGRAD_INITIAL_ACCUMULATOR, HParams

Tree = dict[str, Array]


class Optimizer(NamedTuple):
    init: Callable
    update: Callable


class NoState(NamedTuple):
    pass


def sgd(h: HParams) -> Optimizer:
    """θ ← θ − lr·g."""

    def update(grads: Tree, state: NoState, params: Tree | None = None):
        return jax.tree.map(lambda g: -h.lr * g, grads), state

    return Optimizer(lambda params: NoState(), update)


class MomentumState(NamedTuple):
    velocity: Tree


def momentum(h: HParams, nesterov: bool = False) -> Optimizer:
    """v ← g + μ·v; θ ← θ − lr·v, or with Nesterov's look-ahead θ ← θ − lr·(g + μ·v)."""

    def init(params: Tree) -> MomentumState:
        return MomentumState(jax.tree.map(jnp.zeros_like, params))

    def update(grads: Tree, state: MomentumState, params: Tree | None = None):
        velocity = jax.tree.map(lambda g, v: g + h.momentum * v, grads, state.velocity)
        step = jax.tree.map(lambda g, v: g + h.momentum * v, grads, velocity) if nesterov else velocity
        return jax.tree.map(lambda s: -h.lr * s, step), MomentumState(velocity)

    return Optimizer(init, update)


class AdagradState(NamedTuple):
    sum_of_squares: Tree


def adagrad(h: HParams) -> Optimizer:
    """s ← s + g²; θ ← θ − lr·g/√(s + ε), with s starting at 0.1."""

    def init(params: Tree) -> AdagradState:
        return AdagradState(jax.tree.map(lambda p: jnp.full_like(p, ADAGRAD_INITIAL_ACCUMULATOR), params))

    def update(grads: Tree, state: AdagradState, params: Tree | None = None):
        squares = jax.tree.map(lambda g, s: g**2 + s, grads, state.sum_of_squares)
        scaled = jax.tree.map(
            lambda g, s: jnp.where(s > 0, jax.lax.rsqrt(s + h.eps), 0.0) * g, grads, squares
        )
        return jax.tree.map(lambda u: -h.lr * u, scaled), AdagradState(squares)

    return Optimizer(init, update)


class RmspropState(NamedTuple):
    mean_square: Tree


def rmsprop(h: HParams) -> Optimizer:
    """m ← ρ·m + (1 − ρ)·g²; θ ← θ − lr·g/√(m + ε), with m starting at 0."""

    def init(params: Tree) -> RmspropState:
        return RmspropState(jax.tree.map(jnp.zeros_like, params))

    def update(grads: Tree, state: RmspropState, params: Tree | None = None):
        mean_square = jax.tree.map(lambda g, m: (1 - h.decay) * g**2 + h.decay * m, grads, state.mean_square)
        scaled = jax.tree.map(lambda g, m: jax.lax.rsqrt(m + h.eps) * g, grads, mean_square)
        return jax.tree.map(lambda u: -h.lr * u, scaled), RmspropState(mean_square)

    return Optimizer(init, update)


class AdamState(NamedTuple):
    count: Array  # steps taken, for the bias correction
    mu: Tree  # first moment, the moving average of g
    nu: Tree  # second moment, the moving average of g²


def adam_direction(grads: Tree, state: AdamState, h: HParams) -> tuple[Tree, AdamState]:
    """μ ← β1·μ + (1 − β1)·g; ν ← β2·ν + (1 − β2)·g²; t ← t + 1; then the bias-corrected
    μ̂ = μ/(1 − β1ᵗ), ν̂ = ν/(1 − β2ᵗ) (both moments start at 0, so early averages are too small
    by exactly those factors) and the direction μ̂/(√ν̂ + ε)."""
    mu = jax.tree.map(lambda g, m: (1 - h.b1) * g + h.b1 * m, grads, state.mu)
    nu = jax.tree.map(lambda g, v: (1 - h.b2) * g**2 + h.b2 * v, grads, state.nu)
    count = state.count + 1
    mu_hat = jax.tree.map(lambda m: m / (1 - h.b1**count).astype(m.dtype), mu)
    nu_hat = jax.tree.map(lambda v: v / (1 - h.b2**count).astype(v.dtype), nu)
    direction = jax.tree.map(lambda m, v: m / (jnp.sqrt(v) + h.eps), mu_hat, nu_hat)
    return direction, AdamState(count, mu, nu)


def adam_init(params: Tree) -> AdamState:
    return AdamState(
        jnp.zeros([], jnp.int32), jax.tree.map(jnp.zeros_like, params), jax.tree.map(jnp.zeros_like, params)
    )


def adam(h: HParams) -> Optimizer:
    """θ ← θ − lr·μ̂/(√ν̂ + ε)."""

    def update(grads: Tree, state: AdamState, params: Tree | None = None):
        direction, state = adam_direction(grads, state, h)
        return jax.tree.map(lambda d: -h.lr * d, direction), state

    return Optimizer(adam_init, update)


def adamw(h: HParams) -> Optimizer:
    """θ ← θ − lr·(μ̂/(√ν̂ + ε) + λ·θ): Adam with the weight decay applied to the weights
    directly, not added to the gradient (so the moments never see it)."""

    def update(grads: Tree, state: AdamState, params: Tree):
        direction, state = adam_direction(grads, state, h)
        decayed = jax.tree.map(lambda d, p: d + h.weight_decay * p, direction, params)
        return jax.tree.map(lambda d: -h.lr * d, decayed), state

    return Optimizer(adam_init, update)


OPTIMIZERS: dict[str, Callable[[HParams], Optimizer]] = {
    "sgd": sgd,
    "momentum": momentum,
    "nesterov": lambda h: momentum(h, nesterov=True),
    "adagrad": adagrad,
    "rmsprop": rmsprop,
    "adam": adam,
    "adamw": adamw,
}
