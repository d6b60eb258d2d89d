"""``python -m twolayer_jax.train``: the handout's formats, the files it writes, multi-seed
summaries, divergence reports, and one-line errors with exit code 2 for bad input."""

import json
import re
import subprocess
import sys

import jax
import numpy as np
import pytest

from twolayer_jax.cli import run_cli
from twolayer_jax.data import LINEAR, XOR_EASY, linear, linear_handout, xor_easy
from twolayer_jax.train import build_parser, load_data, main

TRAINING_LINE = re.compile(r"^epoch \d+ loss : \d\.\d+(e-\d+)?$")
POINT_LINE = re.compile(r"^Iter(\d+) \|     Ground truth: [01]\.0 \|     prediction: [01]\.\d{5} \|$")
SUMMARY_LINE = re.compile(r"^loss=\d\.\d{5} accuracy=\d{1,3}\.\d{2}%$")


def train_cli(capsys, *argv):
    code = run_cli(main, list(argv), "train")
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.slow  # a whole run: make test-slow (CI)
def test_the_default_run_reaches_100_percent_on_both_datasets_in_the_handouts_formats(capsys, tmp_path):
    code, out, _ = train_cli(capsys, "--out", str(tmp_path))
    assert code == 0
    lines = out.splitlines()
    training = [line for line in lines if line.startswith("epoch ")]
    points = [line for line in lines if line.startswith("Iter")]
    summaries = [line for line in lines if line.startswith("loss=")]
    assert len(training) == 20 and all(TRAINING_LINE.match(line) for line in training)
    assert training[0].startswith("epoch 500 loss : ") and training[9].startswith("epoch 5000 loss : ")
    assert len(points) == 100 + 21 and all(POINT_LINE.match(line) for line in points)
    assert [int(POINT_LINE.match(line).group(1)) for line in points[100:]] == list(range(21))
    assert len(summaries) == 2 and all(SUMMARY_LINE.match(line) for line in summaries)
    assert all(line.endswith("accuracy=100.00%") for line in summaries)

    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["config"]["epochs"] == 5000 and metrics["config"]["lr"] == 1.0
    for name in ("linear", "xor_easy"):
        record = metrics["results"][name]
        assert record["fraction_at_100"] == 1.0
        (run,) = record["runs"]
        assert run["seed"] == 0 and run["final_accuracy"] == 1.0 and 0 < run["first_epoch_at_100"] < 5000
        for file in record["files"].values():
            assert (tmp_path / file).read_bytes().startswith(b"\x89PNG")


def test_several_seeds_print_a_row_each_the_fraction_and_one_representative(capsys, tmp_path):
    code, out, _ = train_cli(
        capsys, "--dataset", "xor_easy", "--seeds", "3", "--seed", "4", "--epochs", "3000",
        "--hidden", "20", "--print-every", "1000", "--out", str(tmp_path),
    )  # fmt: skip
    assert code == 0
    rows = [line for line in out.splitlines() if re.match(r"^ +[4-6] ", line)]
    assert [int(row.split()[0]) for row in rows] == [4, 5, 6]
    assert re.search(r"^\d/3 seeds \(\d+\.\d\d%\) end at 100\.00% accuracy$", out, re.M)
    shown = int(re.search(r"^showing seed (\d+): the median final loss", out, re.M).group(1))
    metrics = json.loads((tmp_path / "metrics.json").read_text())["results"]["xor_easy"]
    assert metrics["representative_seed"] == shown and len(metrics["runs"]) == 3
    assert [line for line in out.splitlines() if line.startswith("epoch ")] == [
        line for line in out.splitlines() if TRAINING_LINE.match(line)
    ]
    assert len(re.findall(r"^epoch \d+ loss", out, re.M)) == 3
    assert len(re.findall(r"^Iter\d+ ", out, re.M)) == 21
    assert "hidden 20x20" in out


def test_a_diverging_run_is_reported_and_never_printed_as_a_number(capsys, tmp_path):
    code, out, _ = train_cli(
        capsys, "--dataset", "linear", "--activation", "identity", "--output-activation", "identity",
        "--lr", "1", "--epochs", "40", "--seeds", "2", "--out", str(tmp_path),
    )  # fmt: skip
    assert code == 0
    assert re.search(r"^ +0  diverged at epoch \d+$", out, re.M)
    assert re.search(r"^loss=diverged accuracy=diverged \(diverged at epoch \d+\)$", out, re.M)
    assert "showing seed 0: every seed diverged" in out and "median" not in out
    assert not re.search(r"\b(nan|inf)\b", out, re.I)
    record = json.loads((tmp_path / "metrics.json").read_text())["results"]["linear"]
    assert all(run["final_loss"] is None and run["diverged_at"] for run in record["runs"])
    assert (tmp_path / "linear_comparison.png").exists() and (tmp_path / "linear_learning_curve.png").exists()


