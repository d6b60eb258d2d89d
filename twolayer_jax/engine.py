"""The training engine: a whole run, every epoch of it, is one compiled program.

``make_train(config)`` closes over everything static and returns a pure
``train(key, hparams, x, y)``; ``train_many`` runs S of them, vmapped, in two compiled programs:
one draws every run's initial params, one trains every run for every epoch. Only the keys, the
data and the numeric hyper-parameters are traced, so a new seed or a new learning rate reuses the
compiled programs, while a new :class:`TrainConfig` or a new shape compiles a new one.

The gradient is pluggable: a ``GradFn`` maps ``(params, x, y)`` to ``(grads, cache)``, where
``grads`` has the structure of ``params`` and ``cache`` is the :class:`ForwardCache` of the forward
pass the gradient was taken at (the engine reads the loss and accuracy from it, so each epoch runs
one forward pass). ``manual``, the hand-written backward pass of ``manual/``, is the default:
the lab trains with its own backpropagation, which knows the shapes of its products and on a CPU
is usually the faster of the two (benchmarks/README.md compares them).
``autodiff`` (``jax.grad``) is the reference it is checked against; both are compiled and
vmapped the same way.
"""

import dataclasses
from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import Array
from jax.sharding import Mesh
from jax.sharding import PartitionSpec as P
from jax.typing import ArrayLike

from manual.optimizers import OPTIMIZERS as MANUAL_OPTIMIZERS
from twolayer_jax.activations import hidden_activations, parse_activation
from twolayer_jax.devices import platform as device_platform
from twolayer_jax.gradients import GRADIENTS, GradFn
from twolayer_jax.losses import LOSSES, NEEDS_SIGMOID_OUTPUT, get_loss
from twolayer_jax.model import (
    ForwardCache,
    Params,
    accuracy,
    forward_layers,
    init_conv_params,
    init_params,
    width_masks,
)
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
    # "autodiff" trains on jax.grad, the same numbers to rounding. Manual computes z1ᵀ·δ2 and the
    # bias sum Σ δ2 as one product with a row of ones under z1ᵀ (manual/backpropagation.py), which
    # XLA's CPU backend gives to its fast matmul library; jax.grad's z1ᵀ·δ2 falls back to XLA's
    # own, slower dot.
    grad: str = "manual"
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

    @property
    def architecture(self) -> "Architecture":
        return Architecture(self.model, self.hidden, self.channels, self.kernel_size, self.dtype)


class Architecture(NamedTuple):
    """The part of a :class:`TrainConfig` a run's initial params depend on. Configs that differ
    only in how they train (epochs, optimizer, activation, loss, gradient) share it, and with it
    one compiled program that draws their initial params."""

    model: str
    hidden: tuple[int, int]
    channels: int
    kernel_size: int
    dtype: str

    def init_params(self, key: Array, widths: Array | None = None) -> Params:
        """Initial params for ``key``; ``widths`` masks a narrower dense network (see
        :func:`twolayer_jax.model.init_params`)."""
        dtype = require_dtype(self.dtype)
        require_dense_for_widths(self.model, widths)
        if self.model == "conv":
            return init_conv_params(key, self.hidden[0], self.channels, self.kernel_size, dtype)
        return init_params(key, self.hidden, dtype, widths)


# implementation → optimizer name → factory(hparams) → an optax-shaped (init, update) pair
OPTIMIZER_IMPLS = {"optax": OPTIMIZERS, "manual": MANUAL_OPTIMIZERS}


def require_dtype(dtype: str) -> jnp.dtype:
    """``dtype`` as a NumPy dtype; float64 needs ``jax_enable_x64``, which JAX reads once at start."""
    if dtype == "float64" and not jax.config.read("jax_enable_x64"):
        raise ValueError("float64 needs jax.config.update('jax_enable_x64', True) before any JAX work")
    return jnp.dtype(dtype)


