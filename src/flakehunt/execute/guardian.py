"""A tiny watcher process that ends our runs if flakehunt itself dies.

flakehunt starts it with a pipe on its stdin and tells it ``+PGID`` when a run
starts, ``-PGID`` when it ends, and ``=PGID`` when it is left alive on purpose.
If the pipe closes without ``bye`` (flakehunt was SIGKILLed, or crashed), the
guardian TERMs then KILLs every live group and every process carrying the
session marker, so nothing is orphaned.

Run as ``python -m flakehunt.execute.guardian MARKER_KEY MARKER_VALUE``.
"""

from __future__ import annotations

import os
import signal
import sys
import time


def _serve(marker: tuple[str, str]) -> int:
    groups: set[int] = set()
    spared: set[int] = set()  # runs left alive on purpose (--no-kill)
    buf = b""
    fd = sys.stdin.fileno()
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
            elif line[:1] == b"+":
                groups.add(int(line[1:]))
            elif line[:1] == b"-":
                groups.discard(int(line[1:]))
            elif line[:1] == b"=":
                groups.discard(int(line[1:]))
                spared.add(int(line[1:]))
    if clean:
        return 0
    from flakehunt.execute.posix import kill_group, kill_marked

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
    return _serve((sys.argv[1], sys.argv[2]))


if __name__ == "__main__":
    sys.exit(main())
