"""``python -m twolayer_jax.gradcheck``: the gradient check's door (:mod:`twolayer_jax.checks.gradcheck`)."""

from twolayer_jax.cli import exit_process, remember_ctrl_c_quietly, run_cli

if __name__ == "__main__":  # before the slow imports below
    remember_ctrl_c_quietly()

from twolayer_jax.checks.gradcheck import main

if __name__ == "__main__":
    exit_process(run_cli(main, None, "python -m twolayer_jax.gradcheck"))
