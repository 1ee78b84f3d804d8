"""The design effect widens intervals enough when failures cluster in blocks."""

from __future__ import annotations

import numpy as np
import pytest

from flakehunt.stats.design import clusters_of, design_effect
from flakehunt.stats.intervals import interval


def test_design_effect_by_hand() -> None:
    # 4 clusters of 2: failures 2,0,0,0 -> p = 1/4; sum (y - p m)^2 = 2.25 + 3 * 0.25 = 3
    # Var = 4/3 * 3 / 64 = 1/16; binomial var = (1/4)(3/4)/8 = 3/128; deff = 8/3.
    assert design_effect([2, 0, 0, 0], [2, 2, 2, 2]) == pytest.approx(8 / 3)


def test_design_effect_is_never_below_one_and_one_without_information() -> None:
    assert design_effect([1, 1, 1, 1], [4, 4, 4, 4]) == 1.0  # evenly spread
    assert design_effect([0, 0], [8, 8]) == 1.0
    assert design_effect([3], [8]) == 1.0
    with pytest.raises(ValueError):
        design_effect([1], [1, 2])


def test_clusters_group_consecutive_blocks() -> None:
    assert clusters_of([0, 1, 2, 3, 4], 2) == [0, 0, 1, 1, 2]
    with pytest.raises(ValueError):
        clusters_of([0], 0)


def _campaigns(p: float, icc: float, blocks: int, per_block: int, seed: int) -> np.ndarray:
    """Failures per block: each block's rate drawn from a Beta with mean p and this ICC."""
    rng = np.random.default_rng(seed)
    a, b = p * (1 - icc) / icc, (1 - p) * (1 - icc) / icc
    return rng.binomial(per_block, rng.beta(a, b, size=(2000, blocks)))


@pytest.mark.parametrize("method", ["exact", "wilson"])
@pytest.mark.parametrize("p", [0.035, 0.20])
def test_widened_interval_covers_clustered_failures(method: str, p: float) -> None:
    blocks, m = 125, 8  # 1,000 runs at -j8, runs of a block failing together
    y = _campaigns(p, icc=0.1, blocks=blocks, per_block=m, seed=7)
    naive = widened = 0
    for row in y:
        k, n = int(row.sum()), blocks * m
        lo, hi = interval(k, n, 0.95, method)
        naive += lo <= p <= hi
        d = design_effect(row.tolist(), [m] * blocks)
        lo, hi = interval(k / d, n / d, 0.95, method)
        widened += lo <= p <= hi
    assert naive / 2000 < 0.90  # the problem: independent-run intervals are too narrow
    assert widened / 2000 >= 0.94  # the remedy
