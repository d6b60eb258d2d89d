"""What ``python -m benchmarks.throughput`` reports, from the plain record dicts that
``benchmarks.measure`` produced (this module does not import it, so a report can be rebuilt from
``results.json`` and its meta file alone): each record's fraction of the peak and ratio to NumPy,
the markdown table and the issue's targets, the matmul ceiling's lines, the plot, and this kind of
device's section of RESULTS.md.
"""

import io
import json
import statistics
from pathlib import Path

from twolayer_jax.cli import write_files_atomically

TARGET_SEEDS = 256  # the S the ratio targets are set at


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
    for whole in (r for r in records if r["variant"] == "engine_one_segment"):
        for engine in records:
            if engine["variant"] == "engine" and same_measurement(engine, whole):
                engine["vs_one_segment"] = paired_ratio(
                    engine["seed_epochs_per_s_rounds"], whole["seed_epochs_per_s_rounds"]
                )
    return records


def paired_ratio(mine: list[float], theirs: list[float]) -> float:
    """The ratio of two variants' rates that run one right after the other in each round, the
    order reversed every other round: each round's ratio, the median over the rounds of each
    order, and the geometric mean of the two medians, so that the small cost being measured is
    neither lost in a shared machine's swings from round to round nor mistaken for the advantage
    of running second."""
    ratios = [a / b for a, b in zip(mine, theirs, strict=True)]
    medians = [statistics.median(ratios[order::2]) for order in (0, 1) if ratios[order::2]]
    return statistics.geometric_mean(medians)


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
        for record in (r for r in records if r["dtype"] == dtype and "vs_one_segment" in r):
            verdict = "met" if record["vs_one_segment"] >= 0.98 else "NOT met"
            lines.append(
                f"- {record['dataset']} {dtype}, S = {record['seeds']}: train_many in its default "
                f"{record['segments']} segment(s) of {record['segment_epochs']} epochs runs at "
                f"{record['vs_one_segment']:.3f}× the rate of one segment (paired rounds, both orders; "
                f"goal ≥ 0.98×): {verdict}"
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


def plot(records: list[dict]) -> bytes:
    """The plot of ``records``, as PNG bytes."""
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
        for r in (r for r in mine if r["variant"] == "engine_one_segment"):
            ax.plot([r["seeds"]], [r["seed_epochs_per_s"]], marker="s", mfc="none", ls="", color="tab:blue",
                    label="engine, every epoch in one segment")  # fmt: skip
        for r in (
            r for r in mine if r["variant"].startswith("engine_") and r["variant"] != "engine_one_segment"
        ):
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
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=110)
    return png.getvalue()


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
    """This device's section of RESULTS.md. ``info`` is the run's meta file: date, machine,
    command, epochs, repeats, hidden sizes, the default gradient (``grad``) and the other one
    (``other_grad``), and how many dataset/dtype groups were asked and done."""
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
        "FLOPs per seed-epoch are the matmuls' only: 2·n·(4·h1 + 3·h1·h2 + 3·h2) with "
        f"h1 = h2 = {info['hidden'][0]} "
        "(n = 100 for linear, 21 for xor_easy). "
        f"`engine` and `jax_naive` train on the default gradient ({info['grad']}); "
        f"`engine_{info['other_grad']}` is the engine on the other one.", "",
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


def write_results(measured: list[dict], info: dict, args) -> str:
    """The JSON records, their meta file, the plot and (with ``--markdown``) this device's section
    of RESULTS.md, from the records measured so far (their peak samples already one ``peak``
    record per dtype); returns the section's text. ``args`` gives the paths: ``json``, ``plot``
    and ``markdown``. The ratios go on copies, so ``measured`` stays as it was."""
    records = with_ratios([dict(record) for record in measured])
    text = section(records, info)
    contents = {
        args.json: json.dumps(records, indent=2) + "\n",
        args.json.with_suffix(".meta.json"): json.dumps(info, indent=2) + "\n",
        plot_path(args): plot(records),
    }
    if args.markdown:
        existing = args.markdown.read_text() if args.markdown.exists() else ""
        contents[args.markdown] = with_section(existing, text)
    write_files_atomically(contents)  # each file whole: a run stopped part-way keeps complete ones
    return text


def plot_path(args) -> Path:
    return args.plot or args.json.with_suffix(".png")


def is_results_file(path: Path) -> bool:
    """Whether ``path`` is a RESULTS file (:func:`with_section` keeps only its sections)."""
    try:
        return path.read_text().startswith(RESULTS_TITLE)
    except (OSError, UnicodeDecodeError):
        return False


def output_paths(args) -> list[Path]:
    """Every file a run writes, so each can be checked before anything is measured."""
    paths = [args.json, args.json.with_suffix(".meta.json"), plot_path(args)]
    return paths + ([args.markdown] if args.markdown else [])
