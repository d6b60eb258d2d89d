"""The checker against hostile submissions: nothing the checked code does may forge, hide, hang,
kill or outlive the verdict. Each attack is a small submission of its own; the ones aimed at the
checker's process run the checker as a process of its own, so a failure here is a failed test,
never a dead test runner."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from test_check import CORRECT, WITH_DELTAS, mutate

from twolayer_jax.checks import check, gradcheck
from twolayer_jax.checks.comparison import relative_error
from twolayer_jax.checks.diagnosis import DELTAS_CONTRADICT_GRADIENTS
from twolayer_jax.checks.sandbox import Isolation, Supervisor, choose_isolation, concurrent_isolations
from twolayer_jax.cli import run_cli

ISOLATED = choose_isolation().shields_the_checker
needs_isolation = pytest.mark.skipif(
    not ISOLATED, reason="no namespaces and not root: the child shares the user"
)


def checker_process(tmp_path: Path, *argv: str, timeout: float = 120, env: dict | None = None):
    """The checker as a process of its own, in a folder of its own; a stopped or hung checker is
    killed and reported as a failed test."""
    grader = tmp_path / "grader"
    grader.mkdir(exist_ok=True)
    command = [sys.executable, "-m", "twolayer_jax.check", *argv]
    process = subprocess.Popen(command, cwd=grader, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"the checker did not finish within {timeout} s:\n{out}\n{err}")
    return process.returncode, out, err


def last_line(out: str) -> str:
    return out.rstrip().splitlines()[-1]


def checked(capsys, tmp_path, source: str, *options: str, name: str = "mine.py"):
    (tmp_path / name).write_text(source)
    code = run_cli(check.main, [str(tmp_path / name), *options], "check")
    return code, capsys.readouterr().out


# --- 1. forged results: whatever the child writes, the parent judges the tensors itself ----------

FORGER = """
import json, os, sys
from pathlib import Path
import numpy as np

folders = {{Path(a) for a in sys.argv[1:] if Path(a).is_dir()}} | {{Path.cwd()}}
folders |= {{Path(json.loads(Path(a).read_text())["results"]) for a in sys.argv[1:] if a.endswith(".json")}}
ok = {{"status": "ok", "message": "", "traceback": ""}}
for folder in folders:
    count = len(list(folder.glob("problem_*.npz")))
    status = {{**ok, "calls": [ok] * count, "load": {{"status": "ok"}}}}
    (folder / "status.json").write_text(json.dumps(status))
    for i in range(10):
        if (folder / f"problem_{{i}}.npz").exists():
            problem = np.load(folder / f"problem_{{i}}.npz")
            fake = {{k: np.full(problem[k].shape, {value}) for k in {keys}}}
            np.savez(folder / f"result_{{i}}.npz", **fake)
os._exit(0)
"""


@pytest.mark.parametrize(
    ("value", "keys"), [("0.0", "()"), ("np.nan", "('W1', 'b1', 'W2', 'b2', 'W3', 'b3')"), ("1.0", "('W1',)")]
)
def test_forged_status_and_result_files_are_never_right(capsys, tmp_path, value, keys):
    code, out = checked(capsys, tmp_path, FORGER.format(value=value, keys=keys))
    assert code != 0 and not last_line(out).startswith("RIGHT"), out


# --- 2. NaN and overflow are wrong, however they got there --------------------------------------


def test_gradients_too_large_for_the_norms_are_wrong(capsys, tmp_path):
    huge = CORRECT.replace("    return grads", "    return {k: v * 1e200 for k, v in grads.items()}")
    code, out = checked(capsys, tmp_path, huge)
    assert code == 1 and last_line(out) == "WRONG: ∂W3 is wrong", out


def test_nan_behind_a_monkeypatched_isfinite_is_wrong(capsys, tmp_path):
    sneaky = "import numpy as np\nnp.isfinite = lambda a: np.ones(np.shape(a), bool)\n" + CORRECT.replace(
        "grad_W1 = x.T @ delta1", "grad_W1 = x.T @ delta1 * np.nan"
    )
    code, out = checked(capsys, tmp_path, sneaky)
    assert code == 1 and "∂W1 contains NaN or inf" in last_line(out), out


def test_nan_in_an_ndarray_subclass_that_claims_to_be_finite_is_wrong(capsys, tmp_path):
    subclass = CORRECT.replace(
        "    return grads",
        "    class Fine(np.ndarray):\n        def __array_ufunc__(self, *a, **k):\n            return True\n"
        "    grads['b2'] = (grads['b2'] * np.nan).view(Fine)\n    return grads",
    )
    code, out = checked(capsys, tmp_path, subclass)
    assert code == 1 and "∂b2 contains NaN or inf" in last_line(out), out


def test_a_nan_relative_error_is_impossible():
    assert relative_error(np.array([np.nan]), np.array([1.0])) == np.inf
    assert relative_error(np.array([1e300, -1e300]), np.array([1e300, 1e300])) == pytest.approx(2**0.5)
    assert not relative_error(np.array([np.inf]), np.array([np.inf])) <= check.RIGHT


# --- 3. the checked code cannot kill, stop or interrupt the checker -------------------------------

SIGNALLER = """
import os
for pid in os.listdir("/proc"):
    try:
        command = open(f"/proc/{{pid}}/cmdline", "rb").read()
    except OSError:
        continue
    if b"twolayer_jax.check" in command and b"{marker}" in command:
        try:
            os.kill(int(pid), {signal})
        except OSError:
            pass
