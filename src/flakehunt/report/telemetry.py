"""Read a failure's flight-recorder window (and its passing neighbours') for the report.

The files are written by ``flakehunt.evidence.recorder.write_window_file``:
``telemetry.jsonl.gz`` in the failure's evidence directory and
``passing-neighbours/<run_id>.telemetry.jsonl.gz`` beside it.
"""

from __future__ import annotations

import gzip
import json
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TELEMETRY_FILE = "telemetry.jsonl.gz"
NEIGHBOURS_DIR = "passing-neighbours"
MAX_POINTS = 400  # per series: enough for a 30 s window at 10 Hz, small in the SVG
MAX_NEIGHBOURS = 4


@dataclass(frozen=True)
class Timeline:
    """Series over seconds relative to the failing run's start."""

    seq: int
    path: str  # the telemetry file, absolute
    run_duration: float
    system: dict[str, list[tuple[float, float]]]  # cpu_busy %, iowait %, load1
    run_cpu: list[tuple[float, float]]  # cores used by the failing run's process tree
    run_rss_mb: list[tuple[float, float]]
    neighbours: dict[str, list[tuple[float, float]]]  # neighbour run id -> cpu (cores)
    top: list[tuple[str, float]]  # busiest processes by peak CPU (name, cores)


def _read(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            lines = f.read().splitlines()
        header = json.loads(lines[0])
        if not isinstance(header, dict) or header.get("format") != "flakehunt-telemetry":
            return None
        return header, [json.loads(x) for x in lines[1:] if x]
    except (OSError, EOFError, zlib.error, ValueError, IndexError):
        return None  # a half-written or foreign file: the report says none was recorded


def _thin(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    if len(points) <= MAX_POINTS:
        return points
    step = len(points) / MAX_POINTS
    return [points[int(i * step)] for i in range(MAX_POINTS)]


def _series(recs: list[dict[str, Any]], key: str, t0: float,
            scale: float = 1.0) -> list[tuple[float, float]]:
    out = []
    for r in recs:
        v, t = r.get(key), r.get("t")
        if isinstance(v, (int, float)) and isinstance(t, (int, float)):
            out.append((round(t - t0, 2), round(float(v) * scale, 4)))
    return _thin(out)


def _own(recs: list[dict[str, Any]], run_id: str) -> list[dict[str, Any]]:
    runs = [r for r in recs if r.get("kind") == "run"]
    mine = [r for r in runs if r.get("run") == run_id]
    names = {r.get("run") for r in runs}
    return mine if mine or len(names) != 1 else runs  # one unnamed run: it is ours


def load_timeline(evidence_dir: Path, seq: int, run_id: str, started: float,
                  duration: float) -> Timeline | None:
    """Return the timeline of the failure whose evidence is in *evidence_dir*, if recorded."""
    path = evidence_dir / TELEMETRY_FILE
    got = _read(path) if path.is_file() else None
    if got is None:
        return None
    _header, recs = got
    system = [r for r in recs if r.get("kind") == "system"]
    mine = _own(recs, run_id)
    neighbours: dict[str, list[tuple[float, float]]] = {}
    ndir = evidence_dir / NEIGHBOURS_DIR
    if ndir.is_dir():
        for entry in sorted(os.listdir(ndir))[:MAX_NEIGHBOURS]:
            if not entry.endswith(TELEMETRY_FILE):
                continue
            nid = entry[: -len(TELEMETRY_FILE) - 1]
            n = _read(ndir / entry)
            if n is None:
                continue
            theirs = _own(n[1], nid)
            if theirs:  # align each neighbour on its own first sample
                neighbours[nid[:12]] = _series(theirs, "cpu", float(theirs[0]["t"]))
    peak: dict[str, float] = {}
    for r in recs:
        if r.get("kind") == "proc" and isinstance(r.get("cpu"), (int, float)):
            name = str(r.get("name") or r.get("pid"))
            peak[name] = max(peak.get(name, 0.0), float(r["cpu"]))
    top = sorted(peak.items(), key=lambda kv: -kv[1])[:8]
    return Timeline(
        seq=seq, path=str(path), run_duration=duration,
        system={"cpu busy %": _series(system, "cpu_busy", started, 100.0),
                "iowait %": _series(system, "iowait", started, 100.0),
                "load1": _series(system, "load1", started)},
        run_cpu=_series(mine, "cpu", started),
        run_rss_mb=_series(mine, "rss", started, 1 / 2**20),
        neighbours=neighbours, top=top,
    )
