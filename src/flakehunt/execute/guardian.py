"""A tiny watcher process that ends our runs if flakehunt itself dies.

flakehunt starts it with a pipe on its stdin. Every run carries the session
marker in its environment (``FLAKEHUNT_SESSION``), and so does every
descendant that does not scrub its environment; if the pipe closes without
``bye`` (flakehunt was SIGKILLed, or crashed), the guardian TERMs the process
groups of the marked processes, then KILLs whatever carries the marker.
Per-run messages would cost two writes per run; only the exceptions are sent:
``=PGID`` for a run left alive on purpose (``--no-kill``), spared by the sweep.

Run as ``python -m flakehunt.execute.guardian MARKER_KEY MARKER_VALUE``.
"""

from __future__ import annotations

import os
import signal
import sys
import time


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None  # gone meanwhile


def fork_guardian(key: str, value: str) -> tuple[int, int]:
    """Fork the guardian; return (its pid, the write end of its pipe).

    Forked rather than started as a new interpreter: it costs about a
    millisecond instead of a Python start-up, and needs no import path. Call
    it before any thread starts (the child uses no lock another thread holds).
    """
    r, w = os.pipe()
    # A Ctrl-C landing inside fork() is raised in whatever Python code runs there
    # (logging's lock release) and swallowed as "Exception ignored": block the
    # signals over the fork, so the parent gets them right after it instead.
    blocked = {signal.SIGINT, signal.SIGTERM}
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, blocked)
    try:
        pid = os.fork()
    except BaseException:
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
        raise
    if pid == 0:  # the guardian
        try:
            os.close(w)
            os.setsid()  # terminal signals to flakehunt's group must not reach us
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
            os.chdir("/")
            _serve((key, value), r)
        finally:
            os._exit(0)  # never run the parent's atexit handlers or finalizers
    signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
    os.close(r)
    return pid, w


def _serve(marker: tuple[str, str], fd: int) -> int:
    spared: set[int] = set()  # runs left alive on purpose (--no-kill)
    buf = b""
    clean = False
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        buf += chunk
        *lines, buf = buf.split(b"\n")
        for line in lines:
            if line == b"bye":
                clean = True
            elif line[:1] == b"=":
                spared.add(int(line[1:]))
    if clean:
        return 0
    from flakehunt.execute.posix import kill_group, kill_marked, marked_pids

    groups = {g for p in marked_pids([marker]) if (g := _pgid(p)) is not None} - spared
    for pgid in groups:
        kill_group(pgid, signal.SIGTERM)
    time.sleep(1.0)
    for pgid in groups:
        kill_group(pgid, signal.SIGKILL)
    kill_marked([marker], spare_groups=spared)
    return 0


def main() -> int:
    """Watch stdin until EOF; clean up unless told ``bye``."""
    # Our own terminal signals must not stop us before we clean up.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if len(sys.argv) != 3:
        print("usage: python -m flakehunt.execute.guardian KEY VALUE", file=sys.stderr)
        return 2
    os.chdir("/")
    return _serve((sys.argv[1], sys.argv[2]), sys.stdin.fileno())


if __name__ == "__main__":
    sys.exit(main())
