"""The training engine: a whole run, every epoch of it, is one compiled program.

``make_train(config)`` closes over everything static and returns a pure
``train(key, hparams, x, y)``; ``train_many`` vmaps it over S runs under one ``jit``. Only the
keys, the data and the numeric hyper-parameters are traced, so a new seed or a new learning rate
reuses the compiled program, while a new :class:`TrainConfig` or a new shape compiles a new one.

The gradient is pluggable: a ``GradFn`` maps ``(params, x, y)`` to ``(grads, cache)``, where
``grads`` has the structure of ``params`` and ``cache`` is the :class:`ForwardCache` of the forward
pass the gradient was taken at (the engine reads the loss and accuracy from it, so each epoch runs
one forward pass). ``autodiff`` (``jax.grad``) is the reference, ``manual`` the hand-written
backward pass of ``manual/``; both are compiled and vmapped the same way.
"""

import dataclasses
from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax
from jax import Array
from jax.typing import ArrayLike

from manual.optimizers import OPTIMIZERS as MANUAL_OPTIMIZERS
from twolayer_jax.activations import hidden_activations, parse_activation
from twolayer_jax.gradients import GRADIENTS, GradFn
from twolayer_jax.losses import LOSSES, NEEDS_SIGMOID_OUTPUT, get_loss
from twolayer_jax.model import ForwardCache, Params, accuracy, forward_layers, init_conv_params, init_params
from twolayer_jax.optimizers import OPTIMIZERS, HParams
from twolayer_jax.registry import lookup

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


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything static about a run: hashable, so ``jit`` keys its compiled program on it."""

    epochs: int = 5000
    hidden: tuple[int, int] = (100, 100)
    activation: str = "sigmoid"
    output_activation: str = "sigmoid"
    loss: str = "mse"
    optimizer: str = "sgd"
    optimizer_impl: str = "optax"  # or "manual": the hand-written twins in manual/optimizers.py
    grad: str = "autodiff"
    dtype: str = "float32"
    model: str = "dense"  # or "conv": layer 2 a 1-D convolution over layer 1's h1 = hidden[0] features
    channels: int = 4  # conv: output channels
    kernel_size: int = 5  # conv: kernel width, narrower than h1

    def __post_init__(self):
        object.__setattr__(self, "hidden", tuple(self.hidden))
        if self.epochs < 1:
            raise ValueError(f"epochs must be positive, got {self.epochs}")
        if len(self.hidden) != 2 or min(self.hidden) < 1:
            raise ValueError(f"hidden must be two positive widths, got {self.hidden}")
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype!r}")
        hidden_activations(self.activation)
        parse_activation(self.output_activation)
        lookup(LOSSES, "loss", self.loss)
        if self.loss in NEEDS_SIGMOID_OUTPUT and self.output_activation != "sigmoid":
            raise ValueError(f"loss {self.loss!r} needs a sigmoid output, got {self.output_activation!r}")
        lookup(
            lookup(OPTIMIZER_IMPLS, "optimizer implementation", self.optimizer_impl),
            "optimizer",
            self.optimizer,
        )
        lookup(GRADIENTS, "gradient", self.grad)
        if self.model not in ("dense", "conv"):
            raise ValueError(f"model must be dense or conv, got {self.model!r}")
        if self.model == "conv" and not (1 <= self.kernel_size < self.hidden[0] and self.channels >= 1):
            raise ValueError(
                f"the conv model needs 1 <= kernel_size < h1 and channels >= 1, got kernel_size "
                f"{self.kernel_size}, h1 {self.hidden[0]}, channels {self.channels}"
            )

    def init_params(self, key: Array, dtype) -> Params:
        """Initial params of this config's model."""
        if self.model == "conv":
            return init_conv_params(key, self.hidden[0], self.channels, self.kernel_size, dtype)
        return init_params(key, self.hidden, dtype)


# implementation → optimizer name → factory(hparams) → an optax-shaped (init, update) pair
OPTIMIZER_IMPLS = {"optax": OPTIMIZERS, "manual": MANUAL_OPTIMIZERS}


