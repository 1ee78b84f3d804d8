"""Window summaries and the failing-vs-passing comparison."""

from __future__ import annotations

from typing import Any

from flakehunt.evidence.recorder import FlightRecorder
from flakehunt.evidence.sampler import FakeSource
from flakehunt.evidence.summary import compare_windows, summarize


def test_summarize_medians_and_extremes() -> None:
    t = [0.0]
    src = FakeSource()
    rec = FlightRecorder(src, clock=lambda: t[0])
    rec.sample_once()
    for i, w in enumerate([10e6, 20e6, 30e6, 400e6]):
        t[0] += 1
        src.advance(1, write_bps=w, busy=0.1 * (i + 1), mem_available=(8 - i) << 30)
        rec.sample_once()
    s = summarize(rec.window(0, 10))
    assert s["samples"] == 4
    assert round(s["disk_write_bps_median"]) == 25_000_000
    assert round(s["disk_write_bps_max"]) == 400_000_000
    assert abs(s["cpu_busy_max"] - 0.4) < 1e-3
    assert s["mem_available_min"] == 5 << 30


def test_summarize_empty_window_is_unknown() -> None:
    rec = FlightRecorder(FakeSource(), clock=lambda: 0.0)
    s = summarize(rec.window(0, 1), run="nope")
    assert s["samples"] == 0 and s["disk_write_bps_median"] is None and s["run_cpu_max"] is None


def _runs(write: list[float], cpu: float = 0.2) -> list[dict[str, Any]]:
    return [{"disk_write_bps_median": w, "cpu_busy_median": cpu, "mem_available_min": 4 << 30}
            for w in write]


def test_failures_coincide_with_disk_writes() -> None:
    lines = compare_windows(_runs([480e6, 500e6, 450e6, 470e6]),
                            _runs([60e6, 55e6, 70e6, 65e6, 58e6, 62e6]))
    assert "disk writes during failing runs: median 475 MB/s vs 61 MB/s in passing runs" in lines
    assert any(x.startswith("failures coincide with high I/O pressure") for x in lines)
    assert not any("CPU pressure" in x for x in lines)


def test_no_pressure_when_alike() -> None:
    lines = compare_windows(_runs([60e6, 64e6, 58e6]), _runs([60e6, 55e6, 70e6, 65e6]))
    assert lines[-1].startswith("no sign that failures coincide")


def test_too_few_runs_is_said() -> None:
    lines = compare_windows(_runs([480e6]), _runs([60e6, 50e6]))
    assert any("too few runs to test" in x for x in lines)
    assert compare_windows([], _runs([1.0]))[0].startswith("telemetry comparison needs")


def test_low_memory_is_pressure() -> None:
    fail = [{"mem_available_min": 100 << 20} for _ in range(4)]
    ok = [{"mem_available_min": 4 << 30} for _ in range(5)]
    lines = compare_windows(fail, ok)
    assert ("memory available (lowest) during failing runs: median 100.0 MiB vs 4.0 GiB in "
            "passing runs") in lines
    assert any("high memory pressure" in x for x in lines)
