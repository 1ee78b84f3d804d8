"""Has anything been created in a directory since we last looked? (inotify on Linux)

A slot's scratch directory must be empty before its next run, and most runs
never write there. Listing it after every run costs an ``openat``, two
``getdents64`` and a ``close`` (~12 µs here, ~20 µs with two slots busy); a
non-blocking ``read`` of an inotify descriptor that has nothing to say costs one
failed system call. So each scratch directory gets an inotify watch for entries
created or moved in, and for the directory itself going away; only when the
watch saw something is the directory listed and emptied.

Elsewhere (no inotify, or the watch limit reached) ``changed`` is always True
and the caller lists the directory as before.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import struct
import sys
from typing import Any

if sys.platform.startswith("linux"):
    import fcntl
    from termios import FIONREAD

# <sys/inotify.h>
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_DELETE_SELF = 0x00000400
IN_MOVE_SELF = 0x00000800
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = 0o2000000
IN_IGNORED = 0x00008000  # a watch removed: ours, by rearm, when the directory was replaced
MASK = IN_CREATE | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len; then len bytes of name

_libc: Any = None


def _load() -> Any:
    global _libc
    if _libc is None:
        _libc = False
        if sys.platform.startswith("linux"):
            try:
                libc = ctypes.CDLL(None, use_errno=True)
                for name in ("inotify_init1", "inotify_add_watch", "inotify_rm_watch"):
                    getattr(libc, name)
                libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p,
                                                   ctypes.c_uint32]
                _libc = libc
            except (OSError, AttributeError):
                pass
    return _libc or None


class DirWatch:
    """Tell whether entries appeared in one directory since the last ``changed``."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd = -1
        self._wd = -1
        self._pending = bytearray(4)  # FIONREAD's answer: an int
        libc = _load()
        if libc is None:
            return
        fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if fd < 0:
            return  # out of inotify instances: list the directory every time
        self._fd = fd
        self._libc = libc
        if not self._arm():
            self.close()

    @property
    def active(self) -> bool:
        """Whether a watch is in place (else ``changed`` is always True)."""
        return self._fd >= 0

    def _arm(self) -> bool:
        """Watch ``path`` (again: it may be a new directory by the same name)."""
        wd = self._libc.inotify_add_watch(self._fd, os.fsencode(self.path), MASK)
        if wd < 0:
            return False
        if self._wd >= 0 and wd != self._wd:
            self._libc.inotify_rm_watch(self._fd, self._wd)  # the old directory, moved away
        self._wd = wd
        return True

    def changed(self) -> bool:
        """True if something was created or moved in (or the directory replaced) since last.

        Call it before emptying the directory: what is created after it shows
        at the next call.
        """
        if self._fd < 0:
            return True
        try:
            # How many bytes of events wait: no exception to raise and catch in
            # the common case (a failed read costs three times as much).
            fcntl.ioctl(self._fd, FIONREAD, self._pending)
        except OSError:
            self.close()
            return True
        if not any(self._pending):
            return False
        news = False
        while True:  # drain: one answer for however many events
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                return news  # the common case, at once: nothing happened
            except OSError:
                self.close()
                return True
            pos = 0
            while pos + _EVENT.size <= len(data):
                _wd, mask, _cookie, size = _EVENT.unpack_from(data, pos)
                news = news or mask != IN_IGNORED
                pos += _EVENT.size + size

    def rearm(self) -> None:
        """Watch the directory now at ``path`` (after it was moved away and made again)."""
        if self._fd >= 0 and not self._arm():
            self.close()

    def close(self) -> None:
        """Release the inotify descriptor."""
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = -1
