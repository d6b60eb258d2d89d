"""``python -m benchmarks.throughput``: seed-epochs per second of three ways to train the lab's
network, side by side in one run, on the current device.

- ``numpy``: the students' way (``benchmarks/numpy_reference.py``), one seed at a time, measured
  with one BLAS thread and with the default count; ratios are taken against the faster.
- ``jax_naive``: a jitted update step called from a Python loop, one seed at a time.
- ``engine``: ``twolayer_jax.engine.train_many`` as a user calls it: S seeds in one program.
- ``peak``: the machine's matmul rate, the best of NumPy and JAX on a large square matmul.

A seed-epoch is one full-batch update of one network; its FLOPs are the matmuls' (see
:func:`flops_per_seed_epoch`). The NumPy and naive runs train seeds one after another, so their
rate does not depend on S: they are measured once per dataset and dtype (``seeds`` = 1).
"""

import argparse
import json
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from twolayer_jax.devices import use_every_cpu_core

DATASETS = ("linear", "xor")
HIDDEN = (100, 100)
LR = 1.0
PEAK_SIZE = 2048


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
    parser.add_argument("--seeds", type=parse_list(int), default=[1, 8, 64, 256, 1024])
    parser.add_argument("--datasets", type=parse_list(str, DATASETS), default=list(DATASETS))
    parser.add_argument(
        "--dtypes", type=parse_list(str, ("float32", "float64")), default=["float32", "float64"]
    )
    parser.add_argument("--epochs", type=int_at_least(1), default=200, help="epochs per timed run")
    parser.add_argument("--repeats", type=int_at_least(1), default=3, help="timed runs per measurement")
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results.json"))
    parser.add_argument("--plot", type=Path, default=None, help="default: beside --json, .png")
    parser.add_argument("--markdown", type=Path, default=None, help="also write the table here (RESULTS.md)")
    return parser


def timed(run, repeats: int) -> tuple[float, list[float]]:
    """Seconds of a first call (compile + run) and of ``repeats`` more."""
    started = time.perf_counter()
    run()
    first = time.perf_counter() - started
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return first, times


def rate_record(variant: str, work: int, first: float, times: list[float], flops: int, **fields) -> dict:
    rates = [work / t for t in times]
    median = statistics.median(rates)
    return {
        "variant": variant,
        **fields,
        "seed_epochs_per_s": median,
        "seed_epochs_per_s_min": min(rates),
        "seed_epochs_per_s_max": max(rates),
        "compile_s": max(0.0, first - statistics.median(times)),
        "flops_per_seed_epoch": flops,
        "gflops": median * flops / 1e9,
    }