"""


@needs_isolation
@pytest.mark.parametrize("signal_name", ["SIGKILL", "SIGSTOP", "SIGINT", "SIGTERM"])
def test_the_submission_cannot_signal_the_checker(tmp_path, signal_name):
    folder = tmp_path / f"class_{signal_name}"
    folder.mkdir()
    (folder / "alice.py").write_text(CORRECT)
    attack = SIGNALLER.format(marker=folder.name, signal=int(getattr(signal, signal_name)))
    (folder / "mallory.py").write_text(attack + CORRECT)
    report = tmp_path / "report.json"
    code, out, _ = checker_process(tmp_path, str(folder), "--json", str(report), timeout=90)
    assert code == 0, out
    assert "2 submissions: 2 right, 0 wrong" in out
    assert [r["verdict"] for r in json.loads(report.read_text())] == ["right", "right"]


# --- 4. nothing the submission starts outlives the check; it runs in a folder of its own ----------

DAEMON = """
import os, time
try:
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            time.sleep(2)
            open({marker!r}, "w").write("I outlived the check")
        os._exit(0)
except OSError:
    pass  # no process may be started at all: as good
"""


def test_no_process_started_by_the_submission_outlives_the_check(capsys, tmp_path):
    marker = tmp_path / "outlived"
    started = time.monotonic()
    code, out = checked(capsys, tmp_path, DAEMON.format(marker=str(marker)) + CORRECT)
    assert code == 0 and time.monotonic() - started < 30, out
    time.sleep(3)
    assert not marker.exists()


def test_a_leftover_process_holding_the_output_cannot_make_the_check_wait(capsys, tmp_path):
    holder = (
        "import os, time\ntry:\n    if os.fork() == 0:\n        time.sleep(60)\nexcept OSError:\n    pass\n"
    )
    started = time.monotonic()
    code, out = checked(capsys, tmp_path, holder + CORRECT, "--timeout", "20")
    assert code == 0 and time.monotonic() - started < 15, out


def test_the_submission_runs_in_a_fresh_folder_with_a_minimal_environment(tmp_path):
    spy = tmp_path / "spy.json"
    snoop = (
        f"import json, os\nopen({str(spy)!r}, 'w').write(json.dumps({{'cwd': os.getcwd(), "
        "'env': sorted(os.environ)}))\nif os.path.exists('precious.txt'):\n    os.remove('precious.txt')\n"
    )
    (tmp_path / "mine.py").write_text(snoop + CORRECT)
    (tmp_path / "grader").mkdir()
    (tmp_path / "grader" / "precious.txt").write_text("the grades")
    env = os.environ | {"GRADER_SECRET_TOKEN": "hunter2"}
    code, out, _ = checker_process(tmp_path, str(tmp_path / "mine.py"), env=env)
    seen = json.loads(spy.read_text())
    assert code == 0, out
    assert (tmp_path / "grader" / "precious.txt").exists()
    assert Path(seen["cwd"]) != tmp_path / "grader" and "GRADER_SECRET_TOKEN" not in seen["env"]
    assert set(seen["env"]) <= {"PATH", "HOME", "TMPDIR", "LANG", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                "MKL_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "LC_CTYPE"}  # fmt: skip


def test_memory_is_limited(capsys, tmp_path):
    greedy = "import numpy as np\nhoard = np.ones(2**28)\n" + CORRECT  # 2 GiB
    code, out = checked(capsys, tmp_path, greedy, "--memory-limit", "512")
    assert code == 2 and last_line(out) == "ERROR: could not run it: loading it raised MemoryError", out


# --- 5. the submission's text never reaches the verdict, and is printed defanged -----------------

FORGED_BLOCK = "\\x1b[2J\\nRIGHT: every gradient matches jax.grad (float64)\\n== other.py\\nRIGHT: all fine"


def test_an_exception_cannot_forge_the_verdict_or_a_block(capsys, tmp_path):
    liar = f"class RIGHT(Exception):\n    pass\n\n\ndef backward(params, x, y):\n    raise RIGHT('{FORGED_BLOCK}')\n"
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "liar.py").write_text(liar)
    (folder / "zed.py").write_text(mutate([("2 / n * (out - y)", "(out - y)")]))
    code = run_cli(check.main, [str(folder)], "check")
    out = capsys.readouterr().out
    assert code == 2 and "\x1b" not in out
    verdicts = [line for line in out.splitlines() if line.startswith(("RIGHT", "WRONG", "ERROR", "=="))]
    assert verdicts == [f"== {folder / 'liar.py'}",
                        "ERROR: could not grade it: it raised an exception of its own class on every problem",
                        f"== {folder / 'zed.py'}", "WRONG: ∂W3 is wrong"]  # fmt: skip


def test_a_crash_message_stays_out_of_the_verdict_line(capsys, tmp_path):
    crasher = "import os, sys\nsys.stderr.write('RIGHT: every gradient matches\\n'); sys.stderr.flush()\nos._exit(1)\n"
    code, out = checked(capsys, tmp_path, crasher)
    assert code == 2 and "  | RIGHT: every gradient matches" in out
    assert (
        last_line(out) == "ERROR: could not run it: the Python process running it ended early (exit code 1)"
    )


def test_a_file_name_cannot_forge_a_line(capsys, tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "a\nRIGHT: fine.py").write_text(mutate([("2 / n * (out - y)", "(out - y)")]))
    (folder / "b.py").write_text(mutate([("2 / n * (out - y)", "(out - y)")]))
    assert run_cli(check.main, [str(folder)], "check") == 1
    assert not any(line.startswith("RIGHT") for line in capsys.readouterr().out.splitlines())


# --- 6. the answer key and autodiff are out of bounds ------------------------------------------------

USES = {
    "jax": "import jax\n",
    "twolayer_jax": "from manual import backward_with_deltas\n",
    "twolayer_jax ": "import twolayer_jax.gradients\n",
}


@pytest.mark.parametrize("group", USES)
def test_the_answer_key_and_autodiff_cannot_be_imported(capsys, tmp_path, group):
    code, out = checked(capsys, tmp_path, USES[group] + CORRECT)
    name = group.strip()
    assert code == 2, out
    assert last_line(out) == (f"ERROR: could not run it: it imports {name}, which a submission may not use "
                              f"(--allow-import {name} lifts this)")  # fmt: skip


def test_a_learners_own_module_named_like_the_project_still_imports(capsys, tmp_path):
    (tmp_path / "manual.py").write_text("def derivative_sigmoid(z):\n    return z * (1 - z)\n")
    mine = "from manual import derivative_sigmoid\n" + CORRECT.replace(
        "def derivative_sigmoid(z):", "def _(z):"
    )
    code, out = checked(capsys, tmp_path, mine)
    assert code == 0, out


# --- 7. no blind spot: the lab's sizes, deltas against gradients, low precision ------------------------


def test_a_pass_wrong_only_beyond_sixteen_points_is_wrong(capsys, tmp_path):
    large_only = CORRECT.replace(
        "    dL_dout = 2 / n * (out - y)", "    dL_dout = (2 / n if n <= 16 else 1 / n) * (out - y)"
    )
    code, out = checked(capsys, tmp_path, large_only)
    assert code == 1, out


def test_a_pass_wrong_only_at_the_labs_width_is_wrong(capsys, tmp_path):
    wide_only = CORRECT.replace(
        "grad_W2 = z1.T @ delta2", "grad_W2 = z1.T @ delta2 * (1.001 if W2.shape[0] >= 100 else 1)"
    )
    code, out = checked(capsys, tmp_path, wide_only)
    assert code == 1 and last_line(out) == "WRONG: ∂W2 is wrong", out


def test_wrong_deltas_beside_right_gradients_get_a_hint_consistent_with_both(capsys, tmp_path):
    off = mutate(WITH_DELTAS).replace('"delta3": delta3}', '"delta3": dL_dout}')
    code, out = checked(capsys, tmp_path, off)
    hints = [line for line in out.splitlines() if line.startswith("hint:")]
    assert code == 1 and hints == [f"hint: {DELTAS_CONTRADICT_GRADIENTS}"], out


def test_float16_rounded_right_values_are_named_as_low_precision(capsys, tmp_path):
    rounded = CORRECT.replace(
        "    return grads",
        "    return {k: v.astype(np.float16).astype(np.float64) for k, v in grads.items()}",
    )
    code, out = checked(capsys, tmp_path, rounded)
    assert code == 1 and "hint: every returned value is exactly a float16 number" in out, out
    assert "unrecognised" not in out


# --- 8. gradcheck --backward: the same containment, a timeout, and no pass by exiting --------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("import sys\n    sys.exit(0)", "it raised SystemExit on every problem"),
        ("import os\n    os._exit(0)", "ended early (exit code 0)"),
        ("while True:\n        pass", "did not finish within 5 s"),
    ],
)
def test_gradcheck_backward_that_exits_or_hangs_is_not_a_pass(capsys, tmp_path, body, reason):
    (tmp_path / "cheat.py").write_text(f"def backward(*arguments):\n    {body}\n")
    argv = [
        "--backward",
        f"{tmp_path / 'cheat.py'}:backward",
        "--timeout",
        "5",
        "--network",
        "sigmoid/sigmoid/mse",
    ]
    code = run_cli(gradcheck.main, argv, "gradcheck")
    captured = capsys.readouterr()
    assert code == 2 and reason in captured.err and captured.out == "", captured


# --- 9. folder mode grades submissions and says why it skipped the rest -------------------------------


def test_a_folder_grades_submissions_and_lists_the_other_files_as_skipped(capsys, tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "alice.py").write_text(CORRECT)
    (folder / "helpers.py").write_text("def sigmoid(t):\n    return t\n")
    (folder / "broken.py").symlink_to(tmp_path / "nowhere.py")
    (folder / "package.py").mkdir()
    (folder / "typo.py").write_text("def backward(params, x, y)\n    pass\n")
    report = tmp_path / "report.json"
    code = run_cli(check.main, [str(folder), "--json", str(report)], "check")
    out = capsys.readouterr().out
    assert code == 2  # typo.py cannot be graded: a syntax error is a submission's, not a helper's
    assert "2 submissions: 1 right, 0 wrong, 1 could not be graded; 3 files skipped" in out
    records = {Path(r["target"]).name: r for r in json.loads(report.read_text())}
    assert records["helpers.py"] == {"target": str(folder / "helpers.py"), "verdict": "skipped",
                                     "reason": "defines no function 'backward' (a helper module?)"}  # fmt: skip
    assert records["broken.py"]["reason"] == "a broken link"
    assert records["package.py"]["reason"] == "a folder, not a file"
    assert records["alice.py"]["verdict"] == "right" and records["typo.py"]["verdict"] == "error"


def test_an_unwritable_report_is_refused_before_any_grading(capsys, tmp_path):
    (tmp_path / "mine.py").write_text(CORRECT)
    started = time.monotonic()
    code = run_cli(check.main, [str(tmp_path / "mine.py"), "--json", "/proc/nope/r.json"], "check")
    captured = capsys.readouterr()
    assert code == 2 and "cannot write '/proc/nope/r.json'" in captured.err and captured.out == ""
    assert time.monotonic() - started < 2


# --- 7. a folder graded over the cores: runs that overlap never end one another -----------------

needs_subreaper = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="child subreapers are Linux's"
)


@needs_subreaper
def test_a_sweep_ends_orphans_and_never_a_child_still_waited_for():
    supervisor = Supervisor()
    start = lambda: subprocess.Popen(["sleep", "60"], start_new_session=True)  # noqa: E731
    with supervisor.started(start) as waited_for:
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        subprocess.run(["sh", "-c", "sleep 60 &"], check=True, **quiet)  # the shell's sleep is orphaned
        orphans = supervisor.orphans()
        assert len(orphans) == 1 and waited_for.pid not in orphans
        supervisor.sweep()
        assert supervisor.orphans() == set() and waited_for.poll() is None
    assert waited_for.returncode == -signal.SIGKILL


def test_runs_at_once_as_private_users_each_get_a_user_of_their_own():
    """Ending a private user's run kills everything that user runs: two runs must never share one."""
    shared = Isolation(("unshare", "--"), None, "its own namespaces")
    assert concurrent_isolations(shared, 3) == [shared] * 3
    private = Isolation((), 61000, "a private user, uid 61000 (it cannot signal the checker)")
    isolations = concurrent_isolations(private, 3)
    users = [isolation.user for isolation in isolations]
    assert len(isolations) == 3 and users[0] == 61000 and len(set(users)) == 3
    assert all(f"uid {isolation.user} " in isolation.description for isolation in isolations)


