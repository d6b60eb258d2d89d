"""Running a learner's own ``backward(params, x, y)`` safely.

The learner's code never runs in the checker's process: a child Python process (this module's
``__main__``) loads it, calls it on each problem and writes back what it returned, under a
timeout. So code that raises, loops, prints, calls ``sys.exit`` or crashes the interpreter is a
finding about the learner's code, never a crash of the checker.

Problems go in and results come back as ``.npz`` files in a temporary folder, with a JSON
status; only NumPy is imported in the child.
"""

import json
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path
from typing import NamedTuple

import numpy as np

PARAM_KEYS = ("W1", "b1", "W2", "b2", "W3", "b3")
DELTA_KEYS = ("delta1", "delta2", "delta3")


class CallResult(NamedTuple):
    """What one call of the learner's function came to."""

    status: str  # "ok", "raised" or "bad_return"
    arrays: dict[str, np.ndarray]  # the returned tensors (status "ok")
    message: str  # one line: why it is not "ok"
    learner_traceback: str  # the learner's own frames, for "raised"


class LearnerRun(NamedTuple):
    status: str  # "ok" (see calls), "load_error", "timeout" or "crashed"
    message: str  # one line, for anything but "ok"
    learner_traceback: str
    calls: list[CallResult]


# --- the parent's side ---------------------------------------------------------------------------


def run_learner(target: str, problems: list[dict[str, np.ndarray]], timeout: float) -> LearnerRun:
    """Call ``target`` (``file.py``, ``file.py:function``, ``module:function``) on each problem
    (a dict with ``params`` arrays under their names plus ``x`` and ``y``) in a child process."""
    with tempfile.TemporaryDirectory(prefix="twolayer_check_") as folder:
        run_dir = Path(folder)
        for i, problem in enumerate(problems):
            np.savez(run_dir / f"problem_{i}.npz", **problem)
        command = [sys.executable, "-m", "twolayer_jax.learner", target, str(run_dir), str(len(problems))]
        try:
            completed = subprocess.run(
                command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout
            )
        except subprocess.TimeoutExpired:
            return LearnerRun("timeout", f"the function did not finish within {timeout:g} s", "", [])
        status_file = run_dir / "status.json"
        if not status_file.exists():
            last_line = (completed.stderr.strip().splitlines() or ["no output"])[-1]
            message = f"the Python process running it died (exit code {completed.returncode}): {last_line}"
            return LearnerRun("crashed", message, "", [])
        status = json.loads(status_file.read_text())
        if status["status"] != "ok":
            return LearnerRun(status["status"], status["message"], status["traceback"], [])
        return LearnerRun(
            "ok", "", "", [read_call(run_dir, i, call) for i, call in enumerate(status["calls"])]
        )


def read_call(run_dir: Path, index: int, call: dict) -> CallResult:
    arrays = {}
    if call["status"] == "ok":
        with np.load(run_dir / f"result_{index}.npz") as saved:
            arrays = {key: saved[key] for key in saved.files}
    return CallResult(call["status"], arrays, call["message"], call["traceback"])


# --- the child's side ----------------------------------------------------------------------------


def learner_frames_only(error: BaseException) -> str:
    """The traceback of ``error`` without this module's frames: what the learner's code did."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename != __file__]
    lines = traceback.format_list(frames) + traceback.format_exception_only(type(error), error)
    return "Traceback (most recent call last):\n" + "".join(lines)


def one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def load_target(target: str):
    """The learner's function from ``file.py[:name]`` or ``module:name`` (default name backward)."""
    import importlib
    import importlib.util

    if ":" in target and not Path(target).exists():
        location, name = target.rsplit(":", 1)
    else:
        location, name = target, "backward"
    if location.endswith(".py") or Path(location).is_file():
        path = Path(location)
        if not path.is_file():
            raise LookupError(f"no file {location!r}")
        sys.path.insert(0, str(path.resolve().parent))  # let it import its own helper modules
        spec = importlib.util.spec_from_file_location(f"learner_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    else:
        module = importlib.import_module(location)
    function = getattr(module, name, None)
    if not callable(function):
        raise LookupError(f"{location!r} defines no function {name!r}")
    return function


def describe_type(value) -> str:
    kind = type(value)
    if kind.__module__.split(".")[0] in ("jax", "jaxlib"):
        return "a JAX array (return NumPy arrays: np.asarray(...))"
    return f"a {kind.__name__}"


def validate(returned) -> tuple[dict[str, np.ndarray], str]:
    """The returned tensors as float64 arrays, or a one-line reason they break the contract."""
    if not isinstance(returned, dict):
        return {}, f"backward returned {describe_type(returned)}, expected a dict of NumPy arrays"
    missing = [k for k in PARAM_KEYS if k not in returned]
    if missing:
        return {}, f"the returned dict lacks {', '.join(missing)}"
    extra = sorted(str(k) for k in returned if k not in PARAM_KEYS + DELTA_KEYS)
    if extra:
        return (
            {},
            f"the returned dict has unexpected keys {', '.join(extra)} (allowed: {', '.join(DELTA_KEYS)})",
        )
    arrays = {}
    for key, value in returned.items():
        if not isinstance(value, np.ndarray | np.generic):
            return {}, f"{key} is {describe_type(value)}, expected a NumPy array"
        if not (np.issubdtype(value.dtype, np.floating) or np.issubdtype(value.dtype, np.integer)):
            return {}, f"{key} has dtype {value.dtype}, expected float64 numbers"
        if not np.all(np.isfinite(value)):
            return {}, f"{key} contains NaN or inf"
        arrays[key] = np.asarray(value, np.float64)
    return arrays, ""


def child_main(target: str, run_dir: Path, count: int) -> None:
    status_file = run_dir / "status.json"
    try:
        function = load_target(target)
    except (Exception, SystemExit) as error:  # anything the learner's module does while loading
        is_lookup = isinstance(error, LookupError)
        status = {"status": "load_error", "message": one_line(error) if not is_lookup else str(error),
                  "traceback": "" if is_lookup else learner_frames_only(error)}  # fmt: skip
        status_file.write_text(json.dumps(status))
        return
    calls = []
    for i in range(count):
        with np.load(run_dir / f"problem_{i}.npz") as saved:
            problem = {key: saved[key] for key in saved.files}
        params = {key: problem[key].copy() for key in PARAM_KEYS}
        try:
            returned = function(params, problem["x"].copy(), problem["y"].copy())
        except (Exception, SystemExit) as error:  # sys.exit in learner code is a finding too
            calls.append(
                {"status": "raised", "message": one_line(error), "traceback": learner_frames_only(error)}
            )
            continue
        arrays, problem_text = validate(returned)
        if problem_text:
            calls.append({"status": "bad_return", "message": problem_text, "traceback": ""})
            continue
        np.savez(run_dir / f"result_{i}.npz", **arrays)
        calls.append({"status": "ok", "message": "", "traceback": ""})
    status_file.write_text(json.dumps({"status": "ok", "message": "", "traceback": "", "calls": calls}))


if __name__ == "__main__":
    import contextlib
    import io

    # the learner's prints would be noise in the checker's report
    with contextlib.redirect_stdout(io.StringIO()):
        child_main(sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]))
