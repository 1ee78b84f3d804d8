"""Sample sizes: exact enumeration, checked by independent brute force."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from flakehunt.stats import exact
from flakehunt.stats.plan import normal_runs, runs_below, runs_for_difference


def brute_power(n: int, base: float, target: float, alpha: float) -> float:
    """Power by enumerating outcomes and asking scipy's Boschloo test about each table.

    The region is monotone in the baseline's count, so for each variant count
    the first rejected baseline count is found by bisection over scipy calls.
    """
    power = 0.0
    for a in range(n + 1):
        pa = stats.binom.pmf(a, n, target)
        if pa < 1e-9:
            continue

        def rejected(b: int, a: int = a) -> bool:
            table = np.array([[a, b], [n - a, n - b]])
            return float(stats.boschloo_exact(table, alternative="less").pvalue) <= alpha

        lo, hi = a, n + 1  # first rejected b lies in (lo, hi]; b <= a never rejects
        if not rejected(n):
            continue
        hi = n
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if rejected(mid) else (mid, hi)
        power += pa * float(stats.binom.sf(hi - 1, n, base))
    return power


def test_plan_agrees_with_scipy_brute_force() -> None:
    plan = runs_for_difference(0.30, 0.05, power=0.8, alpha=0.025)
    n = plan.runs_per_arm
    assert n is not None
    assert brute_power(n, 0.30, 0.05, 0.025) == pytest.approx(plan.achieved_power, abs=2e-3)
    assert brute_power(n, 0.30, 0.05, 0.025) >= 0.8 - 2e-3
    assert brute_power(n - 1, 0.30, 0.05, 0.025) < 0.8


def test_story_difference_by_monte_carlo_at_the_returned_n() -> None:
    # 3.5% -> 2% one-sided 5%: exact says ~1,550 per arm (the "~1,500").
    plan = runs_for_difference(0.035, 0.02, power=0.8, alpha=0.05)
    n = plan.runs_per_arm
    assert n is not None and 1450 <= n <= 1650
    assert plan.normal_approximation < n  # the approximation is optimistic near 0
    threshold = exact.region(n, 0.05).threshold
    rng = np.random.default_rng(11)
    b = rng.binomial(n, 0.035, 40_000)
    a = rng.binomial(n, 0.02, 40_000)
    fisher = stats.hypergeom.cdf(a, 2 * n, a + b, n)  # Boschloo orders tables by Fisher's p
    mc = float(np.mean(fisher <= threshold))
    assert mc == pytest.approx(plan.achieved_power, abs=0.01)  # MC s.e. is 0.002


def test_worse_direction_is_the_mirror() -> None:
    up = runs_for_difference(0.005, 0.035, 0.8, 0.025)
    down = runs_for_difference(0.035, 0.005, 0.8, 0.025)
    assert up.runs_per_arm == down.runs_per_arm


def test_normal_approximation_formula() -> None:
    # Textbook one-sided formula: 3.5% vs 2%, alpha 0.05, power 0.8 -> 1,469.
    assert normal_runs(0.035, 0.02, 0.8, 0.05) == 1469


def test_below() -> None:
    p = runs_below(0.005)
    assert p.runs_needed == 598 and p.bound_after is None
    p = runs_below(0.005, after=300)
    assert p.bound_after == pytest.approx(1 - 0.05 ** (1 / 300))
    with pytest.raises(ValueError):
        runs_below(0.005, after=-1)


@pytest.mark.parametrize(
    "args", [(0.035, 0.035, 0.8, 0.025), (0.035, 0.01, 1.5, 0.025), (1.2, 0.01, 0.8, 0.025)]
)
def test_bad_questions(args: tuple[float, float, float, float]) -> None:
    with pytest.raises(ValueError):
        runs_for_difference(*args)
