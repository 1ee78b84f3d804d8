"""Write a file through a memory mapping and flush the mapping before it is used."""

from __future__ import annotations

import mmap
import os
from collections.abc import Callable
from pathlib import Path

from flakehunt.durable.platform import Syncer, default_syncer
from flakehunt.errors import UsageError

Fill = Callable[[mmap.mmap], None]


def write_mapped(
    path: str | os.PathLike[str],
    size: int,
    fill: Fill | bytes | bytearray | memoryview,
    *,
    syncer: Syncer | None = None,
) -> Path:
    """Create *path* of *size* bytes, fill it through mmap, then mmap.flush and fsync.

    *fill* is either the bytes (exactly *size* of them) or a callback given the
    writable mapping. ``mmap.flush`` is msync(MS_SYNC) on POSIX and
    FlushViewOfFile on Windows; the fsync afterwards (FlushFileBuffers on
    Windows, the story's fix) covers the file's metadata as well.
    """
    if size < 0:
        raise UsageError(f"size must be >= 0, not {size}", None)
    if not callable(fill) and len(fill) != size:
        raise UsageError(f"data is {len(fill)} bytes but size is {size}", "pass matching sizes")
    target = Path(path)
    sync = default_syncer() if syncer is None else syncer
    fd = os.open(target, os.O_RDWR | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o666)
    try:
        os.ftruncate(fd, size)
        if size:
            with mmap.mmap(fd, size, access=mmap.ACCESS_WRITE) as view:
                if callable(fill):
                    fill(view)
                else:
                    view[:] = bytes(fill)
                view.flush()
        os.fsync(fd)
    finally:
        os.close(fd)
    if os.name != "posix":
        sync.sync_file(target)
    parent = target.parent if str(target.parent) else Path(".")
    sync.sync_dir(parent.resolve())
    return target
