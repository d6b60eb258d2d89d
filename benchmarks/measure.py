"""What ``python -m benchmarks.throughput`` measures: seed-epochs per second of each way to train
the lab's network, timed side by side on the current device, and the machine it ran on.

- ``numpy``: the students' way (``benchmarks/numpy_reference.py``), one seed at a time, measured
  with one BLAS thread and with the default count; ratios are taken against the faster.
- ``jax_naive``: a jitted update step called from a Python loop, one seed at a time, on the
  engine's default gradient (so it differs from the engine in how the runs are compiled only).
- ``engine``: ``twolayer_jax.many_runs.train_many`` as a user calls it: S seeds in one program,
  called once per segment of its default length, on the default gradient (the hand-written
  backward pass of ``manual/``).
- ``engine_autodiff`` (the other gradient, named after it): the same at S = 256, on ``jax.grad``.
- ``engine_one_segment``: the engine with every epoch in one call (``segment_epochs=epochs``), at
  a few S (:func:`segment_seeds`): what running in segments costs.
- ``matmul_ceiling``: only the three h1×h2 products of each update (and the weight update),
  chunked and sharded as the engine runs them: what the engine could reach if everything but those
  products were free. A diagnostic, not a way to train.
- ``peak``: the machine's matmul rate, the better of NumPy's and JAX's median rates on a large
  square matmul, timed in every round beside the training variants.

A seed-epoch is one full-batch update of one network; its FLOPs are the matmuls' (see
:func:`flops_per_seed_epoch`). The NumPy and naive runs train seeds one after another, so their
rate does not depend on S: they are measured once per dataset and dtype (``seeds`` = 1).

Every variant of one dataset and dtype is timed in the same rounds, each running once per round
in turn, so a slow spell of a shared machine slows all of them alike and the ratios between them
stay fair; the rate is the median over the rounds. NumPy's variants pause after each run, outside
the clock, until their BLAS threads stop spinning, so that the variant after them has the cores
to itself. The result is a list of plain record dicts (one per variant and S), which
``benchmarks.report`` turns into ratios, a table and a plot.
"""

import platform
import statistics
import sys
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import NamedTuple

from twolayer_jax.config import TrainConfig
from twolayer_jax.devices import platform as device_platform
from twolayer_jax.optimizers import HParams

HIDDEN = TrainConfig().hidden  # the lab's network, at the lab's learning rate
LR = HParams().lr
CPU_SEEDS = [1, 8, 64, 256, 1024]
# A GPU or TPU fills up only with thousands of networks at once: show where it levels off.
ACCELERATOR_SEEDS = [*CPU_SEEDS, 4096, 16384, 65536]
# The peak's square matmul: large enough to run near a CPU's peak in well under a second; an
# accelerator's 2048² matmul lasts microseconds and mostly measures the launch, so it gets 8192².
CPU_PEAK_SIZE = 2048
ACCELERATOR_PEAK_SIZE = 8192
# OpenBLAS's threads spin for about a tenth of a second after a call before they sleep.
BLAS_SETTLE_SECONDS = 0.25


def default_seeds(platform: str) -> list[int]:
    return CPU_SEEDS if platform == "cpu" else ACCELERATOR_SEEDS


def jax_peak_size(platform: str) -> int:
    return CPU_PEAK_SIZE if platform == "cpu" else ACCELERATOR_PEAK_SIZE


def flops_per_seed_epoch(points: int, hidden: tuple[int, int] = HIDDEN) -> int:
    """Matmul FLOPs (2 per multiply-add) of one update on ``points`` points: the forward pass's
    three products, and the backward pass's two per layer (∂W and δ) but one for layer 1 (no δ0).
    Elementwise work (σ, σ', the update) is not counted."""
    h1, h2 = hidden
    forward = 2 * points * (2 * h1 + h1 * h2 + h2)
    backward = 2 * points * (h2 + h2 + h1 * h2 + h1 * h2 + 2 * h1)
    return forward + backward


class Contender(NamedTuple):
    """One variant to time: ``run()`` does one timed run and returns its own seconds (so a set-up
    such as entering a BLAS thread limit stays outside the clock)."""

    fields: dict  # the record's identity: variant, seeds, blas_threads, ...
    work: int  # seed-epochs per run
    flops: int  # FLOPs per seed-epoch
    run: Callable[[], float]


def settled(run: Callable[[], float]) -> Callable[[], float]:
    """``run``, then a pause outside the clock while NumPy's BLAS threads, which spin for a while
    after a call, go idle: the variant timed next would otherwise share the cores with them."""

    def then_wait() -> float:
        seconds = run()
        time.sleep(BLAS_SETTLE_SECONDS)
        return seconds

    return then_wait


