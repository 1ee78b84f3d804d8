"""A recorded compare campaign for report tests: failures, timeouts, XSS output, telemetry."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from flakehunt.campaign.events import NullProgress
from flakehunt.campaign.hunt import evidence_root_for, hunt
from flakehunt.campaign.model import Attempt, AttemptResult
from flakehunt.campaign.spec import CampaignSpec, Limits, Variant
from flakehunt.evidence.recorder import (
    PROC_DTYPE,
    RUN_DTYPE,
    SYSTEM_DTYPE,
    Window,
    write_window_file,
)
from flakehunt.execute.fake import FakeExecutor
from flakehunt.record.store import Store

XSS = b'<script>alert(1)</script>\n"><img src=x onerror=alert(1)>\n'
VARIANTS = ("normal", "sleep", "flush")


def _behaviour(a: Attempt) -> tuple[int | None, bytes]:
    if a.variant == "normal" and a.seq % 7 == 0:
        return 1, b"compiling...\n" + XSS + b"\x1b[31mERROR\x1b[0m link failed\x00\n"
    if a.variant == "normal" and a.seq % 11 == 0:
        return -11, b"Segmentation fault\n"
    if a.variant == "sleep" and a.seq % 13 == 0:
        return -11, b"Segmentation fault\n"
    return 0, b"ok\n"


class TimingOutExecutor(FakeExecutor):
    """A fake whose runs with seq % 17 == 0 time out."""

    def execute(self, attempt: Attempt) -> AttemptResult:
        result = super().execute(attempt)
        if attempt.seq % 17 == 0 and attempt.variant != "flush":
            return dataclasses.replace(result, timed_out=True, returncode=-9, duration=30.0)
        return result


def make_campaign(tmp_path: Path, runs: int = 60) -> tuple[Store, int]:
    """Record a 3-variant compare campaign under *tmp_path*/.flakehunt; return (store, id)."""
    store = Store.open(tmp_path / ".flakehunt" / "flakehunt.db")
    spec = CampaignSpec(
        kind="compare",
        variants=tuple(Variant(v, ("/bin/sh", "-c", f"ninja -C out && {v}")) for v in VARIANTS),
        title=" vs ".join(VARIANTS), cwd=str(tmp_path), jobs=2,
        limits=Limits(runs=runs, max_failures=0), timeout=30.0, baseline="normal", seed=7,
        # The telemetry of this fake campaign is written below, not by the recorder.
        evidence={"telemetry_hz": 0.0, "cores": False})
    summary = hunt(spec, store, TimingOutExecutor(_behaviour), NullProgress())
    cid = summary.campaign_id
    first = next(store.runs(cid, outcomes=("fail",)))
    assert first.evidence_path is not None
    add_telemetry(evidence_root_for(store.path) / first.evidence_path, first.run_id,
                  first.started)
    return store, cid


def add_telemetry(evidence_dir: Path, run_id: str, started: float) -> None:
    """Write a flight-recorder window (and one passing neighbour's) with the real writer."""
    t = started + np.arange(-3.0, 2.0, 0.1)
    system = np.zeros(len(t), SYSTEM_DTYPE)
    system["t"], system["cpu_busy"], system["iowait"] = t, 0.5, 0.1
    runs = np.zeros(len(t), RUN_DTYPE)
    runs["t"], runs["key"], runs["cpu"], runs["rss"] = t, 0, 0.9, 50 * 2**20
    procs = np.zeros(2, PROC_DTYPE)
    procs["t"], procs["pid"], procs["cpu"] = t[:2], (10, 11), (1.5, 0.2)
    procs["name"] = (b"<b>cc1plus</b>", b"ld")
    win = Window(t[0], t[-1], system, runs, procs, {0: run_id}, 10.0)
    write_window_file(str(evidence_dir / "telemetry.jsonl.gz"), win)
    ndir = evidence_dir / "passing-neighbours"
    ndir.mkdir(exist_ok=True)
    nwin = dataclasses.replace(win, run_names={0: "f" * 32})
    write_window_file(str(ndir / ("f" * 32 + ".telemetry.jsonl.gz")), nwin)
