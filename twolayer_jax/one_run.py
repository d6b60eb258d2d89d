"""One run: its epoch loop, and every epoch of it as one compiled program.

``make_epochs(config)`` closes over everything static and returns the pure epoch loop that every
way of training shares: ``count`` updates from a :class:`FitState` (the params and the optimizer's
state) as a ``lax.scan`` (take the gradient, step the optimizer, record the loss and accuracy),
returning the new state and the histories. ``make_fit(config)`` runs all of a config's epochs in
it and adds the loss and accuracy of the final params: a pure ``fit(params, hparams, x, y)``, one
program under ``jit``. ``make_train(config)`` starts it from the config's initial params for a
key. Only the keys, the data and the numeric hyper-parameters are traced, so a new seed or a new
learning rate reuses the compiled program. ``many_runs.train_many`` runs the same loop a bounded
number of epochs per program call, so that it can report progress and stop between calls.

The gradient is pluggable: a ``GradFn`` maps ``(params, x, y)`` to ``(grads, cache)``, where
``grads`` has the structure of ``params`` and ``cache`` is the :class:`ForwardCache` of the forward
pass the gradient was taken at (the loss and accuracy are read from it, so each epoch runs one
forward pass). ``manual``, the hand-written backward pass of ``manual/``, is the default: the lab
trains with its own backpropagation. ``autodiff`` (``jax.grad``) is the reference it is checked
against; both are compiled the same way.
"""

from collections.abc import Callable
from typing import Any, NamedTuple

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
from twolayer_jax.optimizers import HParams


class TrainResult(NamedTuple):
    """Final params and the history, indexed by the number of updates done: ``loss[k]`` and
    ``accuracy[k]`` belong to the params after k updates, k = 0..epochs (so length epochs + 1).
    A loss is NaN or inf once the run has diverged. ``train_many`` adds a leading run axis."""

    params: Params
    loss: Array
    accuracy: Array


class FitState(NamedTuple):
    """What the epoch loop carries from one update to the next: the params and the optimizer's
    state (None before the first update: the loop starts a fresh one)."""

    params: Params
    opt_state: Any


class Epochs(NamedTuple):
    """What :func:`make_epochs`'s loop returns: the state after its ``count`` updates, and the
    loss and accuracy of the params before each of them (``count`` entries each)."""

    state: FitState
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


def make_optimizer(config: TrainConfig) -> Callable[[HParams], optax.GradientTransformation]:
    """``config``'s optimizer for ``hparams``, each cast to the config's dtype (traced numbers)."""
    dtype = require_dtype(config.dtype)

    def optimizer(hparams: HParams) -> optax.GradientTransformation:
        hparams = jax.tree.map(lambda value: jnp.asarray(value, dtype), hparams)
        return OPTIMIZER_IMPLS[config.optimizer_impl][config.optimizer](hparams)

    return optimizer


def make_metrics(config: TrainConfig) -> Callable[[ForwardCache, Array], tuple[Array, Array]]:
    """``metrics(cache, y) -> (loss, accuracy)`` of the forward pass ``cache`` against labels ``y``."""
    loss_fn = config.network.loss_function()

    def metrics(cache: ForwardCache, y: Array) -> tuple[Array, Array]:
        # A network with a non-finite weight has no meaningful loss, even where σ saturates.
        loss = jnp.where(weights_finite(cache), loss_fn(cache.x3, cache.y, y), jnp.nan)
        return loss, accuracy(cache.y, y)

    return metrics


def make_final_metrics(config: TrainConfig) -> Callable[[Params, Array, Array], tuple[Array, Array]]:
    """``final_metrics(params, x, y) -> (loss, accuracy)``: one forward pass, for the params after
    the last update (the epoch loop reads every other entry of the history from its own pass)."""
    dtype = require_dtype(config.dtype)
    metrics = make_metrics(config)

    def final_metrics(params: Params, x, y) -> tuple[Array, Array]:
        x, y = jnp.asarray(x, dtype), jnp.asarray(y, dtype)
        return metrics(forward_layers(params, x, config.network), y)

    return final_metrics


