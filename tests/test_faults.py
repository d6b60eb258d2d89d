"""The command lines under faults: a full disk, a read-only folder, ctrl-C at any moment, numbers
too large to hold. Each leaves either the previous complete output or the new complete one, says
which in one line, and never prints a traceback."""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

from benchmarks import throughput
from twolayer_jax import cli
from twolayer_jax.checks import check
from twolayer_jax.cli import OutputError, OutputFolder, RememberedCtrlC, remembering_ctrl_c, run_cli
from twolayer_jax.plots import sweep_figure
from twolayer_jax.report import cli as report_cli
from twolayer_jax.report.study import cell_outcome
from twolayer_jax.summary import RunSummary

SMALL_RUN = ("--dataset", "xor_easy", "--epochs", "30", "--no-progress")


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too) with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def is_complete_train_output(folder: Path, seed: int) -> bool:
    """The manifest names a whole set, every file of it is there, and the metrics are this seed's."""
    listed = (folder / ".train-outputs").read_text().split()
    metrics = json.loads((folder / "metrics.json").read_text())
    return all((folder / name).is_file() for name in listed) and metrics["config"]["seed"] == seed


def train_process(out: Path, *argv: str, **options) -> subprocess.Popen:
    command = [sys.executable, "-m", "twolayer_jax.train", "--out", str(out), *argv]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **options)


def finished(process: subprocess.Popen, timeout: float = 240) -> tuple[int, str, str]:
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail(f"the command did not finish within {timeout} s")
    return process.returncode, out, err


def one_line(err: str) -> bool:
    return err.count("\n") == 1 and "Traceback" not in err


@pytest.fixture
def previous_run(tmp_path) -> tuple[Path, dict[str, bytes]]:
    """An output folder holding a complete earlier run (seed 1) and a file of the user's own."""
    out = tmp_path / "runs"
    code, _, err = finished(train_process(out, *SMALL_RUN, "--seed", "1"))
    assert code == 0, err
    (out / "notes.txt").write_text("mine")
    return out, snapshot(out)


# --- the output folder, alone -------------------------------------------------------------------


def test_a_finished_run_replaces_the_last_runs_files_and_leaves_the_others(tmp_path):
    out = OutputFolder(tmp_path / "out", "demo").check()
    with out.staged() as folder:
        (folder / "a.txt").write_text("first a")
        (folder / "b.txt").write_text("first b")
    (tmp_path / "out" / "notes.txt").write_text("the user's")
    with out.staged() as folder:
        (folder / "a.txt").write_text("second a")
    assert snapshot(tmp_path / "out") == {
        ".demo-outputs": b"a.txt\n",
        "a.txt": b"second a",
        "notes.txt": b"the user's",
    }


@pytest.mark.parametrize("failure", [KeyboardInterrupt, RuntimeError, OSError])
def test_a_run_that_fails_part_way_leaves_the_previous_output_whole(tmp_path, capsys, failure):
    out = OutputFolder(tmp_path / "out", "demo").check()
    with out.staged() as folder:
        (folder / "a.txt").write_text("first")
    before = snapshot(tmp_path / "out")
    expected = OutputError if failure is OSError else failure
    with pytest.raises(expected), out.staged() as folder:
        (folder / "a.txt").write_text("second")
        (folder / "b.txt").write_text("half")
        raise failure(28, "No space left on device") if failure is OSError else failure()
    assert snapshot(tmp_path / "out") == before  # no staging folder left either
    said = str(expected) if failure is OSError else capsys.readouterr().err
    assert "keeps its previous complete output" in said or failure is OSError


def test_a_failed_first_run_says_nothing_was_written(tmp_path):
    out = OutputFolder(tmp_path / "out", "demo").check()
    with pytest.raises(OutputError, match="No space left on device; nothing was written to"), out.staged():
        raise OSError(28, "No space left on device")
    assert snapshot(tmp_path / "out") == {}


def test_ctrl_c_lost_inside_the_work_still_keeps_the_previous_output(tmp_path):
    """JAX drops the KeyboardInterrupt of a ctrl-C pressed while a program runs; the handler's
    memory of it must still stop the output from replacing the previous one."""
    out = OutputFolder(tmp_path / "out", "demo").check()
    with out.staged() as folder:
        (folder / "a.txt").write_text("first")
    before = snapshot(tmp_path / "out")
    with remembering_ctrl_c(), pytest.raises(KeyboardInterrupt), out.staged() as folder:
        handler = signal.getsignal(signal.SIGINT)
        if not isinstance(handler, RememberedCtrlC):
            pytest.skip("signal handlers can only be set from the main thread")
        (folder / "a.txt").write_text("second")
        with contextlib.suppress(KeyboardInterrupt):  # the exception is lost, as inside JAX
            handler(signal.SIGINT, None)
    assert not isinstance(signal.getsignal(signal.SIGINT), RememberedCtrlC)  # the old handler is back
    assert snapshot(tmp_path / "out") == before


