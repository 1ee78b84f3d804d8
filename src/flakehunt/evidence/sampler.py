"""Where the flight recorder's numbers come from: a protocol, psutil behind it, a fake.

Counters are cumulative (CPU seconds, bytes); the recorder turns them into
rates. ``None`` means unknown (AccessDenied, not supported here), never zero.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol


@dataclass(frozen=True)
class SystemCounters:
    """Whole-machine counters at one instant (cumulative unless said otherwise)."""

    cpu_total: float  # seconds, all CPUs, all states
    cpu_idle: float  # seconds idle (iowait excluded)
    cpu_iowait: float | None  # seconds in iowait (Linux only)
    disk_read_bytes: int | None
    disk_write_bytes: int | None
    disk_read_ops: int | None
    disk_write_ops: int | None
    mem_available: int | None  # instantaneous
    swap_used: int | None  # instantaneous
    load1: float | None  # instantaneous
    nprocs: int | None  # instantaneous


@dataclass(frozen=True)
class TreeCounters:
    """Counters summed over the live members of one run's process tree."""

    pids: tuple[int, ...]
    cpu_seconds: float | None  # members' user+sys, plus the root's reaped children
    rss: int | None
    fds: int | None  # open file descriptors (handles on Windows)
    read_bytes: int | None
    write_bytes: int | None


class ProcRow(NamedTuple):
    """One process in a whole-system snapshot (a tuple: 600 of them are built per second)."""

    pid: int
    ppid: int | None
    name: str
    cpu_seconds: float | None
    rss: int | None


class TelemetrySource(Protocol):
    """What the recorder samples; PsutilSource on real machines, FakeSource in tests."""

    def system(self) -> SystemCounters:
        """Return the machine's counters now."""

    def tree(self, pids: Iterable[int]) -> TreeCounters:
        """Return counters summed over the live processes among *pids*."""

    def snapshot(self) -> list[ProcRow]:
        """Return every process visible now (the 1 Hz snapshot)."""


