"""Many runs at once: S seeds (and per-run hyper-parameters and widths) of one config.

``train_many`` is the epoch loop of :func:`twolayer_jax.one_run.make_epochs` vmapped over runs,
with the runs laid out for the hardware: split across every device (``shard_map`` over a 1-D
mesh), and on each device trained a chunk at a time (a ``lax.scan`` over chunks of a vmapped
chunk), padded to fill the grid. Every run is independent, so the layout is about speed; a run's
arithmetic is the same as alone, up to the order in which a batched matmul adds (a last-bit
difference in float32).

The epochs run in segments: a compiled program runs a bounded number of them for every run,
carrying the params and optimizer state in that layout, and a Python loop calls it until the run
is done. A compiled program can be neither stopped nor asked how far it got, so the host reports
progress, and ctrl-C takes effect, between two segments: within a segment or two of work, which
:func:`default_segment_epochs` bounds. The loop keeps the next segment queued behind the one it
waits for, so the device never waits for Python. Each segment runs the same loop on the same
numbers as one long program would, so segmenting changes no result, not even in its last bit.
"""

from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P
from jax.typing import ArrayLike

from twolayer_jax import validation
from twolayer_jax.config import Architecture, TrainConfig, check_train_many, require_dtype
from twolayer_jax.devices import platform as device_platform
from twolayer_jax.gradients import GradFn
from twolayer_jax.model import Params
from twolayer_jax.model import accuracy as model_accuracy
from twolayer_jax.one_run import (
    FitState,
    TrainResult,
    make_epochs,
    make_final_metrics,
    make_optimizer,
    run_masks,
)
from twolayer_jax.optimizers import HParams

ProgressFn = Callable[[int], None]

# Seeds per compiled chunk on each device. A CPU core runs its chunks one after another, and a
# small chunk keeps its working set in cache, where all S at once would not; 4 was the fastest of
# 2 to 16 tried (benchmarks/README.md). A GPU or TPU needs thousands of networks at once to fill
# its cores; 4096 at a time bounds the working set to a few GB of device memory however large S
# is, at nearly the rate of far larger chunks.
CPU_CHUNK_SIZE = 4
ACCELERATOR_CHUNK_SIZE = 4096
SEED_AXIS = "seeds"

# A segment's length aims at this much work, and is bounded by it on devices that reach their
# assumed rate (SEGMENT_RATES): short enough that ctrl-C acts within about a second (an interrupt
# waits for the segment under way and the one queued behind it) ...
SEGMENT_SECONDS = 0.5
# ... unless that is fewer than this many point-epochs (epochs × points). Beyond its epochs, a
# segment costs about a dozen point-epochs of every run (each chunk's state read into the caches
# afresh, and written back), which shorter segments would let pass a hundredth of the work.
SEGMENT_POINT_EPOCHS = 1000
# (float32 multiply-adds per second, seconds per epoch beyond them) one device is assumed to
# reach: a CPU core's rate is below what the engine reaches on one (benchmarks/README.md), and an
# accelerator's fixed cost per epoch (a loop step's kernel launches) dominates small runs.
SEGMENT_RATES = {"cpu": (1e10, 1e-5), "accelerator": (2e11, 1e-4)}
# How many times longer an epoch takes than the dense float32 network's of the same widths:
# float64 runs at about half the rate, and the conv model several times slower (the figures are
# in benchmarks/README.md).
FLOAT64_SLOWDOWN = 2
CONV_SLOWDOWN = 4


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