def test_a_rename_that_fails_half_way_puts_every_file_back(tmp_path):
    """A folder where an output file goes: the files already renamed are taken back out and the
    previous ones restored, and the error names the real target, not the staging folder."""
    out = OutputFolder(tmp_path / "out", "demo").check()
    with out.staged() as folder:
        for name in ("a.txt", "b.txt", "c.txt"):
            (folder / name).write_text(f"first {name}")
    (tmp_path / "out" / "c.txt").unlink()
    (tmp_path / "out" / "c.txt").mkdir()  # in the way of the third rename
    before = snapshot(tmp_path / "out")
    in_the_way = r"could not write '.*/out/c.txt': a folder is in the way"
    with pytest.raises(OutputError, match=in_the_way), out.staged() as folder:
        for name in ("a.txt", "b.txt", "c.txt"):
            (folder / name).write_text(f"second {name}")
    assert snapshot(tmp_path / "out") == before


def test_ctrl_c_while_the_files_are_put_in_place_never_splits_them(tmp_path, monkeypatch, capsys):
    """A ctrl-C between two renames (the kernel may hand it to any thread) waits until the last."""
    out = OutputFolder(tmp_path / "out", "demo").check()
    with out.staged() as folder:
        for name in ("a.txt", "b.txt"):
            (folder / name).write_text("first")
    real_replace = os.replace

    def replace_then_ctrl_c(source, target):
        real_replace(source, target)
        signal.getsignal(signal.SIGINT)(signal.SIGINT, None)  # ctrl-C after every rename

    with remembering_ctrl_c(), pytest.raises(KeyboardInterrupt):
        if not isinstance(signal.getsignal(signal.SIGINT), RememberedCtrlC):
            pytest.skip("signal handlers can only be set from the main thread")
        with out.staged() as folder:
            for name in ("a.txt", "b.txt"):
                (folder / name).write_text("second")
            monkeypatch.setattr(os, "replace", replace_then_ctrl_c)
    monkeypatch.undo()
    assert {name: text for name, text in snapshot(tmp_path / "out").items() if name.endswith(".txt")} == {
        "a.txt": b"second", "b.txt": b"second"}  # fmt: skip
    assert "'" + str(tmp_path / "out") + "' holds the new complete output" in capsys.readouterr().err


def test_a_folder_another_command_writes_into_is_refused(tmp_path):
    OutputFolder(tmp_path / "shared", "report").check()
    (tmp_path / "shared" / ".report-outputs").write_text("linear_comparison.png\n")
    with pytest.raises(cli.UsageError, match=r"holds report's output .*: give train a folder of its own"):
        OutputFolder(tmp_path / "shared", "train").check()


@pytest.mark.parametrize("listed", [b"../victim\n", b"/etc/hostname\n", b"sub\n", b"link\n",
                                    b".demo-outputs\n", b"\xff\xfe\n", b"a\x00b\n"])  # fmt: skip
def test_a_tampered_manifest_removes_nothing_but_the_last_runs_files(tmp_path, listed):
    (tmp_path / "victim").write_text("outside")
    out = OutputFolder(tmp_path / "out", "demo").check()
    (tmp_path / "out" / "sub").mkdir()
    (tmp_path / "out" / "sub" / "thesis.tex").write_text("mine")
    (tmp_path / "out" / "link").symlink_to(tmp_path / "victim")
    (tmp_path / "out" / ".demo-outputs").write_bytes(listed)
    with out.staged() as folder:
        (folder / "a.txt").write_text("new")
    assert (tmp_path / "victim").read_text() == "outside"
    assert (tmp_path / "out" / "sub" / "thesis.tex").exists()
    assert (tmp_path / "out" / "link").is_symlink()
    assert (tmp_path / "out" / ".demo-outputs").read_text() == "a.txt\n"