def _sum(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


class PsutilSource:
    """Sample this machine with psutil; on Linux read ``/proc`` directly where psutil is slow.

    Measured with 500 processes: a psutil ``process_iter`` costs ~30 ms and the
    psutil system calls ~0.8 ms per tick; one read of ``/proc/PID/stat`` per
    process (1 Hz) and a ``pread`` of four kept-open ``/proc`` files (10 Hz)
    cost a fraction of that, which keeps the recorder under 2% of a core; per-run
    trees read ``/proc/PID/{stat,io,fd}`` (psutil's oneshot cost 0.3 ms per
    process per tick). Other platforms use psutil throughout. The process count
    comes from the last 1 Hz snapshot on Linux.
    """

    def __init__(self) -> None:
        import psutil

        self._psutil = psutil
        self._procs: dict[int, tuple[Any, float]] = {}
        self._linux = sys.platform.startswith("linux")
        self._tick = os.sysconf("SC_CLK_TCK") if self._linux else 100
        self._page = os.sysconf("SC_PAGE_SIZE") if self._linux else 4096
        self._count: int | None = None  # processes seen by the last snapshot
        if self._linux:
            from flakehunt.evidence.procfs import ProcReader, TreeReader

            self._proc = ProcReader()
            self._trees = TreeReader()

    def system(self) -> SystemCounters:
        """Return CPU, disk, memory, swap, load and process count now."""
        if self._linux:
            try:
                return self._proc.system(self._count)
            except (OSError, ValueError, IndexError, AssertionError):
                pass  # an odd /proc: fall back to psutil
        ps = self._psutil
        ct = ps.cpu_times()
        disk = ps.disk_io_counters(perdisk=False, nowrap=True)
        mem = ps.virtual_memory()
        try:
            swap_used: int | None = ps.swap_memory().used
        except (OSError, RuntimeError):
            swap_used = None
        try:
            load1: float | None = os.getloadavg()[0]
        except (OSError, AttributeError):
            load1 = None
        return SystemCounters(
            sum(ct), ct.idle, getattr(ct, "iowait", None),
            disk.read_bytes if disk else None, disk.write_bytes if disk else None,
            disk.read_count if disk else None, disk.write_count if disk else None,
            mem.available, swap_used, load1, len(ps.pids()),
        )

    def tree(self, pids: Iterable[int]) -> TreeCounters:
        """Return the summed counters of the live processes among *pids*."""
        if self._linux:
            live, *cols = self._trees.tree(list(pids))
            c, r, f, rd, wr = (_sum(col) for col in cols)

            def as_int(v: float | None) -> int | None:
                return None if v is None else int(v)

            return TreeCounters(tuple(live), c, as_int(r), as_int(f), as_int(rd), as_int(wr))
        return self._tree_psutil(pids)

    def _tree_psutil(self, pids: Iterable[int]) -> TreeCounters:
        ps = self._psutil
        cpu: list[float | None] = []
        rss: list[float | None] = []
        fds: list[float | None] = []
        rd: list[float | None] = []
        wr: list[float | None] = []
        live: list[int] = []
        for pid in pids:
            cached = self._procs.get(pid)
            try:
                if cached is None:
                    proc = ps.Process(pid)
                    cached = self._procs[pid] = (proc, proc.create_time())
                proc = cached[0]
                with proc.oneshot():
                    if proc.create_time() != cached[1]:  # the PID was reused: a stranger
                        raise ps.NoSuchProcess(pid)
                    cpu.append(self._get(lambda p=proc: _cpu(p)))
                    rss.append(self._get(lambda p=proc: p.memory_info().rss))
                    fds.append(self._get(lambda p=proc: _fds(p)))
                    io = self._get(lambda p=proc: p.io_counters())
                    rd.append(None if io is None else io.read_bytes)
                    wr.append(None if io is None else io.write_bytes)
                live.append(pid)
            except (ps.NoSuchProcess, ps.ZombieProcess):
                self._procs.pop(pid, None)
        for gone in set(self._procs) - set(live):
            if gone not in pids:
                self._procs.pop(gone, None)

        def as_int(v: float | None) -> int | None:
            return None if v is None else int(v)

        return TreeCounters(tuple(live), _sum(cpu), as_int(_sum(rss)), as_int(_sum(fds)),
                            as_int(_sum(rd)), as_int(_sum(wr)))

    def _get(self, fn: Any) -> Any:
        ps = self._psutil
        try:
            return fn()
        except (ps.AccessDenied, NotImplementedError, AttributeError):
            return None  # unknown, not zero

    def snapshot(self) -> list[ProcRow]:
        """Return every visible process with ppid, name, CPU seconds and RSS."""
        if not self._linux:
            return self._snapshot_psutil()
        rows: list[ProcRow] = []
        try:
            names = os.listdir("/proc")
            proc_fd = os.open("/proc", os.O_RDONLY)
        except OSError:
            return rows
        try:
            self._read_stats(names, proc_fd, rows)
        finally:
            os.close(proc_fd)
        self._count = len(rows)
        return rows

    def _read_stats(self, names: list[str], proc_fd: int, rows: list[ProcRow]) -> None:
        tick, page = self._tick, self._page
        for n in names:
            if not n.isdigit():
                continue
            # os.open relative to /proc + os.read: a third cheaper than open() per file
            try:
                fd = os.open(n + "/stat", os.O_RDONLY, dir_fd=proc_fd)
                try:
                    data = os.read(fd, 4096)
                finally:
                    os.close(fd)
            except FileNotFoundError:
                continue  # exited since the listing
            except OSError:
                rows.append(ProcRow(int(n), None, "?", None, None))
                continue
            # comm may hold spaces and parentheses: it ends at the last ')' (proc(5)).
            close = data.rfind(b")")
            fields = data[close + 2 :].split(None, 22)
            if len(fields) < 22:
                continue
            name = data[data.find(b"(") + 1 : close].decode("utf-8", "replace")
            cpu = (int(fields[11]) + int(fields[12])) / tick
            rows.append(ProcRow(int(n), int(fields[1]), name, cpu, int(fields[21]) * page))

    def _snapshot_psutil(self) -> list[ProcRow]:
        rows: list[ProcRow] = []
        for p in self._psutil.process_iter(["ppid", "name", "cpu_times", "memory_info"],
                                           ad_value=None):
            info = p.info
            ct, mi = info.get("cpu_times"), info.get("memory_info")
            rows.append(ProcRow(p.pid, info.get("ppid"), info.get("name") or "?",
                                None if ct is None else ct.user + ct.system,
                                None if mi is None else mi.rss))
        return rows


def _cpu(p: Any) -> float:
    ct = p.cpu_times()
    return float(ct.user + ct.system + getattr(ct, "children_user", 0.0)
                 + getattr(ct, "children_system", 0.0))


def _fds(p: Any) -> int:
    return int(p.num_handles() if sys.platform.startswith("win") else p.num_fds())


@dataclass
class FakeSource:
    """A scripted source for tests: set the fields, the recorder reads them."""

    sys_counters: SystemCounters = field(default_factory=lambda: SystemCounters(
        0.0, 0.0, 0.0, 0, 0, 0, 0, 8 << 30, 0, 0.0, 100))
    trees: dict[int, TreeCounters] = field(default_factory=dict)  # keyed by root pid
    procs: list[ProcRow] = field(default_factory=list)
    snapshots_taken: int = 0

    def system(self) -> SystemCounters:
        """Return the scripted counters."""
        return self.sys_counters

    def tree(self, pids: Iterable[int]) -> TreeCounters:
        """Return the scripted tree of the first pid that has one."""
        for pid in pids:
            if pid in self.trees:
                return self.trees[pid]
        return TreeCounters((), None, None, None, None, None)

    def snapshot(self) -> list[ProcRow]:
        """Return the scripted process list."""
        self.snapshots_taken += 1
        return list(self.procs)

    def advance(self, dt: float, *, busy: float = 0.0, iowait: float = 0.0, ncpu: int = 2,
                read_bps: float = 0.0, write_bps: float = 0.0, mem_available: int | None = None,
                ) -> None:
        """Move the counters forward by *dt* seconds at the given rates."""
        c = self.sys_counters
        total = ncpu * dt
        self.sys_counters = SystemCounters(
            c.cpu_total + total, c.cpu_idle + total * (1 - busy - iowait),
            (c.cpu_iowait or 0.0) + total * iowait,
            (c.disk_read_bytes or 0) + int(read_bps * dt),
            (c.disk_write_bytes or 0) + int(write_bps * dt),
            (c.disk_read_ops or 0) + int(read_bps * dt / 4096),
            (c.disk_write_ops or 0) + int(write_bps * dt / 4096),
            c.mem_available if mem_available is None else mem_available,
            c.swap_used, c.load1, c.nprocs,
        )
