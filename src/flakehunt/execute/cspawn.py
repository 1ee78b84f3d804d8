"""posix_spawnp through ctypes (Linux): the GIL is released while a child starts.

Why not ``os.posix_spawnp``: CPython holds the GIL for the whole call, and
glibc's posix_spawn suspends the caller (``CLONE_VFORK``) until the child has
exec'd. Measured here: a thread sleeping 50 µs woke 340 µs late (p90) while
another thread spawned ``/bin/true`` with ``os.posix_spawn``, 121 µs with this
module: with two slots, one slot's spawn stalled the other slot's bookkeeping.
A ctypes call drops the GIL for its duration.

Three more savings, each measured on this machine's ext4:

* the child opens its own log (``O_CREAT|O_TRUNC`` as a file action), so the
  parent neither opens nor closes it;
* file actions are built once per (log, cwd) pair and reused: a slot's logs
  rotate among a few names (see ``campaign.runfiles``), its scratch directory is
  one;
* the environment block of a variant is encoded once; a run adds its few
  ``FLAKEHUNT_*`` values with one ``memmove`` (2.4 µs, against 15 µs for
  building a ctypes array of 45 strings each time).

Only glibc-compatible Linux uses it (``POSIX_SPAWN_SETSID`` = 0x80, glibc 2.26+;
``posix_spawn_file_actions_addchdir_np``, glibc 2.29+, for another cwd).
Elsewhere ``available()`` is False and the executor uses ``os.posix_spawnp``.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
from collections.abc import Mapping, Sequence
from typing import Any

# glibc <spawn.h>; musl uses the same values.
POSIX_SPAWN_SETSIGDEF = 0x04
POSIX_SPAWN_SETSID = 0x80
# Opaque libc structures, allocated generously: glibc's are 80 (file actions)
# and 336 (attributes) bytes on x86-64; the init functions fill them in.
_FILE_ACTIONS_BYTES = 512
_ATTR_BYTES = 1024
_SIGSET_BYTES = 256
_PTR = ctypes.sizeof(ctypes.c_char_p)
_MAX_CACHED_ACTIONS = 1024
# Signals Python ignores and a child must not inherit as ignored.
RESTORE_SIGNALS = (signal.SIGPIPE, signal.SIGXFSZ)

_FS_ENCODING = sys.getfilesystemencoding()
_libc: Any = None
_lock = threading.Lock()


def _load() -> Any:
    """Return libc with the functions this module calls, or None when unusable."""
    global _libc
    with _lock:
        if _libc is not None:
            return _libc or None
        _libc = False
        if not sys.platform.startswith("linux"):
            return None
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            needed = ("posix_spawn", "posix_spawnp", "posix_spawn_file_actions_init",
                      "posix_spawn_file_actions_destroy",
                      "posix_spawn_file_actions_addopen", "posix_spawn_file_actions_adddup2",
                      "posix_spawnattr_init", "posix_spawnattr_setflags",
                      "posix_spawnattr_setsigdefault", "sigemptyset", "sigaddset")
            for name in needed:
                getattr(libc, name)
        except (OSError, AttributeError):
            return None
        vp, cp = ctypes.c_void_p, ctypes.c_char_p
        for fn in (libc.posix_spawn, libc.posix_spawnp):
            fn.argtypes = [ctypes.POINTER(ctypes.c_int), cp, vp, vp, vp, vp]
            fn.restype = ctypes.c_int
        libc.posix_spawn_file_actions_addopen.argtypes = [vp, ctypes.c_int, cp, ctypes.c_int,
                                                          ctypes.c_uint]
        libc.posix_spawn_file_actions_adddup2.argtypes = [vp, ctypes.c_int, ctypes.c_int]
        libc.posix_spawnattr_setflags.argtypes = [vp, ctypes.c_short]
        if hasattr(libc, "posix_spawn_file_actions_addchdir_np"):
            libc.posix_spawn_file_actions_addchdir_np.argtypes = [vp, cp]
        _libc = libc
        return libc


def available() -> bool:
    """Whether this platform's libc can be driven directly (Linux with glibc or musl)."""
    return _load() is not None


def can_chdir() -> bool:
    """Whether a spawn may set the child's working directory (glibc 2.29+)."""
    libc = _load()
    return libc is not None and hasattr(libc, "posix_spawn_file_actions_addchdir_np")


def _check(rc: int, what: str) -> None:
    if rc != 0:
        raise OSError(rc if rc > 0 else ctypes.get_errno(), f"{what} failed")


