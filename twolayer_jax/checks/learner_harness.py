"""The child's side of the checker: load a learner's function, call it on each problem, save what
it returned. Run as a script (``python -I learner_harness.py CONFIG``) inside the sandbox of
:mod:`twolayer_jax.checks.sandbox`; it imports only the standard library and NumPy, never this project, so
the project is not in ``sys.modules`` for the learner's code to reach.

Nothing written here is trusted. The learner's code runs in this very process and can overwrite
any file this script writes, so the parent re-reads and re-checks every tensor itself; the status
file only lets it *describe* a failure (which exception, which traceback), never pass one.

Files, all in the results folder named by the config: ``status.json`` and ``result_<i>.npz`` (one
per call that returned a dict of arrays). Problems are read from ``problem_<i>.npz``; the config
lists the calls (a problem and any extra arguments) and whether the contract is the checker's
(NumPy in, a dict out) or gradcheck's (JAX in, ``(grads, deltas)`` out).
"""

import contextlib
import importlib.abc
import importlib.util
import json
import linecache
import os
import sys
import time
import traceback
from pathlib import Path

import numpy as np


class ForbiddenImport(ImportError):
    """An import the course does not allow in a submission (the answer key, or autodiff)."""

    def __init__(self, name: str):
        super().__init__(
            f"a submission may not import {name!r} (the checker's --allow-import {name} lifts this)"
        )
        self.forbidden = name


class ImportGuard(importlib.abc.MetaPathFinder):
    """Refuses the forbidden top-level packages by name, and the project's own packages by where
    they live (so a learner's own helper module called ``manual.py`` still imports)."""

    def __init__(self, names: list[str], folders: list[str]):
        self.names = set(names)
        self.folders = [Path(folder).resolve() for folder in folders]
        self.refused: list[str] = []

    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top in self.names or (path is None and self.lives_in_a_forbidden_folder(name)):
            self.refused.append(top)
            raise ForbiddenImport(top)
        return None

    def lives_in_a_forbidden_folder(self, name: str) -> bool:
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, None)
            if spec is not None:
                where = spec.origin or next(iter(spec.submodule_search_locations or []), None)
                return bool(where) and any(Path(where).resolve().is_relative_to(f) for f in self.folders)
        return False


def describe_exception(error: BaseException) -> dict:
    """Name, first line of the message and the learner's frames only (none of this script's)."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename != __file__]
    text = "".join(traceback.format_list(frames) + traceback.format_exception_only(type(error), error))
    lines = str(error).strip().splitlines()
    return {
        "exception": type(error).__name__,
        # the nearest of Python's own exception classes it derives from (numpy's MemoryError, say)
        "builtin": next(c.__name__ for c in type(error).__mro__ if c.__module__ == "builtins"),
        "message": lines[0] if lines else "",
        "traceback": "Traceback (most recent call last):\n" + text,
        "forbidden": getattr(error, "forbidden", None),
    }


def load_function(config: dict):
    """The learner's function: from the copied file (compiled under its original name, so
    tracebacks show the learner's own path and lines) or from ``module:function``."""
    name = config["function"]
    if config["module"]:
        sys.path.append(config["module_path"])
        module = importlib.import_module(config["module"])
    else:
        copy = Path(config["source"])
        sys.path.insert(0, str(copy.parent))  # the learner's own helper modules, copied beside it
        source = copy.read_bytes()
        display = config["display"]
        lines = source.decode("utf-8", "replace").splitlines(keepends=True)
        linecache.cache[display] = (len(source), None, lines, display)
        spec = importlib.util.spec_from_loader(f"submission_{copy.stem}", loader=None, origin=display)
        module = importlib.util.module_from_spec(spec)
        module.__file__ = display
        sys.modules[spec.name] = module
        exec(compile(source, display, "exec"), module.__dict__)  # running it is the point
    function = getattr(module, name, None)
    if not callable(function):
        raise LookupError(f"defines no function {name!r}")
    return function