def measure_peak(dtype: str, repeats: int) -> dict:
    """GFLOP/s of a PEAK_SIZE² matmul, NumPy (default threads) and JAX on its first device."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    a = np.random.default_rng(0).standard_normal((PEAK_SIZE, PEAK_SIZE)).astype(dtype)
    flops = 2 * PEAK_SIZE**3
    _, numpy_times = timed(lambda: a @ a, repeats)
    matmul = jax.jit(jnp.matmul)
    on_device = jnp.asarray(a)
    _, jax_times = timed(lambda: matmul(on_device, on_device).block_until_ready(), repeats)
    numpy_gflops, jax_gflops = flops / min(numpy_times) / 1e9, flops / min(jax_times) / 1e9
    return {"variant": "peak", "dtype": dtype, "gflops": max(numpy_gflops, jax_gflops),
            "numpy_gflops": numpy_gflops, "jax_gflops": jax_gflops, "size": PEAK_SIZE}  # fmt: skip


def measure_numpy(dataset, dtype: str, epochs: int, repeats: int, threads: int | None) -> dict:
    from threadpoolctl import threadpool_info, threadpool_limits

    from benchmarks import numpy_reference

    x, y = dataset.x.astype(dtype), dataset.y.astype(dtype)
    with threadpool_limits(limits=threads, user_api="blas"):
        used = max(
            (pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"), default=1
        )
        first, times = timed(
            lambda: numpy_reference.train(numpy_reference.init_params(0, HIDDEN, dtype), x, y, LR, epochs),
            repeats,
        )
    return rate_record("numpy", epochs, first, times, flops_per_seed_epoch(len(x)), blas_threads=used)


def naive_step(dtype: str):
    """One jitted update of one network (jax.grad, plain gradient descent)."""
    import jax

    from twolayer_jax.gradients import autodiff_gradient

    gradient = autodiff_gradient("sigmoid", "sigmoid", "mse")

    @jax.jit
    def step(params, x, y):
        grads, _ = gradient(params, x, y)
        return jax.tree.map(lambda p, g: p - LR * g, params, grads)

    return step


def measure_naive(dataset, dtype: str, epochs: int, repeats: int) -> dict:
    import jax
    import jax.numpy as jnp

    from twolayer_jax.model import init_params

    step = naive_step(dtype)
    x, y = jnp.asarray(dataset.x, dtype), jnp.asarray(dataset.y, dtype)

    def run():
        params = init_params(jax.random.key(0), HIDDEN, jnp.dtype(dtype))
        for _ in range(epochs):
            params = step(params, x, y)
        jax.block_until_ready(params)

    first, times = timed(run, repeats)
    return rate_record("jax_naive", epochs, first, times, flops_per_seed_epoch(len(x)))


def measure_engine(dataset, dtype: str, seeds: int, epochs: int, repeats: int) -> dict:
    from twolayer_jax.engine import HParams, TrainConfig, seed_keys, train_many

    config = TrainConfig(epochs=epochs, dtype=dtype)
    keys = seed_keys(0, seeds)
    first, times = timed(
        lambda: train_many(config, keys, HParams(lr=LR), dataset.x, dataset.y).loss.block_until_ready(),
        repeats,
    )
    return rate_record("engine", seeds * epochs, first, times, flops_per_seed_epoch(len(dataset.x)))


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
        "platform": jax.devices()[0].platform,
        "versions": {name: version(name) for name in ("jax", "jaxlib", "numpy", "optax")},
        "python": platform.python_version(),
    }


def with_ratios(records: list[dict]) -> list[dict]:
    """Each record's fraction of the peak and, for the engine, its ratio to the faster NumPy."""
    peaks = {r["dtype"]: r["gflops"] for r in records if r["variant"] == "peak"}
    for record in records:
        if record["variant"] == "peak":
            continue
        record["peak_fraction"] = record["gflops"] / peaks[record["dtype"]]
        numpy_rates = [r for r in records if r["variant"] == "numpy"
                       and (r["dataset"], r["dtype"]) == (record["dataset"], record["dtype"])]  # fmt: skip
        if numpy_rates and record["variant"] != "numpy":
            best = max(numpy_rates, key=lambda r: r["seed_epochs_per_s"])
            record["vs_numpy"] = record["seed_epochs_per_s"] / best["seed_epochs_per_s"]
            record["vs_numpy_blas_threads"] = best["blas_threads"]
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
        f"{r['dtype']} {r['gflops']:.0f} GFLOP/s (NumPy {r['numpy_gflops']:.0f}, JAX {r['jax_gflops']:.0f})"
        for r in records
        if r["variant"] == "peak"
    ]
    return [*rows, "", f"Matmul peak ({PEAK_SIZE}² matmul, best of NumPy and JAX): " + "; ".join(peaks) + "."]


def targets(records: list[dict]) -> list[str]:
    """The issue's targets, each with the measured number and a verdict."""

    def engine(dataset, dtype, seeds):
        return next((r for r in records if r["variant"] == "engine" and r["dataset"] == dataset
                     and r["dtype"] == dtype and r["seeds"] == seeds), None)  # fmt: skip

    lines = []
    for dtype in ("float32", "float64"):
        slack = 0.75 if dtype == "float64" else 1.0  # float64: the same ratios within 25 %
        for dataset, ratio in (("linear", 3.0), ("xor_easy", 4.0)):
            record = engine(dataset, dtype, 256)
            if record and "vs_numpy" in record:
                goal = ratio * slack
                verdict = "met" if record["vs_numpy"] >= goal else "NOT met"
                lines.append(f"- {dataset} {dtype}, S = 256: {record['vs_numpy']:.2f}× the faster NumPy "
                             f"(goal ≥ {goal:.2f}×): {verdict}")  # fmt: skip
        record = engine("linear", dtype, 256)
        if record:
            goal = 0.45 * slack
            verdict = "met" if record["peak_fraction"] >= goal else "NOT met"
            share = f"{100 * record['peak_fraction']:.1f} %"
            lines.append(
                f"- linear {dtype}, S = 256: {share} of the matmul peak "
                f"(goal ≥ {100 * goal:.0f} %): {verdict}"
            )
        for dataset in ("linear", "xor_easy"):
            small, large = engine(dataset, dtype, 8), engine(dataset, dtype, 1024)
            if small and large:
                ratio = large["seed_epochs_per_s"] / small["seed_epochs_per_s"]
                verdict = "met" if ratio >= 0.9 else "NOT met"
                lines.append(f"- {dataset} {dtype}: per-seed throughput at S = 1024 is {ratio:.2f}× that at "
                             f"S = 8 (goal ≥ 0.9×): {verdict}")  # fmt: skip
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
        for r, style in zip((r for r in mine if r["variant"] != "engine"), ("--", ":", "-."), strict=False):
            label = r["variant"] + (f", {r['blas_threads']} BLAS thr" if r["variant"] == "numpy" else "")
            ax.axhline(r["seed_epochs_per_s"], ls=style, color="grey", label=label + " (one seed at a time)")
        ax.set(xscale="log", yscale="log", xlabel="seeds trained at once (S)", title=f"{dataset}, {dtype}")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize="x-small", loc="lower right")
        ax.set_ylabel("seed-epochs per second")
    fig.suptitle("Training throughput (median of the timed runs)")
    fig.savefig(path, dpi=110)


