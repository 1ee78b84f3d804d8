"""How many runs a question needs: sample sizes by exact enumeration.

Two questions. "Is the variant better than the baseline?": the runs per arm at
which the exact one-sided Boschloo test (the one ``compare`` uses) rejects
with the asked power, computed by enumerating every binomial outcome, not by
the normal approximation (which is optimistic near rates of 0). "Is the rate
below b?": the clean runs whose exact one-sided bound reaches b.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

from flakehunt.stats import exact
from flakehunt.stats.intervals import clean_runs_needed, zero_failure_upper_bound

# Enumeration is O(n) per candidate; beyond this many runs per arm the answer is
# reported as "more than" rather than computed (minutes of CPU for a number
# nobody will run).
MAX_EXACT_RUNS = 10_000


@dataclass(frozen=True)
class ComparisonPlan:
    """Runs per arm for detecting baseline -> target with a one-sided exact test."""

    baseline: float
    target: float
    power: float
    alpha: float  # one-sided level of the test
    runs_per_arm: int | None  # None: more than MAX_EXACT_RUNS
    achieved_power: float  # exact power at runs_per_arm (0 when None)
    normal_approximation: int  # what the textbook formula says, for contrast


@dataclass(frozen=True)
class BelowPlan:
    """Clean runs needed to claim a rate below *bound*; and what k clean runs show."""

    bound: float
    confidence: float
    runs_needed: int
    after: int | None
    bound_after: float | None


def normal_runs(baseline: float, target: float, power: float, alpha: float) -> int:
    """Return the normal-approximation runs per arm (one-sided, pooled variance)."""
    z_a = NormalDist().inv_cdf(1 - alpha)
    z_b = NormalDist().inv_cdf(power)
    pbar = (baseline + target) / 2
    num = z_a * math.sqrt(2 * pbar * (1 - pbar)) + z_b * math.sqrt(
        baseline * (1 - baseline) + target * (1 - target)
    )
    return max(1, math.ceil((num / (baseline - target)) ** 2))


def exact_power(n: int, baseline: float, target: float, alpha: float) -> float:
    """Return the exact power of the one-sided Boschloo test with *n* runs per arm."""
    return exact.power(exact.region(n, alpha), baseline, target)


def _check_rates(baseline: float, target: float, power: float, alpha: float) -> None:
    for name, value in (("baseline", baseline), ("target", target)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"the {name} rate must be between 0% and 100%, not {value}")
    if target == baseline:
        raise ValueError("the target rate equals the baseline: no difference to detect")
    if not 0.0 < power < 1.0:
        raise ValueError(f"power must be between 0 and 1, not {power}")
    if not 0.0 < alpha < 0.5:
        raise ValueError(f"alpha must be between 0 and 0.5, not {alpha}")


def runs_for_difference(
    baseline: float,
    target: float,
    power: float = 0.8,
    alpha: float = 0.025,
    max_runs: int = MAX_EXACT_RUNS,
) -> ComparisonPlan:
    """Return the fewest runs per arm reaching *power* for baseline -> target.

    *alpha* is the one-sided level; beyond *max_runs* per arm the answer is
    None ("more than max_runs"). A target above the baseline asks the mirror
    question ("is it worse?"), which is the same computation with the roles
    swapped. Exact power zig-zags with n by a fraction of a percent; the
    answer is the n where bisection first finds the power reached, with power
    below the goal at n - 1.
    """
    _check_rates(baseline, target, power, alpha)
    hi_rate, lo_rate = max(baseline, target), min(baseline, target)
    approx = normal_runs(hi_rate, lo_rate, power, alpha)
    cap = min(max_runs, MAX_EXACT_RUNS)
    if approx > cap:
        # The approximation is optimistic near 0: the exact answer is larger still.
        return ComparisonPlan(baseline, target, power, alpha, None, 0.0, approx)
    threshold = exact.region(approx, alpha).threshold

    def fast(n: int) -> float:
        # c* moves by parts in 10^4 between neighbouring n: search with a fixed one.
        return exact.power(exact.fisher_region(n, alpha, threshold), hi_rate, lo_rate)

    def power_at(n: int) -> float:
        return exact.power(exact.region(n, alpha, threshold), hi_rate, lo_rate)

    # Bracket around the approximation: exact tests usually need a little more.
    if fast(approx) >= power:
        hi, lo = approx, max(0, int(approx * 0.9))
        while lo > 0 and fast(lo) >= power:
            hi, lo = lo, int(lo * 0.8)
    else:
        lo, hi = approx, min(cap, math.ceil(approx * 1.1) + 1)
        while fast(hi) < power:
            if hi >= cap:
                return ComparisonPlan(baseline, target, power, alpha, None, 0.0, approx)
            lo, hi = hi, min(cap, math.ceil(hi * 1.25))
    while hi - lo > 1:  # invariant: power(lo) < goal <= power(hi) (lo=0: none)
        mid = (lo + hi) // 2
        if fast(mid) >= power:
            hi = mid
        else:
            lo = mid
    # Confirm with the exact region (its own c*), moving one run at a time if needed.
    while power_at(hi) < power:
        if hi >= cap:
            return ComparisonPlan(baseline, target, power, alpha, None, 0.0, approx)
        hi += 1
    while hi > 1 and power_at(hi - 1) >= power:
        hi -= 1
    return ComparisonPlan(baseline, target, power, alpha, hi, power_at(hi), approx)


def runs_below(bound: float, confidence: float = 0.95, after: int | None = None) -> BelowPlan:
    """Return the clean runs needed for the upper bound *bound*, and the bound after *after*."""
    needed = clean_runs_needed(bound, confidence)
    if after is not None and after < 0:
        raise ValueError(f"the number of clean runs cannot be negative ({after})")
    reached = None if after is None else zero_failure_upper_bound(after, confidence)
    return BelowPlan(bound, confidence, needed, after, reached)