def returned_arrays(returned, pair: bool) -> tuple[dict, str]:
    """What can be saved of the returned value, or a one-line reason nothing can. ``pair``: the
    gradcheck contract, ``(grads, deltas)`` with deltas a NamedTuple, a dict or None."""
    if pair:
        if not (isinstance(returned, tuple) and len(returned) == 2):
            return {}, f"a {type(returned).__name__}, not a pair (grads, deltas)"
        grads, deltas = returned
        deltas = deltas._asdict() if hasattr(deltas, "_asdict") else deltas or {}
        returned = {**grads, **deltas} if isinstance(grads, dict) and isinstance(deltas, dict) else None
    if not isinstance(returned, dict):
        kind = type(returned)
        is_jax = kind.__module__.split(".")[0] in ("jax", "jaxlib")
        return {}, "a JAX array" if is_jax else f"a {kind.__name__}"
    arrays = {}
    for key, value in returned.items():
        if pair and type(value).__module__.split(".")[0] in ("jax", "jaxlib"):
            value = np.asarray(value)
        if isinstance(key, str) and isinstance(value, np.ndarray | np.generic) and value.dtype.kind in "fiu":
            arrays[key] = np.array(value, dtype=value.dtype)  # a plain copy, never a subclass
    return arrays, ""


def describe_value(value) -> str:
    """What a returned value that is not a real-number array is: ``dtype:NAME`` for an array of
    another dtype, else its type's name."""
    if isinstance(value, np.ndarray | np.generic):
        return f"dtype:{value.dtype}"
    return type(value).__name__


def arguments(problem: dict, extra: list, use_jax: bool) -> tuple:
    """``(params, x, y, *extra)``, as NumPy arrays or, for a JAX contract, as JAX arrays."""
    convert = np.asarray
    if use_jax:
        import jax

        jax.config.update("jax_enable_x64", True)
        convert = jax.numpy.asarray
    params = {key: convert(value) for key, value in problem.items() if key not in ("x", "y")}
    return (params, convert(problem["x"]), convert(problem["y"]), *extra)


def call_each(function, folder: Path, calls: list[dict], use_jax: bool, pair: bool) -> list[dict]:
    """Call the function once per entry of ``calls`` (a problem's index and extra arguments)."""
    results = []
    for i, call in enumerate(calls):
        with np.load(folder / f"problem_{call['problem']}.npz") as saved:
            problem = {key: saved[key] for key in saved.files}
        try:
            returned = function(*arguments(problem, call["extra"], use_jax))
        except BaseException as error:  # sys.exit and KeyboardInterrupt are findings too
            results.append({"status": "raised", **describe_exception(error)})
            continue
        arrays, wrong_type = returned_arrays(returned, pair)
        if wrong_type:
            results.append({"status": "not_a_dict", "type": wrong_type})
            continue
        np.savez(folder / f"result_{i}.npz", **arrays)
        others = returned.items() if isinstance(returned, dict) else ()
        kinds = {str(k): describe_value(v) for k, v in others if str(k) not in arrays}
        results.append({"status": "returned", "other_values": kinds})
    return results


def main(config_path: str) -> None:
    config = json.loads(Path(config_path).read_text())
    folder = Path(config["results"])
    guard = ImportGuard(config["forbidden_names"], config["forbidden_folders"])
    sys.meta_path.insert(0, guard)
    status: dict = {"load": {"status": "ok"}, "calls": []}
    # the learner's prints are noise in a report; a crash's stderr is what the parent shows
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        try:
            started = time.perf_counter()
            function = load_function(config)
            # written before any call, so a run stopped later can tell importing from calling
            (folder / "loaded.json").write_text(json.dumps({"import_seconds": time.perf_counter() - started}))
        except BaseException as error:  # anything the module does while loading
            status["load"] = {"status": "failed", "lookup": isinstance(error, LookupError),
                              **describe_exception(error)}  # fmt: skip
        else:
            status["calls"] = call_each(function, folder, config["calls"], config["jax"], config["pair"])
    status["refused_imports"] = sorted(set(guard.refused))
    (folder / "status.json").write_text(json.dumps(status))


if __name__ == "__main__":
    main(sys.argv[1])
