"""Finished runs, durable the moment they end: a journal file first, SQLite in batches.

A SQLite commit costs ~100 µs of CPU here (six ``pwrite``, six ``fcntl`` locks, a
checkpoint every few hundred commits), half of what the loop may spend on a run
if it is to keep up with Go's ``stress`` on short commands. So each finished run
is copied into a journal file, and a thread moves the journal into the database
every ``every`` seconds in one transaction. A killed flakehunt leaves its journal
beside the database; the next ``Store.open`` replays it (run ids make the replay
idempotent) and removes it.

The journal is a shared memory mapping of the file: a record is a ``memcpy``
into the page cache, where it survives a SIGKILL of flakehunt exactly as a
committed WAL frame does under ``synchronous=NORMAL`` (neither survives a power
cut). That saves the ``write`` system call per run (~3 µs alone, ~8 µs with two
slots busy). The file's blocks are reserved first (``posix_fallocate``), so a
full disk is an error when a file is made, never a SIGBUS when a record is
stored; where that or the mapping is not possible, each record is one ``write``.

Journal files are ``<db>-runs-c<campaign>-<pid>-<n>``: one is written until it is
full (256 KiB, ~1,300 runs), then the next; a full one is removed once its rows
are committed, the last at the end. Its committed rows stay in it meanwhile:
a replay after a kill skips them by run id. (A new file per batch cost a file
creation, reservation, mapping and unlink ten times a second.) The live writer
holds an ``flock`` on its files, so another flakehunt reading the database never
replays a live journal. A record is a 4-byte little-endian length and a
``marshal`` dump of the row tuple. The file is zero beyond the last record; the
payload is copied before its length, so a reader sees a whole record or none.
"""

from __future__ import annotations

import contextlib
import glob
import marshal
import mmap
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
# A journal file's size: a batch is ~0.1 s of runs (~200 bytes each; a failure's
# output tail is at most 64 KiB); a fuller batch continues in another file.
FILE_BYTES = 256 << 10


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
        if size == 0 or start + size > end:  # the zeros after the last record
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
    return _frame(marshal.dumps(row, MARSHAL_VERSION))


def _frame(data: bytes) -> bytes:
    """A record: the payload's length, then the payload."""
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


class _File:
    """One journal file, mapped when the platform and filesystem allow."""

    __slots__ = ("fd", "mm", "name", "pos", "size")

    def __init__(self, name: str, size: int) -> None:
        self.name = name
        self.pos = 0
        self.size = size
        self.fd = os.open(name, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
        self.mm: mmap.mmap | None = None
        try:
            _lock(self.fd)
            try:
                # Blocks reserved now: on a full disk a store into a sparse mapping
                # would be a SIGBUS, not an error. No posix_fallocate (macOS,
                # Windows) or no room: one write per record, whose errors are errors.
                os.posix_fallocate(self.fd, 0, size)
                self.mm = mmap.mmap(self.fd, size)
            except (AttributeError, OSError, ValueError):
                os.ftruncate(self.fd, 0)
        except BaseException:
            os.close(self.fd)
            raise

    def fits(self, n: int) -> bool:
        return self.mm is None or self.pos + n + _LEN.size <= self.size  # room for the end

    def append(self, data: bytes) -> None:
        mm, pos, n = self.mm, self.pos, len(data)
        if mm is None:
            os.write(self.fd, _frame(data))
        else:
            start = pos + _LEN.size
            mm[start:start + n] = data
            mm[pos:start] = _LEN.pack(n)  # last: the record is whole once its length is there
        self.pos = pos + _LEN.size + n

    def close(self, *, remove: bool) -> None:
        if self.mm is not None:
            self.mm.close()  # the pages stay in the page cache (the file's, not ours)
            self.mm = None
            if not remove:
                with contextlib.suppress(OSError):
                    os.ftruncate(self.fd, self.pos)  # kept for replay: no tail of zeros
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        if remove:
            with contextlib.suppress(OSError):
                os.unlink(self.name)


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
        self._files: list[_File] = []  # hold the pending rows; the last one is written to
        self._file: _File | None = self._next_file(FILE_BYTES)
        self._quit = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="flakehunt-journal",
                                        daemon=True)
        self._thread.start()

    def _next_file(self, size: int) -> _File:
        self._serial += 1
        f = _File(f"{self._prefix}{self._serial}", size)
        self._files.append(f)
        return f

    def add(self, row: tuple[Any, ...]) -> None:
        """Make one finished run durable now (it reaches the database within ``every``)."""
        data = marshal.dumps(row, MARSHAL_VERSION)
        with self._lock:
            if self._error is not None:
                raise self._error
            f = self._file
            if f is None:
                raise ValueError("the run journal is closed")
            if not f.fits(len(data)):
                f = self._file = self._next_file(max(FILE_BYTES, 2 * len(data)))
            f.append(data)
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
                # The file being written stays: once this batch is stored, a replay of
                # its rows adds nothing (run ids). Files already full are done with.
                full = [f for f in self._files if f is not self._file]
                self._files = [f for f in self._files if f is self._file]
            try:
                self.store.insert_run_tuples(batch)
            except BaseException:
                with self._lock:
                    self._pending[:0] = batch  # retried at close; the files stay for replay
                for f in full:
                    f.close(remove=False)
                raise
            for f in full:
                f.close(remove=True)

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
                if self._file is not None:
                    self._file = None
                    files, self._files = self._files, []
                    for f in files:
                        f.close(remove=not self._pending)
        if self._error is not None:
            raise self._error
