"""Flight recorder: rates from counters, unknown stays unknown, rings, windows, files."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from flakehunt.evidence.recorder import FlightRecorder, read_window_file
from flakehunt.evidence.ring import Ring
from flakehunt.evidence.sampler import FakeSource, ProcRow, TreeCounters


class Clock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def _recorder(**kw: object) -> tuple[FlightRecorder, FakeSource, Clock]:
    src, clock = FakeSource(), Clock()
    rec = FlightRecorder(src, clock=clock, **kw)  # type: ignore[arg-type]
    return rec, src, clock


def _tick(rec: FlightRecorder, src: FakeSource, clock: Clock, dt: float = 0.1,
          **rates: float) -> None:
    clock.t += dt
    src.advance(dt, **rates)  # type: ignore[arg-type]
    rec.sample_once()


def test_system_rates_from_counters() -> None:
    rec, src, clock = _recorder()
    rec.sample_once()
    for _ in range(10):
        _tick(rec, src, clock, busy=0.5, iowait=0.25, write_bps=480e6, read_bps=1e6)
    s = rec.window(0, 2000).system
    assert s.size == 10  # the first tick only sets the baseline
    assert np.allclose(s["cpu_busy"], 0.5, atol=1e-3)  # iowait is waiting, not busy
    assert np.allclose(s["iowait"], 0.25, atol=1e-3)
    assert np.allclose(s["disk_write_bps"], 480e6, rtol=1e-3)


def test_unknown_is_nan_not_zero() -> None:
    rec, src, clock = _recorder()
    rec.sample_once()
    c = src.sys_counters
    src.sys_counters = type(c)(c.cpu_total + 1, c.cpu_idle + 1, None, None, None, None, None,
                               None, None, None, None)
    clock.t += 0.1
    rec.sample_once()
    row = rec.window(0, 2000).system[-1]
    assert math.isnan(row["iowait"]) and math.isnan(row["disk_write_bps"])
    assert math.isnan(row["mem_available"])


def test_ring_keeps_the_last_samples_only() -> None:
    rec, src, clock = _recorder(hz=10, retention=1.0)
    rec.sample_once()
    for i in range(25):
        _tick(rec, src, clock, write_bps=float(i))
    s = rec.window(0, 5000).system
    assert s.size == 10 and np.all(np.diff(s["t"]) > 0)
    assert rec.memory_bytes == rec.system.nbytes + rec.runs.nbytes + rec.procs.nbytes


def test_ring_between_across_the_wrap() -> None:
    r = Ring((("t", "f8"), ("v", "i4")), 5)
    for i in range(12):
        r.append((float(i), i))
    assert r.between(8.5, 10.0)["v"].tolist() == [9, 10]
    assert r.between(0.0, 100.0)["v"].tolist() == [7, 8, 9, 10, 11]
    assert r.between(20.0, 30.0).size == 0


def test_run_tree_samples_and_unknown_fds() -> None:
    rec, src, clock = _recorder()
    rec.register("run-a", 500)
    src.trees[500] = TreeCounters((500,), 1.0, 10 << 20, None, 0, 0)
    rec.sample_once()
    src.trees[500] = TreeCounters((500, 501), 1.15, 30 << 20, None, 0, 4096)
    _tick(rec, src, clock)
    runs = rec.window(0, 2000).for_run("run-a")
    assert runs.size == 1
    assert math.isclose(float(runs["cpu"][0]), 1.5, rel_tol=1e-3)  # 0.15 s over 0.1 s
    assert runs["rss"][0] == 30 << 20 and runs["nprocs"][0] == 2
    assert math.isnan(runs["fds"][0])
    rec.unregister("run-a")
    _tick(rec, src, clock)
    assert rec.window(0, 2000).for_run("run-a").size == 1


def test_snapshot_at_one_hertz_finds_descendants_and_tops() -> None:
    rec, src, clock = _recorder(top=2)
    rec.register("r", 10)
    src.procs = [ProcRow(10, 1, "sh", 0.0, 100), ProcRow(11, 10, "make", 0.0, 200),
                 ProcRow(12, 11, "cc1", 0.0, 999), ProcRow(99, 1, "other", None, None)]
    rec.sample_once()
    seen: list[list[int]] = []

    def tree(pids):  # type: ignore[no-untyped-def]
        seen.append(sorted(pids))
        return TreeCounters(tuple(pids), 0.0, 0, 0, 0, 0)

    src.tree = tree  # type: ignore[method-assign]
    for _ in range(10):
        _tick(rec, src, clock)
    assert src.snapshots_taken == 2  # t=0 and t=1.0: 1 Hz, not 10 Hz
    assert seen[0] == [10, 11, 12]
    procs = rec.window(0, 2000).procs
    assert b"cc1" in procs["name"].tolist()
    assert np.isnan(procs["rss"][procs["pid"] == 99]).all()


def test_write_and_read_window(tmp_path: Path) -> None:
    rec, src, clock = _recorder()
    rec.register("run-1", 7)
    src.trees[7] = TreeCounters((7,), 0.0, 1, 2, 0, 0)
    rec.sample_once()
    for _ in range(30):
        _tick(rec, src, clock, write_bps=1e6)
    path = tmp_path / "telemetry.jsonl.gz"
    win = rec.write_window(str(path), 1001.0, 1002.0)
    header, records = read_window_file(str(path))
    assert header["format"] == "flakehunt-telemetry" and header["start"] == 1001.0
    system = [r for r in records if r["kind"] == "system"]
    assert len(system) == win.system.size and 9 <= len(system) <= 11
    assert all(1001.0 <= r["t"] <= 1002.0 for r in system)
    assert {r["run"] for r in records if r["kind"] == "run"} == {"run-1"}
    assert system[0]["iowait"] is not None


def test_thread_samples_and_stops() -> None:
    import time

    rec = FlightRecorder(FakeSource(), hz=200)
    rec.start()
    time.sleep(0.1)
    rec.stop()
    assert rec.system.written > 5 and rec.errors == 0


def test_names_of_runs_without_samples_are_forgotten() -> None:
    rec, src, clock = _recorder()
    rec.register("kept", 1)
    src.trees[1] = TreeCounters((1,), 0.0, 1, 1, 0, 0)
    rec.sample_once()
    _tick(rec, src, clock)
    rec.unregister("kept")
    for i in range(5000):  # runs too short to be sampled
        rec.register(f"short{i}", 10_000 + i)
        rec.unregister(f"short{i}")
    assert len(rec._names) < 2100
    assert rec.window(0, 5000).run_names == {0: "kept"}