class EnvBlock:
    """One encoded environment (``KEY=VALUE`` C strings); extend it per run cheaply."""

    def __init__(self, env: Mapping[str, str], exclude: frozenset[str] = frozenset()) -> None:
        self._items = [os.fsencode(k) + b"=" + os.fsencode(v)
                       for k, v in env.items() if k not in exclude]
        self._n = len(self._items)
        self._array = (ctypes.c_char_p * self._n)(*self._items)

    def with_extra(self, extra: Mapping[str, str]) -> Any:
        """Return a NULL-terminated ``char *[]`` of this block plus *extra*."""
        n = self._n
        arr: Any = (ctypes.c_char_p * (n + len(extra) + 1))()
        ctypes.memmove(arr, self._array, n * _PTR)
        # The copied pointers point into self._items: the caller must hold this
        # block until the spawn has returned.
        for i, (k, v) in enumerate(extra.items(), n):
            arr[i] = f"{k}={v}".encode(_FS_ENCODING, "surrogateescape")  # os.fsencode, inlined
        return arr


def argv_array(argv: Sequence[str]) -> Any:
    """Return a NULL-terminated ``char *[]`` of *argv*."""
    items = [os.fsencode(a) for a in argv]
    return (ctypes.c_char_p * (len(items) + 1))(*items)


class Spawner:
    """Spawn children in new sessions with stdin from /dev/null, output to a log file."""

    def __init__(self) -> None:
        libc = _load()
        if libc is None:
            raise OSError("posix_spawn through ctypes is not available here")
        self._libc = libc
        self._attr = ctypes.create_string_buffer(_ATTR_BYTES)
        _check(libc.posix_spawnattr_init(self._attr), "posix_spawnattr_init")
        sigset = ctypes.create_string_buffer(_SIGSET_BYTES)
        libc.sigemptyset(sigset)
        for sig in RESTORE_SIGNALS:
            libc.sigaddset(sigset, int(sig))
        _check(libc.posix_spawnattr_setsigdefault(self._attr, sigset), "setsigdefault")
        _check(libc.posix_spawnattr_setflags(self._attr, POSIX_SPAWN_SETSID |
                                             POSIX_SPAWN_SETSIGDEF), "setflags")
        self._actions: dict[tuple[str, str | None], Any] = {}
        self._actions_lock = threading.Lock()

    def _file_actions(self, log_path: str, cwd: str | None) -> tuple[Any, bool]:
        """Return (file actions, cached); the caller destroys actions that are not cached."""
        key = (log_path, cwd)
        fa = self._actions.get(key)
        if fa is not None:
            return fa, True
        libc = self._libc
        fa = ctypes.create_string_buffer(_FILE_ACTIONS_BYTES)
        _check(libc.posix_spawn_file_actions_init(fa), "file_actions_init")
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        # The log first: a relative log path means relative to *our* directory.
        _check(libc.posix_spawn_file_actions_addopen(fa, 1, os.fsencode(log_path), flags,
                                                     0o644), "addopen")
        _check(libc.posix_spawn_file_actions_adddup2(fa, 1, 2), "adddup2")
        _check(libc.posix_spawn_file_actions_addopen(fa, 0, os.devnull.encode(), os.O_RDONLY,
                                                     0), "addopen")
        if cwd is not None:
            _check(libc.posix_spawn_file_actions_addchdir_np(fa, os.fsencode(cwd)), "addchdir")
        with self._actions_lock:
            # A slot's logs and directories are a few names, used again and again; a
            # cluster worker's temporary paths are new each time: used once, then freed.
            if len(self._actions) >= _MAX_CACHED_ACTIONS:
                return fa, False
            self._actions[key] = fa
        return fa, True

    def spawn(self, argv: Any, envp: Any, log_path: str, cwd: str | None = None,
              program: bytes | None = None) -> int:
        """Start the program of *argv* (``argv_array``) with *envp*; return its pid.

        *program* is the file to execute, found already (``execute.search``);
        None searches ``PATH`` for ``argv[0]``. *cwd* None keeps ours. Raises
        OSError with the child's errno when the program, the log or the
        directory could not be opened (glibc reports failures of file actions
        and of exec alike).
        """
        fa, cached = self._file_actions(log_path, cwd)
        pid = ctypes.c_int(0)
        try:
            if program is not None:
                rc = self._libc.posix_spawn(ctypes.byref(pid), program, fa, self._attr, argv,
                                            envp)
            else:
                rc = self._libc.posix_spawnp(ctypes.byref(pid), argv[0], fa, self._attr, argv,
                                             envp)
        finally:
            if not cached:
                self._libc.posix_spawn_file_actions_destroy(fa)
        if rc != 0:
            raise OSError(rc, os.strerror(rc))
        return pid.value
