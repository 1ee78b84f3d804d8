"""Wait until no process announces it is still writing a file (an exclusive flock).

fsync makes what is in the page cache durable; it does not wait for a process
that is still storing into a shared mapping of the file. Windows'
FlushFileBuffers does flush the dirty pages of every mapped view of the file,
which is why it closed the story's window. The POSIX stand-in: a writer that
hands off before its last mapped stores holds ``flock(LOCK_EX)`` on the file
until it is done, and a flush takes ``LOCK_SH`` first. Tools that never lock
cost one non-blocking flock call per file.
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from flakehunt.errors import EnvironmentProblem


@dataclass(frozen=True)
class Backoff:
    """Poll intervals while waiting: start small, because most writers finish in milliseconds."""

    first: float = 0.0005
    factor: float = 2.0
    cap: float = 0.05

    def delays(self) -> list[float]:
        """Return the first few delays (for tests and for the docs)."""
        out: list[float] = []
        d = self.first
        for _ in range(10):
            out.append(d)
            d = min(self.cap, d * self.factor)
        return out


class WriterLock:
    """A shared flock held on an fd until released: writers with LOCK_EX have finished."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def release(self) -> None:
        """Drop the shared lock."""
        import fcntl

        fcntl.flock(self.fd, fcntl.LOCK_UN)


def wait_for_writers(
    fd: int,
    path: str,
    timeout: float,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    backoff: Backoff = Backoff(),
) -> tuple[WriterLock | None, float]:
    """Take LOCK_SH on *fd*, waiting up to *timeout* s; return (lock, seconds waited)."""
    try:
        import fcntl
    except ImportError:  # Windows: FlushFileBuffers itself covers mapped writers.
        return None, 0.0
    start = clock()
    delay = backoff.first
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            return WriterLock(fd), clock() - start
        except OSError as exc:
            if exc.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL):
                # File systems without flock (some NFS/FUSE): nothing to wait for.
                return None, clock() - start
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
        waited = clock() - start
        if waited >= timeout:
            raise EnvironmentProblem(
                f"{path}: another process still holds a write lock after {waited:.1f}s",
                "wait for the writer to finish, or raise --writer-timeout",
            )
        sleep(min(delay, max(0.0, timeout - waited)))
        delay = min(backoff.cap, delay * backoff.factor)


def open_for_flush(path: str) -> int:
    """Open *path* read-only for a flush (fsync accepts read-only fds on POSIX)."""
    return os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