RENDEZVOUS = """
import pathlib, time
meeting = pathlib.Path({meeting!r})
(meeting / {name!r}).write_text("here")
deadline = time.monotonic() + 30
while len(list(meeting.iterdir())) < 2 and time.monotonic() < deadline:
    time.sleep(0.05)
if len(list(meeting.iterdir())) < 2:
    raise SystemExit("the other submission never ran beside me")
time.sleep({linger})
"""


@needs_isolation
def test_submissions_run_at_once_and_one_ending_never_ends_another(capsys, tmp_path):
    """Each of the two waits until the other has started, so both are right only if they run at
    once; alice lingers after bob has ended, so she is right only if bob's sweep spared her."""
    meeting, folder = tmp_path / "meeting", tmp_path / "class"
    meeting.mkdir(mode=0o777)
    folder.mkdir()
    for name, linger in (("alice", 2), ("bob", 0)):
        source = RENDEZVOUS.format(meeting=str(meeting), name=name, linger=linger)
        (folder / f"{name}.py").write_text(source + CORRECT)
    code = run_cli(check.main, [str(folder), "--jobs", "2"], "check")
    out = capsys.readouterr().out
    assert code == 0 and "2 submissions: 2 right, 0 wrong" in out, out


HEARTBEAT = """
import pathlib, time
beat = pathlib.Path({beat!r})
while True:
    with beat.open("a") as file:
        file.write(".")
    time.sleep(0.05)
"""


