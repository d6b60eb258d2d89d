"""What every command-line tool of the package shares: one-line usage errors with exit code 2,
argument types that reject bad values early, and a checked output folder."""

import argparse
import contextlib
import math
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

USAGE_ERROR = 2


class UsageError(Exception):
    """A mistake in how the tool was called: reported in one line, exit code 2, no traceback."""


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad argument raises :class:`UsageError` instead of printing the usage."""

    def error(self, message: str):
        raise UsageError(message)


def int_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type for whole numbers no smaller than ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


def checked_by(check: Callable[[str], object]) -> Callable[[str], str]:
    """An argparse type that keeps the text once ``check`` accepts it; ``check``'s ValueError
    becomes argparse's one-line error."""

    def parse(text: str) -> str:
        try:
            check(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
        return text

    return parse


def add_activation_flags(parser: argparse.ArgumentParser, hidden_help: str) -> None:
    """``--activation`` (hidden layers) and ``--output-activation``, from the activation registry."""
    from twolayer_jax.activations import ACTIVATIONS, hidden_activations, parse_activation
    from twolayer_jax.network import LAB_NETWORK

    names = ", ".join(ACTIVATIONS)
    parser.add_argument(
        "--activation",
        type=checked_by(hidden_activations),
        default=LAB_NETWORK.activation,
        metavar="NAME",
        help=f"{hidden_help}; one of {names} (leaky_relu:SLOPE sets its slope); "
        "NAME1,NAME2 gives each hidden layer its own",
    )
    parser.add_argument(
        "--output-activation",
        type=checked_by(parse_activation),
        default=LAB_NETWORK.output_activation,
        metavar="NAME",
        help=f"the output layer's activation (default {LAB_NETWORK.output_activation})",
    )


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text}")
    return value


def number_in(low: float, high: float, closed_high: bool = False) -> Callable[[str], float]:
    """An argparse type for numbers in [low, high) (or [low, high])."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        inside = low <= value <= high if closed_high else low <= value < high
        if not inside:
            raise argparse.ArgumentTypeError(
                f"must be in [{low:g}, {high:g}{']' if closed_high else ')'}, got {text}"
            )
        return value

    return parse


fraction = number_in(0.0, 1.0)  # momentum and moving-average rates
non_negative_float = number_in(0.0, math.inf, closed_high=False)


def writable_dir(path: Path) -> Path:
    """Create ``path`` if needed and prove a file can be written there, before any long work."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path):
            pass
    except OSError as error:
        raise UsageError(f"cannot write to output folder {str(path)!r}: {error.strerror}") from None
    return path


def writable_file(path: Path) -> Path:
    """Fail now, before any long work, if the file ``path`` cannot be written."""
    try:
        with tempfile.NamedTemporaryFile(dir=path.parent or ".", prefix=f".{path.name}."):
            pass
    except OSError as error:
        raise UsageError(f"cannot write {str(path)!r}: {error.strerror}") from None
    if path.is_dir():
        raise UsageError(f"cannot write {str(path)!r}: it is a folder")
    return path


def write_atomically(path: Path, text: str) -> None:
    """The whole file or, on any failure, the old one: written beside it, then renamed over it."""
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.", delete=False) as file:
        file.write(text)
    os.replace(file.name, path)


def run_cli(main: Callable[[list[str] | None], int], argv: list[str] | None, prog: str) -> int:
    """Call ``main(argv)``; a :class:`UsageError` becomes one line on stderr and exit code 2."""
    try:
        return main(argv)
    except UsageError as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130


@contextlib.contextmanager
def progress_bars(enabled: bool) -> Iterator:
    """Yields ``start(description, total) -> report(done) | None``: live bars on a terminal's stderr
    (None, and nothing drawn, elsewhere or when not ``enabled``)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    if not (enabled and console.is_terminal):
        yield lambda description, total: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("epochs"), TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=console, transient=True) as progress:

        def start(description: str, total: int) -> Callable[[int], None]:
            task = progress.add_task(description, total=total)
            furthest = 0

            def report(done: int) -> None:
                nonlocal furthest  # callbacks are unordered: never move a bar back
                furthest = max(furthest, int(done))
                progress.update(task, completed=furthest)

            return report

        yield start
