"""One-sided exact tests (oriented as scipy's columns) and Holm's adjustment."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import boschloo_exact

from flakehunt.stats.tests import boschloo_greater, boschloo_less, holm, holm_level


@pytest.mark.parametrize(
    "fv,nv,fb,nb", [(0, 333, 12, 333), (7, 333, 12, 333), (0, 300, 12, 333), (9, 25, 3, 40)]
)
def test_matches_scipy_with_columns_as_the_samples(fv: int, nv: int, fb: int, nb: int) -> None:
    table = np.array([[fv, fb], [nv - fv, nb - fb]])  # column 0: variant, column 1: baseline
    less = float(boschloo_exact(table, alternative="less", n=64).pvalue)
    greater = float(boschloo_exact(table, alternative="greater", n=64).pvalue)
    assert boschloo_less(fv, nv, fb, nb) == pytest.approx(less, rel=1e-6)
    assert boschloo_greater(fv, nv, fb, nb) == pytest.approx(greater, rel=1e-6)


def test_story_p_values() -> None:
    flush = boschloo_less(0, 333, 12, 333)
    sleep = boschloo_less(7, 333, 12, 333)
    assert flush == pytest.approx(0.000171, rel=0.01)
    assert sleep == pytest.approx(0.1648, abs=0.001)
    assert holm([sleep, flush]) == pytest.approx([sleep, 2 * flush])


def test_degenerate_tables_give_no_evidence() -> None:
    assert boschloo_less(0, 100, 0, 100) == 1.0
    assert boschloo_less(0, 0, 3, 10) == 1.0
    assert boschloo_less(5, 5, 5, 5) == 1.0
    with pytest.raises(ValueError):
        boschloo_less(4, 3, 0, 3)


def test_holm_step_down_and_monotone() -> None:
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5]) == [0.5]
    assert holm([]) == []
    assert holm([0.9, 0.8]) == [1.0, 1.0]  # 2 x 0.8, capped at 1; then carried forward
    assert holm([0.2, 0.3]) == pytest.approx([0.4, 0.4])
    assert holm_level([0.01, 0.04, 0.03], 1, 0.05) == pytest.approx(0.05)
    assert holm_level([0.01, 0.04, 0.03], 0, 0.05) == pytest.approx(0.05 / 3)