def test_a_killed_runs_staging_folder_is_removed_by_the_next_run(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    abandoned = out / f".demo-partial-{dead.stdout.strip()}-x1y2"
    abandoned.mkdir()
    (abandoned / "a.txt").write_text("half")
    mine = out / f".demo-partial-{os.getpid()}-z3"  # a live process's: left alone
    mine.mkdir()
    OutputFolder(out, "demo").check()
    assert not abandoned.exists() and mine.exists()


def test_several_files_are_replaced_together_or_not_at_all(tmp_path):
    first, second = tmp_path / "a.json", tmp_path / "missing" / "b.json"
    first.write_text("old")
    with pytest.raises(OutputError, match="the files already there were kept"):
        cli.write_files_atomically({first: "new", second: "new"})
    assert first.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["a.json"]


# --- whole command lines --------------------------------------------------------------------------


def tmpfs_mount_prefix(folder: Path, size: str) -> list[str] | None:
    """A command prefix that runs a command with a tmpfs of ``size`` mounted on ``folder`` (a
    private user and mount namespace), or None where the kernel does not allow it."""
    prefix = ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
              f'mount -t tmpfs -o size={size} tmpfs "{folder}" && exec "$@"', "sh"]  # fmt: skip
    if shutil.which("unshare") and subprocess.run([*prefix, "true"], capture_output=True).returncode == 0:
        return prefix
    return None


def test_a_full_disk_keeps_the_previous_output_and_says_so(tmp_path):
    """The new run writes into a folder on a 160 KiB tmpfs that holds the earlier run of one
    dataset but not both runs at once (or, where no tmpfs can be mounted, under a 48 KiB
    file-size limit): its figures do not fit, and the earlier run's files must survive."""
    disk = tmp_path / "disk"
    disk.mkdir()
    prefix = tmpfs_mount_prefix(disk, "160k")
    out = disk / "runs"
    if prefix is None:  # the earlier run on the real disk, then a file-size limit for the new one
        code, _, err = finished(train_process(out, *SMALL_RUN, "--seed", "1"))
        before = snapshot(out)

        def limited():
            import resource

            resource.setrlimit(resource.RLIMIT_FSIZE, (48 * 1024, 48 * 1024))

        process = train_process(out, *SMALL_RUN, "--seed", "2", preexec_fn=limited)
        code, _, err = finished(process)
        assert snapshot(out) == before
    else:  # both runs inside the small tmpfs, in one namespace
        train = f'"{sys.executable}" -m twolayer_jax.train --out "{out}" --epochs 30 --no-progress'
        script = (
            f'{train} --seed 1 --dataset xor_easy > /dev/null && cp -r "{out}" "{tmp_path}/before" && '
            f'{train} --seed 2 --dataset both; code=$?; cp -r "{out}" "{tmp_path}/after"; exit $code'
        )
        pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
        process = subprocess.Popen([*prefix, "sh", "-c", script], cwd=tmp_path, **pipes)
        code, _, err = finished(process)
        assert snapshot(tmp_path / "after") == snapshot(tmp_path / "before") != {}
    assert code == 1 and one_line(err), err
    assert "could not write" in err and "keeps its previous complete output" in err


def without_write_access(folder: Path) -> list[str] | None:
    """A command prefix under which ``folder`` (mode 555) cannot be written: none for a user who
    is not root; for root, a user namespace that maps nobody to root (so root's files are
    another user's), where the kernel allows one; else None."""
    if os.geteuid() != 0:
        return []
    prefix = ["unshare", "--user"]
    probe = [*prefix, sys.executable, "-c", f"open({str(folder / 'probe')!r}, 'w')"]
    try:
        denied = subprocess.run(probe, capture_output=True, text=True)
    except OSError:
        return None
    return prefix if "PermissionError" in denied.stderr else None


def test_a_read_only_output_folder_is_refused_before_any_work(previous_run):
    out, before = previous_run
    out.chmod(0o555)
    try:
        prefix = without_write_access(out)
        if prefix is None:
            pytest.skip("no way to run without write access here")
        started = time.monotonic()
        command = [*prefix, sys.executable, "-m", "twolayer_jax.train", "--out", str(out), *SMALL_RUN]
        code, stdout, err = finished(subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                                      text=True))  # fmt: skip
    finally:
        out.chmod(0o755)
    assert code == 2 and one_line(err) and f"cannot write to output folder '{out}'" in err
    assert stdout == "" and snapshot(out) == before and time.monotonic() - started < 60


