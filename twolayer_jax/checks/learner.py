"""Running a learner's own ``backward(params, x, y)`` in the sandbox and reading back what it
returned, trusting nothing the child wrote.

The child (:mod:`twolayer_jax.checks.learner_harness`) runs the learner's code in its own process, so
anything the harness can write, the learner's code can write too. This side therefore reads every
problem's every tensor itself, as plain float64 arrays from files it checks before opening, and
takes the child's status only to *describe* a failure, in words this module writes: an exception
is named only when it is one of Python's own, and every text the learner controls (tracebacks,
output) travels separately, to be shown under a label by :func:`printable`.
"""

import builtins
import io
import json
import math
import shutil
import signal
import sys
import unicodedata
from pathlib import Path
from typing import NamedTuple

import numpy as np

import manual
import twolayer_jax
from twolayer_jax.checks import learner_harness
from twolayer_jax.checks.sandbox import (
    Isolation,
    Limits,
    Supervisor,
    read_untrusted,
    run_contained,
    working_folder,
)
from twolayer_jax.checks.terms import DELTA_KEYS, PARAM_KEYS

# the answer key (this project) and autodiff: a submission that imports them proves nothing.
# Each name --allow-import takes, and the top-level packages it stands for.
FORBIDDEN_IMPORTS = {"jax": ("jax", "jaxlib"), "torch": ("torch",), "tensorflow": ("tensorflow",),
                     "autograd": ("autograd",), "twolayer_jax": ("twolayer_jax", "manual")}  # fmt: skip
RESULT_LIMIT = 16 * 2**20  # bytes of one problem's returned arrays (the lab's sizes need < 1 MiB)
STATUS_LIMIT = 4 * 2**20
NO_SUCH_FUNCTION = "no such function"
GENERIC_EXCEPTIONS = ("Exception", "BaseException")
HELPER_FILES_LIMIT = 200  # sibling .py files copied beside a submission, for its own imports


class Target(NamedTuple):
    """What to check: a file (``file.py``, ``file.py:function``) or ``module:function``."""

    display: str  # as the user gave it
    file: Path | None
    module: str | None
    function: str


class Call(NamedTuple):
    """What one call of the learner's function came to, as this side read it."""

    arrays: dict[str, np.ndarray]  # the returned tensors that are real-number arrays, as float64
    raw_dtypes: dict[str, str]  # their dtypes as returned (float16 values are exact in float64)
    notes: dict[str, str]  # returned under a tensor's name but unusable: why
    extra_keys: list[str]  # returned under names the contract does not have (printable)
    failure: str  # "" when a dict came back; else what happened, in this module's words
    learner_text: str  # the learner's traceback for this call, if it raised


class LearnerRun(NamedTuple):
    failure: str  # "" when the function was loaded and called; else why not, in our words
    learner_text: str  # the learner's traceback or output that goes with the failure
    calls: list[Call]
    refused_imports: list[str]


# the child's side, read once when the checker starts: each child runs its own copy of these bytes
HARNESS_SOURCE = Path(learner_harness.__file__).read_bytes()
HARNESS_NAME = "learner_harness.py"


def parse_target(text: str, default_function: str = "backward") -> Target:
    if ":" in text and not Path(text).exists():
        location, function = text.rsplit(":", 1)
    else:
        location, function = text, default_function
    if location.endswith(".py") or Path(location).is_file() or "/" in location:
        return Target(text, Path(location), None, function)
    return Target(text, None, location, function)


def printable(text: str, keep_newlines: bool = True) -> str:
    """Learner text made safe to print: control and format characters (terminal escapes,
    carriage returns, bidi overrides, line separators) shown as ``\\x1b``-style escapes."""

    def safe(char: str) -> str:
        if char == "\n" and keep_newlines:
            return char
        if char == "\t":
            return "    "
        if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"):
            return char.encode("unicode_escape").decode("ascii")
        return char

    return "".join(safe(char) for char in text)


