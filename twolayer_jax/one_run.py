"""One run: every epoch of it is one compiled program.

``make_fit(config)`` closes over everything static and returns a pure
``fit(params, hparams, x, y)`` whose epoch loop is a ``lax.scan``: take the gradient, step the
optimizer, record the loss and accuracy. ``make_train(config)`` starts it from the config's
initial params for a key. Only the keys, the data and the numeric hyper-parameters are traced,
so a new seed or a new learning rate reuses the compiled program.

The gradient is pluggable: a ``GradFn`` maps ``(params, x, y)`` to ``(grads, cache)``, where
``grads`` has the structure of ``params`` and ``cache`` is the :class:`ForwardCache` of the forward
pass the gradient was taken at (the loss and accuracy are read from it, so each epoch runs one
forward pass). ``manual``, the hand-written backward pass of ``manual/``, is the default: the lab
trains with its own backpropagation. ``autodiff`` (``jax.grad``) is the reference it is checked
against; both are compiled the same way.
"""

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax
from jax import Array

from twolayer_jax.config import (
    OPTIMIZER_IMPLS,
    TrainConfig,
    check_factory,
    check_fit,
    check_train,
    require_dense_for_widths,
    require_dtype,
)
from twolayer_jax.gradients import GRADIENTS, GradFn
from twolayer_jax.model import ForwardCache, Params, accuracy, forward_layers, width_masks

ProgressFn = Callable[[int], None]

# How many times per run a progress hook hears from the compiled program.
PROGRESS_TICKS = 100


class TrainResult(NamedTuple):
    """Final params and the history, indexed by the number of updates done: ``loss[k]`` and
    ``accuracy[k]`` belong to the params after k updates, k = 0..epochs (so length epochs + 1).
    A loss is NaN or inf once the run has diverged. ``train_many`` adds a leading run axis."""

    params: Params
    loss: Array
    accuracy: Array


def weights_finite(cache: ForwardCache) -> Array:
    """Whether every weight and bias is finite, read from the first row of each layer's
    pre-activation instead of from the weights. Each weight and bias of a layer enters that row
    (x[0, j] = Σ_i z[0, i]·W[i, j] + b[j]; a convolution's taps each reach some position), and a
    non-finite term makes its sum non-finite whatever it is multiplied by (0·inf is NaN), so one
    row of each layer answers for all of its weights: h1 + h2 + 1 values per run instead of every
    weight, in one small reduction instead of one per leaf. A pre-activation that overflows reads
    as non-finite too, and a run whose pre-activations overflow has diverged. Each term is
    ``value · 0`` (0 for a finite value, NaN otherwise), so the sum itself cannot overflow."""
    first_rows = (cache.x1[0], cache.x2[0], cache.x3[0])
    return jnp.isfinite(sum(jnp.sum(row * 0) for row in first_rows))


def make_fit(
    config: TrainConfig, grad_fn: GradFn | None = None, progress: ProgressFn | None = None
) -> Callable[..., TrainResult]:
    """A pure ``fit(params, hparams, x, y, masks=None, progress_offset=0, reporter=True) ->
    TrainResult`` that trains ``params`` for ``config.epochs`` full-batch updates.

    ``masks`` (0/1, shaped like ``params``, from :func:`twolayer_jax.model.width_masks`)
    multiplies every gradient, so a masked parameter never moves. ``grad_fn`` replaces the
    gradient named by ``config.grad``. ``progress``, if given, is a host function called with
    ``progress_offset`` plus the epochs done, about PROGRESS_TICKS times per run, by runs whose
    ``reporter`` is true (one device of many); it only reports and never changes a result.
    """
    check_factory(config, grad_fn, progress)
    dtype = require_dtype(config.dtype)
    loss_fn = config.network.loss_function()
    grad_fn = grad_fn or GRADIENTS[config.grad](config.network)
    report_every = max(1, config.epochs // PROGRESS_TICKS)

    def metrics(cache: ForwardCache, y: Array) -> tuple[Array, Array]:
        # A network with a non-finite weight has no meaningful loss, even where σ saturates.
        loss = jnp.where(weights_finite(cache), loss_fn(cache.x3, cache.y, y), jnp.nan)
        return loss, accuracy(cache.y, y)

    def report_progress(epochs_done: Array, offset: Array, reporter: Array) -> None:
        if progress is None:
            return
        tick = (epochs_done % report_every == 0) | (epochs_done == config.epochs)
        jax.lax.cond(
            tick & reporter,
            lambda: jax.debug.callback(progress, offset + epochs_done),
            lambda: None,
        )

    def fit(params, hparams, x, y, masks=None, progress_offset=0, reporter=True) -> TrainResult:
        check_fit(config, params, hparams, x, y, masks)
        x, y = jnp.asarray(x, dtype), jnp.asarray(y, dtype)
        hparams = jax.tree.map(lambda value: jnp.asarray(value, dtype), hparams)
        optimizer = OPTIMIZER_IMPLS[config.optimizer_impl][config.optimizer](hparams)

        def epoch(carry, index):
            params, opt_state = carry
            grads, cache = grad_fn(params, x, y)
            if masks is not None:
                grads = jax.tree.map(jnp.multiply, grads, masks)
            updates, opt_state = optimizer.update(grads, opt_state, params)
            report_progress(index + 1, progress_offset, reporter)
            return (optax.apply_updates(params, updates), opt_state), metrics(cache, y)

        carry = (params, optimizer.init(params))
        (params, _), (losses, accuracies) = jax.lax.scan(epoch, carry, jnp.arange(config.epochs))
        final_cache = forward_layers(params, x, config.network)
        final_loss, final_accuracy = metrics(final_cache, y)
        return TrainResult(
            params,
            jnp.append(losses, final_loss),
            jnp.append(accuracies, final_accuracy),
        )

    return fit


def run_masks(config: TrainConfig, widths: Array | None) -> Params | None:
    """The gradient masks of a run of ``widths`` units (None: the full network trains)."""
    require_dense_for_widths(config.model, widths)
    if widths is None:
        return None
    return width_masks(widths, config.hidden, require_dtype(config.dtype))


def make_train(
    config: TrainConfig, grad_fn: GradFn | None = None, progress: ProgressFn | None = None
) -> Callable[..., TrainResult]:
    """A pure ``train(key, hparams, x, y, widths=None) -> TrainResult`` for one run of
    ``config``: :func:`make_fit` from the config's initial params for ``key``.

    ``widths`` (two integers, may be traced) trains a network whose hidden layers use only the
    first ``widths`` units of ``config.hidden``, the rest masked (see
    :func:`twolayer_jax.model.width_masks`); a padded width-h run computes what an unpadded
    width-h run computes, which lets one program sweep the width.
    """
    fit = make_fit(config, grad_fn, progress)

    def train(key, hparams, x, y, widths=None) -> TrainResult:
        check_train(config, key, hparams, x, y, widths)
        params = config.architecture.init_params(key, widths)
        return fit(params, hparams, x, y, run_masks(config, widths))

    return train