def progress_total(config: TrainConfig) -> int:
    """The count a ``train_many`` progress hook reaches at the end: the config's epochs."""
    return config.epochs


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
    segment_epochs: int | None = None,
) -> TrainResult:
    """S runs: ``keys`` has shape (S,) and each ``hparams`` field is a scalar (shared) or shape
    (S,) (one per run); ``widths`` is None, a pair, or (S, 2) (see :func:`make_train`). Returns a
    :class:`TrainResult` with a leading axis S.

    The runs are split across every device (:func:`seed_mesh`) and, on each, trained
    ``chunk_size`` at a time (default: :func:`default_chunk_size` for the device). Every run is
    independent: the layout changes the speed, and a result only in its last bits (a batched
    matmul may add in another order).

    The epochs run in segments of at most ``segment_epochs`` (default:
    :func:`default_segment_epochs`, about :data:`SEGMENT_SECONDS` of work), one compiled call
    each, and after each Python calls ``progress`` (if given) with the epochs done so far and can
    stop: a KeyboardInterrupt while the run trains raises :class:`TrainingInterrupted`, which
    carries what the finished segments trained, once the segment queued behind the one under way
    has finished too (see :func:`fit_many`). Segments change neither a number nor the history: a
    run in segments is bit-identical to the run in one.

    :func:`initial_params_many` draws every run's initial params and :func:`fit_many` trains them
    (:func:`fit_segment`). The first depends only on the config's :class:`Architecture`, so
    configs that differ in how they train share it (drawing normal samples is slow to compile).
    A run of one segment is one training program. A run of several compiles one of the segment
    length (and one of the remainder, if any) and a small one that starts the optimizer
    (:func:`fresh_opt_state`); an interrupted run compiles one of no epochs, which gives its
    history its last entry.
    """
    check_train_many(config, keys, hparams, x, y, widths, grad_fn, progress, chunk_size)
    if segment_epochs is not None:
        validation.whole_number("segment_epochs", segment_epochs)
    layout = seed_layout(keys.shape[0], jax.device_count(), chunk_size or default_chunk_size())
    params = initial_params_many(config.architecture, layout, keys, widths)
    return fit_many(config, layout, params, hparams, x, y, widths, grad_fn, progress, segment_epochs)


def fill_index(layout: SeedLayout) -> np.ndarray:
    """The run each of ``layout.padded`` places holds: every run once, then copies of the last,
    which are dropped from the result."""
    return np.minimum(np.arange(layout.padded), layout.runs - 1)


def padded_to(layout: SeedLayout, tree):
    """``tree``'s leading run axis filled to ``layout.padded`` (:func:`fill_index`)."""
    return jax.tree.map(lambda leaf: leaf[fill_index(layout)], tree)


def on_the_devices(layout: SeedLayout, tree):
    """A host tree of ``layout.runs`` runs (leading axis), padded as :func:`padded_to` pads and
    split across the devices as :func:`initial_params_many` leaves its params, so a training
    program takes it as it takes those (one compiled program for both)."""
    fill = fill_index(layout)
    sharding = NamedSharding(seed_mesh(), P(SEED_AXIS))
    return jax.device_put(jax.tree.map(lambda leaf: np.take(leaf, fill, axis=0), tree), sharding)


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
    """The initial params of every run of ``layout`` (padded), split across the devices.

    Each device draws its runs one after another (``lax.map``), not batched (``vmap``): drawing
    is a sliver of a run's work either way, and with XLA's optimisations the sequential draw
    compiles in about two thirds of the batched one's time, to the same bits
    (benchmarks/README.md). (No widths is an empty tree, which ``lax.map`` passes on as None.)"""
    widths = per_run_widths(widths, layout.runs)
    draw = partial(jax.lax.map, lambda run: architecture.init_params(*run))
    return on_every_device(draw)(padded_to(layout, (keys, widths)))


class TrainingInterrupted(KeyboardInterrupt):
    """A KeyboardInterrupt (ctrl-C) that stopped :func:`train_many` between two segments.
    ``epochs_done`` is the epochs its finished segments ran, and ``result`` the
    :class:`TrainResult` they trained: the params after them, the histories of length
    ``epochs_done + 1``, equal to the same prefix of an uninterrupted run."""

    def __init__(self, epochs_done: int, result: TrainResult):
        super().__init__(f"training interrupted after {epochs_done} epochs")
        self.epochs_done = epochs_done
        self.result = result


def epoch_work(config: TrainConfig, layout: SeedLayout, points: int) -> int:
    """Multiply-adds of one epoch's forward pass on one device (its share of the padded runs),
    counted as the dense network's; the backward pass is a fixed multiple of it, so it stands for
    the epoch."""
    h1, h2 = config.hidden
    return layout.chunks * layout.chunk * points * (2 * h1 + h1 * h2 + h2)