def exception_name(record: dict) -> str:
    """The nearest built-in exception class the learner's exception derives from, or a neutral
    phrase: a learner's own class could be called anything, ``RIGHT`` included, so its own name
    never reaches the verdict."""
    name = record.get("builtin")
    builtin = getattr(builtins, name, None) if isinstance(name, str) else None
    if isinstance(builtin, type) and issubclass(builtin, BaseException) and name not in GENERIC_EXCEPTIONS:
        return name
    return "an exception of its own class"


def text_of(record: dict, key: str, limit: int = 20000) -> str:
    value = record.get(key)
    return value[-limit:] if isinstance(value, str) else ""


def forbidden_import(record: dict, forbidden: tuple[str, ...]) -> str | None:
    """The --allow-import name of the forbidden package the record says was refused."""
    name = record.get("forbidden")
    return next((group for group in forbidden if name in FORBIDDEN_IMPORTS[group]), None)


def forbidden_reason(group: str) -> str:
    return f"it imports {group}, which a submission may not use (--allow-import {group} lifts this)"


def snapshot_sources(files: list[Path]) -> dict[Path, bytes]:
    """Each submission and the .py files beside it (its own helper modules), read now: grading
    copies them from here, so a submission that rewrites another's file on disk while it runs
    changes nothing that is graded."""
    sources = {}
    for folder in dict.fromkeys(file.resolve().parent for file in files):
        for path in sorted(folder.glob("*.py")):
            if path.is_file():
                sources[path] = path.read_bytes()
    for file in files:  # a submission that is not a .py file
        sources.setdefault(file.resolve(), file.read_bytes())
    return sources


def copy_submission(target: Target, folder: Path, sources: dict[Path, bytes]) -> Path:
    """The submission and its helper modules, from ``sources`` (:func:`snapshot_sources`), copied
    where the child can read them, whoever owns the original folder."""
    destination = folder / "submission"
    destination.mkdir()
    original = target.file.resolve()
    helpers = sorted(path for path in sources if path.parent == original.parent and path != original)
    for helper in helpers[:HELPER_FILES_LIMIT]:
        (destination / helper.name).write_bytes(sources[helper])
    copy = destination / (target.file.name if target.file.suffix == ".py" else "submission.py")
    copy.write_bytes(sources[original])
    return copy


def harness_config(
    target: Target,
    folder: Path,
    calls: list[dict],
    forbidden: tuple[str, ...],
    jax_contract: bool,
    sources: dict[Path, bytes],
) -> dict:
    packages = [name for group in forbidden for name in FORBIDDEN_IMPORTS[group]]
    project = {"twolayer_jax": twolayer_jax, "manual": manual}
    return {
        "results": str(folder),
        "calls": calls,
        "jax": jax_contract,
        "pair": jax_contract,
        "function": target.function,
        "module": target.module,
        "module_path": str(Path.cwd()),
        "source": str(copy_submission(target, folder, sources)) if target.file else None,
        "display": str(target.file.resolve()) if target.file else target.display,
        # the project's packages are refused by where they live, so a learner's own manual.py imports
        "forbidden_names": [name for name in packages if name not in project],
        "forbidden_folders": [
            str(Path(project[name].__file__).parent) for name in packages if name in project
        ],
    }


