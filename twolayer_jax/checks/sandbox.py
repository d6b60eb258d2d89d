"""Running code someone else wrote so that nothing it does reaches the process that judges it.

The checked code runs in a child process:

- in its own user and PID namespaces where the kernel allows them (``unshare``): it cannot see,
  signal or trace the checker, and when it ends the kernel kills every process it started;
- else, when the checker runs as root, as a private unprivileged user (which cannot signal root);
- else as the caller's own user, which can still signal the checker (:func:`choose_isolation`
  says which of the three, and the reports print it);
- always in a new session, with stdin closed, a minimal environment, a fresh working folder, and
  limits on memory, CPU time, processes, file size and core dumps (``prlimit``); its output goes
  to a file, never a pipe, so a process that keeps the output open cannot make the parent wait;
- afterwards its session is killed, and so is every process it left behind: the checker is a
  child subreaper, so orphans are re-parented to it and swept.

This is containment for a grader, not a security sandbox: the child can still read what the
checker's user can read. A course should run submissions inside its grading platform's container.
"""

import contextlib
import ctypes
import dataclasses
import math
import os
import pwd
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

OUTPUT_LIMIT = 65536  # bytes of the child's output kept: the end, where a crash says why
# environment variables that reach the child: only hardware workarounds some BLAS builds need
KEPT_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
PRIVATE_UIDS = range(61000, 61200)  # where a root checker looks for a user id nobody has
NAMESPACES = ("unshare", "--user", "--map-root-user", "--pid", "--fork", "--kill-child", "--")
PR_SET_CHILD_SUBREAPER = 36


@dataclasses.dataclass(frozen=True)
class Limits:
    """What the checked code may use."""

    timeout: float = 60.0  # wall-clock seconds for the whole child
    memory: int = 2 * 2**30  # bytes of address space
    processes: int = 1  # processes and threads of its user: 1 is the child alone, no fork
    file_size: int = 64 * 2**20  # bytes of the largest file it may write
    open_files: int = 256

    def by_name(self) -> dict[str, int]:
        """Each limit under its ``prlimit`` name (``RLIMIT_`` + the name, upper-cased, in C)."""
        cpu = math.ceil(self.timeout) + 1  # the wall clock is the real limit; CPU time is a backstop
        return {"as": self.memory, "cpu": cpu, "nproc": self.processes, "fsize": self.file_size,
                "core": 0, "nofile": self.open_files}  # fmt: skip

    def prlimit_flags(self) -> tuple[str, ...]:
        return tuple(f"--{name}={value}" for name, value in self.by_name().items())

    def rlimits(self) -> dict[int, int]:
        return {getattr(resource, f"RLIMIT_{name.upper()}"): value for name, value in self.by_name().items()}


class Isolation(NamedTuple):
    prefix: tuple[str, ...]  # the command that puts the child in its namespaces, or ()
    user: int | None  # the private user id the child runs as, or None
    description: str  # one line, for the report

    @property
    def shields_the_checker(self) -> bool:
        """Whether the child is kept from signalling the checker (namespaces or another user)."""
        return bool(self.prefix) or self.user is not None


class Outcome(NamedTuple):
    exit_code: int | None  # None: it ran past the timeout and was killed
    output: str  # its stdout and stderr together (the last OUTPUT_LIMIT bytes), as text


def quietly_succeeds(command: list[str], **options) -> bool:
    try:
        done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, timeout=30, **options)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def unused_uid() -> int | None:
    """A user id with no account and no running process, for a root checker's children."""
    running = {Path(p).stat().st_uid for p in Path("/proc").glob("[0-9]*") if Path(p).exists()}
    for uid in PRIVATE_UIDS:
        try:
            pwd.getpwuid(uid)
        except KeyError:
            if uid not in running:
                return uid
    return None


