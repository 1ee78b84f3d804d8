"""macOS: ``fcntl(F_FULLFSYNC)``, because plain fsync there stops at the drive's cache.

Apple's fsync(2) man page: fsync "does not" ask the drive to flush its own
cache; F_FULLFSYNC does. Some file systems (SMB, FAT, some FUSE) refuse
F_FULLFSYNC with ENOTSUP/EINVAL; then plain fsync is the best available.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

# <sys/fcntl.h> on Darwin; Python's fcntl module exposes it only when built there.
F_FULLFSYNC = 51

_FALLBACK_ERRNOS = frozenset({errno.ENOTSUP, errno.EINVAL, errno.ENOTTY})
if hasattr(errno, "EOPNOTSUPP"):
    _FALLBACK_ERRNOS = _FALLBACK_ERRNOS | {errno.EOPNOTSUPP}


def falls_back_to_fsync(err: int) -> bool:
    """Return whether an F_FULLFSYNC failure with *err* means "use plain fsync instead"."""
    return err in _FALLBACK_ERRNOS


def full_fsync(
    fd: int,
    fcntl_call: Callable[[int, int], object],
    fsync_call: Callable[[int], None] = os.fsync,
) -> str:
    """Flush *fd* with F_FULLFSYNC, or fsync where the file system refuses; return which."""
    try:
        fcntl_call(fd, F_FULLFSYNC)
    except OSError as exc:
        if exc.errno is None or not falls_back_to_fsync(exc.errno):
            raise
        fsync_call(fd)
        return "fsync"
    return "F_FULLFSYNC"


class FullFsyncSyncer:
    """Flush files and directories with F_FULLFSYNC (falling back to fsync)."""

    name = "F_FULLFSYNC"

    def _sync(self, path: Path, flags: int) -> None:
        import fcntl

        fd = os.open(path, flags)
        try:
            full_fsync(fd, fcntl.fcntl)
        finally:
            os.close(fd)

    def sync_file(self, path: Path) -> None:
        """Flush *path* through the drive's cache."""
        self._sync(path, os.O_RDONLY)

    def sync_dir(self, path: Path) -> None:
        """Flush directory *path* (new names live in the directory)."""
        self._sync(path, os.O_RDONLY)