def run_learner(
    target: Target,
    problems: list[dict[str, np.ndarray]],
    limits: Limits,
    isolation: Isolation,
    forbidden: tuple[str, ...] = tuple(FORBIDDEN_IMPORTS),
    extra_arguments: list[tuple] | None = None,
    names: tuple[str, ...] = PARAM_KEYS + DELTA_KEYS,
    jax_contract: bool | None = None,
    supervisor: Supervisor | None = None,
    sources: dict[Path, bytes] | None = None,
) -> LearnerRun:
    """Call ``target`` on each problem (a dict of the params' arrays under their names plus ``x``
    and ``y``) in a contained child process, and read back what it returned. ``extra_arguments``
    (a list of ``(problem index, *arguments)``) makes one call per entry instead of one per
    problem; with ``jax_contract`` (by default, whenever there are extra arguments) it is
    gradcheck's contract: JAX arrays in, ``(grads, deltas)`` out. Runs that overlap share one
    ``supervisor`` (see :mod:`~twolayer_jax.checks.sandbox`). The submission's files come from
    ``sources`` (default: read now, :func:`snapshot_sources`), and the child runs a copy of the
    harness the checker read when it started, so no child can change what a later one runs."""
    if target.file is not None and not target.file.is_file():
        return LearnerRun(f"there is no file {str(target.file)!r}", "", [], [])
    jax_contract = extra_arguments is not None if jax_contract is None else jax_contract
    calls = [{"problem": i, "extra": []} for i in range(len(problems))] if extra_arguments is None else [
        {"problem": entry[0], "extra": list(entry[1:])} for entry in extra_arguments]  # fmt: skip
    with working_folder(isolation) as folder:
        for i, problem in enumerate(problems):
            np.savez(folder / f"problem_{i}.npz", **problem)
        if target.file is not None and sources is None:
            sources = snapshot_sources([target.file])
        config = harness_config(target, folder, calls, forbidden, jax_contract, sources)
        (folder / HARNESS_NAME).write_bytes(HARNESS_SOURCE)
        (folder / "config.json").write_text(json.dumps(config))
        if isolation.user is not None:
            for path in [folder, *folder.rglob("*")]:
                shutil.chown(path, isolation.user, isolation.user)
        command = [sys.executable, "-I", "-B", str(folder / HARNESS_NAME), str(folder / "config.json")]
        outcome = run_contained(command, folder, limits, isolation, supervisor)
        run = read_run(folder, outcome, len(calls), limits, forbidden, names)
    if run.failure == NO_SUCH_FUNCTION:
        return run._replace(failure=f"it defines no function {target.function!r}")
    return run


def read_status(folder: Path) -> dict | None:
    data = read_untrusted(folder / "status.json", STATUS_LIMIT)
    try:
        status = json.loads(data) if data is not None else None
    except ValueError:
        return None
    return status if isinstance(status, dict) else None


def describe_exit(exit_code: int | None, timeout: float) -> str:
    if exit_code is None:
        return f"it did not finish within {timeout:g} s"
    if exit_code < 0 or exit_code > 128:
        number = -exit_code if exit_code < 0 else exit_code - 128
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        return f"the Python process running it was killed by {name}"
    return f"the Python process running it ended early (exit code {exit_code})"


def read_run(
    folder: Path, outcome, count: int, limits: Limits, forbidden: tuple[str, ...], names: tuple[str, ...]
) -> LearnerRun:
    status = read_status(folder)
    output = outcome.output
    if status is None:  # it never got as far as reporting: crashed, exited or timed out
        return LearnerRun(describe_stop(folder, outcome.exit_code, limits.timeout), output, [], [])
    names_refused = status.get("refused_imports") if isinstance(status.get("refused_imports"), list) else []
    refused = [g for g in forbidden if any(n in FORBIDDEN_IMPORTS[g] for n in names_refused)]
    load = status.get("load") if isinstance(status.get("load"), dict) else {}
    if load.get("status") != "ok":
        return LearnerRun(load_failure(load, forbidden), text_of(load, "traceback"), [], refused)
    records = status.get("calls") if isinstance(status.get("calls"), list) else []
    records = [r if isinstance(r, dict) else {} for r in records[:count]]
    records += [{}] * (count - len(records))
    stopped = describe_exit(outcome.exit_code, limits.timeout) if outcome.exit_code != 0 else ""
    calls = [read_call(folder, i, record, forbidden, stopped, names) for i, record in enumerate(records)]
    return LearnerRun("", output if stopped else "", calls, refused)


