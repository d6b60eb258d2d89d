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

Several children may run at once (a folder graded over the cores): a :class:`Supervisor` keeps the
set of children the checker started and still waits for, so a sweep after one run kills orphans,
whichever run left them, and never another run's child. A private user is one per concurrent run,
since ending a run kills everything its user runs.

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
import threading
from collections.abc import Callable, Iterator
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


def unused_uids() -> Iterator[int]:
    """User ids with no account and no running process, for a root checker's children."""
    running = set()
    for folder in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError):
            running.add(folder.stat().st_uid)
    for uid in PRIVATE_UIDS:
        try:
            pwd.getpwuid(uid)
        except KeyError:
            if uid not in running:
                yield uid


def unused_uid() -> int | None:
    return next(unused_uids(), None)


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


def concurrent_isolations(isolation: Isolation, count: int) -> list[Isolation]:
    """Up to ``count`` isolations that runs at the same time can each hold: the same one, except
    that each run gets a private user of its own (fewer when fewer unused ids are left)."""
    if isolation.user is None:
        return [isolation] * count
    others = [uid for uid in unused_uids() if uid != isolation.user][: count - 1]
    return [isolation, *(isolation._replace(user=uid, description=isolation.description.replace(
        f"uid {isolation.user}", f"uid {uid}")) for uid in others)]  # fmt: skip


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


class Supervisor:
    """The checker's children while runs overlap: the ones it started and still waits for are
    registered, under a lock, in the same step that starts them; any other child that appeared
    since the supervisor began is an orphan a run left behind, re-parented to the checker."""

    def __init__(self) -> None:
        become_subreaper()
        self.lock = threading.Lock()
        self.before = own_children()  # children the checker had already: never ours to end
        self.waited_for: set[int] = set()
        self.stopping = False

    @contextlib.contextmanager
    def started(self, start: Callable[[], subprocess.Popen]) -> Iterator[subprocess.Popen]:
        """``start()``'s process, known to every sweep from its first instant until it is reaped."""
        with self.lock:
            if self.stopping:
                raise InterruptedError("the checker is stopping: no run starts")
            process = start()
            self.waited_for.add(process.pid)
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()
            with self.lock:
                self.waited_for.discard(process.pid)

    def helper_succeeds(self, command: list[str], **options) -> bool:
        """``command`` run to its end as a registered child (a sweep must not take it for an orphan)."""
        start = lambda: subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,  # noqa: E731
                                         stderr=subprocess.DEVNULL, **options)  # fmt: skip
        try:
            with self.started(start) as process:
                return process.wait(timeout=30) == 0
        except (OSError, subprocess.SubprocessError):
            return False

    def stop_all(self) -> None:
        """End every run now and start no other (the user interrupted the checker)."""
        with self.lock:
            self.stopping = True
            for pid in self.waited_for:
                with contextlib.suppress(OSError):
                    os.killpg(pid, signal.SIGKILL)

    def orphans(self) -> set[int]:
        return own_children() - self.before - self.waited_for

    def sweep(self) -> None:
        """Kill and reap every orphan; repeat while killing one hands us its own children."""
        for _ in range(100):
            with self.lock:
                leftovers = self.orphans()
                for pid in leftovers:
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
            if not leftovers:
                return
            for pid in leftovers:
                with contextlib.suppress(ChildProcessError, OSError):
                    os.waitpid(pid, 0)


def end_every_process(process: subprocess.Popen, isolation: Isolation, supervisor: Supervisor) -> None:
    with contextlib.suppress(OSError):
        os.killpg(process.pid, signal.SIGKILL)  # its session: start_new_session made it a group
    process.wait()
    if isolation.user is not None:  # everything the private user runs is the child's
        supervisor.helper_succeeds(["kill", "-KILL", "-1"], user=isolation.user, group=isolation.user,
                                   extra_groups=[])  # fmt: skip
    supervisor.sweep()


def set_limits(limits: Limits) -> None:  # pragma: no cover - runs in the forked child
    for which, value in limits.rlimits().items():
        resource.setrlimit(which, (value, value))


def limits_without_forking() -> bool:
    """Whether the limits can be set by the ``prlimit`` program; without it they are set between
    fork and exec, which Python does not make safe while other threads run."""
    return shutil.which("prlimit") is not None


def run_contained(
    argv: list[str], folder: Path, limits: Limits, isolation: Isolation, supervisor: Supervisor | None = None
) -> Outcome:
    """Run ``argv`` in ``folder`` under ``limits`` and ``isolation``; every process it starts is
    gone when this returns. Runs that overlap share one ``supervisor``, each with its own isolation
    (:func:`concurrent_isolations`)."""
    limiter = ("prlimit", *limits.prlimit_flags(), "--") if limits_without_forking() else ()
    user = {"user": isolation.user, "group": isolation.user, "extra_groups": []} if isolation.user else {}
    supervisor = supervisor or Supervisor()
    with tempfile.TemporaryFile() as output:
        start = lambda: subprocess.Popen(  # noqa: E731
            [*isolation.prefix, *limiter, *argv], cwd=folder, env=minimal_environment(folder),
            stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=None if limiter else lambda: set_limits(limits), **user,
        )  # fmt: skip
        with supervisor.started(start) as process:
            try:
                exit_code = process.wait(timeout=limits.timeout)
            except subprocess.TimeoutExpired:
                exit_code = None
            finally:
                end_every_process(process, isolation, supervisor)
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
