"""Confidence intervals for a failure rate (pure Python; no scipy needed here)."""

from __future__ import annotations

import math
from statistics import NormalDist


def _z(confidence: float) -> float:
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson(failures: int, runs: int, confidence: float = 0.95) -> tuple[float, float]:
    """Return the Wilson score interval for *failures* out of *runs*.

    Wilson rather than the normal ("Wald") interval because failure rates sit
    near 0, where Wald collapses to [0, 0] and undercovers badly.
    """
    if runs <= 0:
        return (0.0, 1.0)
    z = _z(confidence)
    p = failures / runs
    denom = 1 + z * z / runs
    centre = (p + z * z / (2 * runs)) / denom
    half = z * math.sqrt(p * (1 - p) / runs + z * z / (4 * runs * runs)) / denom
    lo = 0.0 if failures == 0 else max(0.0, centre - half)
    hi = 1.0 if failures == runs else min(1.0, centre + half)
    return (lo, hi)


def zero_failure_upper_bound(runs: int, confidence: float = 0.95) -> float:
    """Return the exact one-sided upper bound on the rate after *runs* clean runs.

    With no failure in n runs, any rate p with (1 - p)^n < 1 - confidence is
    rejected, so the bound is 1 - (1 - confidence)^(1/n) (≈ 3/n, the "rule of three").
    """
    if runs <= 0:
        return 1.0
    return float(1.0 - (1.0 - confidence) ** (1.0 / runs))
