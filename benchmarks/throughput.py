"""``python -m benchmarks.throughput``: seed-epochs per second of three ways to train the lab's
network, side by side in one run, on the current device.

- ``numpy``: the students' way (``benchmarks/numpy_reference.py``), one seed at a time, measured
  with one BLAS thread and with the default count; ratios are taken against the faster.
- ``jax_naive``: a jitted update step called from a Python loop, one seed at a time, on the
  engine's default gradient (so it differs from the engine in how the runs are compiled only).
- ``engine``: ``twolayer_jax.engine.train_many`` as a user calls it: S seeds in one program, on
  the default gradient (the hand-written backward pass of ``manual/``).
- ``engine_autodiff`` (the other gradient, named after it): the same at S = 256, on ``jax.grad``.
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
stay fair; the rate is the median over the rounds.
"""

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import NamedTuple

from twolayer_jax.devices import platform as device_platform
from twolayer_jax.devices import use_every_cpu_core

DATASETS = ("linear", "xor")
HIDDEN = (100, 100)
LR = 1.0
TARGET_SEEDS = 256  # the S the ratio targets are set at
CPU_SEEDS = [1, 8, 64, 256, 1024]
# A GPU or TPU fills up only with thousands of networks at once: show where it levels off.
ACCELERATOR_SEEDS = [*CPU_SEEDS, 4096, 16384, 65536]
# The peak's square matmul: large enough to run near a CPU's peak in well under a second; an
# accelerator's 2048² matmul lasts microseconds and mostly measures the launch, so it gets 8192².
CPU_PEAK_SIZE = 2048
ACCELERATOR_PEAK_SIZE = 8192


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


def parse_list(kind, choices=None):
    def parse(text: str):
        items = [kind(item) for item in text.split(",") if item]
        if not items or (choices and any(item not in choices for item in items)):
            raise argparse.ArgumentTypeError(f"want a comma-separated list of {choices or kind.__name__}")
        if kind is int and min(items) < 1:
            raise argparse.ArgumentTypeError("seed counts must be positive")
        return items

    return parse


def build_parser():
    from twolayer_jax.cli import OneLineParser, int_at_least

    parser = OneLineParser(prog="python -m benchmarks.throughput", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--seeds",
        type=parse_list(int),
        default=None,
        help=f"default: {','.join(map(str, CPU_SEEDS))} on a CPU, up to {ACCELERATOR_SEEDS[-1]} on a GPU/TPU",
    )
    parser.add_argument("--datasets", type=parse_list(str, DATASETS), default=list(DATASETS))
    parser.add_argument(
        "--dtypes", type=parse_list(str, ("float32", "float64")), default=["float32", "float64"]
    )
    parser.add_argument("--epochs", type=int_at_least(1), default=200, help="epochs per timed run")
    parser.add_argument(
        "--repeats", type=int_at_least(1), default=5, help="timed rounds; each variant runs once per round"
    )
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results.json"))
    parser.add_argument("--plot", type=Path, default=None, help="default: beside --json, .png")
    parser.add_argument(
        "--markdown",
        type=Path,
        default=None,
        help="also write the table here, as this kind of device's section of the file (RESULTS.md)",
    )
    return parser


class Contender(NamedTuple):
    """One variant to time: ``run()`` does one timed run and returns its own seconds (so a set-up
    such as entering a BLAS thread limit stays outside the clock)."""

    fields: dict  # the record's identity: variant, seeds, blas_threads, ...
    work: int  # seed-epochs per run
    flops: int  # FLOPs per seed-epoch
    run: Callable[[], float]


def clocked(fn: Callable[[], object]) -> Callable[[], float]:
    """``fn`` as a run that returns its wall-clock seconds."""

    def run() -> float:
        started = time.perf_counter()
        fn()
        return time.perf_counter() - started

    return run


def race(contenders: list[Contender], repeats: int, label: str = "") -> list[dict]:
    """A first run of every contender (compile + run), then ``repeats`` rounds in which each runs
    once, in turn. One record per contender: the median rate over the rounds, min and max."""
    firsts = []
    for contender in contenders:
        say(f"{label} {describe(contender.fields)}: first run (compiles) ...")
        firsts.append(contender.run())
    times = [[] for _ in contenders]
    for round_number in range(1, repeats + 1):
        say(f"{label}: round {round_number}/{repeats}")
        for contender, seconds in zip(contenders, times, strict=True):
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
                  clocked(lambda: a @ a)),
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
    return Contender(fields, epochs, flops_per_seed_epoch(len(x)), run)


def default_gradient() -> str:
    """The gradient ``train_many`` uses unless told otherwise."""
    from twolayer_jax.engine import TrainConfig

    return TrainConfig.grad