@pytest.mark.parametrize(
    "after_seconds",
    [pytest.param(0.5, marks=pytest.mark.slow), 3.0, pytest.param(6.0, marks=pytest.mark.slow)],
)  # starting, training, and (on a slow machine) writing; the ends run in make test-slow
def test_ctrl_c_at_any_moment_leaves_a_complete_output(previous_run, after_seconds):
    """Start-up, training, or writing: the folder holds the old run whole or the new run whole."""
    out, before = previous_run
    process = train_process(out, "--dataset", "both", "--epochs", "3000", "--seeds", "4", "--seed", "2",
                            "--no-progress")  # fmt: skip
    time.sleep(after_seconds)
    process.send_signal(signal.SIGINT)
    interrupted = time.monotonic()
    code, _, err = finished(process)
    assert "Traceback" not in err, err
    if code == 130:
        assert snapshot(out) == before
        assert "keeps its previous complete output" in err or "while starting: nothing was written" in err
        assert time.monotonic() - interrupted < 5
    else:
        assert code == 0 and is_complete_train_output(out, seed=2) and (out / "notes.txt").exists()


# --- every bound, refused in one line before any work --------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--epochs", str(10**12)], "--epochs must be at most 2**31 - 1"),
        (["--seeds", str(10**10)], "seeds must be below 2**32"),
        (["--seeds", str(10**9)], "need about"),
        (["--out", ""], "argument --out: must not be empty"),
    ],
)
def test_the_report_refuses_what_it_cannot_do_before_any_work(capsys, tmp_path, argv, message):
    code = run_cli(report_cli.main, ["--out", str(tmp_path / "report"), *argv], "report")
    captured = capsys.readouterr()
    assert code == 2 and one_line(captured.err) and message in captured.err
    assert not (tmp_path / "report").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--json", "/proc/nope/r.json"], "cannot write '/proc/nope/r.json'"),
        (["--markdown", "/proc/x.md"], "cannot write '/proc/x.md'"),
        (["--plot", "."], "cannot write '.': it is a folder"),
        (["--epochs", str(10**10)], "--epochs must be at most 2**31 - 1"),
        (["--seeds", str(10**8)], "need about"),
    ],
)
def test_the_benchmark_refuses_what_it_cannot_do_before_measuring(capsys, tmp_path, argv, message):
    started = time.monotonic()
    code = run_cli(throughput.main, ["--json", str(tmp_path / "r.json"), *argv], "bench")
    captured = capsys.readouterr()
    assert code == 2 and one_line(captured.err) and message in captured.err
    assert time.monotonic() - started < 30 and not (tmp_path / "r.json").exists()


def test_the_checker_refuses_an_unwritable_report_before_grading(capsys, tmp_path):
    (tmp_path / "mine.py").write_text("def backward(params, x, y):\n    return {}\n")
    code = run_cli(check.main, [str(tmp_path / "mine.py"), "--json", "/proc/nope/r.json"], "check")
    captured = capsys.readouterr()
    assert code == 2 and one_line(captured.err) and captured.out == ""


def test_a_sweep_figure_with_nothing_at_100_percent_draws_without_warnings():
    stuck = [RunSummary(s, 0.25, 0.5, None, None) for s in range(2)]
    diverged = [RunSummary(s, None, None, None, 3) for s in range(2)]
    outcomes = [cell_outcome("0.1", stuck), cell_outcome("1", diverged)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = sweep_figure(
            [0.1, 1.0], {"xor_easy": outcomes}, {"xor_easy": [stuck, diverged]}, "learning rate", "t", 10
        )
        fig.canvas.draw()
    assert "no seed reached 100 %" in [text.get_text() for text in fig.axes[1].texts]


def test_a_ctrl_c_python_cannot_raise_is_not_printed_as_a_traceback(monkeypatch):
    """A handler's KeyboardInterrupt inside a garbage-collection callback reaches
    sys.unraisablehook, which would print "Exception ignored" and a traceback; under
    remembering_ctrl_c it is dropped (the ctrl-C is remembered), and any other error is not."""
    reported = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)

    class Unraisable:
        def __init__(self, exc_type):
            self.exc_type, self.exc_value, self.exc_traceback = exc_type, exc_type(), None
            self.err_msg, self.object = None, None

    with remembering_ctrl_c():
        sys.unraisablehook(Unraisable(KeyboardInterrupt))
        sys.unraisablehook(Unraisable(ValueError))
    assert [u.exc_type for u in reported] == [ValueError]
    assert sys.unraisablehook == reported.append  # put back
