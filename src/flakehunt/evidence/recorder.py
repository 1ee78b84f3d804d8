"""The telemetry flight recorder: a background sampler over fixed-size rings.

Every tick (``hz``, default 10) stores one system sample and one sample per
registered run (its process tree); every ``1/snapshot_hz`` seconds (default 1)
it takes a whole-system process snapshot, keeps its top ``top`` processes by
CPU and by RSS, and refreshes each run's tree from the parent links; if one
snapshot costs more than ``snapshot_budget`` (1% of a core) at that rate, the
snapshot interval stretches to stay within it. The rings' capacity is fixed
when the recorder is built: see ``memory_bytes``, the records as packed
structures (2 MB for ten minutes at 10 Hz with 4 concurrent runs). They are
held as Python tuples until read, about five times that once the rings are
full (10.7 MB, measured), so that numpy is imported only when a window is read
(``ring``). NaN in a ring means unknown.
"""

from __future__ import annotations

import gzip
import heapq
import json
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flakehunt.evidence.ring import Fields, Ring, structured
from flakehunt.evidence.sampler import SystemCounters, TelemetrySource, TreeCounters

if TYPE_CHECKING:
    import numpy as np

FORMAT = "flakehunt-telemetry"
FORMAT_VERSION = 1

# Record layouts (numpy formats). The rings hold tuples; numpy, imported only
# when a window is read, makes them arrays of these dtypes: see ``ring``.
SYSTEM_FIELDS: Fields = (
    ("t", "f8"), ("cpu_busy", "f4"), ("iowait", "f4"),
    ("disk_read_bps", "f8"), ("disk_write_bps", "f8"),
    ("disk_read_ops", "f4"), ("disk_write_ops", "f4"),
    ("mem_available", "f8"), ("swap_used", "f8"), ("load1", "f4"), ("nprocs", "f4"),
)
RUN_FIELDS: Fields = (
    ("t", "f8"), ("key", "i4"), ("nprocs", "f4"), ("cpu", "f4"), ("rss", "f8"),
    ("fds", "f4"), ("read_bps", "f8"), ("write_bps", "f8"),
)
PROC_FIELDS: Fields = (
    ("t", "f8"), ("pid", "i4"), ("ppid", "i4"), ("cpu", "f4"), ("rss", "f8"), ("name", "S16"),
)
_DTYPES = {"SYSTEM_DTYPE": SYSTEM_FIELDS, "RUN_DTYPE": RUN_FIELDS, "PROC_DTYPE": PROC_FIELDS}


