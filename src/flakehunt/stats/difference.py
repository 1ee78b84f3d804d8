"""An interval for the difference of two failure rates (Newcombe's hybrid score)."""

from __future__ import annotations

import math

from flakehunt.stats.intervals import wilson


def newcombe(
    failures_a: float,
    runs_a: float,
    failures_b: float,
    runs_b: float,
    confidence: float = 0.95,
) -> tuple[float, float]:
    """Return the interval for rate_a - rate_b by Newcombe's method 10 (1998).

    It combines the two Wilson intervals (Wilson 1927): unlike the Wald
    difference interval it stays sensible at 0 failures and near rates of 0.
    Counts may be fractional (effective sample sizes after a design effect).
    """
    if runs_a <= 0 or runs_b <= 0:
        return (-1.0, 1.0)
    pa, pb = failures_a / runs_a, failures_b / runs_b
    la, ua = wilson(failures_a, runs_a, confidence)
    lb, ub = wilson(failures_b, runs_b, confidence)
    d = pa - pb
    lo = d - math.sqrt((pa - la) ** 2 + (ub - pb) ** 2)
    hi = d + math.sqrt((ua - pa) ** 2 + (pb - lb) ** 2)
    return (max(-1.0, lo), min(1.0, hi))
