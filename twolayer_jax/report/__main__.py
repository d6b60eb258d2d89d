"""``python -m twolayer_jax.report``: the lab's report (:mod:`twolayer_jax.report.cli`)."""

from twolayer_jax.cli import exit_process, remember_ctrl_c_quietly, run_cli

if __name__ == "__main__":  # before the slow imports below
    remember_ctrl_c_quietly()

from twolayer_jax.report.cli import main

if __name__ == "__main__":
    exit_process(run_cli(main, None, "python -m twolayer_jax.report"))
