"""Time Boschloo p-values: flakehunt's enumeration vs scipy.stats.boschloo_exact, side by side.

Run: PYTHONPATH=src python bench/bench_boschloo.py
Prints seconds per call for each and the ratio, and the largest p difference.
"""

from __future__ import annotations

import time

import numpy as np
from scipy.stats import boschloo_exact

from flakehunt.stats.exact import _Sizes, boschloo_p

TABLES = [(0, 12, 333), (7, 12, 333), (3, 10, 200), (20, 35, 1000), (1, 6, 100)]  # a, b, n


def main() -> None:
    _Sizes(10)  # import and warm both sides before timing
    boschloo_exact(np.array([[1, 2], [9, 8]]), alternative="less")
    ours_t = theirs_t = 0.0
    worst = 0.0
    for a, b, n in TABLES:
        t0 = time.perf_counter()
        ours = boschloo_p(a, b, n)
        t1 = time.perf_counter()
        table = np.array([[a, b], [n - a, n - b]])
        theirs = float(boschloo_exact(table, alternative="less", n=64).pvalue)
        t2 = time.perf_counter()
        ours_t += t1 - t0
        theirs_t += t2 - t1
        worst = max(worst, abs(ours - theirs))
        print(
            f"{a}/{n} vs {b}/{n}: flakehunt {ours:.6g} in {t1 - t0:.3f}s, "
            f"scipy {theirs:.6g} in {t2 - t1:.3f}s"
        )
    k = len(TABLES)
    print(
        f"mean per table: flakehunt {ours_t / k:.3f}s, scipy {theirs_t / k:.3f}s, "
        f"scipy/flakehunt = {theirs_t / ours_t:.1f}x; largest |p difference| {worst:.2g}"
    )


if __name__ == "__main__":
    main()