def epoch_seconds(config: TrainConfig, layout: SeedLayout, points: int, platform: str | None = None) -> float:
    """How long one epoch of every run is assumed to take on a device: its :func:`epoch_work` at
    the device's rate (:data:`SEGMENT_RATES`), slowed for float64 and the conv model, plus the
    fixed cost of an epoch."""
    rate, per_epoch = SEGMENT_RATES["cpu" if (platform or device_platform()) == "cpu" else "accelerator"]
    slowdown = (FLOAT64_SLOWDOWN if config.dtype == "float64" else 1) * (
        CONV_SLOWDOWN if config.model == "conv" else 1
    )
    return epoch_work(config, layout, points) * slowdown / rate + per_epoch


def default_segment_epochs(
    config: TrainConfig, layout: SeedLayout, points: int, platform: str | None = None
) -> int:
    """Epochs per segment: as many as :data:`SEGMENT_SECONDS` holds at :func:`epoch_seconds`, and
    at least :data:`SEGMENT_POINT_EPOCHS` / ``points``, but no more than the run's epochs. A
    length a little shorter that divides the epochs is preferred (:func:`near_divisor`): equal
    segments compile one program, a remainder another."""
    in_time = int(SEGMENT_SECONDS / epoch_seconds(config, layout, points, platform))
    longest = max(in_time, -(-SEGMENT_POINT_EPOCHS // points))
    return near_divisor(config.epochs, min(config.epochs, longest))


def near_divisor(epochs: int, longest: int) -> int:
    """The largest divisor of ``epochs`` from 3/4 of ``longest`` to ``longest``, else ``longest``."""
    shortest = -(-3 * longest // 4)
    return next((length for length in range(longest, shortest - 1, -1) if epochs % length == 0), longest)


def segment_plan(epochs: int, segment_epochs: int) -> tuple[int, ...]:
    """The epochs of each segment: equal ones of ``segment_epochs``, then the remainder, if any.

    No segment has one epoch unless the run has: XLA compiles a loop of one step without its loop,
    and the step fused with what surrounds it may round differently (it does with adam), so a
    length of 1 becomes 2 and a remainder of 1 joins the last equal segment."""
    length = min(max(2, segment_epochs), epochs)
    equal, remainder = divmod(epochs, length)
    if remainder == 1:
        return (length,) * (equal - 1) + (length + 1,)
    return (length,) * equal + ((remainder,) if remainder else ())


class Segment(NamedTuple):
    """What one call of :func:`fit_segment` returns: the state after it, for every run of the
    layout (padded; the next segment starts from it), and for the S runs their params (None when
    nothing is padded: ``state.params`` are theirs), the loss and accuracy before each of its
    updates, shape (S, count), and, if it was asked for them (``last``), of the params after its
    last update, shape (S, 1) (NaN otherwise)."""

    state: FitState
    params: Params | None
    loss: Array
    accuracy: Array
    final_loss: Array
    final_accuracy: Array

    def run_params(self) -> Params:
        return self.state.params if self.params is None else self.params


class Training(NamedTuple):
    """Where a :func:`fit_many` run stands: the epochs of its finished segments, the state after
    them, the loss and accuracy histories of each, and the latest :class:`Segment` (only the
    latest: each holds a state, and every run's params are large beside its history); then the
    segments dispatched but not yet waited for, as (epochs, segment), oldest first. A new stand
    is a new value, bound in one assignment, so an interrupt between two statements never finds
    one half updated."""

    epochs: int
    state: FitState
    losses: tuple[Array, ...]
    accuracies: tuple[Array, ...]
    latest: Segment | None
    in_flight: tuple[tuple[int, Segment], ...]

    def front(self) -> tuple[int, FitState]:
        """The epochs and the state after the last segment dispatched."""
        epochs = self.epochs + sum(count for count, _ in self.in_flight)
        return epochs, self.in_flight[-1][1].state if self.in_flight else self.state

    def dispatched(self, count: int, segment: Segment) -> "Training":
        return self._replace(in_flight=(*self.in_flight, (count, segment)))

    def waited(self) -> "Training":
        """This stand once the oldest segment in flight has finished, counted with the others."""
        (count, segment), *rest = self.in_flight
        jax.block_until_ready(segment)
        losses, accuracies = (*self.losses, segment.loss), (*self.accuracies, segment.accuracy)
        return Training(self.epochs + count, segment.state, losses, accuracies, segment, tuple(rest))


def fit_many(
    config: TrainConfig,
    layout: SeedLayout,
    params: Params,
    hparams: HParams,
    x: ArrayLike,
    y: ArrayLike,
    widths: ArrayLike | None = None,
    grad_fn: GradFn | None = None,
    progress: ProgressFn | None = None,
    segment_epochs: int | None = None,
) -> TrainResult:
    """Train the runs of ``layout`` from ``params`` (padded and split across the devices, as
    :func:`initial_params_many` or :func:`on_the_devices` leave them):
    the body of :func:`train_many`, a Python loop over :func:`fit_segment` calls.

    Each segment is dispatched before the one ahead of it is waited for, and no later one: the
    device goes from one segment to the next without waiting for Python, and at most one is
    queued. Python runs a KeyboardInterrupt's handler when the wait under way returns; the
    handler waits for the queued segment too (the device is busy with it either way) and raises
    :class:`TrainingInterrupted` with every segment dispatched, all of them finished.
    """
    length = segment_epochs or default_segment_epochs(config, layout, jnp.shape(x)[0])
    plan = segment_plan(config.epochs, length)
    segment = partial(fit_segment, config, layout, hparams=hparams, x=x, y=y, widths=widths, grad_fn=grad_fn)
    training = Training(0, FitState(params, None), (), (), None, ())
    try:
        if len(plan) > 1:  # a fresh optimizer state, carried from the first segment on
            training = training._replace(
                state=FitState(params, fresh_opt_state(config, layout, params, hparams))
            )
        for count in plan:
            done, state = training.front()
            training = training.dispatched(count, segment(count, state, last=done + count == config.epochs))
            if len(training.in_flight) > 1:
                training = training.waited()
                if progress is not None:
                    progress(training.epochs)
        training = training.waited()
        if progress is not None:
            progress(training.epochs)
    except KeyboardInterrupt:
        while training.in_flight:
            training = training.waited()
        raise TrainingInterrupted(training.epochs, joined(training, config, segment)) from None
    return joined(training, config, segment)


def joined(training: Training, config: TrainConfig, segment: Callable[..., Segment]) -> TrainResult:
    """The :class:`TrainResult` of the S runs from the finished segments. The loss and accuracy
    of the final params come from the last segment when it ended the run (it computed them), else
    from ``segment`` called for no epochs: the forward pass alone."""
    final = training.latest
    if training.epochs < config.epochs:  # the latest segment did not compute them
        final = segment(0, FitState(training.state.params, None), last=True)
    loss = jnp.concatenate([*training.losses, final.final_loss], axis=1)
    accuracy = jnp.concatenate([*training.accuracies, final.final_accuracy], axis=1)
    return TrainResult(final.run_params(), loss, accuracy)


@partial(jax.jit, static_argnames=("config", "layout"))
def fresh_opt_state(config: TrainConfig, layout: SeedLayout, params: Params, hparams: HParams):
    """The optimizer's starting state for every run of ``layout`` (padded), as the epoch loop
    starts it: a program of its own, far quicker to compile than a segment of no epochs."""
    hparams = jax.tree.map(lambda value: jnp.broadcast_to(jnp.asarray(value), (layout.runs,)), hparams)
    make = make_optimizer(config)
    start = jax.vmap(lambda run_params, run_hparams: make(run_hparams).init(run_params))
    return on_every_device(lambda local: start(*local))((params, padded_to(layout, hparams)))


@partial(jax.jit, static_argnames=("config", "layout", "count", "grad_fn"))
def fit_segment(
    config: TrainConfig,
    layout: SeedLayout,
    count: int,
    state: FitState,
    hparams: HParams,
    x: ArrayLike,
    y: ArrayLike,
    widths: ArrayLike | None,
    grad_fn: GradFn | None,
    last: ArrayLike,
) -> Segment:
    """``count`` epochs of every run of ``layout`` from ``state`` (padded; its ``opt_state``
    None: a fresh one), and, when ``last`` (traced) is true, the loss and accuracy after them.
    A chunk whose every parameter of every run is NaN (its runs have diverged) returns what its
    epochs would without running them. Compiled once per (config, layout, count, shapes, grad_fn,
    whether ``opt_state`` is None)."""
    widths = per_run_widths(widths, layout.runs)
    hparams = jax.tree.map(lambda value: jnp.broadcast_to(jnp.asarray(value), (layout.runs,)), hparams)
    inputs = {"state": state, **padded_to(layout, {"hparams": hparams, "widths": widths})}
    epochs = make_epochs(config, grad_fn)
    final_metrics = make_final_metrics(config)
    dtype = require_dtype(config.dtype)

    def skipped(*_):
        return jnp.full((), jnp.nan, dtype), jnp.full((), jnp.nan, dtype)

    def one_run(run, run_x):
        masks = run_masks(config, run["widths"])
        done = epochs(run["state"], run["hparams"], run_x, y, masks, count)
        final = jax.lax.cond(last, final_metrics, skipped, done.state.params, run_x, y)
        return done.state, done.loss, done.accuracy, *(metric[None] for metric in final)

    def dead_run(run, run_x):
        """What :func:`one_run` computes for a run whose every parameter is NaN, without its
        epochs: each update leaves it all NaN (a NaN weight makes every product it enters NaN,
        so every gradient is NaN, and so is every optimizer's step), so every epoch's loss and
        accuracy are those of the same all-NaN network, and so are the final ones: its output is
        NaN at every point (the output unit adds its NaN bias, whatever reaches it), so its loss
        is NaN and its accuracy what a NaN output scores, without a forward pass to compile."""
        params, opt_state = run["state"]
        if opt_state is None:  # the state a first segment returns: its optimizer's, started
            opt_state = make_optimizer(config)(run["hparams"]).init(params)
        nan = jnp.full(jnp.shape(y), jnp.nan, dtype)
        loss, accuracy = jnp.asarray(jnp.nan, dtype), model_accuracy(nan, jnp.asarray(y, dtype))
        final = jax.lax.cond(last, lambda: (loss, accuracy), lambda: skipped())
        history = [jnp.full((count,), metric) for metric in (loss, accuracy)]
        return FitState(params, opt_state), *history, *(metric[None] for metric in final)

    def on_one_device(local):
        chunked = jax.tree.map(lambda leaf: leaf.reshape(layout.chunks, layout.chunk, *leaf.shape[1:]), local)
        # Each run of a chunk reads its own copy of x. With one shared x, vmap turns the chunk's
        # layer-1 products into one [n, chunk·h1] product, whose result is then transposed into
        # per-run layout twice (forward and backward); per-run copies keep every product per run,
        # and they are small beside each run's own activations (2 features against h1 units).
        # It is faster in float32 and no slower in float64 (benchmarks/README.md).
        chunk_x = jnp.broadcast_to(x, (layout.chunk, *jnp.shape(x)))

        def one_chunk(_, chunk):
            # A chunk whose runs have all diverged to NaN skips its epochs (see dead_run): the
            # learning rates past the stable step diverge within a few epochs and would
            # otherwise be trained on for the rest of the run. Nothing else changes.
            dead = all_nan(chunk["state"].params)
            return None, jax.lax.cond(dead, jax.vmap(dead_run), jax.vmap(one_run), chunk, chunk_x)

        _, results = jax.lax.scan(one_chunk, None, chunked)
        return jax.tree.map(lambda leaf: leaf.reshape(layout.chunks * layout.chunk, *leaf.shape[2:]), results)

    state, *history = on_every_device(on_one_device)(inputs)
    params = (
        None if layout.padded == layout.runs else jax.tree.map(lambda leaf: leaf[: layout.runs], state.params)
    )
    return Segment(state, params, *(leaf[: layout.runs] for leaf in history))


def all_nan(params: Params) -> Array:
    """Whether every entry of every parameter is NaN."""
    return jnp.all(jnp.stack([jnp.all(jnp.isnan(leaf)) for leaf in jax.tree.leaves(params)]))


def select_run(tree, index: int):
    """Run ``index`` of a ``train_many`` result (or any pytree with a leading run axis)."""
    return jax.tree.map(lambda leaf: leaf[index], tree)


def seed_keys(first_seed: int, count: int) -> Array:
    """Keys for seeds ``first_seed .. first_seed + count - 1``; seed s's key is ``key(s)``, so any
    run of a study can be reproduced alone. Seeds are whole numbers in 0..2**32 - 1 (beyond,
    without ``jax_enable_x64``, ``key(s)`` wraps around and two seeds share a key), count >= 1."""
    validation.seeds(first_seed, count)
    return jax.vmap(jax.random.key)(jnp.arange(first_seed, first_seed + count))