@needs_isolation
def test_ctrl_c_ends_every_running_submission_at_once(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    beats = [tmp_path / f"beat_{name}" for name in ("alice", "bob")]
    for beat in beats:
        (folder / f"{beat.name}.py").write_text(HEARTBEAT.format(beat=str(beat)) + CORRECT)
    command = [sys.executable, "-m", "twolayer_jax.check", str(folder), "--jobs", "2", "--timeout", "60"]
    checker = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 60
    while not all(beat.exists() for beat in beats) and time.monotonic() < deadline:
        time.sleep(0.1)
    checker.send_signal(signal.SIGINT)
    interrupted = time.monotonic()
    try:
        checker.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        checker.kill()
        pytest.fail("the checker did not stop within 15 s of ctrl-C")
    assert checker.returncode == 130 and time.monotonic() - interrupted < 5
    sizes = [beat.stat().st_size for beat in beats]
    time.sleep(0.5)
    assert [beat.stat().st_size for beat in beats] == sizes, "a submission kept running after ctrl-C"


# --- 8. no submission changes what another is graded on, nor what runs it ----------------------


@needs_isolation
def test_a_submission_rewriting_another_on_disk_changes_nothing_graded(capsys, tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    victim = folder / "z_victim.py"
    victim.write_text(CORRECT)
    vandal = f"import pathlib\npathlib.Path({str(victim)!r}).write_text('def backward(params, x, y):\\n    return {{}}\\n')\n"
    (folder / "a_vandal.py").write_text(vandal + CORRECT)
    code = run_cli(check.main, [str(folder), "--jobs", "1"], "check")
    out = capsys.readouterr().out
    assert code == 0 and "2 submissions: 2 right, 0 wrong" in out, out


def test_each_child_runs_its_own_copy_of_the_harness(capsys, tmp_path):
    spy = tmp_path / "argv0"
    (tmp_path / "mine.py").write_text(f"import sys\nopen({str(spy)!r}, 'w').write(sys.argv[0])\n" + CORRECT)
    code = run_cli(check.main, [str(tmp_path / "mine.py")], "check")
    assert code == 0, capsys.readouterr().out
    harness = Path(spy.read_text())
    assert harness.name == "learner_harness.py" and harness.parent.name.startswith("twolayer_check_")
