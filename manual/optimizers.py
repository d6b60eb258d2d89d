"""The optimizers of ``twolayer_jax.optimizers``, written by hand the way optax composes them, so
each can be run beside its optax twin one step at a time.

An optimizer is a *direction* u, which is all that differs from one optimizer to the next,
followed by one step that every optimizer shares, θ ← θ − lr·u (:func:`descend`):

    sgd       u = g
    momentum  v ← g + β·v;  u = v
    nesterov  v ← g + β·v;  u = g + β·v
    adagrad   s ← s + g²;  u = g/√(s + ε), with s starting at 0.1
    rmsprop   r ← ρ·r + (1 − ρ)·g²;  u = g/√(r + ε), with r starting at 0
    adam      μ ← β1·μ + (1 − β1)·g;  ν ← β2·ν + (1 − β2)·g²;  u = μ̂/(√ν̂ + ε),
              with μ̂ = μ/(1 − β1ᵗ) and ν̂ = ν/(1 − β2ᵗ) at step t = 1, 2, …
    adamw     u = adam's u + λ·θ

g is the gradient, θ the weights, lr the learning rate, and all arithmetic is per element. The
other symbols are fields of ``HParams``: β ``momentum``, ρ ``decay``, β1 ``b1``, β2 ``b2``,
ε ``eps``, λ ``weight_decay``.

This mirrors optax, where ``optax.adam(lr)`` is ``chain(scale_by_adam(...),
scale_by_learning_rate(lr))``: the step is written once, and each direction's function holds only
what makes its optimizer different. Both parts have optax's shape, a pair of pure functions
``init(params) -> state`` and ``update(grads, state, params) -> (updates, state)`` with a
NamedTuple state; ``params + updates`` is the next step's params (``optax.apply_updates``).
"""

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from twolayer_jax.optimizers import ADAGRAD_INITIAL_ACCUMULATOR, HParams

Tree = dict[str, Array]


class Optimizer(NamedTuple):
    """optax's ``GradientTransformation``. A direction has the same shape; its updates are u."""

    init: Callable[[Tree], NamedTuple]
    update: Callable[..., tuple[Tree, NamedTuple]]


def descend(direction: Optimizer, lr: ArrayLike) -> Optimizer:
    """The step every optimizer shares: updates −lr·u from the direction's u. It keeps no state
    of its own, so the optimizer's state is the direction's."""

    def update(grads: Tree, state: NamedTuple, params: Tree | None = None):
        u, state = direction.update(grads, state, params)
        return jax.tree.map(lambda u: -lr * u, u), state

    return Optimizer(direction.init, update)


def zeros(params: Tree) -> Tree:
    return jax.tree.map(jnp.zeros_like, params)


class NoState(NamedTuple):
    pass


def gradient(h: HParams) -> Optimizer:
    """u = g (optax's ``identity``)."""
    return Optimizer(lambda params: NoState(), lambda grads, state, params=None: (grads, state))


class MomentumState(NamedTuple):
    velocity: Tree


def velocity(h: HParams, nesterov: bool = False) -> Optimizer:
    """v ← g + β·v; u = v, or u = g + β·v with Nesterov's look-ahead (optax's ``trace``)."""

    def update(grads: Tree, state: MomentumState, params: Tree | None = None):
        v = jax.tree.map(lambda g, v: g + h.momentum * v, grads, state.velocity)
        # Nesterov looks ahead: g plus the β·v by which the velocity will carry θ on the next step
        u = jax.tree.map(lambda g, v: g + h.momentum * v, grads, v) if nesterov else v
        return u, MomentumState(v)

    return Optimizer(lambda params: MomentumState(zeros(params)), update)


class AdagradState(NamedTuple):
    sum_of_squares: Tree


def adagrad_direction(h: HParams) -> Optimizer:
    """s ← s + g²; u = g/√(s + ε) (optax's ``scale_by_rss``)."""

    def init(params: Tree) -> AdagradState:
        # from s = 0 the first u would be g/√(g² + ε) ≈ ±1: a full step for every weight, whatever its g
        return AdagradState(jax.tree.map(lambda p: jnp.full_like(p, ADAGRAD_INITIAL_ACCUMULATOR), params))

    def update(grads: Tree, state: AdagradState, params: Tree | None = None):
        s = jax.tree.map(lambda g, s: s + g**2, grads, state.sum_of_squares)
        return jax.tree.map(lambda g, s: g / jnp.sqrt(s + h.eps), grads, s), AdagradState(s)

    return Optimizer(init, update)