def require_dense_for_widths(model: str, widths: ArrayLike | None) -> None:
    if widths is not None and model != "dense":
        raise ValueError("masked widths need the dense model")


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
    """A pure ``fit(params, hparams, x, y, masks=None, progress_offset=0) -> TrainResult`` that
    trains ``params`` for ``config.epochs`` full-batch updates.

    ``masks`` (0/1, shaped like ``params``, from :func:`twolayer_jax.model.width_masks`)
    multiplies every gradient, so a masked parameter never moves. ``grad_fn`` replaces the
    gradient named by ``config.grad``. ``progress``, if given, is a host function called with
    ``progress_offset`` plus the epochs done, about PROGRESS_TICKS times per run; it only
    reports and never changes a result.
    """
    dtype = require_dtype(config.dtype)
    loss_fn = get_loss(config.loss)
    if grad_fn is None:
        grad_fn = GRADIENTS[config.grad](config.activation, config.output_activation, config.loss)
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
        final_cache = forward_layers(params, x, config.activation, config.output_activation)
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
        params = config.architecture.init_params(key, widths)
        return fit(params, hparams, x, y, run_masks(config, widths))

    return train


# Seeds per compiled chunk on each device. A CPU core runs its chunks one after another, and a
# small chunk keeps its working set in cache, where all S at once would not; 4 was the fastest of
# 2 to 16 tried (benchmarks/README.md). A GPU or TPU needs thousands of networks at once to fill
# its cores; 4096 at a time bounds the working set to a few GB of device memory however large S
# is, at nearly the rate of far larger chunks.
CPU_CHUNK_SIZE = 4
ACCELERATOR_CHUNK_SIZE = 4096
SEED_AXIS = "seeds"


def default_chunk_size(platform: str | None = None) -> int:
    """Seeds per chunk for ``platform`` (default: that of JAX's first device)."""
    return CPU_CHUNK_SIZE if (platform or device_platform()) == "cpu" else ACCELERATOR_CHUNK_SIZE


class SeedLayout(NamedTuple):
    """How S runs are laid out: ``devices`` shards of ``chunks`` chunks of ``chunk`` runs each,
    run one chunk after another on each device; ``padded - runs`` copies of the last run fill
    the grid and are dropped from the result."""

    runs: int
    devices: int
    chunks: int
    chunk: int

    @property
    def padded(self) -> int:
        return self.devices * self.chunks * self.chunk


