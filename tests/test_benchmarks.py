"""The benchmark runs (tiny sizes), compares like with like (its NumPy reference trains the same
network as the engine), and the multi-process path gives what one process gives."""

import json
import socket
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from benchmarks import numpy_reference
from benchmarks.measure import (
    Contender,
    ceiling_flops,
    default_seeds,
    flops_per_seed_epoch,
    jax_peak_size,
    other_gradient,
    peak_records,
    race,
)
from benchmarks.report import paired_ratio, section, with_section
from benchmarks.throughput import main
from twolayer_jax import data
from twolayer_jax.config import TrainConfig
from twolayer_jax.many_runs import CPU_CHUNK_SIZE, default_chunk_size, seed_keys, train_many
from twolayer_jax.model import init_params
from twolayer_jax.one_run import make_fit
from twolayer_jax.optimizers import HParams

ROOT = Path(__file__).resolve().parents[1]
XOR = data.xor_easy()


def test_the_numpy_reference_trains_the_engines_network():
    """From the same initial weights, the students' NumPy loop and the engine give the same loss
    history in float64: the benchmark compares the same work."""
    params = init_params(jax.random.key(1), (7, 5), jnp.float64)
    mine = numpy_reference.train({k: np.array(v) for k, v in params.items()}, XOR.x, XOR.y, 1.0, 200)
    engine = jax.jit(make_fit(TrainConfig(epochs=200, hidden=(7, 5), dtype="float64")))(
        params, HParams(lr=1.0), XOR.x, XOR.y
    )
    np.testing.assert_allclose(mine, engine.loss[:-1], rtol=1e-12)


def test_flops_count_the_six_matmuls_of_forward_and_backward():
    # n = 1, h1 = h2 = 1: forward 2·(2 + 1 + 1), backward 2·(1 + 1 + 1 + 1 + 2)
    assert flops_per_seed_epoch(1, (1, 1)) == 8 + 12
    assert flops_per_seed_epoch(100) == 2 * 100 * (4 * 100 + 3 * 100 * 100 + 3 * 100)


@pytest.mark.slow  # a whole benchmark run: make test-slow (CI)
def test_a_tiny_benchmark_writes_every_record(tmp_path):
    out = tmp_path / "results.json"
    argv = ["--seeds", "1,3", "--datasets", "xor_easy", "--dtypes", "float64", "--epochs", "3",
            "--repeats", "1", "--json", str(out), "--markdown", str(tmp_path / "RESULTS.md")]  # fmt: skip
    assert main(argv) == 0
    records = json.loads(out.read_text())
    variants = [r["variant"] for r in records]
    assert variants.count("peak") == 1 and variants.count("numpy") == 2 and variants.count("jax_naive") == 1
    assert [r["seeds"] for r in records if r["variant"] == "engine"] == [1, 3]
    # the engine and the naive loop train on the default gradient, and the engine once more on the
    # other one; no S = 256 asked, so that run and the ceiling are at the largest S
    assert {r["grad"] for r in records if r["variant"] in ("engine", "jax_naive")} == {TrainConfig.grad}
    (other,) = [r for r in records if r["variant"] == f"engine_{other_gradient()}"]
    assert other["seeds"] == 3 and other["grad"] == other_gradient() != TrainConfig.grad
    (ceiling,) = [r for r in records if r["variant"] == "matmul_ceiling"]
    assert ceiling["seeds"] == 3 and ceiling["flops_per_seed_epoch"] == ceiling_flops(len(XOR.x))
    (engine_at_3,) = [r for r in records if r["variant"] == "engine" and r["seeds"] == 3]
    assert engine_at_3["vs_ceiling"] == engine_at_3["seed_epochs_per_s"] / ceiling["seed_epochs_per_s"]
    # the engine in its default segments against one segment, at the smallest and the largest S
    assert [r["seeds"] for r in records if r["variant"] == "engine_one_segment"] == [1, 3]
    assert all(r["vs_one_segment"] > 0 for r in records if r["variant"] == "engine")
    for record in records:
        assert record["gflops"] > 0
        if record["variant"] != "peak":
            for key in (
                "dataset",
                "dtype",
                "seeds",
                "epochs",
                "seed_epochs_per_s",
                "compile_s",
                "peak_fraction",
            ):
                assert key in record, key
            # the fastest round of the peak's matmul is at least its median
            assert record["fastest_peak_fraction"] <= record["peak_fraction"]
    assert {r["blas_threads"] for r in records if r["variant"] == "numpy"} >= {1}
    assert (tmp_path / "results.png").read_bytes().startswith(b"\x89PNG")
    written = (tmp_path / "RESULTS.md").read_text()
    assert written.startswith("# Throughput") and "\n## On CPU: " in written
    assert "Partial run" not in written
    assert "| xor_easy | float64 | engine | 3 |" in written
    assert "S = 3: train_many in its default 1 segment(s) of 3 epochs runs at" in written
    assert f"| xor_easy | float64 | engine_{other_gradient()} | 3 |" in written
    # the same records as a GPU run's: a section of its own, saying which matmul precision ran
    info = json.loads(out.with_suffix(".meta.json").read_text())
    threads = info["machine"]["threads"]
    assert threads["engine_chunk_size"] == CPU_CHUNK_SIZE and threads["blas"][0]["num_threads"] >= 1
    info["machine"] |= {"platform": "gpu", "device_kind": "NVIDIA H200", "devices": ["cuda:0"]}
    both = with_section(written, section(records, info))
    assert "\n## On CPU: " in both and "\n## On GPU: 1 × NVIDIA H200 (host CPU: " in both
    assert "JAX's default matmul precision" in both.split("## On GPU")[1]


