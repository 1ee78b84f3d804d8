"""Read a live Linux process: /proc/PID/maps for mappings, /proc/PID/mem for bytes.

The process keeps running; chkimg reads each page once. Code pages of a live
process share the page cache with their file, so comparing with that same
file cannot see page-cache corruption: give an independent copy with --image.
"""

from __future__ import annotations

import os
from pathlib import Path

from flakehunt.errors import EnvironmentProblem, FormatError, NotFound
from flakehunt.images.elfcore import group_mappings
from flakehunt.images.memory import HeldMemory, Piece
from flakehunt.images.target import Target

MACHINES = {"x86_64": "x86-64", "aarch64": "arm64", "i686": "x86"}


class ProcMem:
    """``/proc/PID/mem``: the offset of a byte is its address."""

    def __init__(self, pid: int, proc: Path) -> None:
        path = proc / str(pid) / "mem"
        try:
            self.fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            raise NotFound(f"no process {pid}", "check the pid; it may have exited") from None
        except PermissionError:
            raise EnvironmentProblem(
                f"not allowed to read the memory of process {pid}",
                "run as the same user as the process (and see kernel.yama.ptrace_scope) or as root",
            ) from None

    @property
    def length(self) -> None:
        """A process has no fixed end."""
        return None

    def read_at(self, offset: int, size: int) -> bytes:
        """Return the bytes at address *offset*, or fewer if the pages cannot be read."""
        out = bytearray()
        while len(out) < size:
            try:
                chunk = os.pread(self.fd, min(size - len(out), 1 << 24), offset + len(out))
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        return bytes(out)

    def close(self) -> None:
        """Close the file."""
        os.close(self.fd)


def parse_maps(text: str) -> list[tuple[int, int, str, int, str]]:
    """Parse /proc/PID/maps lines into (start, end, perms, offset, path)."""
    out = []
    for line in text.splitlines():
        fields = line.split(None, 5)
        if len(fields) < 5:
            continue
        try:
            lo, hi = (int(x, 16) for x in fields[0].split("-"))
            offset = int(fields[2], 16)
        except ValueError:
            raise FormatError(f"cannot read a /proc maps line: {line!r}") from None
        out.append((lo, hi, fields[1], offset, fields[5].strip() if len(fields) > 5 else ""))
    return out


def open_process(pid: int, proc: Path = Path("/proc")) -> Target:
    """Open live process *pid* through /proc."""
    try:
        maps = parse_maps((proc / str(pid) / "maps").read_text())
    except FileNotFoundError:
        raise NotFound(f"no process {pid}", "check the pid; it may have exited") from None
    except PermissionError:
        raise EnvironmentProblem(f"not allowed to read /proc/{pid}/maps",
                                 "run as the same user as the process, or as root") from None
    source = ProcMem(pid, proc)
    pieces = [Piece(lo, hi - lo, lo) for lo, hi, perms, _o, name in maps
              if perms.startswith("r") and name != "[vvar]"]
    files = [(lo, hi, off, name, "x" in perms) for lo, hi, perms, off, name in maps
             if name.startswith("/")]
    target = Target(f"pid:{pid}", "live", MACHINES.get(os.uname().machine, os.uname().machine),
                    group_mappings(files), HeldMemory(pieces, source, f"process {pid}"), pid=pid)
    target.notes.append(
        "live process: its code pages share the page cache with their files, so page-cache "
        "corruption shows only against an independent copy "
        "(--image pointing at a kept build output)")
    return target