def clocked(fn: Callable[[], object]) -> Callable[[], float]:
    """``fn`` as a run that returns its wall-clock seconds."""

    def run() -> float:
        started = time.perf_counter()
        fn()
        return time.perf_counter() - started

    return run


def race(contenders: list[Contender], repeats: int, label: str = "") -> list[dict]:
    """A first run of every contender (compile + run), then ``repeats`` rounds in which each runs
    once, in turn, in the opposite order every other round: a run right after a different
    program is a few percent slower than one after itself, so no variant always runs after the
    same one. One record per contender: the median rate over the rounds, min and max."""
    firsts = []
    for contender in contenders:
        say(f"{label} {describe(contender.fields)}: first run (compiles) ...")
        firsts.append(contender.run())
    times = [[] for _ in contenders]
    for round_number in range(1, repeats + 1):
        say(f"{label}: round {round_number}/{repeats}")
        in_turn = list(zip(contenders, times, strict=True))
        for contender, seconds in in_turn if round_number % 2 else reversed(in_turn):
            seconds.append(contender.run())
    return [
        rate_record(c.fields, c.work, first, seconds, c.flops)
        for c, first, seconds in zip(contenders, firsts, times, strict=True)
    ]


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def describe(fields: dict) -> str:
    return " ".join(f"{key}={value}" for key, value in fields.items())


def rate_record(fields: dict, work: int, first: float, times: list[float], flops: int) -> dict:
    rates = [work / t for t in times]
    median = statistics.median(rates)
    return {
        **fields,
        "seed_epochs_per_s": median,
        "seed_epochs_per_s_min": min(rates),
        "seed_epochs_per_s_max": max(rates),
        "seed_epochs_per_s_rounds": rates,
        "compile_s": max(0.0, first - statistics.median(times)),
        "flops_per_seed_epoch": flops,
        "gflops": median * flops / 1e9,
    }


