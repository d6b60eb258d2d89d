"""What every command-line tool of the package shares: one-line usage errors with exit code 2,
argument types that reject bad values early, and outputs that are checked before any work and
written whole or not at all."""

import argparse
import contextlib
import dataclasses
import errno
import math
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import NoReturn

USAGE_ERROR = 2
OUTPUT_ERROR = 1  # the work was done but its output could not be written
INTERRUPTED = 130  # the shell's code for a process ended by ctrl-C (128 + SIGINT)


class UsageError(Exception):
    """A mistake in how the tool was called: reported in one line, exit code 2, no traceback."""


def refuse(problems) -> None:
    """The first of ``problems`` (each a one-line reason, or None for none) as a UsageError."""
    for problem in filter(None, problems):
        raise UsageError(problem)


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad argument raises :class:`UsageError` instead of printing the usage."""

    def error(self, message: str):
        raise UsageError(message)


def int_at_least(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """An argparse type for whole numbers no smaller than ``minimum`` (nor larger than ``maximum``)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"must be at most {maximum}, got {value}")
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


class OutputError(Exception):
    """An output could not be written after the work was done: one line, exit code 1, and the
    previous output left as it was."""


def output_path(text: str) -> Path:
    """An argparse type for an output path: an empty one would silently mean the current folder."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return Path(text)


def writable_file(path: Path) -> Path:
    """Fail now, before any long work, if the file ``path`` cannot be written (its folder is
    created if it does not exist)."""
    if path.is_dir():
        raise UsageError(f"cannot write {str(path)!r}: it is a folder")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent or ".", prefix=f".{path.name}."):
            pass
    except OSError as error:
        raise UsageError(f"cannot write {str(path)!r}: {error.strerror}") from None
    return path


def remove_quietly(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink()


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)  # ctrl-C, and a polite request to stop


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """ctrl-C (or SIGTERM) during the block is remembered, not raised, and raised as
    KeyboardInterrupt once the block is done, so renames are never split; a no-op off the main
    thread. (Masking the signals would not do: the kernel hands them to any thread that does
    not mask them, XLA's among them, and Python then runs the handler in the main thread.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = RememberedCtrlC(raises=False)
    previous = {number: signal.signal(number, held) for number in STOP_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    if held.pressed:
        outer = previous[signal.SIGINT]
        if isinstance(outer, RememberedCtrlC):
            outer.pressed = True
        raise KeyboardInterrupt


def write_files_atomically(contents: dict[Path, str | bytes]) -> None:
    """Each file whole or, on any failure, the old one: every file is written beside its target
    first, then all are renamed over their targets at once (a rename is atomic)."""
    staged = {}
    try:
        for path, content in contents.items():
            mode = "w" if isinstance(content, str) else "wb"
            with tempfile.NamedTemporaryFile(
                mode, dir=path.parent, prefix=f".{path.name}.", delete=False
            ) as file:
                staged[path] = Path(file.name)
                file.write(content)
            os.chmod(staged[path], new_file_mode())
        with signals_held():
            for path, temporary in staged.items():
                os.replace(temporary, path)
                staged[path] = path  # renamed: nothing to remove
    except OSError as error:
        raise OutputError(f"could not write {str(error.filename or path)!r}: {error.strerror}; "
                          "the files already there were kept") from None  # fmt: skip
    finally:
        for path, temporary in staged.items():
            if temporary != path:
                remove_quietly(temporary)


def write_atomically(path: Path, text: str) -> None:
    """The whole file or, on any failure, the old one."""
    write_files_atomically({path: text})


def new_file_mode() -> int:
    """The mode a newly created file gets under the process's umask (a temporary file gets 0o600)."""
    mask = os.umask(0o022)  # reading the mask means setting it: put it straight back
    os.umask(mask)
    return 0o666 & ~mask


def names_listed(manifest: Path) -> set[str]:
    """The file names a manifest lists: plain names only (no path, no hidden name, so never a
    manifest); an unreadable or garbled manifest lists none."""
    try:
        text = manifest.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return set()
    return {name for name in text.split("\n") if name and not name.startswith(".") and "/" not in name
            and "\0" not in name}  # fmt: skip


@dataclasses.dataclass(frozen=True)
class OutputFolder:
    """A command's files in an output folder, replaced as one: the command writes them into a
    staging folder, and only once all are complete are they renamed into place, the files they
    replace kept aside until the last rename is done (a failed rename puts them back, and ctrl-C
    waits), then the files of the command's previous run that this run did not write again are
    removed. A failure or ctrl-C before that leaves the previous run's files as they were: never
    a mix of two runs. A hidden manifest per command lists its files; other files in the folder
    are left alone, and a folder another command writes into is refused."""

    path: Path
    command: str  # names the manifest and the staging folder

    @property
    def manifest(self) -> Path:
        return self.path / f".{self.command}-outputs"

    def check(self) -> "OutputFolder":
        """Every reason the output could not be written, found before any work (the folder is
        created now, empty, if it does not exist)."""
        shown = str(self.path)
        if self.path.exists() and not self.path.is_dir():
            raise UsageError(f"cannot write to output folder {shown!r}: it is a file")
        others = sorted(m.name for m in self.path.glob(".*-outputs") if m.name != self.manifest.name)
        if others:
            owner = others[0][1 : -len("-outputs")]
            raise UsageError(f"output folder {shown!r} holds {owner}'s output ({others[0]}): "
                             f"give {self.command} a folder of its own")  # fmt: skip
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=self.path, prefix=f".{self.command}-check-"):
                pass
        except OSError as error:
            raise UsageError(f"cannot write to output folder {shown!r}: {error.strerror}") from None
        self.remove_abandoned_staging()
        return self

    def remove_abandoned_staging(self) -> None:
        """Staging folders of runs that were killed outright (their process is gone)."""
        for folder in self.path.glob(f".{self.command}-partial-*"):
            pid = folder.name.split("-")[-2]
            if pid.isdigit() and not Path(f"/proc/{pid}").exists() and Path("/proc/self").exists():
                remove_quietly(folder)

    def kept(self) -> str:
        """What the folder holds after a run that did not finish."""
        if names_listed(self.manifest):
            return f"{str(self.path)!r} keeps its previous complete output"
        return f"nothing was written to {str(self.path)!r}"

    @contextlib.contextmanager
    def staged(self) -> Iterator[Path]:
        """Yields the staging folder to write into; on success its files take their places."""
        prefix = f".{self.command}-partial-{os.getpid()}-"
        staging = Path(tempfile.mkdtemp(dir=self.path, prefix=prefix))
        published = False
        try:
            yield staging
            if ctrl_c_was_pressed():  # while the work ran (its exception lost): keep the previous output
                raise KeyboardInterrupt
            with signals_held():
                self.publish(staging)
                published = True
        except OSError as error:
            raise OutputError(f"could not write {error.filename or str(self.path)!r}: {error.strerror}; "
                              f"{self.kept()}") from None  # fmt: skip
        except BaseException:
            if published:
                print(f"{str(self.path)!r} holds the new complete output", file=sys.stderr)
            else:
                print(self.kept()[0].upper() + self.kept()[1:], file=sys.stderr)
            raise
        finally:
            remove_quietly(staging)

    def publish(self, staging: Path) -> None:
        previous, written = names_listed(self.manifest), sorted(entry.name for entry in staging.iterdir())
        (staging / self.manifest.name).write_text("".join(f"{name}\n" for name in written))
        aside = staging / ".replaced"
        aside.mkdir()
        moved = []  # (name, whether a file of that name was put aside)
        try:
            for name in [*written, self.manifest.name]:  # the manifest last: it names a complete set
                self.put_in_place(staging, aside, name, moved)
        except BaseException:
            self.put_back(staging, aside, moved)
            raise
        for stale in previous - set(written):  # a file the last run wrote, never a folder or a link
            target = self.path / stale
            if target.is_file() and not target.is_symlink():
                with contextlib.suppress(OSError):
                    target.unlink()

    def put_in_place(self, staging: Path, aside: Path, name: str, moved: list) -> None:
        target = self.path / name
        if target.is_dir() and not target.is_symlink():
            raise IsADirectoryError(errno.EISDIR, "a folder is in the way", str(target))
        os.chmod(staging / name, new_file_mode())
        there = target.exists() or target.is_symlink()
        if there:
            os.replace(target, aside / name)
        moved.append((name, there))
        os.replace(staging / name, target)

    def put_back(self, staging: Path, aside: Path, moved: list) -> None:
        """Undo :meth:`put_in_place`, last first: the new files out, the old ones back."""
        for name, there in reversed(moved):
            target = self.path / name
            with contextlib.suppress(OSError):
                if not (staging / name).exists():  # the new file had been put in place
                    target.unlink()
                if there:
                    os.replace(aside / name, target)


class RememberedCtrlC:
    """A SIGINT handler that remembers that ctrl-C was pressed, and (``raises``) raises
    KeyboardInterrupt. JAX's runtime runs Python's signal handlers while it waits for a compiled
    program and drops the exception they raise there, so the raise alone can be lost; the memory
    is not, and the command lines read it between steps (:func:`stop_if_ctrl_c_was_pressed`)."""

    def __init__(self, raises: bool = True) -> None:
        self.pressed = False
        self.raises = raises

    def __call__(self, signum, frame) -> None:
        self.pressed = True
        if self.raises:
            raise KeyboardInterrupt


def remember_ctrl_c_quietly() -> None:
    """For a command line's first lines, before its slow imports: ctrl-C (or SIGTERM) is
    remembered, not raised (a KeyboardInterrupt inside an extension module's import can crash
    the interpreter, and some imports drop it); :func:`run_cli` acts on it once they are done."""
    if threading.current_thread() is threading.main_thread():
        handler = RememberedCtrlC(raises=False)
        for number in STOP_SIGNALS:
            signal.signal(number, handler)


def ctrl_c_was_pressed() -> bool:
    """Whether ctrl-C was pressed under :func:`remembering_ctrl_c` (or
    :func:`remember_ctrl_c_quietly`), even if the exception it raised then was lost."""
    handler = signal.getsignal(signal.SIGINT)
    return isinstance(handler, RememberedCtrlC) and handler.pressed


def stop_if_ctrl_c_was_pressed() -> None:
    if ctrl_c_was_pressed():
        raise KeyboardInterrupt


@contextlib.contextmanager
def remembering_ctrl_c() -> Iterator[None]:
    """Install :class:`RememberedCtrlC` for the block (only the main thread may set handlers),
    keeping a ctrl-C that :func:`remember_ctrl_c_quietly` remembered."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    handler, previous = RememberedCtrlC(), {number: signal.getsignal(number) for number in STOP_SIGNALS}
    handler.pressed = any(isinstance(old, RememberedCtrlC) and old.pressed for old in previous.values())
    for number in STOP_SIGNALS:  # SIGTERM stops a command as ctrl-C does, outputs left whole
        signal.signal(number, handler)
    unraisable = sys.unraisablehook
    sys.unraisablehook = partial(report_unraisable_unless_ctrl_c, unraisable)
    try:
        yield
    finally:
        sys.unraisablehook = unraisable
        for number, old in previous.items():
            signal.signal(number, old)


def report_unraisable_unless_ctrl_c(report, unraisable) -> None:
    """Python prints "Exception ignored in …" and a traceback when a handler's KeyboardInterrupt
    lands in code that cannot raise (a garbage-collection callback of JAX's, a finaliser). The
    handler has remembered the ctrl-C, and the command acts on it, so that one is dropped."""
    if not issubclass(unraisable.exc_type, KeyboardInterrupt):
        report(unraisable)


def checking_ctrl_c(report: Callable[[int], None] | None) -> Callable[[int], None]:
    """A progress hook that also stops the work if ctrl-C was pressed since the last step."""

    def hook(done: int) -> None:
        stop_if_ctrl_c_was_pressed()
        if report:
            report(done)

    return hook


def exit_process(code: int) -> NoReturn:
    """End a command line with ``code``. After ctrl-C, without the interpreter's clean-up: with a
    compilation or a program of JAX's runtime abandoned mid-way, that clean-up can crash, and by
    now the work is given up and the outputs are settled (:class:`OutputFolder`)."""
    if code == INTERRUPTED:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def run_cli(main: Callable[[list[str] | None], int], argv: list[str] | None, prog: str) -> int:
    """Call ``main(argv)``; a :class:`UsageError` becomes one line on stderr and exit code 2, an
    :class:`OutputError` one line and exit code 1, ctrl-C exit code 130 whenever it was pressed."""
    try:
        with remembering_ctrl_c():
            if ctrl_c_was_pressed():  # while the command was starting
                print(f"{prog}: interrupted while starting: nothing was written", file=sys.stderr)
                return INTERRUPTED
            code = main(argv)
            stop_if_ctrl_c_was_pressed()
        return code
    except UsageError as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return USAGE_ERROR
    except OutputError as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return OUTPUT_ERROR
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return INTERRUPTED


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