def other_gradient() -> str:
    """The gradient the engine is also timed with, at S = 256: whichever is not the default."""
    from twolayer_jax.gradients import GRADIENTS

    return next(name for name in GRADIENTS if name != default_gradient())


def naive_step(dtype: str):
    """One jitted update of one network (the engine's default gradient, plain gradient descent)."""
    import jax

    from twolayer_jax.gradients import GRADIENTS

    gradient = GRADIENTS[default_gradient()]("sigmoid", "sigmoid", "mse")

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


def engine_contender(dataset, dtype: str, seeds: int, epochs: int, grad: str | None = None) -> Contender:
    """``train_many`` as a user calls it: the default config, or ``grad`` instead of the default
    gradient (variant ``engine_<grad>``)."""
    from twolayer_jax.engine import HParams, TrainConfig, seed_keys, train_many

    config = TrainConfig(epochs=epochs, dtype=dtype, grad=grad or default_gradient())
    keys = seed_keys(0, seeds)

    def train():
        train_many(config, keys, HParams(lr=LR), dataset.x, dataset.y).loss.block_until_ready()

    fields = {"variant": f"engine_{grad}" if grad else "engine", "seeds": seeds, "grad": config.grad}
    return Contender(fields, seeds * epochs, flops_per_seed_epoch(len(dataset.x)), clocked(train))


def ceiling_flops(points: int, hidden: tuple[int, int] = HIDDEN) -> int:
    """FLOPs of the three h1×h2 products of one seed-epoch: z1·W2, δ2·W2ᵀ and z1ᵀ·δ2."""
    return 3 * 2 * points * hidden[0] * hidden[1]


def matmul_ceiling(dtype: str, seeds: int, points: int, epochs: int):
    """A compiled ``program(keys)`` that runs, per seed and epoch, only the three h1×h2 products of
    an update and the W2 update, laid out as :func:`twolayer_jax.engine.train_many` lays out its
    runs (the same mesh, chunks and scans). The layer-1 output and the layer-2 delta are stand-ins
    (constant per chunk), so this is an upper bound: what the engine would
    reach if σ, the other layers, the loss and the bookkeeping cost nothing."""
    import jax
    import jax.numpy as jnp
    from jax.sharding import PartitionSpec as P
    from twolayer_jax.engine import SEED_AXIS, default_chunk_size, seed_layout, seed_mesh

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


def contenders(dataset, dtype: str, seeds: list[int], epochs: int) -> list[Contender]:
    """Every variant of one dataset and dtype (the other gradient and the ceiling at S = 256, or
    the largest S asked), and the peak's large matmul, so the peak too is sampled all through the
    run."""
    single_seeds = TARGET_SEEDS if TARGET_SEEDS in seeds else max(seeds)
    return [
        numpy_contender(dataset, dtype, epochs, 1),
        numpy_contender(dataset, dtype, epochs, None),
        naive_contender(dataset, dtype, epochs),
        *(engine_contender(dataset, dtype, s, epochs) for s in seeds),
        engine_contender(dataset, dtype, single_seeds, epochs, other_gradient()),
        ceiling_contender(dataset, dtype, single_seeds, epochs),
        *peak_contenders(dtype),
    ]


def thread_settings() -> dict:
    """What decides how many threads each variant may use: NumPy's BLAS pools (the numpy
    records say which limit each ran under), the seeds per chunk on each JAX device, XLA_FLAGS."""
    import os

    from threadpoolctl import threadpool_info
    from twolayer_jax.engine import default_chunk_size

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


def same_measurement(a: dict, b: dict) -> bool:
    """Whether two records are of the same dataset, dtype and seed count."""
    return all(a[key] == b[key] for key in ("dataset", "dtype", "seeds"))


def with_ratios(records: list[dict]) -> list[dict]:
    """Each record's fraction of the peak (and of the fastest round of the peak's matmul) and, for
    the engine, its ratio to the faster NumPy."""
    peaks = {r["dtype"]: r for r in records if r["variant"] == "peak"}
    for record in records:
        if record["variant"] == "peak":
            continue
        peak = peaks[record["dtype"]]
        record["peak_fraction"] = record["gflops"] / peak["gflops"]
        record["fastest_peak_fraction"] = record["gflops"] / peak["fastest_gflops"]
        numpy_rates = [r for r in records if r["variant"] == "numpy"
                       and (r["dataset"], r["dtype"]) == (record["dataset"], record["dtype"])]  # fmt: skip
        if numpy_rates and record["variant"] != "numpy":
            best = max(numpy_rates, key=lambda r: r["seed_epochs_per_s"])
            record["vs_numpy"] = record["seed_epochs_per_s"] / best["seed_epochs_per_s"]
            record["vs_numpy_blas_threads"] = best["blas_threads"]
    for ceiling in (r for r in records if r["variant"] == "matmul_ceiling"):
        for engine in records:
            if engine["variant"] == "engine" and same_measurement(engine, ceiling):
                engine["vs_ceiling"] = engine["seed_epochs_per_s"] / ceiling["seed_epochs_per_s"]
    return records