def peak_contenders(dtype: str) -> list[Contender]:
    """A square matmul by NumPy (on the host CPU, default threads) and by JAX on its first device
    (:func:`jax_peak_size`); timed in every round beside the training variants (see
    :func:`peak_records`)."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    def square(size):
        return np.random.default_rng(0).standard_normal((size, size)).astype(dtype)

    a, size = square(CPU_PEAK_SIZE), jax_peak_size(device_platform())
    matmul = jax.jit(jnp.matmul)
    on_device = jnp.asarray(square(size))
    return [
        Contender({"variant": "peak_numpy", "size": CPU_PEAK_SIZE}, 1, 2 * CPU_PEAK_SIZE**3,
                  settled(clocked(lambda: a @ a))),
        Contender({"variant": "peak_jax", "size": size}, 1, 2 * size**3,
                  clocked(lambda: matmul(on_device, on_device).block_until_ready())),
    ]  # fmt: skip


def peak_records(records: list[dict]) -> list[dict]:
    """``records`` with the peak samples replaced by one ``peak`` record per dtype: the better of
    NumPy's and JAX's median rates on the large matmul, over every round of that dtype in this
    benchmark. A median, as every other rate here: the fastest single round of a noisy machine
    is an outlier whose size grows with the number of rounds, so a peak taken as the fastest
    round would change with how large a grid was asked for. The fastest round is kept beside it
    (``fastest_gflops``)."""
    samples = [r for r in records if r["variant"].startswith("peak_")]
    sizes = {r["variant"].removeprefix("peak_"): r["size"] for r in samples}
    peaks = []
    for dtype in dict.fromkeys(r["dtype"] for r in samples):
        rates = {
            name: [rate * r["flops_per_seed_epoch"] / 1e9 for r in samples
                   if r["dtype"] == dtype and r["variant"] == f"peak_{name}"
                   for rate in r["seed_epochs_per_s_rounds"]]
            for name in ("numpy", "jax")
        }  # fmt: skip
        median = {name: statistics.median(values) for name, values in rates.items()}
        fastest = {name: max(values) for name, values in rates.items()}
        winner, fastest_winner = max(median, key=median.get), max(fastest, key=fastest.get)
        peaks.append({"variant": "peak", "dtype": dtype, "gflops": median[winner], "size": sizes[winner],
                      "by": winner, "numpy_gflops": median["numpy"], "jax_gflops": median["jax"],
                      "numpy_size": sizes["numpy"], "jax_size": sizes["jax"],
                      "fastest_gflops": fastest[fastest_winner], "fastest_by": fastest_winner,
                      "rounds": len(rates[winner])})  # fmt: skip
    return peaks + [r for r in records if not r["variant"].startswith("peak_")]


def numpy_contender(dataset, dtype: str, epochs: int, threads: int | None) -> Contender:
    from threadpoolctl import threadpool_info, threadpool_limits

    from benchmarks import numpy_reference

    x, y = dataset.x.astype(dtype), dataset.y.astype(dtype)
    train = clocked(
        lambda: numpy_reference.train(numpy_reference.init_params(0, HIDDEN, dtype), x, y, LR, epochs)
    )

    def run() -> float:
        with threadpool_limits(limits=threads, user_api="blas"):
            return train()

    with threadpool_limits(limits=threads, user_api="blas"):
        used = max(
            (pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"), default=1
        )
    fields = {"variant": "numpy", "seeds": 1, "blas_threads": used}
    return Contender(fields, epochs, flops_per_seed_epoch(len(x)), settled(run))


def default_gradient() -> str:
    """The gradient ``train_many`` uses unless told otherwise."""

    return TrainConfig.grad


def other_gradient() -> str:
    """The gradient the engine is also timed with, at S = 256: whichever is not the default."""
    from twolayer_jax.gradients import GRADIENTS

    return next(name for name in GRADIENTS if name != default_gradient())


def naive_step(dtype: str):
    """One jitted update of one network (the engine's default gradient, plain gradient descent)."""
    import jax

    from twolayer_jax.gradients import GRADIENTS
    from twolayer_jax.network import LAB_NETWORK

    gradient = GRADIENTS[default_gradient()](LAB_NETWORK)

    @jax.jit
    def step(params, x, y):
        grads, _ = gradient(params, x, y)
        return jax.tree.map(lambda p, g: p - LR * g, params, grads)

    return step


def naive_contender(dataset, dtype: str, epochs: int) -> Contender:
    import jax
    import jax.numpy as jnp

    from twolayer_jax.model import init_params

    step = naive_step(dtype)
    x, y = jnp.asarray(dataset.x, dtype), jnp.asarray(dataset.y, dtype)

    def train():
        params = init_params(jax.random.key(0), HIDDEN, jnp.dtype(dtype))
        for _ in range(epochs):
            params = step(params, x, y)
        jax.block_until_ready(params)

    fields = {"variant": "jax_naive", "seeds": 1, "grad": default_gradient()}
    return Contender(fields, epochs, flops_per_seed_epoch(len(x)), clocked(train))


def engine_contender(
    dataset, dtype: str, seeds: int, epochs: int, grad: str | None = None, one_segment: bool = False
) -> Contender:
    """``train_many`` as a user calls it: the default config, or ``grad`` instead of the default
    gradient (variant ``engine_<grad>``), or every epoch in one segment (``segment_epochs=epochs``,
    variant ``engine_one_segment``) instead of the default segments, whose length the records keep
    (``segment_epochs``)."""
    import jax

    from twolayer_jax.many_runs import (
        default_chunk_size,
        default_segment_epochs,
        seed_keys,
        seed_layout,
        segment_plan,
        train_many,
    )

    config = TrainConfig(epochs=epochs, dtype=dtype, grad=grad or default_gradient())
    keys = seed_keys(0, seeds)
    layout = seed_layout(seeds, jax.device_count(), default_chunk_size())
    segment_epochs = epochs if one_segment else default_segment_epochs(config, layout, len(dataset.x))
    options = {"segment_epochs": epochs} if one_segment else {}

    def train():
        train_many(config, keys, HParams(lr=LR), dataset.x, dataset.y, **options).loss.block_until_ready()

    variant = "engine_one_segment" if one_segment else f"engine_{grad}" if grad else "engine"
    plan = segment_plan(epochs, segment_epochs)
    fields = {"variant": variant, "seeds": seeds, "grad": config.grad, "segment_epochs": plan[0],
              "segments": len(plan)}  # fmt: skip
    return Contender(fields, seeds * epochs, flops_per_seed_epoch(len(dataset.x)), clocked(train))


def engines(dataset, dtype: str, seeds: int, epochs: int, in_one_segment_too: bool) -> list[Contender]:
    """The engine at S = ``seeds`` and, if asked, after it the same in one segment."""
    engine = engine_contender(dataset, dtype, seeds, epochs)
    if not in_one_segment_too:
        return [engine]
    return [engine, engine_contender(dataset, dtype, seeds, epochs, one_segment=True)]


def segment_seeds(seeds: list[int], target_seeds: int) -> list[int]:
    """The S at which the default segments are timed against one segment: the smallest and the
    largest asked, and ``target_seeds`` if asked."""
    return sorted({min(seeds), max(seeds)} | ({target_seeds} & set(seeds)))


def ceiling_flops(points: int, hidden: tuple[int, int] = HIDDEN) -> int:
    """FLOPs of the three h1×h2 products of one seed-epoch: z1·W2, δ2·W2ᵀ and z1ᵀ·δ2."""
    return 3 * 2 * points * hidden[0] * hidden[1]


def matmul_ceiling(dtype: str, seeds: int, points: int, epochs: int):
    """A compiled ``program(keys)`` that runs, per seed and epoch, only the three h1×h2 products of
    an update and the W2 update, laid out as :func:`twolayer_jax.many_runs.train_many` lays out its
    runs (the same mesh, chunks and scans). The layer-1 output and the layer-2 delta are stand-ins
    (constant per chunk), so this is an upper bound: what the engine would
    reach if σ, the other layers, the loss and the bookkeeping cost nothing."""
    import jax
    import jax.numpy as jnp
    from jax.sharding import PartitionSpec as P

    from twolayer_jax.many_runs import SEED_AXIS, default_chunk_size, seed_layout, seed_mesh

    h1, h2 = HIDDEN
    mesh = seed_mesh()
    layout = seed_layout(seeds, mesh.size, default_chunk_size())

    def one_chunk(_, key):
        z1_key, transposed_key, w2_key = jax.random.split(key, 3)
        # z1 and a z1ᵀ drawn in its own layout: a transpose of z1 XLA could fold into the product
        z1 = jax.random.uniform(z1_key, (layout.chunk, points, h1), dtype)
        z1_transposed = jax.random.uniform(transposed_key, (layout.chunk, h1, points), dtype)
        w2 = jax.random.normal(w2_key, (layout.chunk, h1, h2), dtype) / jnp.sqrt(h1)

        def epoch(w2, _):
            delta2 = jnp.einsum("cnh,chk->cnk", z1, w2)  # the forward product, standing in for δ2
            back = jnp.einsum("cnk,chk->cnh", delta2, w2)  # δ2·W2ᵀ
            gradient = jnp.einsum("chn,cnk->chk", z1_transposed, delta2)  # z1ᵀ·δ2
            return w2 - 1e-6 * gradient, back.sum(axis=(1, 2))

        return None, jax.lax.scan(epoch, w2, None, length=epochs)[1]

    def on_one_device(keys):
        return jax.lax.scan(one_chunk, None, keys)[1]

    sharded = jax.shard_map(on_one_device, mesh=mesh, in_specs=P(SEED_AXIS), out_specs=P(SEED_AXIS))
    chunk_keys = jax.random.split(jax.random.key(0), layout.devices * layout.chunks)
    program = jax.jit(sharded)
    return lambda: program(chunk_keys).block_until_ready()


def ceiling_contender(dataset, dtype: str, seeds: int, epochs: int) -> Contender:
    points = len(dataset.x)
    program = matmul_ceiling(dtype, seeds, points, epochs)
    fields = {"variant": "matmul_ceiling", "seeds": seeds}
    return Contender(fields, seeds * epochs, ceiling_flops(points), clocked(program))


def contenders(dataset, dtype: str, seeds: list[int], epochs: int, target_seeds: int) -> list[Contender]:
    """Every variant of one dataset and dtype (the other gradient and the ceiling at
    ``target_seeds``, the S the report's targets are set at, or the largest S asked; the engine
    in one segment at :func:`segment_seeds`), and the peak's large matmul, so the peak too is
    sampled all through the run."""
    single_seeds = target_seeds if target_seeds in seeds else max(seeds)
    compared = segment_seeds(seeds, target_seeds)
    return [
        numpy_contender(dataset, dtype, epochs, 1),
        numpy_contender(dataset, dtype, epochs, None),
        naive_contender(dataset, dtype, epochs),
        # at the compared S, the engine in one segment runs right after the engine, in every round
        *(contender for s in seeds for contender in engines(dataset, dtype, s, epochs, s in compared)),
        engine_contender(dataset, dtype, single_seeds, epochs, other_gradient()),
        ceiling_contender(dataset, dtype, single_seeds, epochs),
        *peak_contenders(dtype),
    ]


def thread_settings() -> dict:
    """What decides how many threads each variant may use: NumPy's BLAS pools (the numpy
    records say which limit each ran under), the seeds per chunk on each JAX device, XLA_FLAGS."""
    import os

    from threadpoolctl import threadpool_info

    from twolayer_jax.many_runs import default_chunk_size

    pools = [{key: pool.get(key) for key in ("internal_api", "version", "num_threads", "threading_layer")}
             for pool in threadpool_info() if pool["user_api"] == "blas"]  # fmt: skip
    return {
        "blas": pools,
        "engine_chunk_size": default_chunk_size(),
        "XLA_FLAGS": os.environ.get("XLA_FLAGS"),
    }


def machine() -> dict:
    import jax

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from twolayer_jax.devices import usable_cores

    return {
        "cpu": cpu,
        "cores": usable_cores(),
        "devices": [str(d) for d in jax.devices()],
        "device_kind": jax.devices()[0].device_kind,
        "platform": device_platform(),
        "default_matmul_precision": jax.default_matmul_precision.value,
        "threads": thread_settings(),
        "versions": {name: version(name) for name in ("jax", "jaxlib", "numpy", "optax")},
        "python": platform.python_version(),
    }
