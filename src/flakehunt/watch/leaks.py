"""Leak watch: fit each outside process's fds, RSS and threads against runs completed.

A process that is not part of the runs but grows in step with them (the
story's system service: +1,600 handles and +100 MB per build) is what this
finds. Each metric keeps running sums for an ordinary least-squares line
``y = a + b*runs`` (O(1) memory for a night of 1 Hz samples); a leak is a slope
above a per-metric floor with r² high and a total growth worth telling.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flakehunt.units import format_size
from flakehunt.watch.procscan import ProcSample

METRICS = ("fds", "rss", "threads")
MIN_R2 = 0.8
MIN_POINTS = 5  # distinct samples, at 3 distinct run counts at least
# (slope per run, total growth) below which a metric is not worth a word.
FLOORS: dict[str, tuple[float, float]] = {
    "fds": (0.2, 5),
    "rss": (64 * 1024, 8 * 1024 * 1024),
    "threads": (0.2, 5),
}


@dataclass
class Fit:
    """Running sums of (x, y) pairs for a least-squares line."""

    n: int = 0
    sx: float = 0.0
    sy: float = 0.0
    sxx: float = 0.0
    sxy: float = 0.0
    syy: float = 0.0
    first: float | None = None
    last: float | None = None

    def add(self, x: float, y: float) -> None:
        """Add one point."""
        self.n += 1
        self.sx += x
        self.sy += y
        self.sxx += x * x
        self.sxy += x * y
        self.syy += y * y
        if self.first is None:
            self.first = y
        self.last = y

    def line(self) -> tuple[float, float] | None:
        """Return (slope, r²), or None while x does not vary."""
        n = self.n
        vxx = n * self.sxx - self.sx * self.sx
        if n < 2 or vxx <= 1e-9:
            return None
        vxy = n * self.sxy - self.sx * self.sy
        vyy = n * self.syy - self.sy * self.sy
        slope = vxy / vxx
        r2 = 1.0 if vyy <= 1e-12 else (vxy * vxy) / (vxx * vyy)
        return slope, max(0.0, min(1.0, r2))


@dataclass
class Tracked:
    """One outside process under watch."""

    pid: int
    name: str
    fits: dict[str, Fit] = field(default_factory=lambda: {m: Fit() for m in METRICS})
    runs_seen: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class Leak:
    """A process whose metric grows with the runs."""

    pid: int
    name: str
    metric: str
    per_run: float
    r2: float
    growth: float  # last sample minus first
    points: int

    def phrase(self) -> str:
        """Say the metric's growth per run the way people read it."""
        if self.metric == "rss":
            return f"{_signed_size(self.per_run)}/run RSS"
        word = "fds" if self.metric == "fds" else "threads"
        return f"{self.per_run:+,.1f} {word}/run"

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able form."""
        return {"pid": self.pid, "name": self.name, "metric": self.metric,
                "per_run": self.per_run, "r2": round(self.r2, 4), "growth": self.growth,
                "points": self.points}


def _signed_size(v: float) -> str:
    return ("+" if v >= 0 else "-") + format_size(int(abs(v)))


def describe(leaks: list[Leak]) -> list[str]:
    """One line per leaking process: ``name pid N: +1.0 fds/run, +100 MB/run RSS, r² 0.98``."""
    by_proc: dict[tuple[int, str], list[Leak]] = {}
    for lk in leaks:
        by_proc.setdefault((lk.pid, lk.name), []).append(lk)
    lines = []
    for (pid, name), group in by_proc.items():
        parts = ", ".join(lk.phrase() for lk in group)
        r2 = min(lk.r2 for lk in group)
        lines.append(f"{name} pid {pid}: {parts}, r² {r2:.2f}")
    return lines


class LeakWatch:
    """Fit outside processes' metrics against the number of runs completed."""

    def __init__(self, floors: dict[str, tuple[float, float]] | None = None) -> None:
        self.floors = floors or FLOORS
        self.tracked: dict[tuple[int, float], Tracked] = {}

    def add(self, samples: list[ProcSample], runs: int, ours: set[tuple[int, float]]) -> None:
        """Add one machine-wide sample taken when *runs* runs had completed."""
        alive = set()
        for s in samples:
            key = (s.pid, s.start)
            if key in ours or s.state == "Z":
                continue
            alive.add(key)
            t = self.tracked.get(key)
            if t is None:
                t = self.tracked[key] = Tracked(s.pid, s.name)
            t.runs_seen.add(runs)
            for m in METRICS:
                v = getattr(s, m)
                if v is not None:
                    t.fits[m].add(float(runs), float(v))
        for key in [k for k in self.tracked if k not in alive]:
            del self.tracked[key]  # gone: a fit over a dead process tells nothing now

    def leaks(self) -> list[Leak]:
        """Return the metrics that grow with the runs now, largest growth first."""
        out = []
        for t in self.tracked.values():
            if len(t.runs_seen) < 3:
                continue
            for m in METRICS:
                f = t.fits[m]
                if f.n < MIN_POINTS:
                    continue
                fitted = f.line()
                if fitted is None:
                    continue
                slope, r2 = fitted
                min_slope, min_growth = self.floors[m]
                growth = (f.last or 0.0) - (f.first or 0.0)
                if slope >= min_slope and r2 >= MIN_R2 and growth >= min_growth:
                    out.append(Leak(t.pid, t.name, m, slope, r2, growth, f.n))
        out.sort(key=lambda lk: (lk.metric != "fds", -lk.per_run))
        return out