class RmspropState(NamedTuple):
    mean_square: Tree


def rmsprop_direction(h: HParams) -> Optimizer:
    """r ← ρ·r + (1 − ρ)·g²; u = g/√(r + ε) (optax's ``scale_by_rms``)."""

    def update(grads: Tree, state: RmspropState, params: Tree | None = None):
        r = jax.tree.map(lambda g, r: h.decay * r + (1 - h.decay) * g**2, grads, state.mean_square)
        return jax.tree.map(lambda g, r: g / jnp.sqrt(r + h.eps), grads, r), RmspropState(r)

    return Optimizer(lambda params: RmspropState(zeros(params)), update)


class AdamState(NamedTuple):
    count: Array  # steps taken, t, for the bias correction
    mu: Tree  # first moment, the moving average of g
    nu: Tree  # second moment, the moving average of g²


def adam_direction(h: HParams) -> Optimizer:
    """μ ← β1·μ + (1 − β1)·g; ν ← β2·ν + (1 − β2)·g²; t ← t + 1; u = μ̂/(√ν̂ + ε) with the
    bias-corrected μ̂ = μ/(1 − β1ᵗ), ν̂ = ν/(1 − β2ᵗ) (optax's ``scale_by_adam``)."""

    def init(params: Tree) -> AdamState:
        return AdamState(jnp.zeros([], jnp.int32), zeros(params), zeros(params))

    def update(grads: Tree, state: AdamState, params: Tree | None = None):
        mu = jax.tree.map(lambda g, m: h.b1 * m + (1 - h.b1) * g, grads, state.mu)
        nu = jax.tree.map(lambda g, v: h.b2 * v + (1 - h.b2) * g**2, grads, state.nu)
        t = state.count + 1
        # both averages start at 0, so after t steps they are too small by exactly a factor 1 − βᵗ
        mu_hat = jax.tree.map(lambda m: m / (1 - h.b1**t), mu)
        nu_hat = jax.tree.map(lambda v: v / (1 - h.b2**t), nu)
        u = jax.tree.map(lambda m, v: m / (jnp.sqrt(v) + h.eps), mu_hat, nu_hat)
        return u, AdamState(t, mu, nu)

    return Optimizer(init, update)


def adamw_direction(h: HParams) -> Optimizer:
    """u = adam's u + λ·θ (optax's ``add_decayed_weights`` after ``scale_by_adam``). The decay is
    added to the direction, not to g, so Adam's moments never see it and do not rescale it."""
    adam = adam_direction(h)

    def update(grads: Tree, state: AdamState, params: Tree):
        u, state = adam.update(grads, state, params)
        return jax.tree.map(lambda u, p: u + h.weight_decay * p, u, params), state

    return Optimizer(adam.init, update)


# Each optimizer: its direction, then the shared step.


def sgd(h: HParams) -> Optimizer:
    return descend(gradient(h), h.lr)


def momentum(h: HParams, nesterov: bool = False) -> Optimizer:
    return descend(velocity(h, nesterov), h.lr)


def adagrad(h: HParams) -> Optimizer:
    return descend(adagrad_direction(h), h.lr)


def rmsprop(h: HParams) -> Optimizer:
    return descend(rmsprop_direction(h), h.lr)


def adam(h: HParams) -> Optimizer:
    return descend(adam_direction(h), h.lr)


def adamw(h: HParams) -> Optimizer:
    return descend(adamw_direction(h), h.lr)


OPTIMIZERS: dict[str, Callable[[HParams], Optimizer]] = {
    "sgd": sgd,
    "momentum": momentum,
    "nesterov": lambda h: momentum(h, nesterov=True),
    "adagrad": adagrad,
    "rmsprop": rmsprop,
    "adam": adam,
    "adamw": adamw,
}
