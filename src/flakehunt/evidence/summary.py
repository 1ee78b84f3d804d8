"""Telemetry in a few numbers per run, and failing runs compared with passing ones."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from flakehunt.evidence.recorder import Window
from flakehunt.units import format_size

# summary key -> (label, how to format, which pressure it signals, higher is worse?)
_METRICS: tuple[tuple[str, str, str, str, bool], ...] = (
    ("disk_write_bps_median", "disk writes", "rate", "I/O", True),
    ("disk_read_bps_median", "disk reads", "rate", "I/O", True),
    ("iowait_median", "iowait", "pct", "I/O", True),
    ("cpu_busy_median", "CPU busy", "pct", "CPU", True),
    ("load1_max", "load average (peak)", "num", "CPU", True),
    ("mem_available_min", "memory available (lowest)", "size", "memory", False),
    ("swap_used_max", "swap used (peak)", "size", "memory", True),
)
RATIO = 2.0  # a metric "coincides" with failures when its median differs by 2x ...
ALPHA = 0.05  # ... and a one-sided Mann-Whitney test says it is not chance


def _stat(values: np.ndarray[Any, Any], how: str) -> float | None:
    v = values[np.isfinite(values)]
    if v.size == 0:
        return None
    if how == "median":
        return float(np.median(v))
    return float(v.max() if how == "max" else v.min())


def summarize(window: Window, run: str | None = None) -> dict[str, Any]:
    """Reduce a window to medians and extremes (JSON-ready; None where unknown)."""
    s = window.system
    out: dict[str, Any] = {"samples": int(s.size), "seconds": round(window.end - window.start, 3)}
    for field in ("disk_write_bps", "disk_read_bps", "cpu_busy", "iowait"):
        out[f"{field}_median"] = _stat(s[field].astype("f8"), "median")
        out[f"{field}_max"] = _stat(s[field].astype("f8"), "max")
    out["mem_available_median"] = _stat(s["mem_available"], "median")
    out["mem_available_min"] = _stat(s["mem_available"], "min")
    out["swap_used_max"] = _stat(s["swap_used"], "max")
    out["load1_max"] = _stat(s["load1"].astype("f8"), "max")
    out["nprocs_max"] = _stat(s["nprocs"].astype("f8"), "max")
    if run is not None:
        r = window.for_run(run)
        out["run_samples"] = int(r.size)
        out["run_cpu_max"] = _stat(r["cpu"].astype("f8"), "max")
        out["run_rss_max"] = _stat(r["rss"], "max")
        out["run_fds_max"] = _stat(r["fds"].astype("f8"), "max")
        out["run_nprocs_max"] = _stat(r["nprocs"].astype("f8"), "max")
        out["run_write_bps_median"] = _stat(r["write_bps"], "median")
    return out


def _fmt(value: float, how: str) -> str:
    if how == "rate":
        if value >= 10e6:
            return f"{value / 1e6:.0f} MB/s"
        if value >= 1e6:
            return f"{value / 1e6:.1f} MB/s"
        return f"{value / 1e3:.0f} kB/s"
    if how == "pct":
        return f"{value * 100:.0f}%"
    if how == "size":
        return format_size(value)
    return f"{value:.1f}"


def _values(summaries: Sequence[dict[str, Any]], key: str) -> list[float]:
    out = []
    for s in summaries:
        v = s.get(key)
        if isinstance(v, (int, float)) and math.isfinite(v):
            out.append(float(v))
    return out


def _p_value(worse: list[float], better: list[float], higher_is_worse: bool) -> float | None:
    if len(worse) < 3 or len(better) < 3:
        return None
    from scipy.stats import mannwhitneyu

    alt = "greater" if higher_is_worse else "less"
    return float(mannwhitneyu(worse, better, alternative=alt).pvalue)


def compare_windows(failing: Sequence[dict[str, Any]],
                    passing: Sequence[dict[str, Any]]) -> list[str]:
    """Compare summaries of failing runs with passing ones; say what coincides with failure."""
    if not failing or not passing:
        return ["telemetry comparison needs failing and passing runs "
                f"({len(failing)} failing, {len(passing)} passing summarized)"]
    lines: list[str] = []
    pressures: dict[str, list[str]] = {}
    for key, label, how, pressure, higher_worse in _METRICS:
        f, p = _values(failing, key), _values(passing, key)
        if not f or not p:
            continue
        fm, pm = float(np.median(f)), float(np.median(p))
        lines.append(f"{label} during failing runs: median {_fmt(fm, how)} "
                     f"vs {_fmt(pm, how)} in passing runs")
        worse, better = (fm, pm) if higher_worse else (pm, fm)
        if worse < RATIO * better or worse <= 0:
            continue
        pv = _p_value(f, p, higher_worse)
        ratio = "" if better <= 0 else f" {worse / better:.1f}x"
        if pv is None:
            pressures.setdefault(pressure, []).append(f"{label}{ratio}, too few runs to test")
        elif pv < ALPHA:
            pressures.setdefault(pressure, []).append(f"{label}{ratio}, p={pv:.3g}")
    counts = f"{len(failing)} failing vs {len(passing)} passing runs"
    if pressures:
        for pressure, why in pressures.items():
            lines.append(f"failures coincide with high {pressure} pressure "
                         f"({'; '.join(why)}; {counts}, one-sided Mann-Whitney)")
    else:
        lines.append(f"no sign that failures coincide with I/O, CPU or memory pressure ({counts})")
    return lines
