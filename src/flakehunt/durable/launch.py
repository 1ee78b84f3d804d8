"""Run a tool, flush what it produced, and hand back the tool's own exit status."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from flakehunt.durable.flush import FlushReport, flush
from flakehunt.durable.outputs import check_glob, expand_globs, snapshot, written_between
from flakehunt.errors import CouldNotStart, UsageError

# The signals a build system or a user sends to stop a tool; forwarded to it.
FORWARDED = ("SIGINT", "SIGTERM", "SIGHUP")

Runner = Callable[[Sequence[str], Path], int]
Flusher = Callable[[list[Path]], FlushReport]


@dataclass(frozen=True)
class ExecSpec:
    """What ``flakehunt exec`` was asked to do."""

    argv: tuple[str, ...]
    cwd: Path
    globs: tuple[str, ...] = ()
    written_dirs: tuple[Path, ...] = ()
    writer_timeout: float = 120.0

    def __post_init__(self) -> None:
        if not self.argv:
            raise UsageError("no tool to run", "write: flakehunt exec --flush OUT -- TOOL ARGS...")
        if not self.globs and not self.written_dirs:
            raise UsageError(
                "nothing to flush", "pass --flush GLOB or --flush-written DIR before '--'"
            )
        for g in self.globs:
            check_glob(g, self.cwd)  # refuse before the tool runs, not after


@dataclass(frozen=True)
class ExecResult:
    """The tool's raw status (negative: killed by that signal) and what was flushed."""

    returncode: int
    report: FlushReport | None
    unmatched: tuple[str, ...] = field(default=())


def run_and_flush(spec: ExecSpec, runner: Runner, flusher: Flusher) -> ExecResult:
    """Run the tool, then flush its outputs (globs, or files written under the dirs)."""
    dirs = [d if d.is_absolute() else spec.cwd / d for d in spec.written_dirs]
    before = snapshot(dirs) if dirs else None
    code = runner(spec.argv, spec.cwd)
    targets, unmatched = expand_globs(spec.globs, spec.cwd)
    if before is not None:
        seen = set(targets)
        for p in written_between(before, snapshot(dirs)):
            if p not in seen:
                seen.add(p)
                targets.append(p)
    report = flusher(targets) if targets else None
    return ExecResult(code, report, tuple(unmatched))


def default_flusher(writer_timeout: float) -> Flusher:
    """Return the real flusher: wait for lock-holding writers, then fsync file and directory."""

    def _flush(paths: list[Path]) -> FlushReport:
        return flush(paths, writer_timeout=writer_timeout)

    return _flush


def run_forwarding(argv: Sequence[str], cwd: Path) -> int:
    """Start *argv* in *cwd*, forward SIGINT/SIGTERM/SIGHUP to it, return its status.

    The tool stays in our process group, so a group-wide kill (a CI timeout, a
    build system stopping a job) reaches it directly; a signal sent to us
    alone is passed on. A group-wide SIGINT may therefore arrive twice.
    """
    try:
        proc = subprocess.Popen(list(argv), cwd=cwd)
    except FileNotFoundError:
        raise CouldNotStart(
            f"{argv[0]}: command not found", "check PATH and the spelling"
        ) from None
    except PermissionError:
        raise CouldNotStart(f"{argv[0]}: permission denied", "is it executable?") from None
    except OSError as exc:
        raise CouldNotStart(f"{argv[0]}: cannot start: {exc.strerror}", None) from None

    def forward(signum: int, frame: FrameType | None) -> None:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signum)

    previous = {}
    for name in FORWARDED:
        sig = getattr(signal, name, None)
        if sig is not None:
            previous[sig] = signal.signal(sig, forward)
    try:
        while True:
            try:
                return proc.wait()
            except KeyboardInterrupt:  # pragma: no cover - handler replaced above
                continue
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def windows_exit_code(returncode: int) -> int:
    """Return an NTSTATUS-sized status as the signed int that ``sys.exit`` passes on Windows.

    Windows reports 0xC0000005 as 3221225477; a C ``int`` exit status must be
    -1073741819 to come out as the same DWORD for the build system.
    """
    code = returncode & 0xFFFFFFFF
    return code - (1 << 32) if code > 0x7FFFFFFF else code


def exit_code_for(returncode: int) -> int:
    """Return the shell's view of a status: 128+N for death by signal N (POSIX sh)."""
    return 128 - returncode if returncode < 0 else returncode


def die_like(
    returncode: int,
    *,
    kill: Callable[[int, int], None] = os.kill,
    set_handler: Callable[[int, signal.Handlers], object] = signal.signal,
    no_core: Callable[[], None] | None = None,
) -> int:
    """Re-raise the tool's death on ourselves (SIG_DFL, then kill); return a fallback status.

    If the tool died by signal N, make and ninja must see death by N, not exit
    128+N. We drop our core-size limit first so that SIGSEGV/SIGABRT do not
    leave a misleading core of flakehunt next to the tool's real one. If we
    survive (an ignored-by-default signal), the caller exits with 128+N.
    """
    if os.name == "nt":
        return windows_exit_code(returncode)
    if returncode >= 0:
        return returncode
    sig = -returncode
    (no_core or _no_core)()
    with contextlib.suppress(OSError, ValueError):  # SIGKILL/SIGSTOP: no handler to reset
        set_handler(sig, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {sig})
    kill(os.getpid(), sig)
    return exit_code_for(returncode)


def _no_core() -> None:
    try:
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_CORE)
        resource.setrlimit(resource.RLIMIT_CORE, (0, hard))
    except (ImportError, ValueError, OSError):
        pass
