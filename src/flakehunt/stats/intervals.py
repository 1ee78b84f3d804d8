"""Confidence intervals for a failure rate: Wilson, Jeffreys, exact (Clopper-Pearson).

Counts may be fractional: a design-effect correction (``stats.design``) divides
both by the design effect to get an effective sample, and every method here
accepts that. Wilson is pure Python; Jeffreys and exact import scipy lazily.
"""

from __future__ import annotations

import math
from statistics import NormalDist

METHODS = ("exact", "wilson", "jeffreys")
# Exact is the default: in 0.5%..20% and n=300..1000, Wilson's coverage dips to
# 0.928 (p=0.5%, n=311) and Jeffreys' to 0.877 (p=0.5%, n=501); only
# Clopper-Pearson never falls below the nominal level (docs/statistics.md).
DEFAULT_METHOD = "exact"


def _z(confidence: float) -> float:
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def _check(failures: float, runs: float, confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")
    if failures < 0 or failures > runs:
        raise ValueError(f"failures ({failures}) must lie between 0 and runs ({runs})")


def wilson(failures: float, runs: float, confidence: float = 0.95) -> tuple[float, float]:
    """Return the Wilson score interval for *failures* out of *runs*.

    Wilson (1927) rather than the normal ("Wald") interval because failure
    rates sit near 0, where Wald collapses to [0, 0] and undercovers badly.
    """
    if runs <= 0:
        return (0.0, 1.0)
    _check(failures, runs, confidence)
    z = _z(confidence)
    p = failures / runs
    denom = 1 + z * z / runs
    centre = (p + z * z / (2 * runs)) / denom
    half = z * math.sqrt(p * (1 - p) / runs + z * z / (4 * runs * runs)) / denom
    lo = 0.0 if failures == 0 else max(0.0, centre - half)
    hi = 1.0 if failures == runs else min(1.0, centre + half)
    return (lo, hi)


def jeffreys(failures: float, runs: float, confidence: float = 0.95) -> tuple[float, float]:
    """Return the equal-tailed Jeffreys interval (Beta(k+1/2, n-k+1/2) quantiles).

    Ends are pinned at 0 for no failures and at 1 for all failures, as Brown,
    Cai and DasGupta (2001) recommend.
    """
    if runs <= 0:
        return (0.0, 1.0)
    _check(failures, runs, confidence)
    from scipy.stats import beta

    tail = (1 - confidence) / 2
    a, b = failures + 0.5, runs - failures + 0.5
    lo = 0.0 if failures == 0 else float(beta.ppf(tail, a, b))
    hi = 1.0 if failures == runs else float(beta.ppf(1 - tail, a, b))
    return (lo, hi)


def clopper_pearson(failures: float, runs: float, confidence: float = 0.95) -> tuple[float, float]:
    """Return the exact (Clopper-Pearson 1934) interval; coverage is never below nominal."""
    if runs <= 0:
        return (0.0, 1.0)
    _check(failures, runs, confidence)
    from scipy.stats import beta

    tail = (1 - confidence) / 2
    lo = 0.0 if failures == 0 else float(beta.ppf(tail, failures, runs - failures + 1))
    hi = 1.0 if failures == runs else float(beta.ppf(1 - tail, failures + 1, runs - failures))
    return (lo, hi)


def interval(
    failures: float, runs: float, confidence: float = 0.95, method: str = DEFAULT_METHOD
) -> tuple[float, float]:
    """Return the two-sided interval of *method* (one of ``METHODS``)."""
    if method == "wilson":
        return wilson(failures, runs, confidence)
    if method == "jeffreys":
        return jeffreys(failures, runs, confidence)
    if method == "exact":
        return clopper_pearson(failures, runs, confidence)
    raise ValueError(f"unknown interval method {method!r}; choose one of {', '.join(METHODS)}")


def zero_failure_upper_bound(runs: float, confidence: float = 0.95) -> float:
    """Return the exact one-sided upper bound on the rate after *runs* clean runs.

    With no failure in n runs, any rate p with (1 - p)^n < 1 - confidence is
    rejected, so the bound is 1 - (1 - confidence)^(1/n) (≈ 3/n, the "rule of three").
    """
    if runs <= 0:
        return 1.0
    return 1.0 - float((1.0 - confidence) ** (1.0 / runs))


def clean_runs_needed(bound: float, confidence: float = 0.95) -> int:
    """Return the fewest clean runs whose one-sided upper bound is at most *bound*."""
    if not 0.0 < bound < 1.0:
        raise ValueError(f"the rate bound must be between 0 and 1, not {bound}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")
    n = math.ceil(math.log(1.0 - confidence) / math.log1p(-bound))
    # Guard the ceiling against rounding either way: the smallest n with bound(n) <= bound.
    while n > 1 and zero_failure_upper_bound(n - 1, confidence) <= bound:
        n -= 1
    while zero_failure_upper_bound(n, confidence) > bound:
        n += 1
    return n
