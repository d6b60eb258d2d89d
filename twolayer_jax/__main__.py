"""``twolayer-jax COMMAND [ARGS]`` (or ``python -m twolayer_jax COMMAND``): one entry point for
every command line of the project; ``python -m twolayer_jax.<command>`` runs the same ``main``."""

import importlib
import sys

from twolayer_jax.cli import INTERRUPTED, USAGE_ERROR, exit_process, remember_ctrl_c_quietly, run_cli

# command → (the module whose ``main`` runs it, what it does)
COMMANDS = {
    "train": ("twolayer_jax.train", "train the lab's network on its datasets (the main job)"),
    "check": ("twolayer_jax.checks.check", "grade a learner's own backward pass"),
    "gradcheck": ("twolayer_jax.checks.gradcheck", "the hand-written backward pass against jax.grad"),
    "report": ("twolayer_jax.report.cli", "regenerate the lab's report from real runs"),
    "bench": ("benchmarks.throughput", "measure training throughput against NumPy"),
}


def usage() -> str:
    lines = ["usage: twolayer-jax COMMAND [ARGS]   (twolayer-jax COMMAND --help for its options)", ""]
    lines += [f"  {name:<10} {about}" for name, (_, about) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    command_line = argv is None
    if command_line:  # remember ctrl-C before the command's slow imports
        remember_ctrl_c_quietly()
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] in (["-h"], ["--help"]):
        print(usage())
        return 0
    if not argv or argv[0] not in COMMANDS:
        given = f"unknown command {argv[0]!r}" if argv else "no command given"
        print(f"twolayer-jax: error: {given}\n{usage()}", file=sys.stderr)
        return USAGE_ERROR
    module = importlib.import_module(COMMANDS[argv[0]][0])
    code = run_cli(module.main, argv[1:], f"twolayer-jax {argv[0]}")
    if code == INTERRUPTED and command_line:
        exit_process(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
