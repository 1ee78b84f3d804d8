"""The hunt loop on the fake executor: stop rules, outcomes, record, retention."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from flakehunt.campaign.events import NullProgress
from flakehunt.campaign.hunt import hunt
from flakehunt.campaign.model import Attempt
from flakehunt.campaign.spec import CampaignSpec, Limits, Variant
from flakehunt.execute.fake import FakeExecutor
from flakehunt.record.store import Store


def make_spec(tmp_path: Path, **kw: object) -> CampaignSpec:
    base = CampaignSpec(
        kind="run",
        variants=(Variant("default", ("cmd",)),),
        title="cmd",
        cwd=str(tmp_path),
        jobs=2,
        limits=Limits(runs=20, max_failures=0),
        # No flight recorder or core hunting for fake runs: deterministic and fast.
        evidence={"telemetry_hz": 0.0, "cores": False},
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def fails_on(
    seqs: set[int], code: int = 1, out: bytes = b"boom\n"
) -> Callable[[Attempt], tuple[int | None, bytes]]:
    return lambda a: (code, out) if a.seq in seqs else (0, b"ok\n")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(tmp_path / "db" / "flakehunt.db")


def go(spec: CampaignSpec, store: Store, ex: FakeExecutor, **kw: object):  # type: ignore[no-untyped-def]
    return hunt(spec, store, ex, NullProgress(), **kw)  # type: ignore[arg-type]


def test_runs_limit_records_every_run(tmp_path: Path, store: Store) -> None:
    ex = FakeExecutor(fails_on({3, 7}))
    s = go(make_spec(tmp_path), store, ex)
    assert (s.runs, s.failures, s.stop_reason) == (20, 2, "runs")
    runs = list(store.runs(s.campaign_id))
    assert [r.seq for r in runs] == list(range(1, 21))
    assert {r.seq for r in runs if r.outcome == "fail"} == {3, 7}
    assert ex.started and ex.closed
    assert store.campaign(s.campaign_id).state == "finished"


def test_stops_at_first_failure_by_default(tmp_path: Path, store: Store) -> None:
    ex = FakeExecutor(fails_on({5}))
    spec = make_spec(tmp_path, jobs=1, limits=Limits(runs=100, max_failures=1))
    s = go(spec, store, ex)
    assert s.stop_reason == "max-failures"
    assert s.runs == 5 and s.failures == 1
    assert s.first_failure == f"{s.campaign_id}:5"


def test_max_failures_k(tmp_path: Path, store: Store) -> None:
    ex = FakeExecutor(fails_on({2, 4, 6, 8}))
    s = go(make_spec(tmp_path, jobs=1, limits=Limits(runs=100, max_failures=3)), store, ex)
    assert s.failures == 3 and s.runs == 6


@pytest.mark.parametrize(
    ("code", "expect", "fail_re", "ignore_re", "out", "outcome"),
    [
        (0, (0,), None, None, b"", "pass"),
        (1, (0,), None, None, b"", "fail"),
        (3, (0, 3), None, None, b"", "pass"),
        (-11, (0,), None, None, b"", "fail"),
        (0, (0,), "ERROR", None, b"x\nERROR: bad\n", "fail"),
        (0, (0,), "^ERROR", None, b"no ERROR here\n", "pass"),
        (1, (0,), None, "network is unreachable", b"network is unreachable\n", "ignored"),
        (1, (0,), None, "network", b"disk full\n", "fail"),
    ],
)
def test_failure_definition(
    tmp_path: Path,
    store: Store,
    code: int,
    expect: tuple[int, ...],
    fail_re: str | None,
    ignore_re: str | None,
    out: bytes,
    outcome: str,
) -> None:
    ex = FakeExecutor(lambda a: (code, out))
    spec = make_spec(
        tmp_path,
        jobs=1,
        limits=Limits(runs=1, max_failures=0),
        expect_exit=expect,
        fail_regex=fail_re,
        ignore_regex=ignore_re,
    )
    s = go(spec, store, ex)
    (run,) = store.runs(s.campaign_id)
    assert run.outcome == outcome


def test_ignored_runs_are_not_counted(tmp_path: Path, store: Store) -> None:
    ex = FakeExecutor(lambda a: (1, b"flaky network\n") if a.seq % 2 else (0, b""))
    spec = make_spec(tmp_path, limits=Limits(runs=10, max_failures=0), ignore_regex="network")
    s = go(spec, store, ex)
    assert (s.runs, s.failures, s.ignored) == (5, 0, 5)


def test_could_not_start_stops_after_first_attempt(tmp_path: Path, store: Store) -> None:
    ex = FakeExecutor(fails_on(set()), start_error=lambda a: "command not found: nope")
    s = go(make_spec(tmp_path, jobs=1, limits=Limits(runs=1000)), store, ex)
    assert s.stop_reason == "could-not-start"
    assert s.start_error == "command not found: nope"
    assert len(ex.attempts) == 1
    assert s.runs == 0


def test_environment_of_each_run(tmp_path: Path, store: Store) -> None:
    ex = FakeExecutor(fails_on(set()))
    spec = make_spec(tmp_path, limits=Limits(runs=5, max_failures=0))
    s = go(spec, store, ex)
    seen = sorted(ex.attempts, key=lambda a: a.seq)
    assert [a.env["FLAKEHUNT_RUN"] for a in seen] == ["1", "2", "3", "4", "5"]
    assert {a.env["FLAKEHUNT_SLOT"] for a in seen} <= {"0", "1"}
    assert all(a.env["FLAKEHUNT_CAMPAIGN"] == str(s.campaign_id) for a in seen)
    assert len({a.env["FLAKEHUNT_RUN_ID"] for a in seen}) == 5
    assert all(a.env["FLAKEHUNT_RUN_DIR"] == a.run_dir for a in seen)
    assert all(a.cwd == str(tmp_path) for a in seen)


def test_fresh_dir_runs_each_attempt_in_an_empty_private_dir(tmp_path: Path, store: Store) -> None:
    seen: list[tuple[str, list[str]]] = []

    def behaviour(a: Attempt) -> tuple[int | None, bytes]:
        seen.append((a.cwd, os.listdir(a.cwd)))
        Path(a.cwd, f"junk{a.seq}").write_text("left behind")
        return (0, b"")

    ex = FakeExecutor(behaviour)
    go(make_spec(tmp_path, fresh_dir=True, limits=Limits(runs=6, max_failures=0)), store, ex)
    assert all(listing == [] for _cwd, listing in seen)  # empty at every start
    assert all(a.cwd == a.run_dir != str(tmp_path) for a in ex.attempts)
    assert len({a.cwd for a in ex.attempts}) <= 2  # one per slot, never shared at once


def _write(d: Path) -> None:
    (d / "out.txt").write_text("x")


def _subdir(d: Path) -> None:
    (d / "sub" / "deeper").mkdir(parents=True)
    (d / "sub" / "deeper" / "f").write_text("x")


def _remove(d: Path) -> None:
    shutil.rmtree(d)


def _replace(d: Path) -> None:
    shutil.rmtree(d)
    d.mkdir()
    (d / "new.txt").write_text("x")


def _move_in(d: Path) -> None:
    outside = d.parent / f"outside-{os.getpid()}"
    outside.write_text("x")
    os.replace(outside, d / "moved.txt")


@pytest.mark.parametrize("fresh_dir", [False, True], ids=["run-dir", "fresh-dir"])
@pytest.mark.parametrize("what", [_write, _subdir, _remove, _replace, _move_in])
def test_every_run_starts_with_an_empty_scratch_dir(tmp_path: Path, store: Store, what: Any,
                                                    fresh_dir: bool) -> None:
    """Whatever a run does to its FLAKEHUNT_RUN_DIR, the slot's next run finds it empty.

    Runs 2 and 5 do *what*, run 3 fails (its scratch is kept, a new one made),
    the others write one file: the watch that spares passing runs a listing must
    follow every case, including a directory that was replaced.
    """
    seen: list[tuple[int, list[str] | None]] = []

    def behaviour(a: Attempt) -> tuple[int | None, bytes]:
        d = Path(a.run_dir)
        seen.append((a.seq, sorted(os.listdir(d)) if d.is_dir() else None))
        if a.seq in (2, 5):
            what(d)
        else:
            _write(d)
        return (1, b"") if a.seq == 3 else (0, b"")

    spec = make_spec(tmp_path, jobs=1, fresh_dir=fresh_dir,
                     limits=Limits(runs=7, max_failures=0))
    s = go(spec, store, FakeExecutor(behaviour))
    assert seen == [(n, []) for n in range(1, 8)]
    assert (Path(s.evidence_dir) / "r000003" / "scratch" / "out.txt").exists()


def test_failing_run_keeps_its_scratch_files(tmp_path: Path, store: Store) -> None:
    def behaviour(a: Attempt) -> tuple[int | None, bytes]:
        Path(a.run_dir, "core.txt").write_text(f"from run {a.seq}")
        return (1, b"") if a.seq == 2 else (0, b"")

    s = go(
        make_spec(tmp_path, jobs=1, limits=Limits(runs=3, max_failures=0)),
        store,
        FakeExecutor(behaviour),
    )
    kept = Path(s.evidence_dir) / "r000002" / "scratch" / "core.txt"
    assert kept.read_text() == "from run 2"
    assert not (Path(s.evidence_dir) / "slot0").exists()  # scratch of the slots removed


def test_logs_kept_for_failures_and_last_passing(tmp_path: Path, store: Store) -> None:
    ex = FakeExecutor(fails_on({4}, out=b"the failure output\n"))
    spec = make_spec(tmp_path, jobs=1, limits=Limits(runs=10, max_failures=0), keep_passing=2)
    s = go(spec, store, ex)
    camp_dir = Path(s.evidence_dir)
    kept = sorted(p.name for p in camp_dir.iterdir())
    assert kept == ["r000004", "r000009.log", "r000010.log"]
    assert (camp_dir / "r000004" / "output.log").read_bytes() == b"the failure output\n"
    fail = store.run(f"{s.campaign_id}:4")
    assert fail.output_tail == b"the failure output\n"
    assert fail.evidence_path == "c1/r000004"


def test_output_tail_is_last_64k(tmp_path: Path, store: Store) -> None:
    big = b"".join(b"line %06d\n" % i for i in range(20000))
    ex = FakeExecutor(lambda a: (1, big))
    s = go(make_spec(tmp_path, jobs=1, limits=Limits(runs=1, max_failures=0)), store, ex)
    run = store.run(f"{s.campaign_id}:1")
    assert run.output_tail is not None and len(run.output_tail) == 64 * 1024
    assert big.endswith(run.output_tail)


def test_evidence_cap_drops_logs_but_counts_go_on(tmp_path: Path, store: Store) -> None:
    ex = FakeExecutor(lambda a: (1, b"x" * 1000))
    progress = NullProgress()
    spec = make_spec(tmp_path, jobs=1, limits=Limits(runs=10, max_failures=0), max_evidence=3500)
    s = hunt(spec, store, ex, progress)
    assert s.failures == 10
    kept = [r for r in store.runs(s.campaign_id) if r.evidence_path]
    assert len(kept) == 3
    assert s.evidence_cap_reached
    assert sum("evidence cap" in n for n in progress.notices) == 1  # told once


def test_signatures_cluster_and_are_counted(tmp_path: Path, store: Store) -> None:
    ex = FakeExecutor(
        lambda a: (-11, b"") if a.seq % 3 == 0 else ((2, b"") if a.seq % 5 == 0 else (0, b""))
    )
    s = go(make_spec(tmp_path, limits=Limits(runs=30, max_failures=0)), store, ex)
    counts = {title: n for _id, title, n in s.signatures}
    assert counts["SIGSEGV (-11)"] == 10
    assert counts["exit 2"] == 4  # 5, 10, 20, 25 (15 and 30 are SIGSEGV)
    details = {d.title: d for d in store.signature_details(s.campaign_id)}
    segv = details["SIGSEGV (-11)"]
    assert (segv.count, segv.first_seq, segv.last_seq) == (10, 3, 30)
    assert segv.per_variant == {"default": 10}
    assert details["exit 2"].first_seq == 5  # the example run


def test_blocks_run_every_variant_once(tmp_path: Path, store: Store) -> None:
    ex = FakeExecutor(fails_on(set()))
    spec = make_spec(
        tmp_path,
        kind="compare",
        jobs=1,
        variants=(Variant("a", ("a",)), Variant("b", ("b",)), Variant("c", ("c",))),
        limits=Limits(runs=50, max_failures=0),
        seed=7,
    )
    s = go(spec, store, ex)
    runs = list(store.runs(s.campaign_id))
    assert len(runs) == 150
    blocks: dict[int, list[str]] = {}
    for r in runs:
        blocks.setdefault(r.block, []).append(r.variant)
    assert all(sorted(v) == ["a", "b", "c"] for v in blocks.values())
    orders = {tuple(v) for v in blocks.values()}
    assert len(orders) > 1  # randomised, not a fixed rotation


def test_resume_continues_sequence_and_bound(tmp_path: Path, store: Store) -> None:
    ex = FakeExecutor(fails_on({6}))
    spec = make_spec(tmp_path, jobs=1, limits=Limits(runs=20, max_failures=1))
    first = go(spec, store, ex)
    assert first.runs == 6
    ex2 = FakeExecutor(fails_on(set()))
    second = go(spec, store, ex2, resume=str(first.campaign_id))
    assert second.campaign_id == first.campaign_id
    assert second.runs == 20  # the campaign's -n is a total
    seqs = [r.seq for r in store.runs(first.campaign_id)]
    assert seqs == list(range(1, 21))


def test_interrupt_records_runs_in_flight_as_interrupted(tmp_path: Path, store: Store) -> None:
    calls = {"n": 0}

    def behaviour(a: Attempt) -> tuple[int | None, bytes]:
        calls["n"] += 1
        if calls["n"] == 5:
            os.kill(os.getpid(), __import__("signal").SIGINT)
        return (0, b"")

    ex = FakeExecutor(behaviour, delay=0.01)
    s = go(make_spec(tmp_path, jobs=1, limits=Limits(runs=1000, max_failures=0)), store, ex)
    assert s.stop_reason == "interrupted"
    assert s.runs < 1000
    assert store.campaign(s.campaign_id).state == "interrupted"
    assert store.integrity_ok()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("no-such-program-xyz",), "command not found: no-such-program-xyz"),
        (("./missing.sh",), "command not found: ./missing.sh"),
        (("/",), "/ is a directory, not a command"),
    ],
)
def test_preflight_refuses_unstartable_commands(
    tmp_path: Path, store: Store, argv: tuple[str, ...], message: str
) -> None:
    from flakehunt.campaign.preflight import check_startable
    from flakehunt.errors import CouldNotStart

    spec = make_spec(tmp_path, variants=(Variant("default", argv),))
    with pytest.raises(CouldNotStart, match=message):
        check_startable(spec)


def test_a_broken_slot_stops_the_campaign_with_one_clear_error(tmp_path: Path,
                                                              store: Store) -> None:
    import errno

    from flakehunt.errors import EnvironmentProblem

    def behaviour(a: Attempt) -> tuple[int | None, bytes]:
        if a.seq == 4:
            raise OSError(errno.ENOSPC, "No space left on device", a.log_path)
        return (0, b"")

    spec = make_spec(tmp_path, jobs=1, limits=Limits(runs=100, max_failures=0))
    with pytest.raises(EnvironmentProblem, match="No space left on device"):
        go(spec, store, FakeExecutor(behaviour))
    (campaign,) = store.campaigns()
    assert [r.seq for r in store.runs(campaign.id)] == [1, 2, 3]  # nothing lost
    assert campaign.state == "interrupted"


def test_newest_passing_logs_across_slots_are_kept_and_recorded(tmp_path: Path,
                                                                store: Store) -> None:
    ex = FakeExecutor(lambda a: (0, f"run {a.seq}\n".encode()), delay=0.002)
    spec = make_spec(tmp_path, jobs=3, limits=Limits(runs=30, max_failures=0), keep_passing=4)
    s = go(spec, store, ex)
    camp_dir = Path(s.evidence_dir)
    assert sorted(p.name for p in camp_dir.iterdir()) == [f"r{n:06d}.log" for n in range(27, 31)]
    assert all((camp_dir / f"r{n:06d}.log").read_text() == f"run {n}\n" for n in range(27, 31))
    paths = {r.seq: r.evidence_path for r in store.runs(s.campaign_id)}
    assert {k for k, v in paths.items() if v} == set(range(27, 31))
    assert paths[30] == "c1/r000030.log"