def table(records: list[dict]) -> list[str]:
    columns = ("dataset", "dtype", "variant", "seeds", "seed-epochs/s (min–max)", "compile s", "GFLOP/s",
               "of peak", "× NumPy")  # fmt: skip
    header = "| " + " | ".join(columns) + " |"
    rows = [header, "|---" * 9 + "|"]
    for r in records:
        if r["variant"] == "peak":
            continue
        variant = r["variant"] + (f" ({r['blas_threads']} BLAS thread{'s' * (r['blas_threads'] > 1)})"
                                  if r["variant"] == "numpy" else "")  # fmt: skip
        ratio = f"{r['vs_numpy']:.2f} (vs {r['vs_numpy_blas_threads']} thr)" if "vs_numpy" in r else "–"
        rows.append(
            f"| {r['dataset']} | {r['dtype']} | {variant} | {r['seeds']} | {r['seed_epochs_per_s']:,.0f} "
            f"({r['seed_epochs_per_s_min']:,.0f}–{r['seed_epochs_per_s_max']:,.0f}) | {r['compile_s']:.2f} "
            f"| {r['gflops']:.1f} | {100 * r['peak_fraction']:.1f} % | {ratio} |"
        )
    peaks = [
        f"{r['dtype']} {r['gflops']:.0f} GFLOP/s (NumPy {r['numpy_size']}²: {r['numpy_gflops']:.0f}, "
        f"JAX {r['jax_size']}²: {r['jax_gflops']:.0f}; {r['rounds']} rounds each; fastest single round "
        f"{r['fastest_gflops']:.0f}, by {'NumPy' if r['fastest_by'] == 'numpy' else 'JAX'})"
        for r in records
        if r["variant"] == "peak"
    ]
    return [
        *rows,
        "",
        "Matmul peak (a large square matmul, the better of NumPy's and JAX's median rates over the "
        "run's rounds): " + "; ".join(peaks) + ".",
    ]


def targets(records: list[dict]) -> list[str]:
    """The issue's targets, each with the measured number and a verdict."""

    def engine(dataset, dtype, seeds):
        return next((r for r in records if r["variant"] == "engine" and r["dataset"] == dataset
                     and r["dtype"] == dtype and r["seeds"] == seeds), None)  # fmt: skip

    lines = []
    for dtype in ("float32", "float64"):
        slack = 0.75 if dtype == "float64" else 1.0  # float64: the same ratios within 25 %
        for dataset, ratio in (("linear", 3.0), ("xor_easy", 4.0)):
            record = engine(dataset, dtype, TARGET_SEEDS)
            if record and "vs_numpy" in record:
                goal = ratio * slack
                verdict = "met" if record["vs_numpy"] >= goal else "NOT met"
                lines.append(f"- {dataset} {dtype}, S = 256: {record['vs_numpy']:.2f}× the faster NumPy "
                             f"(goal ≥ {goal:.2f}×): {verdict}")  # fmt: skip
        record = engine("linear", dtype, TARGET_SEEDS)
        if record:
            goal = 0.45 * slack
            verdict = "met" if record["peak_fraction"] >= goal else "NOT met"
            share = f"{100 * record['peak_fraction']:.1f} %"
            lines.append(
                f"- linear {dtype}, S = 256: {share} of the matmul peak "
                f"(goal ≥ {100 * goal:.0f} %): {verdict}; "
                f"{100 * record['fastest_peak_fraction']:.1f} % of its fastest single round"
            )
        for dataset in ("linear", "xor_easy"):
            small, large = engine(dataset, dtype, 8), engine(dataset, dtype, 1024)
            if small and large:
                ratio = large["seed_epochs_per_s"] / small["seed_epochs_per_s"]
                verdict = "met" if ratio >= 0.9 else "NOT met"
                lines.append(f"- {dataset} {dtype}: per-seed throughput at S = 1024 is {ratio:.2f}× that at "
                             f"S = 8 (goal ≥ 0.9×): {verdict}")  # fmt: skip
    return lines


