"""Many runs at once: S seeds (and per-run hyper-parameters and widths) of one config.

``train_many`` is :func:`twolayer_jax.one_run.make_fit` vmapped over runs, with the runs laid out
for the hardware: split across every device (``shard_map`` over a 1-D mesh), and on each device
trained a chunk at a time (a ``lax.scan`` over chunks of a vmapped chunk), padded to fill the
grid. Every run is independent, so the layout is about speed; a run's arithmetic is the same as
alone, up to the order in which a batched matmul adds (a last-bit difference in float32).
"""

from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.sharding import Mesh
from jax.sharding import PartitionSpec as P
from jax.typing import ArrayLike

from twolayer_jax import validation
from twolayer_jax.config import Architecture, TrainConfig, check_train_many
from twolayer_jax.devices import platform as device_platform
from twolayer_jax.gradients import GradFn
from twolayer_jax.model import Params
from twolayer_jax.one_run import ProgressFn, TrainResult, make_fit, run_masks
from twolayer_jax.optimizers import HParams

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
    independent: the layout changes the speed, and a result only in its last bits (a batched
    matmul may add in another order). A ``progress`` hook hears the first device only and counts
    to :func:`progress_total`.

    Two compiled programs do the work: :func:`initial_params_many` draws every run's initial
    params and :func:`fit_many` trains them. The first depends only on the config's
    :class:`Architecture`, so configs that differ in how they train share it (drawing normal
    samples is slow to compile). The second compiles once per (config, shapes, grad_fn,
    progress, layout).
    """
    check_train_many(config, keys, hparams, x, y, widths, grad_fn, progress, chunk_size)
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
    run of a study can be reproduced alone. Seeds are whole numbers in 0..2**32 - 1 (beyond,
    without ``jax_enable_x64``, ``key(s)`` wraps around and two seeds share a key), count >= 1."""
    validation.seeds(first_seed, count)
    return jax.vmap(jax.random.key)(jnp.arange(first_seed, first_seed + count))
