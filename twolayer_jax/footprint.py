"""What a batch of runs asks of the machine, known before it starts, so that a command line refuses
in one line what cannot work instead of failing part-way, hanging in swap, or silently computing
something else.

- A seed must fit in 32 bits: without 64-bit mode ``jax.random.key`` keeps a seed's low 32 bits,
  so seed s + 2³² would be seed s in float32 and another network in float64.
- The epoch counter of the compiled loop is an int32.
- Memory: :func:`bytes_needed` adds up what :func:`twolayer_jax.many_runs.train_many` holds at
  once (every run's params and optimizer state, one chunk's activations per device, the loss and
  accuracy histories with their copies), and :func:`refuse_what_cannot_fit` compares it with the
  memory free on the device that trains.
"""

import math
from pathlib import Path

import jax
import numpy as np

from twolayer_jax.config import MAX_EPOCHS, TrainConfig
from twolayer_jax.devices import platform
from twolayer_jax.many_runs import default_chunk_size, seed_layout
from twolayer_jax.validation import SEED_LIMIT

# What a run holds per parameter: the value, its gradient, the update, and up to two optimizer
# moments (Adam's); and per activation value of the chunk in flight: the forward pass's
# pre-activations and outputs, the backward pass's deltas, and temporaries between them.
COPIES_PER_PARAMETER = 5
COPIES_PER_ACTIVATION = 8
HISTORY_COPIES = 3  # the segments' histories, their concatenation, and the host's copy
USABLE_FRACTION = 0.8  # of the free memory: the rest is for the program, the compiler, the system


def parameter_count(config: TrainConfig) -> int:
    shapes = jax.eval_shape(config.architecture.init_params, jax.random.key(0))
    return sum(math.prod(leaf.shape) for leaf in jax.tree.leaves(shapes))


def hidden_values_per_point(config: TrainConfig) -> int:
    """Activation values a point carries through the hidden layers."""
    h1, h2 = config.hidden
    return h1 + (config.channels * h1 if config.model == "conv" else h2) + 1


def bytes_needed(config: TrainConfig, runs: int, points: int) -> int:
    """An estimate, on the generous side, of the memory ``runs`` runs of ``config`` on ``points``
    points hold at once."""
    layout = seed_layout(runs, jax.device_count(), default_chunk_size())
    item = np.dtype(config.dtype).itemsize
    state = layout.padded * parameter_count(config) * COPIES_PER_PARAMETER
    in_flight = (
        layout.devices * layout.chunk * points * (hidden_values_per_point(config) * COPIES_PER_ACTIVATION + 3)
    )
    histories = runs * (config.epochs + 1) * 2 * HISTORY_COPIES
    return (state + in_flight + histories) * item


def memory_free() -> int | None:
    """Bytes free where training runs: the accelerator's memory, or the host's available memory
    (None where neither can be read)."""
    if platform() != "cpu":
        stats = jax.devices()[0].memory_stats() or {}
        if "bytes_limit" in stats:
            return (stats["bytes_limit"] - stats.get("bytes_in_use", 0)) * jax.device_count()
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def gib(count: int) -> str:
    return f"{count / 2**30:.3g} GiB"


def seeds_problem(first: int, count: int, flag: str | None = "--seed") -> str | None:
    """Why seeds ``first .. first + count - 1`` (``flag`` gives the first, ``--seeds`` the count)
    cannot all be drawn as themselves (None: they can)."""
    last = first + count - 1
    if last < SEED_LIMIT:
        return None
    given = f"{flag} {first}" if count == 1 else f"{flag} {first} with --seeds {count}, up to {last}"
    if flag is None:
        given = f"--seeds {count}, seeds 0 to {last}"
    return (f"seeds must be below 2**32 = {SEED_LIMIT} (a key keeps a seed's low 32 bits, so larger "
            f"ones repeat smaller ones), got {given}")  # fmt: skip


def epochs_problem(epochs: int) -> str | None:
    if epochs > MAX_EPOCHS:
        return f"--epochs must be at most 2**31 - 1 = {MAX_EPOCHS} (the loop counts in int32), got {epochs}"
    return None


def memory_problem(config: TrainConfig, runs: int, points: int, free: int | None = None) -> str | None:
    """Why ``runs`` runs of ``config`` on ``points`` points would not fit in memory (None: they fit
    or the free memory is unknown)."""
    h1, h2 = config.hidden
    runs_of = f"{runs} run{'s' if runs > 1 else ''} of {config.epochs} epochs"
    what = f"{runs_of} on {points} points with hidden {h1}x{h2}"
    return memory_problem_of(what, bytes_needed(config, runs, points), free)


def memory_problem_of(what: str, needed: int, free: int | None = None) -> str | None:
    """Why ``needed`` bytes for ``what`` would not fit in the memory free (None: they fit, or the
    free memory is unknown)."""
    free = memory_free() if free is None else free
    if free is None or needed <= USABLE_FRACTION * free:
        return None
    return (f"{what} need about {gib(needed)} of memory and {gib(free)} is free: use fewer seeds, epochs "
            "or points, or narrower layers")  # fmt: skip