def import_seconds(folder: Path) -> float | None:
    """How long importing the learner's file took, as the child wrote it once it had (None if it
    never finished importing). It only words a failure; no verdict rests on it."""
    data = read_untrusted(folder / "loaded.json", 1024)
    try:
        seconds = json.loads(data)["import_seconds"] if data is not None else None
    except (ValueError, TypeError, KeyError):
        return None
    return float(seconds) if isinstance(seconds, int | float) and math.isfinite(seconds) else None


def describe_stop(folder: Path, exit_code: int | None, timeout: float) -> str:
    """Why a run ended before reporting, with the time it spent importing kept apart from the
    time its function took: a file that trains at import runs out of time before any call."""
    seconds = import_seconds(folder)
    if exit_code is None and seconds is None:
        return (f"it did not finish importing within {timeout:g} s: the file runs something when "
                "imported (training, input()?); put it under if __name__ == \"__main__\":")  # fmt: skip
    reason = describe_exit(exit_code, timeout)
    return reason if seconds is None else f"{reason} (importing it took {seconds:.1f} s of that)"


def load_failure(load: dict, forbidden: tuple[str, ...]) -> str:
    name = forbidden_import(load, forbidden)
    if name:
        return forbidden_reason(name)
    if load.get("lookup") is True and load.get("exception") == "LookupError":
        return NO_SUCH_FUNCTION
    return f"loading it raised {exception_name(load)}"


def read_call(
    folder: Path, index: int, record: dict, forbidden: tuple[str, ...], stopped: str, names: tuple[str, ...]
) -> Call:
    status = record.get("status")
    if status == "raised":
        name = forbidden_import(record, forbidden)
        failure = forbidden_reason(name) if name else f"it raised {exception_name(record)}"
        return Call({}, {}, {}, [], failure, text_of(record, "traceback"))
    if status == "not_a_dict":
        kind = printable(text_of(record, "type", 60), False)
        return Call({}, {}, {}, [], f"it returned {kind}, not a dict of NumPy arrays", "")
    data = read_untrusted(folder / f"result_{index}.npz", RESULT_LIMIT)
    if data is None:
        return Call({}, {}, {}, [], stopped or "it returned nothing the checker could read", "")
    arrays, dtypes, notes, extra = read_arrays(data, names)
    if arrays is None:
        return Call({}, {}, {}, [], "it returned nothing the checker could read", "")
    others = record.get("other_values") if isinstance(record.get("other_values"), dict) else {}
    for key, kind in others.items():
        if key in names and isinstance(kind, str):
            notes[key] = value_note(printable(kind[:40], False))
    return Call(arrays, dtypes, notes, extra, "", "")


def value_note(kind: str) -> str:
    """Why a returned value is not a tensor, from the harness's description of it."""
    if kind.startswith("dtype:"):
        return f"has dtype {kind.removeprefix('dtype:')}, expected float64 numbers"
    return f"is {'a JAX array' if kind == 'ArrayImpl' else 'a ' + kind}, expected a NumPy array"


def read_arrays(data: bytes, names: tuple[str, ...]) -> tuple[dict | None, dict, dict, list]:
    """The expected tensors of one saved result as float64 arrays, why any other is unusable, and
    the names that are not the contract's."""
    arrays, dtypes, notes, extra = {}, {}, {}, []
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as saved:
            for key in saved.files:
                if key not in names:
                    extra.append(printable(key[:40], False))
                    continue
                value = saved[key]
                if value.dtype.kind not in "fiu" or value.dtype.itemsize > 16:
                    notes[key] = f"has dtype {value.dtype}, expected float64 numbers"
                    continue
                arrays[key], dtypes[key] = value.astype(np.float64), str(value.dtype)
    except (ValueError, OSError, EOFError, TypeError, KeyError):
        return None, {}, {}, []
    return arrays, dtypes, notes, extra
