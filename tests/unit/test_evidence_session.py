"""EvidenceSession: what the hunt loop gets back per run, with fake telemetry and cores."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from flakehunt.campaign.model import Attempt, AttemptResult
from flakehunt.errors import UsageError
from flakehunt.evidence.cores import CoreResult
from flakehunt.evidence.recorder import FlightRecorder
from flakehunt.evidence.sampler import FakeSource
from flakehunt.evidence.session import EvidenceOptions, EvidenceSession


class FakeCollector:
    def __init__(self) -> None:
        self.calls: list[dict[str, object]] = []

    def collect(self, **kw: object) -> CoreResult:
        self.calls.append(kw)
        return CoreResult(False, None, "core_pattern pipes to apport, which ignores "
                                       "non-packaged programs")


class Clock:
    t = 1000.0

    def __call__(self) -> float:
        return self.t


def _session(tmp_path: Path, **opts: object) -> tuple[EvidenceSession, FakeSource, Clock]:
    clock, src = Clock(), FakeSource()
    rec = FlightRecorder(src, clock=clock)
    o = EvidenceOptions(root=str(tmp_path / "ev"), cores=False, **opts)  # type: ignore[arg-type]
    s = EvidenceSession(o, recorder=rec, clock=clock)
    s.collector = FakeCollector()  # type: ignore[assignment]
    return s, src, clock


def _run(s: EvidenceSession, src: FakeSource, clock: Clock, seq: int, cwd: Path, rc: int,
         write_bps: float = 0.0) -> object:
    a = Attempt(f"id{seq}", 3, seq, "", 0, 0, ("prog",), str(cwd), {}, str(cwd), str(cwd / "l"))
    start = clock.t
    s.attempt_started(a, 100 + seq)
    for _ in range(10):
        clock.t += 0.1
        src.advance(0.1, write_bps=write_bps)
        s.recorder.sample_once()  # type: ignore[union-attr]
    return s.attempt_ended(AttemptResult(a, start, clock.t - start, rc, "h", "posix",
                                         pid=100 + seq), failed=rc != 0)


def test_passing_runs_get_hashes_and_summary_only(tmp_path: Path) -> None:
    (tmp_path / "app.bin").write_bytes(b"x")
    s, src, clock = _session(tmp_path, hash=("*.bin",))
    s.recorder.sample_once()  # type: ignore[union-attr]
    ev = _run(s, src, clock, 1, tmp_path, 0)
    rec = ev.to_record()  # type: ignore[attr-defined]
    assert rec["evidence_path"] is None and rec["core_captured"] is None
    assert rec["artifact_hashes"][0]["path"] == "app.bin"
    assert rec["telemetry"]["samples"] == 10
    assert not (tmp_path / "ev").exists()
    json.dumps(rec)  # the record is JSON-ready


def test_failure_writes_windows_for_neighbours_on_both_sides(tmp_path: Path) -> None:
    s, src, clock = _session(tmp_path, neighbours=1)
    s.recorder.sample_once()  # type: ignore[union-attr]
    _run(s, src, clock, 1, tmp_path, 0, write_bps=60e6)
    fail = _run(s, src, clock, 2, tmp_path, 1, write_bps=480e6)
    _run(s, src, clock, 3, tmp_path, 0, write_bps=60e6)
    _run(s, src, clock, 4, tmp_path, 0, write_bps=60e6)
    d = Path(fail.evidence_dir)  # type: ignore[attr-defined]
    assert d == tmp_path / "ev" / "c3" / "r000002"
    assert (d / "telemetry.jsonl.gz").exists()
    assert sorted(p.name for p in (d / "passing-neighbours").iterdir()) == [
        "id1.telemetry.jsonl.gz", "id3.telemetry.jsonl.gz"]
    assert fail.core.reason.startswith("core_pattern pipes to apport")  # type: ignore[attr-defined]
    lines = s.comparison()
    assert "disk writes during failing runs: median 480 MB/s vs 60 MB/s in passing runs" in lines


def test_on_failure_gets_separate_argv_entries(tmp_path: Path) -> None:
    cmd = f"{sys.executable} -c 'import sys; print(sys.argv[1:])' {{run_dir}} {{pid}} {{exit}}"
    s, src, clock = _session(tmp_path, on_failure=cmd)
    s.recorder.sample_once()  # type: ignore[union-attr]
    cwd = tmp_path / "a dir"
    cwd.mkdir()
    ev = _run(s, src, clock, 5, cwd, -11)
    (hook,) = ev.hooks  # type: ignore[attr-defined]
    assert hook.returncode == 0
    assert Path(hook.log_path).read_text().strip() == f"[{str(cwd)!r}, '105', '-11']"


def test_bad_options_fail_before_the_campaign(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        EvidenceSession(EvidenceOptions(keep=("../x",)))
    s = EvidenceSession(EvidenceOptions(root=str(tmp_path), tracer_snapshot="USR2",
                                        telemetry_hz=0, cores=False))
    with pytest.raises(UsageError, match="--tracer-snapshot needs --tracer"):
        s.start()


def test_loop_can_choose_the_dir_move_the_cwd_and_share_the_budget(tmp_path: Path) -> None:
    from flakehunt.evidence.budget import EvidenceBudget

    shared = EvidenceBudget(1000)
    assert shared.try_reserve(990)  # the loop already kept a log
    s, _src, clock = _session(tmp_path, keep=("*.bin",))
    s = EvidenceSession(s.options, recorder=s.recorder, clock=clock, budget=shared)
    s.collector = FakeCollector()  # type: ignore[assignment]
    moved = tmp_path / "moved"
    moved.mkdir()
    (moved / "small.bin").write_bytes(b"12345")
    (moved / "big.bin").write_bytes(b"x" * 100)
    a = Attempt("idx", 1, 9, "", 0, 0, ("p",), str(tmp_path / "gone"), {}, "", "")
    target = tmp_path / "c1" / "r000009"
    ev = s.attempt_ended(AttemptResult(a, clock.t, 0.5, 1, "h", "posix", pid=5), failed=True,
                         evidence_dir=str(target), cwd=str(moved))
    assert ev.evidence_dir == str(target)
    kept = {k.path: k.how for k in ev.kept}
    assert kept == {"big.bin": "skipped", "small.bin": "link"}
    assert s.collector.calls[0]["cwd"] == str(moved)  # type: ignore[attr-defined]
    assert shared.used == 995


def test_a_step_that_fails_is_noted_not_raised(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the evidence directory should be")
    (tmp_path / "a.bin").write_bytes(b"1")
    s, _src, clock = _session(tmp_path, keep=("*.bin",))
    a = Attempt("idz", 1, 3, "", 0, 0, ("p",), str(tmp_path), {}, "", "")
    ev = s.attempt_ended(AttemptResult(a, clock.t, 0.5, 1, "h", "posix", pid=5), failed=True,
                         evidence_dir=str(blocker / "r3"))
    rec = ev.to_record()
    assert any("evidence directory" in p for p in rec["evidence_problems"])
    assert rec["kept"][0]["how"] == "skipped" and "cannot keep it" in rec["kept"][0]["reason"]