def choose_isolation(python: str = sys.executable) -> Isolation:
    """The strongest isolation this machine allows, found by trying each (once per checker run)."""
    if shutil.which("unshare") and quietly_succeeds([*NAMESPACES, "true"]):
        return Isolation(NAMESPACES, None, "its own user and PID namespaces (it cannot signal the checker)")
    if os.geteuid() == 0:
        uid = unused_uid()
        if uid is not None and quietly_succeeds([python, "-I", "-c", "import numpy"], user=uid, group=uid,
                                                extra_groups=[], cwd="/"):  # fmt: skip
            return Isolation((), uid, f"a private user, uid {uid} (it cannot signal the checker)")
    return Isolation((), None, "your own user (it could signal the checker: see the README)")


@contextlib.contextmanager
def working_folder(isolation: Isolation) -> Iterator[Path]:
    """A fresh folder the child may write in, removed afterwards whatever the child left there."""
    with tempfile.TemporaryDirectory(prefix="twolayer_check_", ignore_cleanup_errors=True) as folder:
        if isolation.user is not None:
            os.chown(folder, isolation.user, isolation.user)
        yield Path(folder)


def minimal_environment(folder: Path) -> dict[str, str]:
    threads = dict.fromkeys(("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"), "1")
    kept = {name: os.environ[name] for name in KEPT_VARIABLES if name in os.environ}
    home = {"HOME": str(folder), "TMPDIR": str(folder)}
    return {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **home, **threads, **kept}


def become_subreaper() -> bool:
    """Orphans of our children come to us (Linux), so :func:`sweep_orphans` can end them."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


def own_children() -> set[int]:
    """Process ids whose parent is this process, read from /proc (empty where there is none)."""
    me, children = os.getpid(), set()
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == me:
                children.add(int(stat_file.parent.name))
    return children


def sweep_orphans(before: set[int]) -> None:
    """Kill and reap every child of ours that was not there before the run; repeat while killing
    one hands us its own children."""
    for _ in range(100):
        leftovers = own_children() - before
        if not leftovers:
            return
        for pid in leftovers:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        for pid in leftovers:
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, 0)


def end_every_process(process: subprocess.Popen, isolation: Isolation, before: set[int]) -> None:
    with contextlib.suppress(OSError):
        os.killpg(process.pid, signal.SIGKILL)  # its session: start_new_session made it a group
    process.wait()
    if isolation.user is not None:  # everything the private user runs is the child's
        quietly_succeeds(["kill", "-KILL", "-1"], user=isolation.user, group=isolation.user, extra_groups=[])
    sweep_orphans(before)


def set_limits(limits: Limits) -> None:  # pragma: no cover - runs in the forked child
    for which, value in limits.rlimits().items():
        resource.setrlimit(which, (value, value))


def run_contained(argv: list[str], folder: Path, limits: Limits, isolation: Isolation) -> Outcome:
    """Run ``argv`` in ``folder`` under ``limits`` and ``isolation``; every process it starts is
    gone when this returns."""
    limiter = ("prlimit", *limits.prlimit_flags(), "--") if shutil.which("prlimit") else ()
    user = {"user": isolation.user, "group": isolation.user, "extra_groups": []} if isolation.user else {}
    become_subreaper()
    before = own_children()
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            [*isolation.prefix, *limiter, *argv], cwd=folder, env=minimal_environment(folder),
            stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=None if limiter else lambda: set_limits(limits), **user,
        )  # fmt: skip
        try:
            exit_code = process.wait(timeout=limits.timeout)
        except subprocess.TimeoutExpired:
            exit_code = None
        finally:
            end_every_process(process, isolation, before)
        size = output.seek(0, os.SEEK_END)
        output.seek(max(0, size - OUTPUT_LIMIT))
        text = output.read().decode("utf-8", "replace")
    return Outcome(exit_code, text)


def read_untrusted(path: Path, limit: int) -> bytes | None:
    """A file the child may have tampered with: only a regular file (no link, pipe or device) of
    at most ``limit`` bytes is read; anything else is None."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(descriptor, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        data = file.read(limit + 1)
    return data if len(data) <= limit else None
