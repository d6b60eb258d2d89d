"""Optimizers by name, through optax, and the numeric hyper-parameters they read.

Every optimizer is a factory ``factory(hparams) -> optax.GradientTransformation``; training
builds it inside the traced run, so every field of :class:`HParams` is a traced number and a
sweep over any of them reuses one compiled program. ``manual/optimizers.py`` writes the same
optimizers by hand, with the same names and the same hyper-parameters.
"""

from collections.abc import Callable
from typing import NamedTuple

import optax
from jax.typing import ArrayLike

from twolayer_jax.registry import lookup
from twolayer_jax.validation import FRACTION, NON_NEGATIVE, POSITIVE, Interval, describe, numbers

# Each optimizer's learning rate when none is given: a conventional rate for it, not tuned per
# dataset. sgd's is the lab's; an adaptive method divides by the gradient's size, so its step is
# about lr per weight whatever the gradient, and lr 1 would saturate every sigmoid at once.
LEARNING_RATES = {"sgd": 1.0, "momentum": 0.1, "nesterov": 0.1, "adagrad": 0.1, "rmsprop": 0.001,
                  "adam": 0.01, "adamw": 0.01}  # fmt: skip


class HParams(NamedTuple):
    """Numeric hyper-parameters: traced, so sweeping them never recompiles. Each field is a
    scalar shared by every run or an array with one value per run. An optimizer reads only its
    own fields; the defaults are the lab's (sgd's learning rate, see :func:`default_hparams`).
    The run functions check them (:func:`check_hparams`); JAX rebuilds an HParams from traced
    leaves, so it checks nothing when made."""

    lr: ArrayLike = LEARNING_RATES["sgd"]
    momentum: ArrayLike = 0.9  # momentum, nesterov
    b1: ArrayLike = 0.9  # adam, adamw
    b2: ArrayLike = 0.999  # adam, adamw
    eps: ArrayLike = 1e-8  # adagrad, rmsprop, adam, adamw
    decay: ArrayLike = 0.9  # rmsprop's moving average of squared gradients
    weight_decay: ArrayLike = 1e-4  # adamw


# Where each field's values must lie (the train CLI's flags refuse the same). A moving average's
# rate of 1 never forgets and adam's bias correction divides by 1 - b1ᵗ = 0; eps = 0 divides a
# masked unit's zero gradient by zero.
HPARAM_RANGES: dict[str, Interval] = {
    "lr": POSITIVE, "momentum": FRACTION, "b1": FRACTION, "b2": FRACTION, "eps": POSITIVE,
    "decay": FRACTION, "weight_decay": NON_NEGATIVE,
}  # fmt: skip


def check_hparams(hparams: HParams, runs: int | None = None) -> None:
    """``hparams`` is an :class:`HParams` whose every field is a real number (shared by every run)
    or, when ``runs`` is S, an array of shape (S,); concrete values are finite and in
    :data:`HPARAM_RANGES` (traced ones are checked for shape and dtype only). A ``TypeError`` or
    ``ValueError`` names the field otherwise."""
    if not isinstance(hparams, HParams):
        raise TypeError(f"hparams must be an HParams (twolayer_jax.optimizers), got {describe(hparams)}")
    for field, value in zip(HParams._fields, hparams, strict=True):
        numbers(f"hparams.{field}", value, HPARAM_RANGES[field], runs)


# adagrad's starting sum of squares, optax's default; a constant, not a hyper-parameter
ADAGRAD_INITIAL_ACCUMULATOR = 0.1

OPTIMIZERS: dict[str, Callable[[HParams], optax.GradientTransformation]] = {
    "sgd": lambda h: optax.sgd(h.lr),  # the lab's plain gradient descent
    "momentum": lambda h: optax.sgd(h.lr, momentum=h.momentum),
    "nesterov": lambda h: optax.sgd(h.lr, momentum=h.momentum, nesterov=True),
    "adagrad": lambda h: optax.adagrad(
        h.lr, initial_accumulator_value=ADAGRAD_INITIAL_ACCUMULATOR, eps=h.eps
    ),
    "rmsprop": lambda h: optax.rmsprop(h.lr, decay=h.decay, eps=h.eps),
    "adam": lambda h: optax.adam(h.lr, b1=h.b1, b2=h.b2, eps=h.eps),
    "adamw": lambda h: optax.adamw(h.lr, b1=h.b1, b2=h.b2, eps=h.eps, weight_decay=h.weight_decay),
}


def default_hparams(optimizer: str) -> HParams:
    """The defaults, with ``optimizer``'s own learning rate (:data:`LEARNING_RATES`)."""
    return HParams(lr=lookup(LEARNING_RATES, "optimizer", optimizer))
