"""--until-decided: the discordant-block e-process stays valid under drift; peeking does not."""

from __future__ import annotations

import math
from fractions import Fraction
from math import comb

import numpy as np
import pytest
from scipy.stats import hypergeom

from flakehunt.stats.records import RunRecord
from flakehunt.stats.sequential import decided, log_e_better, log_e_worse, pairs_of, states

CAMPAIGNS, BLOCKS, ALPHA = 2000, 600, 0.05


def exact_e_better(d: int, s: int) -> Fraction:
    """The mixture likelihood ratio written as a sum: 2 * integral over [0, 1/2] of the LR."""
    return Fraction(sum(comb(d + 1, j) for j in range(s + 1, d + 2)), (d + 1) * comb(d, s))


@pytest.mark.parametrize("d,s", [(0, 0), (1, 0), (1, 1), (12, 0), (19, 7), (40, 25), (200, 80)])
def test_closed_form_matches_the_exact_sum(d: int, s: int) -> None:
    assert math.exp(log_e_better(d, s)) == pytest.approx(float(exact_e_better(d, s)), rel=1e-9)
    assert math.exp(log_e_worse(d, s)) == pytest.approx(float(exact_e_better(d, d - s)), rel=1e-9)


def test_e_process_is_a_fair_bet_under_the_null() -> None:
    # One more discordant block, each run equally likely to be the failing one: mean unchanged.
    for d, s in [(0, 0), (5, 2), (30, 9)]:
        now = exact_e_better(d, s)
        assert (exact_e_better(d + 1, s) + exact_e_better(d + 1, s + 1)) / 2 == now


def _drifting_null(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Baseline and variant failures per block; no difference; the rate drifts 1% -> 15%."""
    rng = np.random.default_rng(seed)
    t = np.arange(BLOCKS) / BLOCKS
    rate = 0.01 + 0.14 * t + 0.03 * np.sin(12 * t)  # trend plus waves, shared by both arms
    base = rng.random((CAMPAIGNS, BLOCKS)) < rate
    var = rng.random((CAMPAIGNS, BLOCKS)) < rate
    return base, var


def _sequential_rejects(base: np.ndarray, var: np.ndarray, variants: int = 1) -> np.ndarray:
    disc = base != var
    d = np.cumsum(disc, axis=1)
    s = np.cumsum(disc & var, axis=1)
    limit = math.log(2 * variants / ALPHA)
    crossed = (log_e_better(d, s) >= limit) | (log_e_worse(d, s) >= limit)
    return np.asarray(crossed.any(axis=1))


def _naive_rejects(base: np.ndarray, var: np.ndarray, every: int = 10) -> np.ndarray:
    """Re-check a fixed-n one-sided Fisher test (each direction at alpha/2) every 10 runs."""
    looks = np.arange(every, BLOCKS + 1, every)
    a = np.cumsum(var, axis=1)[:, looks - 1]
    b = np.cumsum(base, axis=1)[:, looks - 1]
    n = looks[None, :]
    better = hypergeom.cdf(a, 2 * n, a + b, n) <= ALPHA / 2
    worse = hypergeom.cdf(b, 2 * n, a + b, n) <= ALPHA / 2
    return np.asarray((better | worse).any(axis=1))


def test_e_process_stays_under_5_percent_with_drift_while_peeking_does_not() -> None:
    base, var = _drifting_null(seed=2026)
    seq = float(_sequential_rejects(base, var).mean())
    naive = float(_naive_rejects(base, var).mean())
    assert seq <= ALPHA
    assert naive > ALPHA  # fixed-n Fisher is conservative, and peeking still breaks it
    # The final fixed-n test alone (one look) is fine: the excess comes from the peeking.
    assert float(_naive_rejects(base, var, every=BLOCKS).mean()) <= ALPHA


def test_sequential_rule_finds_a_real_difference() -> None:
    rng = np.random.default_rng(5)
    base = rng.random((CAMPAIGNS, BLOCKS)) < 0.035  # the story: normal 3.5%, flush 0%
    var = np.zeros_like(base)
    assert float(_sequential_rejects(base, var, variants=2).mean()) >= 0.8


def _records(base: np.ndarray, var: np.ndarray, upto: int) -> list[RunRecord]:
    out = []
    for i in range(upto):
        out.append(RunRecord("normal", i, bool(base[i])))
        out.append(RunRecord("flush", i, bool(var[i])))
    return out


def test_decided_stops_where_the_simulated_rule_crosses() -> None:
    rng = np.random.default_rng(9)
    base = rng.random(BLOCKS) < 0.05
    var = np.zeros(BLOCKS, dtype=bool)
    disc = base != var
    d, s = np.cumsum(disc), np.cumsum(disc & var)
    first = int(np.argmax(log_e_better(d, s) >= math.log(2 / ALPHA)))
    stops = [
        k
        for k in range(1, first + 3)
        if decided(_records(base, var, k), "normal", ["normal", "flush"])
    ]
    assert stops and stops[0] == first + 1  # decided after block index `first` is in


def test_decided_respects_max_runs_and_ignores_uncounted_runs() -> None:
    recs = [RunRecord(v, i, False) for i in range(50) for v in ("a", "b")]
    assert not decided(recs, "a", ["a", "b"])
    assert decided(recs, "a", ["a", "b"], max_runs=50)
    assert not decided(recs, "a", ["a", "b"], max_runs=51)
    recs = [RunRecord("a", 0, True), RunRecord("b", 0, False, counted=False)]
    assert pairs_of(recs, "a") == {}
    assert not decided([RunRecord("a", 0, True)], "a", ["a"])


def test_states_split_alpha_over_variants_and_sides() -> None:
    recs = [RunRecord(v, 0, False) for v in ("a", "b", "c")]
    (sb, sc) = states(recs, "a", ["a", "b", "c"], alpha=0.05)
    assert sb.threshold == pytest.approx(80) and sc.threshold == pytest.approx(80)
    assert sb.decision is None


def test_monitor_fed_run_by_run_agrees_with_the_batch_functions() -> None:
    import random

    from flakehunt.stats.sequential import Monitor

    rng = random.Random(8)
    recs = []
    for block in range(300):
        runs = [
            RunRecord(v, block, rng.random() < p) for v, p in (("n", 0.06), ("s", 0.05), ("f", 0.0))
        ]
        rng.shuffle(runs)  # -j8: runs of a block finish in any order
        recs += runs
        if rng.random() < 0.05:
            recs.append(RunRecord("s", block, True, counted=False))
    mon = Monitor("n", ["n", "s", "f"], max_runs=1000)
    for i, r in enumerate(recs):
        mon.add(r)
        if i % 97 == 0 or i == len(recs) - 1:
            assert mon.states() == states(recs[: i + 1], "n", ["n", "s", "f"])
            assert mon.decided() == decided(recs[: i + 1], "n", ["n", "s", "f"], max_runs=1000)
