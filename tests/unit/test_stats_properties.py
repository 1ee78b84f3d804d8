"""Properties every interval and adjustment must have, whatever the counts."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from flakehunt.stats.compare import analyse
from flakehunt.stats.difference import newcombe
from flakehunt.stats.intervals import METHODS, interval
from flakehunt.stats.records import RunRecord
from flakehunt.stats.tests import holm

counts = st.integers(min_value=1, max_value=2000).flatmap(
    lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
)


@settings(max_examples=150, deadline=None)
@given(counts, st.sampled_from(METHODS))
def test_interval_holds_the_estimate_and_stays_in_0_1(kn: tuple[int, int], method: str) -> None:
    k, n = kn
    lo, hi = interval(k, n, 0.95, method)
    assert 0.0 <= lo <= k / n <= hi <= 1.0
    lo99, hi99 = interval(k, n, 0.99, method)
    assert lo99 <= lo + 1e-12 and hi <= hi99 + 1e-12


@settings(max_examples=150, deadline=None)
@given(counts, counts)
def test_newcombe_holds_the_observed_difference(a: tuple[int, int], b: tuple[int, int]) -> None:
    lo, hi = newcombe(a[0], a[1], b[0], b[1])
    d = a[0] / a[1] - b[0] / b[1]
    assert -1.0 <= lo <= d + 1e-12 and d - 1e-12 <= hi <= 1.0


@given(st.lists(st.floats(min_value=0.0, max_value=1.0), max_size=8))
def test_holm_never_lowers_a_p_value_and_keeps_the_order(ps: list[float]) -> None:
    adj = holm(ps)
    assert all(a >= p and a <= 1.0 for a, p in zip(adj, ps, strict=True))
    order = sorted(range(len(ps)), key=lambda i: ps[i])
    assert all(adj[i] <= adj[j] for i, j in itertools.pairwise(order))


def test_an_arm_without_counted_runs_is_underpowered() -> None:
    recs = [RunRecord("a", i, i == 3) for i in range(50)]
    recs.append(RunRecord("b", 0, False, counted=False))
    b = analyse(recs, "a").variants[1]
    assert (b.runs, b.not_counted, b.verdict) == (0, 1, "underpowered")
    assert b.interval == (0.0, 1.0)
