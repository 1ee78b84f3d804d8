"""The watch's pure parts: leak fits, /proc parsing, the guard, load profiles, the pause."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from tests.helpers import proc_file

from flakehunt.campaign.events import NullProgress
from flakehunt.campaign.hunt import hunt
from flakehunt.campaign.spec import CampaignSpec, Limits, Variant
from flakehunt.errors import UsageError
from flakehunt.execute.fake import FakeExecutor
from flakehunt.load.profile import LoadProfile, parse_profile, parse_variant_loads
from flakehunt.record.store import Store
from flakehunt.watch.guard import GuardLimits, shortfall
from flakehunt.watch.leaks import Fit, LeakWatch, describe
from flakehunt.watch.procscan import ProcSample, parse_stat
from flakehunt.watch.session import RunWatch

MiB = 1024 * 1024


def sample(pid: int, fds: int, rss: int = 10 * MiB, threads: int = 4, name: str = "svc",
           state: str = "S") -> ProcSample:
    return ProcSample(pid, 1, name, state, 100.0, fds, rss, threads)


@pytest.mark.parametrize(("ys", "slope", "r2"), [
    ([0, 1, 2, 3, 4], 1.0, 1.0),
    ([10, 10, 10, 10], 0.0, 1.0),
    ([0, 2, 4, 6, 8], 2.0, 1.0),
])
def test_fit_slope_and_r2(ys: list[int], slope: float, r2: float) -> None:
    f = Fit()
    for x, y in enumerate(ys):
        f.add(x, y)
    line = f.line()
    assert line is not None
    assert line[0] == pytest.approx(slope) and line[1] == pytest.approx(r2)


def test_fit_needs_x_to_vary() -> None:
    f = Fit()
    f.add(3, 1)
    f.add(3, 5)
    assert f.line() is None


def test_story_leak_is_found_and_described() -> None:
    w = LeakWatch()
    for runs in range(10):
        w.add([sample(4312, 1000 + 1600 * runs, 50 * MiB + 100 * MiB * runs, name="CcmExec.exe"),
               sample(77, 30 + (runs % 3), name="quiet")], runs, set())
    leaks = w.leaks()
    assert {(lk.name, lk.metric) for lk in leaks} == {("CcmExec.exe", "fds"),
                                                      ("CcmExec.exe", "rss")}
    line = describe(leaks)[0]
    assert line == "CcmExec.exe pid 4312: +1,600.0 fds/run, +100.0 MiB/run RSS, r² 1.00"


def test_noise_and_our_processes_are_not_leaks() -> None:
    w = LeakWatch()
    noise = [30, 45, 31, 44, 30, 46, 32, 44]
    for runs, y in enumerate(noise):
        w.add([sample(1, y), sample(2, 10 + 5 * runs)], runs, {(2, 100.0)})
    assert w.leaks() == []


def test_a_process_that_ended_is_forgotten() -> None:
    w = LeakWatch()
    for runs in range(6):
        w.add([sample(9, 10 + 10 * runs)], runs, set())
    assert w.leaks()
    w.add([], 7, set())
    assert w.leaks() == []


def test_parse_stat_handles_names_with_parentheses_and_spaces() -> None:
    text = ("42 (a) b (c)) S 7 42 42 0 -1 4194560 1 0 0 0 3 4 0 0 20 0 5 0 12345 1000 "
            "250 18446744073709551615")
    s = parse_stat(42, text)
    assert s is not None
    assert (s.name, s.state, s.ppid, s.threads, s.start) == ("a) b (c)", "S", 7, 5, 12345.0)
    assert s.rss == 250 * 4096 or s.rss is not None


def test_guard_names_the_short_filesystem_and_memory(tmp_path: Path) -> None:
    limits = GuardLimits(min_free_disk=10 * MiB, min_free_mem=None, paths=(str(tmp_path),))
    assert shortfall(limits, disk=lambda p: 20 * MiB) is None
    why = shortfall(limits, disk=lambda p: 5 * MiB)
    assert why is not None and str(tmp_path) in why and "5.0 MiB" in why
    mem = GuardLimits(min_free_mem=1024 * MiB)
    assert "free memory is 512.0 MiB" in (shortfall(mem, mem=lambda: 512 * MiB) or "")
    assert shortfall(GuardLimits(), disk=lambda p: 0) is None


def test_guard_looks_at_the_nearest_existing_parent(tmp_path: Path) -> None:
    seen: list[str] = []
    limits = GuardLimits(min_free_disk=1, paths=(str(tmp_path / "not" / "yet"),))
    shortfall(limits, disk=lambda p: seen.append(p) or 10)  # type: ignore[func-returns-value]
    assert seen == [str(tmp_path)]


@pytest.mark.parametrize(("text", "want"), [
    ("cpu=2,io=4", LoadProfile(cpu=2, io=4)),
    ("io=1, mem=64MiB", LoadProfile(io=1, mem=64 * MiB)),
    ("spawn=3", LoadProfile(spawn=3)),
    ("", LoadProfile()),
])
def test_parse_profile(text: str, want: LoadProfile) -> None:
    got = parse_profile(text)
    assert got == want
    assert parse_profile(got.text()) == got  # the recorded text reads back


@pytest.mark.parametrize("bad", ["cpu", "gpu=1", "cpu=x", "cpu=1,cpu=2", "mem=lots", "io=-1"])
def test_bad_profiles_say_how_to_write_one(bad: str) -> None:
    with pytest.raises(UsageError):
        parse_profile(bad)


def test_variant_loads_must_name_variants() -> None:
    assert parse_variant_loads(("loaded=io=4",), {"quiet", "loaded"}) == {
        "loaded": LoadProfile(io=4)}
    with pytest.raises(UsageError, match="not defined"):
        parse_variant_loads(("other=io=4",), {"quiet"})


def test_profile_plus_adds_counts() -> None:
    both = LoadProfile(cpu=1).plus(LoadProfile(cpu=1, io=2, cmd="stress-ng --cpu 1"))
    assert both.text() == "cpu=2,io=2,cmd=stress-ng --cpu 1"


def test_guard_pause_holds_launching_and_is_recorded(tmp_path: Path) -> None:
    # No filesystem has an exabyte free: the campaign pauses until --duration ends it.
    spec = CampaignSpec(kind="run", variants=(Variant("default", ("cmd",)),), title="cmd",
                        cwd=str(tmp_path), jobs=2,
                        limits=Limits(runs=5, duration=0.6, max_failures=0),
                        evidence={"watch": {"min_free_disk": 2**60, "every": 0}})
    store = Store.open(tmp_path / "db" / "flakehunt.db")
    progress = NullProgress()
    s = hunt(spec, store, FakeExecutor(lambda a: (0, b"")), progress)
    assert s.runs == 0 and s.stop_reason == "duration"
    assert s.watch.pauses == 1 and 0.4 < s.watch.paused_seconds < 5
    assert any(n.startswith("paused launching: free disk on") for n in progress.notices)
    assert any("paused launching 1 time(s)" in line for line in s.watch.lines())


def test_before_launch_returns_when_stopped(tmp_path: Path) -> None:
    w = RunWatch({"min_free_mem": 2**60, "every": 0}, marker_env={"K": "v"}, cwd=str(tmp_path),
                 evidence_root=str(tmp_path))
    w.start()
    try:
        assert w.paused
        stop = threading.Event()
        threading.Timer(0.2, stop.set).start()
        t0 = time.monotonic()
        w.before_launch(stop)
        assert 0.15 < time.monotonic() - t0 < 2
    finally:
        w.close()


def test_a_zombie_reaped_within_an_interval_is_not_counted(tmp_path: Path) -> None:
    """Every child is a zombie between its exit and its parent's wait: not a leak."""
    make = sample(10, 5, name="make")
    rounds = [[make], *([make, sample(30 + i, 0, state="Z")._replace(ppid=10)]
                        for i in range(5))]
    feed = iter(rounds)
    w = RunWatch({"every": 1}, marker_env={"K": "v"}, cwd=str(tmp_path),
                 evidence_root=str(tmp_path), scan=lambda: next(feed))
    for _ in rounds:
        w._tick()
    assert (w.report.zombies_start, w.report.zombies_end) == (0, 0)
    assert not any("zombies" in n for n in w.take_notices())
    w.close()