def seed_layout(runs: int, devices: int, chunk_size: int) -> SeedLayout:
    """Balanced chunks of at most ``chunk_size`` runs, at least one run per device."""
    per_device = -(-runs // devices)
    chunks = -(-per_device // chunk_size)
    return SeedLayout(runs, devices, chunks, -(-per_device // chunks))


def progress_total(config: TrainConfig, runs: int, chunk_size: int | None = None) -> int:
    """The count a ``train_many`` progress hook reaches at the end: epochs × chunks per device."""
    return config.epochs * seed_layout(runs, jax.device_count(), chunk_size or default_chunk_size()).chunks


def seed_mesh() -> Mesh:
    """A 1-D mesh over every device of every process: the seed axis is split across it."""
    return Mesh(np.array(jax.devices()), (SEED_AXIS,))


def train_many(
    config: TrainConfig,
    keys: Array,
    hparams: HParams,
    x: ArrayLike,
    y: ArrayLike,
    widths: ArrayLike | None = None,
    grad_fn: GradFn | None = None,
    progress: ProgressFn | None = None,
    chunk_size: int | None = None,
) -> TrainResult:
    """S runs: ``keys`` has shape (S,) and each ``hparams`` field is a scalar (shared) or shape
    (S,) (one per run); ``widths`` is None, a pair, or (S, 2) (see :func:`make_train`). Returns a
    :class:`TrainResult` with a leading axis S.

    The runs are split across every device (:func:`seed_mesh`) and, on each, trained
    ``chunk_size`` at a time (default: :func:`default_chunk_size` for the device). Every run is
    independent, so the layout changes the speed, never a result. A ``progress`` hook hears the
    first device only and counts to :func:`progress_total`.

    Two compiled programs do the work: :func:`initial_params_many` draws every run's initial
    params and :func:`fit_many` trains them. The first depends only on the config's
    :class:`Architecture`, so configs that differ in how they train share it, and drawing normal
    samples is slow to compile: on a 2-core CPU, drawing 4 runs' params alone compiled in 1.7 s,
    and the default config's whole run, draw included, in 2.6 s. The second compiles once per
    (config, shapes, grad_fn, progress, layout).
    """
    layout = seed_layout(keys.shape[0], jax.device_count(), chunk_size or default_chunk_size())
    params = initial_params_many(config.architecture, layout, keys, widths)
    return fit_many(config, layout, params, hparams, x, y, widths, grad_fn, progress)


def padded_to(layout: SeedLayout, tree):
    """``tree``'s leading run axis filled to ``layout.padded`` with copies of the last run, which
    are dropped from the result."""
    fill = jnp.minimum(jnp.arange(layout.padded), layout.runs - 1)
    return jax.tree.map(lambda leaf: leaf[fill], tree)


def per_run_widths(widths: ArrayLike | None, runs: int) -> Array | None:
    return None if widths is None else jnp.broadcast_to(jnp.asarray(widths, jnp.int32), (runs, 2))


def on_every_device(function: Callable) -> Callable:
    """``function`` on each device's share of the runs (leading axis) of its inputs and outputs."""
    spec = P(SEED_AXIS)
    return jax.shard_map(function, mesh=seed_mesh(), in_specs=spec, out_specs=spec, check_vma=False)


@partial(jax.jit, static_argnames=("architecture", "layout"))
def initial_params_many(
    architecture: Architecture, layout: SeedLayout, keys: Array, widths: ArrayLike | None
) -> Params:
    """The initial params of every run of ``layout`` (padded), split across the devices."""
    widths = per_run_widths(widths, layout.runs)
    draw = jax.vmap(architecture.init_params, in_axes=(0, None if widths is None else 0))
    return on_every_device(lambda local: draw(*local))(padded_to(layout, (keys, widths)))


@partial(jax.jit, static_argnames=("config", "layout", "grad_fn", "progress"))
def fit_many(
    config: TrainConfig,
    layout: SeedLayout,
    params: Params,
    hparams: HParams,
    x: ArrayLike,
    y: ArrayLike,
    widths: ArrayLike | None,
    grad_fn: GradFn | None,
    progress: ProgressFn | None,
) -> TrainResult:
    """Train the runs of ``layout`` from ``params`` (padded, from :func:`initial_params_many`):
    the body of :func:`train_many`."""
    widths = per_run_widths(widths, layout.runs)
    hparams = jax.tree.map(lambda value: jnp.broadcast_to(jnp.asarray(value), (layout.runs,)), hparams)
    inputs = {"params": params, **padded_to(layout, {"hparams": hparams, "widths": widths})}
    fit = make_fit(config, grad_fn, progress)

    def one_run(run, run_x, progress_offset, reporter):
        masks = run_masks(config, run["widths"])
        return fit(run["params"], run["hparams"], run_x, y, masks, progress_offset, reporter)

    def on_one_device(local):
        reporter = jax.lax.axis_index(SEED_AXIS) == 0
        chunked = jax.tree.map(lambda leaf: leaf.reshape(layout.chunks, layout.chunk, *leaf.shape[1:]), local)
        # Each run of a chunk reads its own copy of x. With one shared x, vmap turns the chunk's
        # layer-1 products into one [n, chunk·h1] product, whose result is then transposed into
        # per-run layout twice (forward and backward); per-run copies keep every product per run,
        # and they are small beside each run's own activations (2 features against h1 units).
        # It is faster in float32 and no slower in float64 (benchmarks/README.md).
        chunk_x = jnp.broadcast_to(x, (layout.chunk, *jnp.shape(x)))

        def one_chunk(_, indexed):
            index, chunk = indexed
            runs = jax.vmap(one_run, in_axes=(0, 0, None, None))
            return None, runs(chunk, chunk_x, index * config.epochs, reporter)

        _, results = jax.lax.scan(one_chunk, None, (jnp.arange(layout.chunks), chunked))
        return jax.tree.map(lambda leaf: leaf.reshape(-1, *leaf.shape[2:]), results)

    return jax.tree.map(lambda leaf: leaf[: layout.runs], on_every_device(on_one_device)(inputs))


def select_run(tree, index: int):
    """Run ``index`` of a ``train_many`` result (or any pytree with a leading run axis)."""
    return jax.tree.map(lambda leaf: leaf[index], tree)


def seed_keys(first_seed: int, count: int) -> Array:
    """Keys for seeds ``first_seed .. first_seed + count - 1``; seed s's key is ``key(s)``, so any
    run of a study can be reproduced alone."""
    return jax.vmap(jax.random.key)(jnp.arange(first_seed, first_seed + count))
