"""Design effect: how much clustered failures inflate the variance of a rate.

At -j8, runs that share a block (or overlap in time) share the load, the disk
and the page cache, so their failures come together. Treating them as
independent makes intervals too narrow (in simulation Wilson's coverage fell
to 0.86). The between-cluster variance of the ratio estimator (Kish 1965,
ch. 6) divided by the binomial variance is the design effect; dividing runs
and failures by it gives the effective sample the intervals should use.
"""

from __future__ import annotations

from collections.abc import Sequence


def design_effect(failures: Sequence[float], runs: Sequence[float]) -> float:
    """Return the design effect (>= 1) of clusters with these failure and run counts.

    Var(p) = k / (k - 1) * sum((y_i - p m_i)^2) / M^2 for k clusters of m_i runs
    with y_i failures (M = sum m_i); deff = Var(p) / (p (1 - p) / M). Floored
    at 1: a design effect below 1 is noise or drift, and narrowing intervals on
    its strength would be the dishonest direction.
    """
    if len(failures) != len(runs):
        raise ValueError("one failure count per cluster is needed")
    pairs = [(y, m) for y, m in zip(failures, runs, strict=True) if m > 0]
    k = len(pairs)
    total = sum(m for _, m in pairs)
    if k < 2 or total <= 0:
        return 1.0
    p = sum(y for y, _ in pairs) / total
    if p <= 0.0 or p >= 1.0:
        return 1.0
    between = k / (k - 1) * sum((y - p * m) ** 2 for y, m in pairs) / total**2
    return max(1.0, between / (p * (1 - p) / total))


def clusters_of(blocks: Sequence[int], group: int) -> list[int]:
    """Return a cluster id per run: *group* consecutive blocks form one cluster.

    A scheduler that runs each variant once per block spreads a block's runs
    over the slots, so at concurrency j about j / (runs per block) blocks run
    at the same time; those share one cluster.
    """
    if group < 1:
        raise ValueError("a cluster holds at least one block")
    return [b // group for b in blocks]