def markdown(records: list[dict], info: dict, command: str) -> str:
    return "\n".join([
        "# Throughput", "",
        f"Measured {info['date']} on {info['machine']['cpu']} ({info['machine']['cores']} cores; "
        "JAX devices: "
        f"{len(info['machine']['devices'])} × {info['machine']['device_kind']}), "
        f"jax {info['machine']['versions']['jax']}, "
        f"NumPy {info['machine']['versions']['numpy']}, by", "", f"    {command}", "",
        f"{info['epochs']} epochs per timed run, median of {info['repeats']} runs (min–max beside it). "
        f"FLOPs per seed-epoch are the matmuls' only: 2·n·(4·h1 + 3·h1·h2 + 3·h2) with h1 = h2 = {HIDDEN[0]} "
        "(n = 100 for linear, 21 for xor_easy).", "",
        *table(records), "", "Targets (one run, this machine):", "", *targets(records), "",
    ])  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    use_every_cpu_core()
    args = build_parser().parse_args(argv)
    import jax

    if "float64" in args.dtypes:
        jax.config.update("jax_enable_x64", True)
    import matplotlib

    matplotlib.use("Agg")
    from twolayer_jax.data import load_dataset

    command = "python -m benchmarks.throughput " + " ".join(sys.argv[1:] if argv is None else argv)
    records = []
    for dtype in args.dtypes:
        print(f"peak {dtype} ...", file=sys.stderr, flush=True)
        records.append(measure_peak(dtype, args.repeats))
    for name in args.datasets:
        dataset = load_dataset(name, jax.random.key(0), 100)
        for dtype in args.dtypes:
            fields = {"dataset": dataset.name, "dtype": dtype, "epochs": args.epochs}
            for threads in (1, None):
                print(
                    f"numpy {dataset.name} {dtype} threads={threads or 'default'} ...",
                    file=sys.stderr,
                    flush=True,
                )
                records.append(
                    measure_numpy(dataset, dtype, args.epochs, args.repeats, threads) | fields | {"seeds": 1}
                )
            print(f"jax_naive {dataset.name} {dtype} ...", file=sys.stderr, flush=True)
            records.append(measure_naive(dataset, dtype, args.epochs, args.repeats) | fields | {"seeds": 1})
            for seeds in args.seeds:
                print(f"engine {dataset.name} {dtype} S={seeds} ...", file=sys.stderr, flush=True)
                records.append(
                    measure_engine(dataset, dtype, seeds, args.epochs, args.repeats)
                    | fields
                    | {"seeds": seeds}
                )
    records = with_ratios(records)
    info = {"date": datetime.now(UTC).strftime("%Y-%m-%d"), "machine": machine(), "epochs": args.epochs,
            "repeats": args.repeats, "command": command}  # fmt: skip
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(records, indent=2) + "\n")
    (args.json.with_suffix(".meta.json")).write_text(json.dumps(info, indent=2) + "\n")
    plot(records, args.plot or args.json.with_suffix(".png"))
    text = markdown(records, info, command)
    print(text)
    if args.markdown:
        args.markdown.write_text(text)
    return 0


if __name__ == "__main__":
    from twolayer_jax.cli import run_cli

    sys.exit(run_cli(main, None, "python -m benchmarks.throughput"))