def make_epochs(config: TrainConfig, grad_fn: GradFn | None = None) -> Callable[..., Epochs]:
    """The epoch loop: a pure ``epochs(state, hparams, x, y, masks, count) -> Epochs`` that makes
    ``count`` (a Python int, static) full-batch updates from ``state``, a :class:`FitState` (its
    ``opt_state`` None: a fresh optimizer state for its params).

    ``masks`` (0/1, shaped like ``params``, from :func:`twolayer_jax.model.width_masks`, or None)
    multiplies every gradient, so a masked parameter never moves. ``grad_fn`` replaces the
    gradient named by ``config.grad``. Running ``a`` epochs and then ``b`` from the state they
    returned computes what one call of ``a + b`` computes, to the last bit, when each count is at
    least 2 (see :func:`twolayer_jax.many_runs.segment_plan` for why a count of 1 may not).
    """
    dtype = require_dtype(config.dtype)
    grad_fn = grad_fn or GRADIENTS[config.grad](config.network)
    make = make_optimizer(config)
    metrics = make_metrics(config)

    def epochs(state: FitState, hparams, x, y, masks, count: int) -> Epochs:
        x, y = jnp.asarray(x, dtype), jnp.asarray(y, dtype)
        optimizer = make(hparams)

        def epoch(carry, _):
            params, opt_state = carry
            grads, cache = grad_fn(params, x, y)
            if masks is not None:
                grads = jax.tree.map(jnp.multiply, grads, masks)
            updates, opt_state = optimizer.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), metrics(cache, y)

        params, opt_state = state
        carry = (params, optimizer.init(params) if opt_state is None else opt_state)
        (params, opt_state), (losses, accuracies) = jax.lax.scan(epoch, carry, length=count)
        return Epochs(FitState(params, opt_state), losses, accuracies)

    return epochs


def make_fit(config: TrainConfig, grad_fn: GradFn | None = None) -> Callable[..., TrainResult]:
    """A pure ``fit(params, hparams, x, y, masks=None) -> TrainResult`` that trains ``params`` for
    ``config.epochs`` full-batch updates of :func:`make_epochs`'s loop, from a fresh optimizer
    state, and adds the loss and accuracy of the final params (``masks`` and ``grad_fn`` as
    there). Under ``jit`` the whole run is one program.
    """
    check_factory(config, grad_fn, None)
    epochs = make_epochs(config, grad_fn)
    final_metrics = make_final_metrics(config)

    def fit(params, hparams, x, y, masks=None) -> TrainResult:
        check_fit(config, params, hparams, x, y, masks)
        done = epochs(FitState(params, None), hparams, x, y, masks, config.epochs)
        final_loss, final_accuracy = final_metrics(done.state.params, x, y)
        return TrainResult(
            done.state.params,
            jnp.append(done.loss, final_loss),
            jnp.append(done.accuracy, final_accuracy),
        )

    return fit


def run_masks(config: TrainConfig, widths: Array | None) -> Params | None:
    """The gradient masks of a run of ``widths`` units (None: the full network trains)."""
    require_dense_for_widths(config.model, widths)
    if widths is None:
        return None
    return width_masks(widths, config.hidden, require_dtype(config.dtype))


def make_train(config: TrainConfig, grad_fn: GradFn | None = None) -> Callable[..., TrainResult]:
    """A pure ``train(key, hparams, x, y, widths=None) -> TrainResult`` for one run of
    ``config``: :func:`make_fit` from the config's initial params for ``key``.

    ``widths`` (two integers, may be traced) trains a network whose hidden layers use only the
    first ``widths`` units of ``config.hidden``, the rest masked (see
    :func:`twolayer_jax.model.width_masks`); a padded width-h run computes what an unpadded
    width-h run computes, which lets one program sweep the width.
    """
    check_factory(config, grad_fn, None)
    fit = make_fit(config, grad_fn)

    def train(key, hparams, x, y, widths=None) -> TrainResult:
        check_train(config, key, hparams, x, y, widths)
        params = config.architecture.init_params(key, widths)
        return fit(params, hparams, x, y, run_masks(config, widths))

    return train
