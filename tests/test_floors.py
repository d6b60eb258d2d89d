"""The Python floor that pyproject.toml claims is the one the code keeps: ruff targets it, and
vermin (which knows when each standard-library name and syntax arrived) finds nothing newer in
the project's code. The library floors (jax, optax, ...) are run by ``make test-floor``, which
installs exactly the lowest versions pyproject.toml allows."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
CODE = ("twolayer_jax", "manual", "benchmarks", "tests", "notebooks")


def python_floor() -> str:
    """``requires-python = ">=3.11"`` → ``"3.11"``."""
    match = re.fullmatch(r">=\s*(3\.\d+)", PYPROJECT["project"]["requires-python"])
    assert match, "requires-python should be a plain floor, >=3.N"
    return match.group(1)


def newer_than(floor: str, paths: list[Path]) -> subprocess.CompletedProcess:
    """vermin's list of what in ``paths`` needs a Python newer than ``floor``; exit 1 if any."""
    vermin = Path(sys.executable).with_name("vermin")  # its console script, beside this interpreter
    command = [str(vermin), f"-t={floor}-", "--violations", "--no-tips", "--eval-annotations", "-q",
               *map(str, paths)]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_ruff_targets_the_python_floor():
    assert PYPROJECT["tool"]["ruff"]["target-version"] == "py" + python_floor().replace(".", "")


def test_this_interpreter_meets_the_floor():
    assert sys.version_info[:2] >= tuple(map(int, python_floor().split(".")))


def test_no_code_needs_a_python_newer_than_the_floor():
    found = newer_than(python_floor(), [ROOT / name for name in CODE if (ROOT / name).exists()])
    assert found.returncode == 0, f"code newer than Python {python_floor()}:\n{found.stdout}{found.stderr}"


@pytest.mark.parametrize(
    ("source", "needs"),
    [("from datetime import UTC\n", "3.11"), ("from typing import override\n", "3.12")],
)
def test_the_floor_check_sees_a_feature_newer_than_a_floor(tmp_path, source, needs):
    """What the check above would say about a line that needs ``needs``, one minor version below."""
    (tmp_path / "planted.py").write_text(source)
    major, minor = map(int, needs.split("."))
    found = newer_than(f"{major}.{minor - 1}", [tmp_path])
    assert found.returncode == 1 and needs in found.stdout
