"""``python -m twolayer_jax.gradcheck``: the gradient check's door (:mod:`twolayer_jax.checks.gradcheck`)."""

import sys

from twolayer_jax.checks.gradcheck import main
from twolayer_jax.cli import run_cli

if __name__ == "__main__":
    sys.exit(run_cli(main, None, "python -m twolayer_jax.gradcheck"))