def test_zombies_growing_are_counted_with_their_parents(tmp_path: Path) -> None:
    rounds = [
        [sample(10, 5, name="make"), sample(11, 0, state="Z")],
        [sample(10, 5, name="make"), *(sample(20 + i, 0, state="Z") for i in range(4))],
    ]
    rounds[1] = [s._replace(ppid=10) if s.state == "Z" else s for s in rounds[1]]
    rounds.append(rounds[1])  # still there a scan later: left unreaped
    feed = iter(rounds)
    w = RunWatch({"every": 1}, marker_env={"K": "v"}, cwd=str(tmp_path),
                 evidence_root=str(tmp_path), scan=lambda: next(feed))
    w._tick()
    w._tick()
    assert w.report.zombies_end == 0  # new this scan: maybe just exiting, not counted yet
    w._tick()
    assert (w.report.zombies_start, w.report.zombies_end) == (1, 4)
    assert w.report.zombie_parents[0] == ("make", 10, 4)
    assert any("zombies: 4 (were 1); parents: make pid 10 (4)" in n for n in w.take_notices())
    lines = w.report.lines()
    assert any(line.startswith("zombies: 1 at the start, 4 at the end") for line in lines)
    w.close()


def test_leaks_are_told_live_once_per_interval(tmp_path: Path) -> None:
    n = {"runs": 0}

    def scan() -> list[ProcSample]:
        return [sample(4312, 100 + 16 * n["runs"], name="CcmExec.exe")]

    now = {"t": 0.0}
    w = RunWatch({"every": 1}, marker_env={"K": "v"}, cwd=str(tmp_path),
                 evidence_root=str(tmp_path), scan=scan, clock=lambda: now["t"])
    for i in range(8):
        n["runs"] = w.runs_done = i
        now["t"] += 1
        w._tick()
    notices = w.take_notices()
    assert len(notices) == 1 and "CcmExec.exe pid 4312: +16.0 fds/run" in notices[0]
    w.close()
    assert w.report.leaks[0].name == "CcmExec.exe"