def ceiling_lines(records: list[dict]) -> list[str]:
    """How close the engine comes to the rate of its three big products alone, and how close
    those come to the peak: where the rest of the gap to the peak lies."""
    lines = []
    for ceiling in (r for r in records if r["variant"] == "matmul_ceiling"):
        engine = next((r for r in records if "vs_ceiling" in r and same_measurement(r, ceiling)), None)
        if engine:
            lines.append(
                f"- {ceiling['dataset']} {ceiling['dtype']}, S = {ceiling['seeds']}: the engine runs at "
                f"{100 * engine['vs_ceiling']:.0f} % of the matmul ceiling's seed-epochs/s; the three "
                f"products alone reach {100 * ceiling['peak_fraction']:.0f} % of the peak"
            )
    return lines


def plot(records: list[dict], path: Path) -> None:
    import numpy as np
    from matplotlib.figure import Figure

    panels = sorted({(r["dataset"], r["dtype"]) for r in records if r["variant"] != "peak"})
    columns = min(2, len(panels))
    rows = -(-len(panels) // columns)
    fig = Figure(figsize=(6.5 * columns, 4 * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, columns, sharey=True, squeeze=False)).ravel()
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    for ax, (dataset, dtype) in zip(axes, panels, strict=False):
        mine = [r for r in records if (r.get("dataset"), r.get("dtype")) == (dataset, dtype)]
        engine = sorted((r for r in mine if r["variant"] == "engine"), key=lambda r: r["seeds"])
        seeds = [r["seeds"] for r in engine]
        ax.plot(seeds, [r["seed_epochs_per_s"] for r in engine], marker="o", label="engine (train_many)")
        baselines = (r for r in mine if r["variant"] in ("numpy", "jax_naive"))
        for r, style in zip(baselines, ("--", ":", "-."), strict=False):
            label = r["variant"] + (f", {r['blas_threads']} BLAS thr" if r["variant"] == "numpy" else "")
            ax.axhline(r["seed_epochs_per_s"], ls=style, color="grey", label=label + " (one seed at a time)")
        for r in (r for r in mine if r["variant"].startswith("engine_")):
            ax.plot([r["seeds"]], [r["seed_epochs_per_s"]], marker="D", ls="", color="tab:green",
                    label=f"engine on {r['grad']} gradients")  # fmt: skip
        for r in (r for r in mine if r["variant"] == "matmul_ceiling"):
            ax.plot([r["seeds"]], [r["seed_epochs_per_s"]], marker="*", ms=12, ls="", color="tab:red",
                    label="matmul ceiling (the three big products alone)")  # fmt: skip
        ax.set(xscale="log", yscale="log", xlabel="seeds trained at once (S)", title=f"{dataset}, {dtype}")
        ax.grid(alpha=0.3, which="both")
        ax.set_ylabel("seed-epochs per second")
    # one legend for every panel, below them, where it covers no point
    legend = {label: handle for ax in axes
              for handle, label in zip(*ax.get_legend_handles_labels(), strict=True)}  # fmt: skip
    fig.legend(legend.values(), legend.keys(), loc="outside lower center", ncols=3, fontsize="small")
    fig.suptitle("Training throughput (median of the timed rounds)")
    fig.savefig(path, dpi=110)


RESULTS_TITLE = "# Throughput"
RESULTS_PREAMBLE = (
    "One section per kind of device. `make bench` (`python -m benchmarks.throughput --markdown "
    "benchmarks/RESULTS.md`) rewrites the section of the device it runs on and keeps the others."
)


def section_heading(info: dict) -> str:
    """``## On CPU: ...`` / ``## On GPU: ...``: the first words name the kind of device, which is
    what :func:`with_section` matches on."""
    machine = info["machine"]
    kind = machine["platform"].upper()
    if machine["platform"] == "cpu":
        return f"## On {kind}: {machine['cpu']} ({machine['cores']} cores)"
    return f"## On {kind}: {len(machine['devices'])} × {machine['device_kind']} (host CPU: {machine['cpu']})"


def section(records: list[dict], info: dict) -> str:
    machine = info["machine"]
    on_cpu = machine["platform"] == "cpu"
    chosen = machine.get("default_matmul_precision")
    precision = [] if on_cpu else [
        f"float32 products ran at matmul precision {chosen!r} (jax_default_matmul_precision)." if chosen
        else "float32 products ran at JAX's default matmul precision, as a user's runs do: on NVIDIA "
        "GPUs since Ampere that is TF32, on TPUs bfloat16 passes.", "",
    ]  # fmt: skip
    return "\n".join([
        section_heading(info), "",
        f"Measured {info['date']} (JAX devices: {len(machine['devices'])} × {machine['device_kind']}), "
        f"jax {machine['versions']['jax']}, NumPy {machine['versions']['numpy']}, by", "",
        f"    {info['command']}", "",
        *partial_note(info),
        f"{info['epochs']} epochs per timed run, median of {info['repeats']} rounds (min–max beside it); "
        "in each round every variant of a dataset and dtype runs once, in turn, beside the peak's "
        "matmul; the peak is the better of NumPy's and JAX's median rates on that matmul over all "
        "the run's rounds of a dtype. "
        f"FLOPs per seed-epoch are the matmuls' only: 2·n·(4·h1 + 3·h1·h2 + 3·h2) with h1 = h2 = {HIDDEN[0]} "
        "(n = 100 for linear, 21 for xor_easy). "
        f"`engine` and `jax_naive` train on the default gradient ({default_gradient()}); "
        f"`engine_{other_gradient()}` is the engine on the other one.", "",
        *precision,
        *table(records), "",
        "Targets (one run, this machine):" if on_cpu else "Targets (set for the CPU; this run against them):",
        "", *targets(records), "",
        "The matmul ceiling (the three h1×h2 products of each update and the W2 update, nothing "
        "else, laid out as the engine lays out its runs):", "", *ceiling_lines(records), "",
    ])  # fmt: skip


def partial_note(info: dict) -> list[str]:
    """A warning line when the run stopped before measuring every dataset and dtype it was asked for."""
    done, asked = info["groups_done"], info["groups"]
    if done == asked:
        return []
    return [f"**Partial run**: it stopped after {done} of the {asked} dataset/dtype groups it was asked "
            "for; the table holds those only.", ""]  # fmt: skip


def with_section(existing: str, new_section: str) -> str:
    """The RESULTS.md text with ``new_section`` in place of the section of the same kind of device
    (or added at the end); every other device's section is kept as it was, in its place. Text
    before the first section is the title and preamble, written afresh."""

    def kind(part: str) -> str:
        return part.split(":", 1)[0]  # "## On CPU"

    sections = [("## On " + part).rstrip("\n") + "\n" for part in ("\n" + existing).split("\n## On ")[1:]]
    kept = [new_section if kind(part) == kind(new_section) else part for part in sections]
    kept = [part for index, part in enumerate(kept) if part != new_section or kept.index(part) == index]
    if new_section not in kept:
        kept.append(new_section)
    return "\n".join([RESULTS_TITLE, "", RESULTS_PREAMBLE, "", *kept])


def main(argv: list[str] | None = None) -> int:
    use_every_cpu_core()
    args = build_parser().parse_args(argv)
    import jax

    if "float64" in args.dtypes:
        jax.config.update("jax_enable_x64", True)
    import matplotlib

    matplotlib.use("Agg")
    from twolayer_jax.data import load_dataset

    seeds = args.seeds or default_seeds(device_platform())
    command = "python -m benchmarks.throughput " + " ".join(sys.argv[1:] if argv is None else argv)
    datasets = [load_dataset(name, jax.random.key(0), 100) for name in args.datasets]
    groups = [(dataset, dtype) for dataset in datasets for dtype in args.dtypes]
    info = {"date": datetime.now(UTC).strftime("%Y-%m-%d"), "machine": machine(), "epochs": args.epochs,
            "repeats": args.repeats, "command": command, "groups": len(groups)}  # fmt: skip
    measured = []
    for done, (dataset, dtype) in enumerate(groups, start=1):
        fields = {"dataset": dataset.name, "dtype": dtype, "epochs": args.epochs}
        group = contenders(dataset, dtype, seeds, args.epochs)
        measured += [fields | record for record in race(group, args.repeats, f"{dataset.name} {dtype}")]
        # written after every group, so a run stopped part-way keeps (and says) what it measured
        text = write_results(measured, info | {"groups_done": done}, args)
    print(text)
    return 0


def write_results(measured: list[dict], info: dict, args) -> str:
    """The JSON records, their meta file, the plot and (with ``--markdown``) this device's section
    of RESULTS.md, from the records measured so far; returns the section's text."""
    records = with_ratios(peak_records([dict(record) for record in measured]))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(records, indent=2) + "\n")
    (args.json.with_suffix(".meta.json")).write_text(json.dumps(info, indent=2) + "\n")
    plot(records, args.plot or args.json.with_suffix(".png"))
    text = section(records, info)
    if args.markdown:
        existing = args.markdown.read_text() if args.markdown.exists() else ""
        args.markdown.write_text(with_section(existing, text))
    return text


if __name__ == "__main__":
    from twolayer_jax.cli import run_cli

    sys.exit(run_cli(main, None, "python -m benchmarks.throughput"))
