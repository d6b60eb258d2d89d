"""Every command line has two doors, ``python -m twolayer_jax.<command>`` and the console script
``twolayer-jax <command>`` (also ``python -m twolayer_jax <command>``); each reaches the same
``main``, and a wrong command is one line and exit 2."""

import subprocess
import sys
from pathlib import Path

import pytest

from twolayer_jax.__main__ import COMMANDS, main

MODULE_DOORS = ["twolayer_jax.train", "twolayer_jax.check", "twolayer_jax.gradcheck", "twolayer_jax.report"]


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_help_lists_every_command(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(f"  {name} " in out for name in COMMANDS)


MISTAKES = [([], "no command given"), (["trian"], "unknown command 'trian'")]


@pytest.mark.parametrize(("argv", "message"), MISTAKES)
def test_a_missing_or_unknown_command_is_exit_2(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[0] == f"twolayer-jax: error: {message}"


@pytest.mark.parametrize("module", MODULE_DOORS)
def test_each_python_m_door_reaches_its_command(module):
    done = run(sys.executable, "-m", module, "--help")
    assert done.returncode == 0 and done.stdout.startswith("usage:"), done.stderr


def test_the_console_script_runs_a_command_and_passes_its_exit_code():
    script = Path(sys.executable).with_name("twolayer-jax")
    assert script.exists(), "the project is installed with its console script (make installs it)"
    assert run(str(script), "gradcheck", "--help").returncode == 0
    refused = run(str(script), "train", "--epochs", "0")
    assert refused.returncode == 2
    assert refused.stderr.strip() == "twolayer-jax train: error: argument --epochs: must be at least 1, got 0"