def test_a_float64_run_trains_and_records_its_dtype(tmp_path):
    """In a process of its own: the tests turn 64-bit mode on for everything, the command line
    must turn it on before its first use of JAX."""
    command = [sys.executable, "-m", "twolayer_jax.train", "--dataset", "xor_easy", "--epochs", "20",
               "--dtype", "float64", "--no-progress", "--out", str(tmp_path)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0 and done.stderr == "" and done.stdout.splitlines()[0].endswith("float64")
    assert json.loads((tmp_path / "metrics.json").read_text())["config"]["dtype"] == "float64"


@pytest.mark.parametrize(("flags", "grad"), [((), "manual"), (("--grad", "autodiff"), "autodiff")])
def test_both_gradients_train_through_the_same_engine(capsys, tmp_path, flags, grad):
    """The lab's hand-written backward pass by default; jax.grad on request."""
    args = ("--dataset", "xor_easy", "--epochs", "50", "--seeds", "2", "--out", str(tmp_path))
    code, out, _ = train_cli(capsys, *flags, *args)
    assert code == 0 and f"{grad} gradients" in out
    assert json.loads((tmp_path / "metrics.json").read_text())["config"]["grad"] == grad


def test_the_extras_are_exposed_and_recorded(capsys, tmp_path):
    code, out, _ = train_cli(
        capsys, "--dataset", "xor_easy", "--optimizer", "adam", "--optimizer-impl", "manual", "--lr", "0.01",
        "--b2", "0.99", "--activation", "leaky_relu:0.1", "--loss", "bce", "--epochs", "200",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert code == 0 and "leaky_relu:0.1/sigmoid/bce, adam (manual)" in out
    assert out.count("accuracy=100.00%") == 1
    config = json.loads((tmp_path / "metrics.json").read_text())["config"]
    assert (config["optimizer"], config["optimizer_impl"], config["network"]["loss"]) == (
        "adam",
        "manual",
        "bce",
    )
    assert (config["network"]["activation"], config["b2"], config["lr"]) == ("leaky_relu:0.1", 0.99, 0.01)


def test_the_init_is_shown_in_the_header_and_recorded(capsys, tmp_path):
    code, out, _ = train_cli(
        capsys, "--dataset", "xor_easy", "--init", "uniform:0.5", "--epochs", "20", "--out", str(tmp_path)
    )
    header = out.splitlines()[0]
    assert code == 0 and header.startswith("== xor_easy: ") and ", uniform:0.5 init, float32" in header
    assert json.loads((tmp_path / "metrics.json").read_text())["config"]["init"] == "uniform:0.5"
    code, out, _ = train_cli(capsys, "--dataset", "xor_easy", "--epochs", "20", "--out", str(tmp_path))
    assert code == 0 and ", lecun_normal init, " in out.splitlines()[0]
    assert json.loads((tmp_path / "metrics.json").read_text())["config"]["init"] == "lecun_normal"


@pytest.mark.parametrize("source", ["keyed", "handout"])
def test_linear_data_draws_the_points_as_asked_and_is_recorded(capsys, tmp_path, source):
    args = build_parser().parse_args(["--linear-data", source, "--data-seed", "3", "--linear-points", "30"])
    expected = linear_handout(30, 3) if source == "handout" else linear(jax.random.key(3), 30)
    np.testing.assert_array_equal(load_data(LINEAR, args).x, expected.x)
    np.testing.assert_array_equal(load_data(XOR_EASY, args).x, xor_easy().x)
    code, _, _ = train_cli(
        capsys, "--dataset", "linear", "--linear-data", source, "--data-seed", "3", "--linear-points", "30",
        "--epochs", "10", "--out", str(tmp_path),
    )  # fmt: skip
    config = json.loads((tmp_path / "metrics.json").read_text())["config"]
    assert code == 0 and (config["linear_data"], config["data_seed"]) == (source, 3)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--dataset", "circle"], "argument --dataset: invalid choice: 'circle'"),
        (["--lr", "0"], "argument --lr: must be a positive finite number, got 0"),
        (["--lr", "-0.1"], "argument --lr: must be a positive finite number"),
        (["--lr", "nan"], "argument --lr: must be a positive finite number"),
        (["--lr", "fast"], "argument --lr: 'fast' is not a number"),
        (["--lr", "1e39"], "--lr 1e+39 does not fit in float32"),
        (["--epochs", "0"], "argument --epochs: must be at least 1, got 0"),
        (["--seeds", "-3"], "argument --seeds: must be at least 1, got -3"),
        (["--hidden", "0"], "argument --hidden: must be at least 1, got 0"),
        (["--hidden", "4", "4", "4"], "--hidden takes one or two widths, got 3"),
        (["--print-every", "0"], "argument --print-every: must be at least 1"),
        (["--dtype", "float16"], "argument --dtype: invalid choice: 'float16'"),
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["--grad", "guess"], "argument --grad: invalid choice: 'guess'"),
        (["--optimizer", "lion"], "argument --optimizer: invalid choice: 'lion'"),
        (["--momentum", "1.5"], "argument --momentum: must be in [0, 1), got 1.5"),
        (["--weight-decay", "-1"], "argument --weight-decay: must be in [0, inf)"),
        (["--activation", "tanh:2"], "argument --activation: activation 'tanh' takes no parameter"),
        (["--activation", "swish"], "argument --activation: unknown activation 'swish'"),
        (["--activation", "relu,tanh,elu"], "give one hidden activation or two separated by a comma"),
        (
            ["--loss", "bce", "--output-activation", "identity"],
            "loss 'bce' needs a sigmoid output, got 'identity'",
        ),
        (
            ["--model", "conv", "--hidden", "4", "--kernel-size", "5"],
            "the conv model needs 1 <= kernel_size < h1",
        ),
        # numbers the run cannot hold, the dtype cannot mean, or the machine cannot fit
        (["--seed", str(10**30)], "seeds must be below 2**32 = 4294967296"),
        (
            ["--seed", "4294967290", "--seeds", "10"],
            "got --seed 4294967290 with --seeds 10, up to 4294967299",
        ),
        (["--data-seed", "4294967301"], "got --data-seed 4294967301"),
        (["--epochs", str(10**12)], "--epochs must be at most 2**31 - 1 = 2147483647"),
        (["--hidden", "100000"], "with hidden 100000x100000 need about"),
        (["--linear-points", str(10**8)], "on 100000000 points with hidden 100x100 need about"),
        (["--seeds", str(10**9)], "1000000000 runs of 5000 epochs"),
        (["--lr", "1e-50"], "--lr 1e-50 rounds to 0 in float32"),
        (["--lr", "1e-40"], "--lr 1e-40 rounds to 0 in float32's arithmetic"),  # XLA flushes subnormals
        (["--dtype", "float64", "--lr", "1e-310"], "--lr 1e-310 rounds to 0 in float64's arithmetic"),
        (["--activation", "leaky_relu:1e39"], "its parameter does not fit in float32"),
        (["--optimizer", "adam", "--eps", "1e-60"], "--eps 1e-60 rounds to 0 in float32"),
        (["--optimizer", "adam", "--b2", "0.99999999999"], "--b2 0.99999999999 rounds to 1 in float32"),
        (["--activation", "leaky_relu:nan"], "activation parameter must be finite"),
        (["--activation", "relu,leaky_relu:inf"], "activation parameter must be finite"),
        (["--out", ""], "argument --out: must not be empty"),
        (["--init", "orthogonal"], "argument --init: unknown initialisation 'orthogonal'; choose from"),
        (["--init", "normal:0"], "argument --init: the std of initialisation 'normal' must be positive"),
        (["--init", "he_normal:2"], "argument --init: initialisation 'he_normal' takes no parameter"),
        (["--init", "uniform:1e-50"], "--init uniform:1e-50: its parameter rounds to 0 in float32"),
        (["--linear-data", "student"], "argument --linear-data: invalid choice: 'student'"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(capsys, tmp_path, argv, message):
    code, out, err = train_cli(capsys, "--out", str(tmp_path / "out"), *argv)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("train: error: ") and message in err
    assert out == "" and not (tmp_path / "out").exists()  # refused before any work


def test_an_unwritable_output_folder_is_refused_before_training(capsys, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    code, out, err = train_cli(capsys, "--out", str(blocker / "runs"))
    assert code == 2 and err.count("\n") == 1
    assert f"cannot write to output folder '{blocker / 'runs'}'" in err
    assert out == ""  # nothing trained


def test_the_module_exits_2_without_a_traceback(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "twolayer_jax.train", "--dataset", "circle", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 2
    assert completed.stderr.count("\n") == 1 and "Traceback" not in completed.stderr