def test_orphan_found_by_its_run_marker_without_a_subreaper(tmp_path: Path) -> None:
    import subprocess

    from flakehunt.watch.orphans import OrphanWatch

    env = {**os.environ, "FLAKEHUNT_RUN_ID": "run-abc", "FLAKEHUNT_RUN": "7",
           "FLAKEHUNT_SESSION": "sess"}
    proc = subprocess.Popen(["sleep", "30"], env=env)
    try:
        w = OrphanWatch(("FLAKEHUNT_SESSION", "sess"), use_children=False)
        assert not w.cheap
        w.run_started("run-abc", 7)
        # Popen returns once the exec has closed its error pipe, but the kernel
        # publishes the new environment (mm->env_start) a moment later, in
        # create_elf_tables: under load /proc/PID/environ reads empty until then.
        # (A run's real orphan is met in that state only if it is mid-exec; the
        # campaign's final leftovers() scan still finds it.)
        assert wait_for(lambda: b"FLAKEHUNT_RUN_ID=run-abc" in proc_file(proc.pid, "environ"))
        found = w.run_ended("run-abc", 7, None)
        assert [(o.pid, o.name, o.run, o.found_by) for o in found] == [
            (proc.pid, "sleep", 7, "marker")]
        assert "sleep 30" in found[0].cmdline
        assert [o.pid for o in w.leftovers()] == [proc.pid]
        assert w.kill(found) == [proc.pid]
        assert not os.path.exists(f"/proc/{proc.pid}")  # killed and reaped
    finally:
        proc.kill()
        proc.wait()


def wait_for(pred, timeout: float = 5.0) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.01)
    return bool(pred())


def test_an_orphan_that_ended_before_anyone_looked_is_reaped(tmp_path: Path) -> None:
    """A zombie in our children list that no run end classified is still ours to reap."""
    import subprocess

    from flakehunt.watch.orphans import OrphanWatch

    # A run's daemon that exited: in the run's session (the run leader's pid).
    gone = subprocess.Popen(["true"], start_new_session=True)
    kept = subprocess.Popen(["true"])  # not from a run (a cluster's worker): its owner waits
    excluded = subprocess.Popen(["true"], start_new_session=True)  # a stressor
    procs = (gone, kept, excluded)
    assert wait_for(lambda: all(proc_file(p.pid, "stat").split(b") ")[-1][:1] == b"Z"
                                for p in procs))
    children = tmp_path / "children"
    children.write_text(" ".join(str(p.pid) for p in procs) + " ")
    w = OrphanWatch(("FLAKEHUNT_SESSION", "s"), proc_children=str(children))
    w.run_ended("run-1", 1, gone.pid)  # its leader, now known
    w.run_ended("run-2", 2, excluded.pid)
    w.exclude.add(excluded.pid)
    w.reap()
    assert proc_file(gone.pid, "stat") == b""  # reaped: gone from /proc
    assert proc_file(kept.pid, "stat") != b"" and proc_file(excluded.pid, "stat") != b""
    assert kept.wait() == 0 and excluded.wait() == 0  # their owners still get their status
    w.close()
