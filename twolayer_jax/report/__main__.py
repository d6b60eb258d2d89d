"""``python -m twolayer_jax.report``: the lab's report (:mod:`twolayer_jax.report.cli`)."""

import sys

from twolayer_jax.cli import run_cli
from twolayer_jax.report.cli import main

if __name__ == "__main__":
    sys.exit(run_cli(main, None, "python -m twolayer_jax.report"))
