"""One stressor process: ``python -m flakehunt.load.worker KIND ARG PARENT_PID``.

Kinds: ``cpu`` (spin), ``io DIR`` (write + fsync bursts in DIR), ``mem BYTES``
(hold BYTES resident, touching every page), ``spawn`` (a process-creation
storm of /bin/true), ``exec -- ARGV`` (become an external stressor). Each asks
the kernel for SIGKILL when flakehunt's main thread dies (PR_SET_PDEATHSIG,
prctl(2)) and then checks that flakehunt is still its parent, closing the race
where flakehunt died before the prctl. Imports only the standard library.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import time

PR_SET_PDEATHSIG = 1  # linux/prctl.h
PAGE = 4096
IO_CHUNK = 64 * 1024
IO_BURST = 4 * 1024 * 1024  # bytes written between fsyncs
IO_FILE_MAX = 64 * 1024 * 1024  # rewrite from the start past this


def die_with_parent(parent: int) -> None:
    """Be killed when *parent* dies; exit now if it already did."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(0)


def spin() -> None:
    """Keep one CPU busy."""
    x = 0
    while True:
        for i in range(100_000):
            x ^= i


def write_bursts(directory: str) -> None:
    """Write and fsync in bursts, forever, in one file of *directory*."""
    block = os.urandom(IO_CHUNK)
    path = os.path.join(directory, f"io-{os.getpid()}")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    written = 0
    while True:
        for _ in range(IO_BURST // IO_CHUNK):
            os.write(fd, block)
        os.fsync(fd)
        written += IO_BURST
        if written >= IO_FILE_MAX:
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            written = 0


def hold_memory(size: int) -> None:
    """Allocate *size* bytes and keep every page touched (resident under pressure)."""
    buf = bytearray(size)
    while True:
        for off in range(0, size, PAGE):
            buf[off] = (buf[off] + 1) & 0xFF
        time.sleep(0.5)


def storm() -> None:
    """Create processes as fast as one loop can."""
    true = "/bin/true" if os.path.exists("/bin/true") else "true"
    while True:
        with contextlib.suppress(OSError):
            pid = os.posix_spawnp(true, [true], dict(os.environ))
            os.waitpid(pid, 0)


def main(argv: list[str]) -> int:
    """Run the stressor named by *argv*."""
    if len(argv) < 3:
        print("usage: python -m flakehunt.load.worker KIND ARG PARENT_PID [-- ARGV]",
              file=sys.stderr)
        return 2
    kind, arg, parent = argv[0], argv[1], int(argv[2])
    die_with_parent(parent)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    if kind == "cpu":
        spin()
    elif kind == "io":
        write_bursts(arg)
    elif kind == "mem":
        hold_memory(int(arg))
    elif kind == "spawn":
        storm()
    elif kind == "exec" and len(argv) > 4 and argv[3] == "--":
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.execvp(argv[4], argv[4:])  # the death signal survives execve (prctl(2))
    else:
        print(f"unknown stressor {kind!r}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
