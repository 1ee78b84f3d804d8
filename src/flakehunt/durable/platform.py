"""Choose how this operating system pushes a file's data to stable storage."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Protocol


class Syncer(Protocol):
    """The one side effect of flushing: make a file or a directory entry durable."""

    name: str

    def sync_file(self, path: Path) -> None:
        """Flush *path*'s data and metadata to stable storage."""

    def sync_dir(self, path: Path) -> None:
        """Flush directory *path* so that creates and renames inside it survive."""


class PosixSyncer:
    """``fsync(2)`` on the file, and on its directory (POSIX: a new name is in the directory)."""

    name = "fsync"

    def sync_file(self, path: Path) -> None:
        """Open *path* read-only and fsync it (Linux and the BSDs accept fsync on O_RDONLY)."""
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def sync_dir(self, path: Path) -> None:
        """Fsync a directory; the rename/create rule is in POSIX fsync(2) and ext4's docs."""
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def default_syncer(platform: str | None = None) -> Syncer:
    """Return the syncer for *platform* (``sys.platform`` by default)."""
    plat = sys.platform if platform is None else platform
    if plat == "darwin":
        from flakehunt.durable.macos import FullFsyncSyncer

        return FullFsyncSyncer()
    if plat == "win32":
        from flakehunt.durable.windows import FlushFileBuffersSyncer

        return FlushFileBuffersSyncer()
    return PosixSyncer()
