"""One cheap pass over every process on the machine: /proc on Linux, psutil elsewhere.

Per process: pid, parent, name, state, start time, open fds (handles on
Windows), RSS and threads. ``None`` means unknown (AccessDenied), never zero.
Formats: proc(5), ``/proc/PID/stat`` fields after the parenthesised comm.
"""

from __future__ import annotations

import os
from typing import NamedTuple

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class ProcSample(NamedTuple):
    """One process at one instant (a tuple: hundreds are built per sample)."""

    pid: int
    ppid: int
    name: str
    state: str  # one letter; "Z" is a zombie
    start: float  # start time in clock ticks (Linux) or seconds (psutil): an identity, with pid
    fds: int | None
    rss: int | None  # bytes
    threads: int | None


def parse_stat(pid: int, text: str) -> ProcSample | None:
    """Parse ``/proc/PID/stat``; the name may hold spaces and parentheses."""
    lp, rp = text.find("("), text.rfind(")")
    if lp < 0 or rp < 0:
        return None
    name = text[lp + 1 : rp]
    f = text[rp + 2 :].split()
    # f[0] is field 3 (state): ppid 4, num_threads 20, starttime 22, rss 24 (pages).
    if len(f) < 22:
        return None
    return ProcSample(pid, int(f[1]), name, f[0], float(f[19]), None, int(f[21]) * _PAGE,
                      int(f[17]))


def _fd_count(pid: int) -> int | None:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None  # gone, or not ours to look at


def scan_proc(proc: str = "/proc", *, fds: bool = True) -> list[ProcSample]:
    """Return every process readable under *proc* (fd counts unless *fds* is False)."""
    out: list[ProcSample] = []
    for entry in os.listdir(proc):
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            with open(f"{proc}/{entry}/stat", "rb") as fh:
                text = fh.read().decode("utf-8", "replace")
        except OSError:
            continue
        s = parse_stat(pid, text)
        if s is None:
            continue
        if fds and s.state != "Z" and s.ppid != 2 and pid != 2:  # kernel threads: no fds
            s = s._replace(fds=_fd_count(pid) if proc == "/proc" else None)
        out.append(s)
    return out


def scan_psutil() -> list[ProcSample]:
    """Return every process psutil can see (macOS, Windows)."""
    import psutil

    attrs = ["pid", "ppid", "name", "status", "create_time", "memory_info", "num_threads"]
    handles = "num_handles" if hasattr(psutil.Process, "num_handles") else "num_fds"
    out: list[ProcSample] = []
    for p in psutil.process_iter([*attrs, handles]):
        i = p.info
        mem = i.get("memory_info")
        state = "Z" if i.get("status") == psutil.STATUS_ZOMBIE else "R"
        out.append(ProcSample(i["pid"], i.get("ppid") or 0, i.get("name") or "?", state,
                              float(i.get("create_time") or 0.0), i.get(handles),
                              mem.rss if mem is not None else None, i.get("num_threads")))
    return out


def scan() -> list[ProcSample]:
    """Return every process on this machine, the cheapest way available."""
    if os.path.isdir("/proc/self"):
        return scan_proc()
    return scan_psutil()


def environ_has(pid: int, needle: bytes) -> bool | None:
    """Return whether *pid*'s environment holds the entry *needle* (None: cannot tell)."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as fh:
            return needle in fh.read().split(b"\0")
    except FileNotFoundError:
        return None
    except OSError:
        return None


def environ_of(pid: int) -> dict[str, str]:
    """Return *pid*'s environment ({} when it cannot be read)."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as fh:
            data = fh.read()
    except OSError:
        try:
            import psutil

            return dict(psutil.Process(pid).environ())
        except Exception:  # psutil.Error, OSError, no psutil: unknown
            return {}
    env: dict[str, str] = {}
    for item in data.split(b"\0"):
        k, eq, v = item.partition(b"=")
        if eq:
            env[k.decode("utf-8", "replace")] = v.decode("utf-8", "replace")
    return env


def cmdline_of(pid: int) -> str:
    """Return *pid*'s command line as one string ('' when unknown)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return " ".join(a.decode("utf-8", "replace") for a in fh.read().split(b"\0") if a)
    except OSError:
        try:
            import psutil

            return " ".join(psutil.Process(pid).cmdline())
        except Exception:
            return ""
