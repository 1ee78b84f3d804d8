"""Exact one-sided tests of two failure rates, and Holm's multiplicity adjustment."""

from __future__ import annotations

from collections.abc import Sequence


def boschloo_less(
    failures_variant: int, runs_variant: int, failures_baseline: int, runs_baseline: int
) -> float:
    """Return the exact one-sided p-value for "the variant fails less often".

    Boschloo's (1970) unconditional test. It equals
    ``scipy.stats.boschloo_exact(table, alternative="less")`` for the table
    [[variant failures, baseline failures], [variant passes, baseline passes]]:
    scipy takes the table's COLUMNS as the two samples, and "less" means the
    first column's row-0 proportion is the smaller.
    """
    for f, n in ((failures_variant, runs_variant), (failures_baseline, runs_baseline)):
        if n < 0 or not 0 <= f <= n:
            raise ValueError(f"failures ({f}) must lie between 0 and runs ({n})")
    if runs_variant == 0 or runs_baseline == 0:
        return 1.0
    if failures_variant + failures_baseline == 0:
        return 1.0  # no failure anywhere: nothing points either way
    passes = (runs_variant - failures_variant) + (runs_baseline - failures_baseline)
    if passes == 0:
        return 1.0
    # Computed by the enumeration in stats.exact rather than by scipy: the
    # same test, equal to scipy's within 1e-12 (tests/unit/test_stats_exact.py)
    # and 50-300x faster at hundreds of runs (bench/bench_boschloo.py).
    from flakehunt.stats.exact import boschloo_p

    return boschloo_p(failures_variant, failures_baseline, runs_variant, runs_baseline)


def boschloo_greater(
    failures_variant: int, runs_variant: int, failures_baseline: int, runs_baseline: int
) -> float:
    """Return the exact one-sided p-value for "the variant fails more often"."""
    return boschloo_less(failures_baseline, runs_baseline, failures_variant, runs_variant)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Return Holm's (1979) step-down adjusted p-values, in the input order.

    Compare each adjusted value with alpha: the chance of any false claim in
    the family stays at most alpha, whatever the dependence between tests.
    """
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


def holm_level(pvalues: Sequence[float], index: int, alpha: float) -> float:
    """Return the level Holm compares test *index* against (alpha / (m - rank))."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    return alpha / (m - order.index(index))