def __getattr__(name: str) -> Any:
    """``SYSTEM_DTYPE``, ``RUN_DTYPE``, ``PROC_DTYPE``: numpy dtypes, made on first use."""
    if name in _DTYPES:
        return structured(_DTYPES[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


NAN = float("nan")


def _f(v: float | None) -> float:
    return NAN if v is None else float(v)


def _rate(new: float | None, old: float | None, dt: float) -> float:
    if new is None or old is None or dt <= 0 or new < old:
        return NAN  # unknown, or a counter reset (a member exited): not a negative rate
    return (new - old) / dt


@dataclass
class _Run:
    key: int
    name: str
    root: int
    pids: set[int]
    last: TreeCounters | None = None
    last_t: float = 0.0
    seen: set[int] = field(default_factory=set)  # every PID ever in the tree (capped)


@dataclass(frozen=True)
class Window:
    """The samples of one time interval: system, per-run and process snapshots."""

    start: float
    end: float
    system: np.ndarray[Any, Any]
    runs: np.ndarray[Any, Any]
    procs: np.ndarray[Any, Any]
    run_names: dict[int, str]
    hz: float

    def for_run(self, name: str) -> np.ndarray[Any, Any]:
        """Return the per-run samples of the run registered as *name*."""
        import numpy as np

        keys = [k for k, n in self.run_names.items() if n == name]
        return self.runs[np.isin(self.runs["key"], keys)]


class FlightRecorder:
    """Sample a TelemetrySource into rings; hand out windows of the recent past."""

    def __init__(self, source: TelemetrySource | None = None, *,
                 clock: Callable[[], float] = time.time, hz: float = 10.0,
                 retention: float = 600.0, max_runs: int = 4, snapshot_hz: float = 1.0,
                 top: int = 8, snapshot_budget: float = 0.01) -> None:
        if hz <= 0 or retention <= 0:
            raise ValueError("hz and retention must be positive")
        if source is None:
            from flakehunt.evidence.sampler import PsutilSource

            source = PsutilSource()
        self.source = source
        self.clock = clock
        self.hz = hz
        self.retention = retention
        self.base_snapshot_interval = self.snapshot_interval = 1.0 / snapshot_hz
        self.snapshot_budget = snapshot_budget
        self.top = top
        n = max(1, math.ceil(hz * retention))
        self.system = Ring(SYSTEM_FIELDS, n)
        self.runs = Ring(RUN_FIELDS, n * max(1, max_runs))
        self.procs = Ring(PROC_FIELDS, max(1, math.ceil(retention * snapshot_hz)) * 2 * top)
        self._lock = threading.Lock()
        self._active: dict[str, _Run] = {}
        self._names: dict[int, str] = {}
        self._names_limit = 1024
        self._next_key = 0
        self._last_sys: SystemCounters | None = None
        self._last_sys_t = 0.0
        self._last_snap_t = -math.inf
        self._last_cpu: dict[int, float] = {}
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.errors = 0  # ticks that raised; the recorder keeps going

    @property
    def memory_bytes(self) -> int:
        """Return the bytes of the rings' records at capacity, as packed structures."""
        return self.system.nbytes + self.runs.nbytes + self.procs.nbytes

    def register(self, name: str, pid: int) -> None:
        """Start sampling the process tree rooted at *pid* under the run name *name*."""
        with self._lock:
            key = self._next_key
            self._next_key += 1
            self._names[key] = name
            self._active[name] = _Run(key, name, pid, {pid})

    def unregister(self, name: str, *, tree: bool = True) -> frozenset[int]:
        """Stop sampling the run *name*; return every PID seen in its tree (if *tree*).

        Its samples stay in the ring. The PIDs let a core named by ``%p`` be
        matched to a grandchild of the run rather than to another run's crash;
        a passing run does not need them.
        """
        with self._lock:
            run = self._active.pop(name, None)
            seen = frozenset() if run is None or not tree else frozenset(run.seen | run.pids)
            if len(self._names) <= self._names_limit:
                return seen
        # Forget names no sample in the ring refers to: most short runs have none,
        # and thousands of runs a second must not grow this map.
        in_ring = {row[1] for row in self.runs.rows()}
        with self._lock:
            keep = in_ring | {r.key for r in self._active.values()}
            self._names = {k: v for k, v in self._names.items() if k in keep}
            self._names_limit = 2 * len(self._names) + 1024
        return seen

    def sample_once(self) -> None:
        """Take one tick: a system sample, one sample per run, and a snapshot when due."""
        now = self.clock()
        counters = self.source.system()
        if self._last_sys is not None:
            self.system.append(self._system_row(now, counters))
        self._last_sys, self._last_sys_t = counters, now
        if now - self._last_snap_t >= self.snapshot_interval - 1e-9:
            self._snapshot(now)
        with self._lock:
            runs = list(self._active.values())
        for run in runs:
            tree = self.source.tree(sorted(run.pids))
            if run.last is not None:
                dt = now - run.last_t
                cpu = _rate(tree.cpu_seconds, run.last.cpu_seconds, dt)
                self.runs.append((now, run.key, len(tree.pids), cpu, _f(tree.rss), _f(tree.fds),
                                  _rate(tree.read_bytes, run.last.read_bytes, dt),
                                  _rate(tree.write_bytes, run.last.write_bytes, dt)))
            run.last, run.last_t = tree, now
            if tree.pids:
                run.pids = set(tree.pids) | (run.pids & {run.root})

    def _system_row(self, now: float, c: SystemCounters) -> tuple[float, ...]:
        old = self._last_sys
        assert old is not None
        dt = now - self._last_sys_t
        dtot = c.cpu_total - old.cpu_total
        busy = iow = NAN
        if dtot > 0:
            idle = c.cpu_idle - old.cpu_idle
            w = None if c.cpu_iowait is None or old.cpu_iowait is None else (
                c.cpu_iowait - old.cpu_iowait)
            busy = max(0.0, 1.0 - (idle + (w or 0.0)) / dtot)
            iow = NAN if w is None else max(0.0, w / dtot)
        return (now, busy, iow,
                _rate(c.disk_read_bytes, old.disk_read_bytes, dt),
                _rate(c.disk_write_bytes, old.disk_write_bytes, dt),
                _rate(c.disk_read_ops, old.disk_read_ops, dt),
                _rate(c.disk_write_ops, old.disk_write_ops, dt),
                _f(c.mem_available), _f(c.swap_used), _f(c.load1), _f(c.nprocs))

    def _snapshot(self, now: float) -> None:
        dt = now - self._last_snap_t
        self._last_snap_t = now
        cpu0 = time.thread_time()
        rows = self.source.snapshot()
        with self._lock:
            runs = list(self._active.values())
        children: dict[int, list[int]] = {}
        last = self._last_cpu
        cpu_now: dict[int, float] = {}
        rated: list[tuple[float, int]] = []  # (cpu rate, index): NaN-free, for ranking
        ok_dt = math.isfinite(dt) and dt > 0
        for i, (pid, ppid, _name, cpu, _rss) in enumerate(rows):
            if runs and ppid is not None:
                children.setdefault(ppid, []).append(pid)
            if cpu is not None:
                cpu_now[pid] = cpu
                prev = last.get(pid)
                if prev is not None and ok_dt:
                    rated.append((max(0.0, (cpu - prev) / dt), i))
        self._last_cpu = cpu_now
        rates = {i: r for r, i in rated}
        top_cpu = [i for _, i in heapq.nlargest(self.top, rated)]
        top_rss = heapq.nlargest(self.top, (i for i, r in enumerate(rows) if r.rss is not None),
                                 key=lambda i: rows[i].rss or 0)
        for i in dict.fromkeys(top_cpu + top_rss):
            r = rows[i]
            self.procs.append((now, r.pid, -1 if r.ppid is None else r.ppid, rates.get(i, NAN),
                               _f(r.rss), r.name.encode("utf-8", "replace")[:16]))
        for run in runs:  # the parent links find descendants the per-tick samples cannot
            tree, todo = {run.root}, [run.root]
            while todo:
                for child in children.get(todo.pop(), ()):
                    if child not in tree:
                        tree.add(child)
                        todo.append(child)
            run.pids = tree
            if len(run.seen) < 4096:
                run.seen |= tree
        # Hold snapshots to their CPU budget: with thousands of processes one can cost
        # tens of ms, so the interval stretches instead of the recorder's cost growing.
        cost = time.thread_time() - cpu0
        self.snapshot_interval = max(self.base_snapshot_interval, cost / self.snapshot_budget)

    def start(self) -> None:
        """Sample in a daemon thread until ``stop``."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="flakehunt-recorder",
                                        daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        interval = 1.0 / self.hz
        next_t = time.monotonic()
        while not self._stop.is_set():
            try:
                self.sample_once()
            except Exception:  # a sampling hiccup must never end a campaign
                self.errors += 1
            next_t += interval
            delay = next_t - time.monotonic()
            if delay < 0:  # fell behind (suspended, overloaded): skip, do not burst
                next_t = time.monotonic()
                delay = 0.0
            self._stop.wait(delay)

    def stop(self) -> None:
        """Stop the sampling thread and wait for it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None

    def window(self, start: float, end: float) -> Window:
        """Return the samples with ``start <= t <= end``."""
        import numpy as np

        runs = self.runs.between(start, end)
        with self._lock:
            names = {int(k): self._names.get(int(k), "?") for k in np.unique(runs["key"])}
        return Window(start, end, self.system.between(start, end), runs,
                      self.procs.between(start, end), names, self.hz)

    def write_window(self, path: str, start: float, end: float) -> Window:
        """Write the window ``[start, end]`` to *path* (gzip JSON lines); return it."""
        win = self.window(start, end)
        write_window_file(path, win)
        return win


def _rows(arr: np.ndarray[Any, Any], kind: str, names: dict[int, str]) -> list[str]:
    out = []
    fields = arr.dtype.names or ()
    for rec in arr.tolist():
        d: dict[str, Any] = {"kind": kind}
        for name, v in zip(fields, rec, strict=True):
            if isinstance(v, bytes):
                v = v.decode("utf-8", "replace")
            elif isinstance(v, float) and not math.isfinite(v):
                v = None
            d[name] = v
        if kind == "run":
            d["run"] = names.get(d.pop("key"), "?")
        out.append(json.dumps(d, separators=(",", ":")))
    return out


def write_window_file(path: str, win: Window) -> None:
    """Write *win* as gzip JSON lines: a header, then system, run and proc records."""
    header = {"format": FORMAT, "version": FORMAT_VERSION, "start": win.start, "end": win.end,
              "hz": win.hz, "units": {"cpu_busy": "fraction of all CPUs", "iowait": "fraction",
                                      "cpu": "cores", "*_bps": "bytes/s", "*_ops": "ops/s",
                                      "mem_available": "bytes", "rss": "bytes"}}
    lines = [json.dumps(header)]
    lines += _rows(win.system, "system", win.run_names)
    lines += _rows(win.runs, "run", win.run_names)
    lines += _rows(win.procs, "proc", win.run_names)
    tmp = path + ".tmp"
    with gzip.open(tmp, "wt", encoding="utf-8", compresslevel=6) as f:
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, path)  # a reader never sees half a file


def read_window_file(path: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Read a telemetry file back: (header, records)."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        lines = f.read().splitlines()
    header = json.loads(lines[0])
    if header.get("format") != FORMAT:
        raise ValueError(f"{path} is not a flakehunt telemetry file")
    return header, [json.loads(x) for x in lines[1:] if x]
