"""Flush files (and the directories naming them) to stable storage; report what it cost."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from flakehunt.durable.platform import Syncer, default_syncer
from flakehunt.durable.writers import open_for_flush, wait_for_writers
from flakehunt.errors import EnvironmentProblem, NotFound, UsageError

DEFAULT_WRITER_TIMEOUT = 120.0


@dataclass(frozen=True)
class FlushedFile:
    """One flushed file: its size and how long waiting and flushing took."""

    path: Path
    size: int
    waited: float
    seconds: float


@dataclass(frozen=True)
class FlushReport:
    """What ``flush`` did: files, directories, bytes and time."""

    files: tuple[FlushedFile, ...]
    directories: tuple[Path, ...]
    seconds: float
    method: str

    @property
    def total_bytes(self) -> int:
        """Return the bytes of all flushed files."""
        return sum(f.size for f in self.files)

    @property
    def waited(self) -> float:
        """Return the seconds spent waiting for writers that still held a lock."""
        return sum(f.waited for f in self.files)


def expand(paths: Iterable[Path], recursive: bool) -> list[Path]:
    """Return the regular files named by *paths* (directories walked only if *recursive*)."""
    out: list[Path] = []
    seen: set[Path] = set()
    for p in paths:
        try:
            st = p.stat()
        except FileNotFoundError:
            raise NotFound(
                f"{p}: no such file", "check the path; flush only existing outputs"
            ) from None
        except OSError as exc:
            raise EnvironmentProblem(f"{p}: {exc.strerror}", "check permissions") from exc
        if stat.S_ISDIR(st.st_mode):
            if not recursive:
                raise UsageError(f"{p} is a directory", "pass -r to flush every file under it")
            for root, dirs, files in os.walk(p):
                dirs.sort()
                for name in sorted(files):
                    child = Path(root) / name
                    if child.is_file() and not child.is_symlink() and child not in seen:
                        seen.add(child)
                        out.append(child)
        elif stat.S_ISREG(st.st_mode) and p not in seen:
            seen.add(p)
            out.append(p)
        # Devices, fifos and sockets have nothing to flush; skip them silently.
    return out


def flush(
    paths: Iterable[str | os.PathLike[str]],
    *,
    recursive: bool = False,
    wait_writers: bool = True,
    writer_timeout: float = DEFAULT_WRITER_TIMEOUT,
    syncer: Syncer | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> FlushReport:
    """Flush every file in *paths* and each parent directory once; return a FlushReport.

    With *wait_writers*, first wait for processes holding ``flock(LOCK_EX)`` on
    a file (see ``flakehunt.durable.writers``): fsync alone does not wait for
    stores still arriving through another process's shared mapping.
    """
    sync = default_syncer() if syncer is None else syncer
    start = clock()
    files = expand([Path(p) for p in paths], recursive)
    flushed: list[FlushedFile] = []
    dirs: list[Path] = []
    seen_dirs: set[Path] = set()
    for path in files:
        t0 = clock()
        try:
            waited, size = _flush_one(path, sync, wait_writers, writer_timeout, clock)
        except FileNotFoundError:
            raise NotFound(f"{path}: vanished before it could be flushed", None) from None
        except OSError as exc:
            raise EnvironmentProblem(
                f"{path}: cannot flush: {exc.strerror or exc}", "check permissions and the disk"
            ) from exc
        flushed.append(FlushedFile(path, size, waited, clock() - t0))
        parent = path.parent.resolve()
        if parent not in seen_dirs:
            seen_dirs.add(parent)
            try:
                sync.sync_dir(parent)
            except OSError as exc:
                raise EnvironmentProblem(
                    f"{parent}: cannot flush directory: {exc.strerror or exc}", "check permissions"
                ) from exc
            dirs.append(parent)
    return FlushReport(tuple(flushed), tuple(dirs), clock() - start, sync.name)


def _flush_one(
    path: Path, sync: Syncer, wait_writers: bool, timeout: float, clock: Callable[[], float]
) -> tuple[float, int]:
    waited = 0.0
    if wait_writers and os.name == "posix":
        fd = open_for_flush(str(path))
        try:
            lock, waited = wait_for_writers(fd, str(path), timeout, clock=clock)
            try:
                sync.sync_file(path)
                size = os.fstat(fd).st_size
            finally:
                if lock is not None:
                    lock.release()
        finally:
            os.close(fd)
        return waited, size
    sync.sync_file(path)
    return waited, path.stat().st_size
