"""Finished runs, durable the moment they end: a journal file first, SQLite in batches.

A SQLite commit costs ~100 µs of CPU here (six ``pwrite``, six ``fcntl`` locks, a
checkpoint every few hundred commits), half of what the loop may spend on a run
if it is to keep up with Go's ``stress`` on short commands. So each finished run
is appended to a journal file (one ``write``: in the page cache, like a committed
WAL frame under ``synchronous=NORMAL``, so it survives a SIGKILL of flakehunt),
and a thread moves the journal into the database every ``every`` seconds in one
transaction. A killed flakehunt leaves its journal beside the database; the next
``Store.open`` replays it (run ids make the replay idempotent) and removes it.

Journal files are ``<db>-runs-c<campaign>-<pid>-<n>``: a new one for every batch,
removed once its batch is committed. The live writer holds an ``flock`` on its
files, so another flakehunt reading the database never replays a live journal.
A record is a 4-byte little-endian length and a ``marshal`` dump of the row
tuple; a torn last record (only a machine crash can tear one) is skipped.
"""

from __future__ import annotations

import contextlib
import glob
import marshal
import os
import struct
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flakehunt.record.store import Store

_LEN = struct.Struct("<I")
MARSHAL_VERSION = 4
DEFAULT_EVERY = 0.1  # seconds between batches: how stale a concurrent reader's view may be


def journal_glob(db_path: Path) -> str:
    """The pattern of every journal file of the database at *db_path*."""
    return f"{glob.escape(str(db_path))}-runs-*"


def _lock(fd: int) -> bool:
    """Take an exclusive lock on *fd* without waiting; False if someone holds it."""
    try:
        import fcntl
    except ImportError:  # Windows: no flock; a journal is replayed only when closed
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def read_records(data: bytes) -> Iterator[tuple[Any, ...]]:
    """Yield the row tuples of a journal's bytes, stopping at a torn last record."""
    pos, end = 0, len(data)
    while pos + _LEN.size <= end:
        (size,) = _LEN.unpack_from(data, pos)
        start = pos + _LEN.size
        if start + size > end:
            return
        try:
            row = marshal.loads(data[start:start + size])
        except (ValueError, EOFError, TypeError):
            return
        if not isinstance(row, tuple):
            return
        yield row
        pos = start + size


def encode_record(row: tuple[Any, ...]) -> bytes:
    """One journal record for *row*."""
    data = marshal.dumps(row, MARSHAL_VERSION)
    return _LEN.pack(len(data)) + data


def recover(store: Store) -> int:
    """Replay the journals a killed flakehunt left beside *store*; return the runs added."""
    added = 0
    for name in sorted(glob.glob(journal_glob(store.path))):
        try:
            fd = os.open(name, os.O_RDONLY)
        except OSError:
            continue
        try:
            if not _lock(fd):
                continue  # a live flakehunt is writing it
            with open(fd, "rb", closefd=False) as fh:
                rows = list(read_records(fh.read()))
            added += store.insert_run_tuples(rows, replay=True)
            with contextlib.suppress(OSError):
                os.unlink(name)
        finally:
            os.close(fd)
    return added


class RunJournal:
    """Record finished runs for one campaign: ``add`` from any thread, ``close`` at the end."""

    def __init__(self, store: Store, campaign_id: int, *, every: float = DEFAULT_EVERY) -> None:
        self.store = store
        self.every = every
        self._prefix = f"{store.path}-runs-c{campaign_id}-{os.getpid()}-"
        self._serial = 0
        self._lock = threading.Lock()  # the current file and the pending rows
        self._flush_lock = threading.Lock()  # one batch at a time
        self._pending: list[tuple[Any, ...]] = []
        self._error: BaseException | None = None
        self._fd, self._name = self._next_file()
        self._quit = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="flakehunt-journal",
                                        daemon=True)
        self._thread.start()

    def _next_file(self) -> tuple[int, str]:
        self._serial += 1
        name = f"{self._prefix}{self._serial}"
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
        _lock(fd)
        return fd, name

    def add(self, row: tuple[Any, ...]) -> None:
        """Make one finished run durable now (it reaches the database within ``every``)."""
        rec = encode_record(row)
        with self._lock:
            if self._error is not None:
                raise self._error
            os.write(self._fd, rec)
            self._pending.append(row)

    def _loop(self) -> None:
        while not self._quit.wait(self.every):
            try:
                self.flush()
            except Exception as exc:  # told to the slots at their next add, and at close
                with self._lock:
                    self._error = exc
                return

    def flush(self) -> None:
        """Move the pending runs into the database now, in one transaction."""
        with self._flush_lock:
            with self._lock:
                if not self._pending:
                    return
                batch, self._pending = self._pending, []
                fd, name = self._fd, self._name
                if fd >= 0:  # (closed: a retry of rows whose file was kept)
                    self._fd, self._name = self._next_file()
            try:
                self.store.insert_run_tuples(batch)
            except BaseException:
                with self._lock:
                    self._pending[:0] = batch  # retried at close; the file stays for replay
                if fd >= 0:
                    os.close(fd)
                raise
            if fd >= 0:
                os.close(fd)
                with contextlib.suppress(OSError):
                    os.unlink(name)

    def close(self) -> None:
        """Write everything pending to the database; raise what stopped a batch, if any.

        Idempotent, so that a caller interrupted half-way may simply call it again.
        """
        self._quit.set()
        self._thread.join()
        try:
            self.flush()
        finally:
            with self._lock:
                if self._fd >= 0:
                    os.close(self._fd)
                    self._fd = -1
                    if not self._pending:
                        with contextlib.suppress(OSError):
                            os.unlink(self._name)
        if self._error is not None:
            raise self._error