def require_dtype(dtype: str) -> jnp.dtype:
    """``dtype`` as a NumPy dtype; float64 needs ``jax_enable_x64``, which JAX reads once at start."""
    if dtype == "float64" and not jax.config.read("jax_enable_x64"):
        raise ValueError("float64 needs jax.config.update('jax_enable_x64', True) before any JAX work")
    return jnp.dtype(dtype)


def all_finite(params: Params) -> Array:
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(leaf)) for leaf in jax.tree.leaves(params)]))


def make_train(
    config: TrainConfig, grad_fn: GradFn | None = None, progress: ProgressFn | None = None
) -> Callable[[Array, HParams, Array, Array], TrainResult]:
    """A pure ``train(key, hparams, x, y) -> TrainResult`` for one run of ``config``.

    ``grad_fn`` replaces the gradient named by ``config.grad``. ``progress``, if given, is a host
    function called with the number of epochs done about PROGRESS_TICKS times per run; it only
    reports and never changes a result.
    """
    dtype = require_dtype(config.dtype)
    loss_fn = get_loss(config.loss)
    if grad_fn is None:
        grad_fn = GRADIENTS[config.grad](config.activation, config.output_activation, config.loss)
    report_every = max(1, config.epochs // PROGRESS_TICKS)

    def metrics(params: Params, cache: ForwardCache, y: Array) -> tuple[Array, Array]:
        # A network with a non-finite weight has no meaningful loss, even where σ saturates.
        loss = jnp.where(all_finite(params), loss_fn(cache.x3, cache.y, y), jnp.nan)
        return loss, accuracy(cache.y, y)

    def report_progress(epoch: Array) -> None:
        if progress is not None:
            done = epoch + 1
            jax.lax.cond(
                done % report_every == 0,
                lambda: jax.debug.callback(progress, done),
                lambda: None,
            )

    def train(key: Array, hparams: HParams, x: Array, y: Array) -> TrainResult:
        x, y = jnp.asarray(x, dtype), jnp.asarray(y, dtype)
        hparams = jax.tree.map(lambda value: jnp.asarray(value, dtype), hparams)
        optimizer = OPTIMIZER_IMPLS[config.optimizer_impl][config.optimizer](hparams)
        params = config.init_params(key, dtype)

        def epoch(carry, index):
            params, opt_state = carry
            grads, cache = grad_fn(params, x, y)
            updates, opt_state = optimizer.update(grads, opt_state, params)
            report_progress(index)
            return (optax.apply_updates(params, updates), opt_state), metrics(params, cache, y)

        carry = (params, optimizer.init(params))
        (params, _), (losses, accuracies) = jax.lax.scan(epoch, carry, jnp.arange(config.epochs))
        final_cache = forward_layers(params, x, config.activation, config.output_activation)
        final_loss, final_accuracy = metrics(params, final_cache, y)
        return TrainResult(
            params,
            jnp.append(losses, final_loss),
            jnp.append(accuracies, final_accuracy),
        )

    return train


@partial(jax.jit, static_argnames=("config", "grad_fn", "progress"))
def train_many(
    config: TrainConfig,
    keys: Array,
    hparams: HParams,
    x: ArrayLike,
    y: ArrayLike,
    grad_fn: GradFn | None = None,
    progress: ProgressFn | None = None,
) -> TrainResult:
    """S runs in one compiled program: ``keys`` has shape (S,) and each ``hparams`` field is a
    scalar (shared) or shape (S,) (one per run). Returns a :class:`TrainResult` with a leading
    axis S. Compiles once per (config, shapes, grad_fn, progress)."""
    runs = keys.shape[0]
    hparams = jax.tree.map(lambda value: jnp.broadcast_to(jnp.asarray(value), (runs,)), hparams)
    train = make_train(config, grad_fn, progress)
    return jax.vmap(train, in_axes=(0, 0, None, None))(keys, hparams, x, y)


def seed_keys(first_seed: int, count: int) -> Array:
    """Keys for seeds ``first_seed .. first_seed + count - 1``; seed s's key is ``key(s)``, so any
    run of a study can be reproduced alone."""
    return jax.vmap(jax.random.key)(jnp.arange(first_seed, first_seed + count))
