"""``python -m twolayer_jax.check``: the learner checker's door (:mod:`twolayer_jax.checks.check`)."""

import sys

from twolayer_jax.checks.check import main
from twolayer_jax.cli import run_cli

if __name__ == "__main__":
    sys.exit(run_cli(main, None, "python -m twolayer_jax.check"))
