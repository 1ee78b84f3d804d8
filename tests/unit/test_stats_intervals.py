"""Intervals for a failure rate: known values, and coverage by simulation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from flakehunt.stats.intervals import (
    DEFAULT_METHOD,
    clean_runs_needed,
    clopper_pearson,
    interval,
    jeffreys,
    wilson,
    zero_failure_upper_bound,
)


@pytest.mark.parametrize("k,n", [(0, 20), (1, 20), (12, 333), (7, 333), (333, 333), (50, 100)])
def test_wilson_and_exact_match_scipy(k: int, n: int) -> None:
    res = stats.binomtest(k, n)
    for method, ours in (("wilson", wilson(k, n)), ("exact", clopper_pearson(k, n))):
        ci = res.proportion_ci(0.95, method=method)
        assert ours == pytest.approx((ci.low, ci.high), abs=1e-9)


def test_jeffreys_is_beta_quantiles_pinned_at_the_ends() -> None:
    lo, hi = jeffreys(3, 40)
    assert lo == pytest.approx(stats.beta.ppf(0.025, 3.5, 37.5))
    assert hi == pytest.approx(stats.beta.ppf(0.975, 3.5, 37.5))
    assert jeffreys(0, 40)[0] == 0.0 and jeffreys(40, 40)[1] == 1.0


def test_fractional_counts_from_a_design_effect_are_accepted() -> None:
    lo, hi = interval(12 / 1.7, 333 / 1.7)
    lo1, hi1 = interval(12, 333)
    assert lo < lo1 and hi > hi1


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError):
        interval(5, 3)
    with pytest.raises(ValueError):
        interval(1, 3, method="wald")
    with pytest.raises(ValueError):
        wilson(1, 3, confidence=1.5)


def test_clean_runs_for_half_a_percent_is_598() -> None:
    assert clean_runs_needed(0.005) == 598
    assert zero_failure_upper_bound(598) <= 0.005 < zero_failure_upper_bound(597)
    assert clean_runs_needed(0.01, 0.99) == 459  # log(0.01)/log(0.99) = 458.2


def _coverage(method: str, p: float, n: int, campaigns: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    failures = rng.binomial(n, p, size=campaigns)
    # Intervals depend only on the count: compute each distinct one once.
    cover = {int(k): interval(int(k), n, 0.95, method) for k in np.unique(failures)}
    return float(np.mean([cover[int(k)][0] <= p <= cover[int(k)][1] for k in failures]))


@pytest.mark.parametrize("p", [0.005, 0.035, 0.20])
@pytest.mark.parametrize("n", [311, 500, 1000])
def test_default_interval_covers_at_least_94_percent_of_2000_campaigns(p: float, n: int) -> None:
    assert _coverage(DEFAULT_METHOD, p, n, 2000, seed=int(p * 1e4) + n) >= 0.94


def _exact_coverage(method: str, p: float, n: int) -> float:
    ks = np.arange(n + 1)
    pmf = stats.binom.pmf(ks, n, p)
    inside = [interval(int(k), n, 0.95, method) for k in ks]
    return float(sum(w for w, (lo, hi) in zip(pmf, inside, strict=True) if lo <= p <= hi))


def test_wilson_undercovers_at_half_a_percent_which_is_why_exact_is_the_default() -> None:
    # The claim in docs/statistics.md: Wilson's true coverage at p=0.5%, n=311 is 92.8%.
    assert _exact_coverage("wilson", 0.005, 311) == pytest.approx(0.9277, abs=5e-4)
    assert _exact_coverage("jeffreys", 0.005, 600) < 0.92
    assert _exact_coverage("exact", 0.005, 311) >= 0.95
    assert DEFAULT_METHOD == "exact"
