"""compare's analysis: the story's counts, clustering, signatures, concurrency."""

from __future__ import annotations

import random

import pytest

from flakehunt.stats.compare import VERDICTS, analyse
from flakehunt.stats.plan import runs_for_difference
from flakehunt.stats.records import RunRecord


def story_records(seed: int = 1) -> list[RunRecord]:
    """333 blocks, each running normal, sleep and flush once: 12, 7 and 0 failures."""
    rng = random.Random(seed)
    failing = {"normal": set(rng.sample(range(333), 12)), "sleep": set(rng.sample(range(333), 7))}
    out = []
    for block in range(333):
        order = ["normal", "sleep", "flush"]
        rng.shuffle(order)
        for v in order:
            failed = block in failing.get(v, set())
            out.append(RunRecord(v, block, failed, True, "0xC0000005" if failed else None, 1))
    return out


@pytest.fixture(scope="module")
def story():  # type: ignore[no-untyped-def]
    return analyse(story_records(), "normal", variants=["normal", "sleep", "flush"])


def test_story_flush_is_better(story) -> None:  # type: ignore[no-untyped-def]
    flush = story.variants[2]
    assert (flush.runs, flush.failures, flush.verdict) == (333, 0, "better")
    assert flush.p_better == pytest.approx(2 * 0.000171, rel=0.01)  # Holm: x2 for the smallest
    assert flush.upper_bound == pytest.approx(1 - 0.05 ** (1 / 333))
    lo, hi = flush.difference_interval
    assert lo < hi < 0


def test_story_sleep_is_not_shown_to_help(story) -> None:  # type: ignore[no-untyped-def]
    sleep = story.variants[1]
    assert sleep.verdict == "underpowered"
    assert sleep.p_better == pytest.approx(0.165, abs=0.002)  # largest p: Holm leaves it
    lo, hi = sleep.difference_interval
    assert lo < 0 < hi
    # The runs needed are computed for the observed rates at Holm's level for this rank.
    expected = runs_for_difference(12 / 333, 7 / 333, 0.8, 0.025).runs_per_arm
    assert sleep.runs_needed == expected
    assert 1500 <= sleep.runs_needed <= 2200


def test_story_baseline_row(story) -> None:  # type: ignore[no-untyped-def]
    normal = story.variants[0]
    assert normal.verdict == "baseline" and normal.difference is None
    assert normal.interval[0] < 12 / 333 < normal.interval[1]
    assert normal.signatures[0].key == "0xC0000005" and normal.signatures[0].failures == 12
    assert all(v.verdict in VERDICTS for v in story.variants)
    assert story.notes == ()  # one run per variant per block at -j1: nothing to widen


def test_worse_and_no_evidence() -> None:
    recs = []
    for b in range(200):
        recs.append(RunRecord("base", b, b % 50 == 0))
        recs.append(RunRecord("same", b, b % 50 == 1))
        recs.append(RunRecord("bad", b, b % 4 == 0))
    r = analyse(recs, "base")
    same, bad = r.variants[1], r.variants[2]
    assert bad.verdict == "worse" and bad.p_worse is not None and bad.p_worse < 0.025
    assert same.verdict == "no evidence of a difference" and same.runs_needed is None


def test_sequential_mode_takes_verdicts_from_the_e_process() -> None:
    recs = story_records()
    r = analyse(recs, "normal", sequential_rule=True)
    by = {v.name: v for v in r.variants}
    assert by["flush"].verdict == "better" and by["flush"].sequential.decision == "better"
    assert by["sleep"].verdict == "underpowered"
    assert by["flush"].p_better is None  # not valid after optional stopping


def test_clustered_failures_widen_intervals_and_say_so() -> None:
    # One variant at -j8, blocks of 8 runs; whole blocks fail together.
    recs = [
        RunRecord("a", b, b % 10 == 0 and i < 6, True, None, 8)
        for b in range(100)
        for i in range(8)
    ]
    r = analyse(recs, "a")
    a = r.variants[0]
    assert a.design_effect > 3
    assert any("design effect" in n for n in r.notes)
    plain = analyse([RunRecord("a", i, i % 80 < 6) for i in range(800)], "a").variants[0]
    assert a.failures == plain.failures == 60
    assert a.interval[1] - a.interval[0] > 1.5 * (plain.interval[1] - plain.interval[0])


def test_mixed_concurrency_is_reported_per_level_and_uncounted_runs_are_kept_aside() -> None:
    recs = [RunRecord("a", i, i % 10 == 0, True, "sig1", 1) for i in range(100)]
    recs += [RunRecord("a", 100 + i, i % 5 == 0, True, "sig2", 8) for i in range(100)]
    recs += [RunRecord("a", 300, False, False)]
    a = analyse(recs, "a").variants[0]
    assert [(g.key, g.runs, g.failures) for g in a.by_concurrency] == [
        ("1", 100, 10),
        ("8", 100, 20),
    ]
    assert [(g.key, g.failures) for g in a.signatures] == [("sig2", 20), ("sig1", 10)]
    assert a.not_counted == 1 and a.runs == 200


def test_bad_arguments() -> None:
    recs = [RunRecord("a", 0, False)]
    with pytest.raises(ValueError):
        analyse(recs, "b")
    with pytest.raises(ValueError):
        analyse(recs, "a", method="wald")
    with pytest.raises(ValueError):
        analyse(recs, "a", confidence=95)


def test_blocked_design_at_j8_groups_concurrent_blocks_into_clusters() -> None:
    # Two variants at -j8: about four blocks run at once, and they share the load.
    import numpy as np

    rng = np.random.default_rng(4)
    recs = []
    for window in range(100):
        rate = rng.beta(0.35, 9.65)  # mean 3.5%, strongly clustered
        for block in range(4 * window, 4 * window + 4):
            for v in ("normal", "sync"):
                recs.append(RunRecord(v, block, bool(rng.random() < rate), True, None, 8))
    r = analyse(recs, "normal")
    normal, sync = r.variants
    # ICC 1/11 in clusters of 4 runs: deff = 1 + 3/11 = 1.27 expected.
    assert normal.design_effect > 1.1 and sync.design_effect > 1.1
    assert any("design effect" in n for n in r.notes)
    assert sync.verdict in ("underpowered", "no evidence of a difference")