@pytest.mark.slow  # a whole benchmark run: make test-slow (CI)
def test_a_run_stopped_part_way_keeps_the_groups_it_finished(tmp_path, monkeypatch):
    """A run killed in its second dataset/dtype group (a time limit on a lent machine) leaves the
    first group's records and a section that says it is partial."""
    from benchmarks import throughput

    finished = []

    def race_then_stop(group, repeats, label=""):
        if finished:
            raise KeyboardInterrupt  # stands in for the kill
        finished.append(label)
        return race(group, repeats, label)

    monkeypatch.setattr(throughput, "race", race_then_stop)
    out = tmp_path / "results.json"
    argv = ["--seeds", "2", "--datasets", "xor_easy", "--dtypes", "float32,float64", "--epochs", "2",
            "--repeats", "1", "--json", str(out), "--markdown", str(tmp_path / "RESULTS.md")]  # fmt: skip
    with pytest.raises(KeyboardInterrupt):
        main(argv)
    assert finished == ["xor_easy float32"]
    records = json.loads(out.read_text())
    assert {r["dtype"] for r in records} == {"float32"} and any(r["variant"] == "engine" for r in records)
    written = (tmp_path / "RESULTS.md").read_text()
    assert "Partial run**: it stopped after 1 of the 2 dataset/dtype groups" in written
    assert "| xor_easy | float32 | engine | 2 |" in written


def test_ceiling_flops_are_the_three_hidden_products():
    assert ceiling_flops(21, (7, 5)) == 3 * 2 * 21 * 7 * 5
    assert ceiling_flops(100) < flops_per_seed_epoch(100)


def test_the_race_times_every_contender_once_per_round_in_turn():
    """All first runs, then round after round of one run each: a slow spell of the machine falls
    on every variant of a round, not on one variant's whole measurement; and no variant always
    runs after the same one."""
    calls = []

    def contender(name, seconds):
        def run():
            calls.append(name)
            return seconds

        return Contender({"variant": name}, 10, 1, run)

    records = race([contender("a", 2.0), contender("b", 0.5)], repeats=3)
    assert calls == ["a", "b", "a", "b", "b", "a", "a", "b"]  # every other round in reverse
    assert [r["seed_epochs_per_s"] for r in records] == [5.0, 20.0]
    assert all(r["compile_s"] == 0 for r in records)


def test_a_paired_ratio_cancels_the_advantage_of_running_second():
    """Two variants of the same speed, whichever runs second 4 % faster, over three rounds whose
    second is run in reverse: their ratio is 1, and a real 3 % difference shows as 0.97."""
    mine, theirs = [96.0, 100.0, 96.0], [100.0, 96.0, 100.0]
    assert paired_ratio(mine, theirs) == pytest.approx(1.0)
    assert paired_ratio([rate * 0.97 for rate in mine], theirs) == pytest.approx(0.97)


def test_the_peak_is_the_better_median_of_numpy_and_jax_over_every_round():
    """Rounds of every group are pooled per library, the better median wins, and the fastest
    single round is kept beside it (here NumPy's, though JAX has the better median)."""

    def sample(variant, dtype, rates):
        size = 2048 if variant == "peak_numpy" else 8192
        return {"variant": variant, "size": size, "dtype": dtype, "seed_epochs_per_s_rounds": rates,
                "flops_per_seed_epoch": 2e9}  # fmt: skip

    engine = {"variant": "engine", "dtype": "float32"}
    samples = [("peak_numpy", [10, 40, 20]), ("peak_jax", [30, 35, 5]), ("peak_numpy", [30, 50, 25]),
               ("peak_jax", [45, 32, 33])]  # fmt: skip
    other_dtype = sample("peak_numpy", "float64", [1, 2, 3]), sample("peak_jax", "float64", [1, 1, 1])
    records = peak_records([engine, *(sample(v, "float32", rates) for v, rates in samples), *other_dtype])
    assert records == [
        {"variant": "peak", "dtype": "float32", "gflops": 65.0, "size": 8192, "by": "jax",
         "numpy_gflops": 55.0, "jax_gflops": 65.0, "numpy_size": 2048, "jax_size": 8192,
         "fastest_gflops": 100.0, "fastest_by": "numpy", "rounds": 6},
        {"variant": "peak", "dtype": "float64", "gflops": 4.0, "size": 2048, "by": "numpy",
         "numpy_gflops": 4.0, "jax_gflops": 2.0, "numpy_size": 2048, "jax_size": 8192,
         "fastest_gflops": 6.0, "fastest_by": "numpy", "rounds": 3},
        engine,
    ]  # fmt: skip


def test_an_accelerator_gets_many_more_seeds_and_a_larger_peak_matmul():
    assert default_seeds("cpu") == [1, 8, 64, 256, 1024]
    for platform in ("gpu", "tpu"):
        assert default_seeds(platform)[-1] >= 65536 and jax_peak_size(platform) > jax_peak_size("cpu")
    assert default_chunk_size("cpu") == CPU_CHUNK_SIZE < 64 and default_chunk_size("gpu") >= 4096


def test_writing_one_devices_section_keeps_the_others():
    """RESULTS.md holds one section per kind of device: a GPU run replaces the GPU section only."""
    cpu, gpu = "## On CPU: Xeon (2 cores)\n\nold cpu table\n", "## On GPU: 1 × H200\n\nold gpu table\n"
    text = with_section(with_section("", cpu), gpu)
    assert text.index(cpu) < text.index(gpu) and text.startswith("# Throughput")
    newer_gpu = "## On GPU: 1 × H200\n\nnew gpu table\n"
    updated = with_section(text, newer_gpu)
    assert cpu in updated and newer_gpu in updated and "old gpu table" not in updated
    assert with_section(updated, newer_gpu) == updated
    # a file from before the sections (no "## On ...") is replaced, not appended to
    assert "old format" not in with_section("# Throughput\n\nold format\n", cpu)
    # two sections of one kind (a hand edit) become the one new section
    assert with_section(cpu + "\n" + cpu, cpu).count("## On CPU") == 1


def test_the_report_reads_records_and_imports_no_measuring():
    """The report is built from plain records alone (results.json and its meta file), so it
    imports neither the measuring module nor JAX (only the command lines' file writing); only the
    CLI composes the two."""
    ours = "m.split('.')[0] in ('benchmarks', 'jax', 'twolayer_jax')"
    probe = f"import sys, benchmarks.report; print(*sorted(m for m in sys.modules if {ours}))"
    run = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert run.stdout.split() == ["benchmarks", "benchmarks.report", "twolayer_jax", "twolayer_jax.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


@pytest.mark.slow  # a whole run: make test-slow (CI)
def test_two_processes_train_one_sharded_batch_like_one_process(tmp_path):
    """Two JAX processes on localhost, one CPU device each, share one train_many call over 6
    seeds; the gathered histories equal this process's own run (float64)."""
    port, out = free_port(), tmp_path / "gathered.npz"
    command = [sys.executable, "-m", "benchmarks.distributed", "--coordinator", f"localhost:{port}",
               "--processes", "2", "--cpu-devices", "1", "--seeds", "6", "--epochs", "60", "--hidden", "6",
               "--dtype", "float64", "--out", str(out)]  # fmt: skip
    workers = [
        subprocess.Popen(
            [*command, "--process-id", str(i)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        for i in range(2)
    ]
    outputs = [worker.communicate(timeout=300)[0].decode() for worker in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    gathered = np.load(out)
    assert int(gathered["devices"]) == 2
    config = TrainConfig(epochs=60, hidden=(6, 6), dtype="float64")
    alone = train_many(config, seed_keys(0, 6), HParams(lr=1.0), XOR.x, XOR.y)
    np.testing.assert_allclose(gathered["loss"], alone.loss, rtol=1e-12)
    np.testing.assert_array_equal(gathered["accuracy"], alone.accuracy)


@pytest.mark.slow  # a whole benchmark run: make test-slow (CI)
def test_the_checker_benchmark_times_a_class_it_grades_as_it_should():
    from benchmarks import checker

    result = checker.measure(len(checker.VARIANTS), repeats=1)
    assert result["verdicts"] == {"right": 2, "wrong": 3, "error": 1}, "\n".join(result["graded"])
    assert result["alone_s"] > 0 and 0 < result["per_submission_s"] < result["folder_s"]
