"""Boschloo's exact unconditional test for two failure rates, by enumeration.

The test orders tables by Fisher's one-sided p-value and rejects when that
p-value is at most c*, the largest threshold whose size, maximised over the
common failure rate, stays at or below alpha (Boschloo 1970). Given the total t
of failures, the variant's count is hypergeometric whatever the common rate, so
the size at rate q is  sum_t Binom(t; n1 + n2, q) * H_t(a_c(t)),  where a_c(t) is the
largest variant count still rejected at total t. That makes the size O(n) per
rate and the whole rejection region O(n) numbers: no n-by-n table is built.

Used by ``plan`` (power by exact enumeration) and checked against
``scipy.stats.boschloo_exact`` in the tests. numpy/scipy are imported lazily.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

# Rates at which the size is maximised: uniform on the arcsine scale, where a
# binomial's spread is the same everywhere, then refined around the worst one.
_GRID = 400
_REL = 1e-12  # slack when comparing p-values, against rounding in the cdf


@dataclass(frozen=True)
class Region:
    """The rejection region of the one-sided test "variant fails less", n runs per arm."""

    n: int
    alpha: float
    threshold: float  # c*: reject when Fisher's one-sided p <= threshold
    critical: tuple[int, ...]  # a_c(t) for t = 0..2n; below max(0, t-n) means none
    size: float  # the attained size, at most alpha


class _Sizes:
    """Size of a region under a common rate, on a fixed grid of rates, for one table size."""

    def __init__(self, total: int) -> None:
        import numpy as np

        self.total = total  # runs in both arms together
        theta = (np.arange(_GRID) + 0.5) / _GRID * (math.pi / 2)
        self.rates = np.sin(theta) ** 2
        self._t = np.arange(total + 1)
        self._lc = _log_choose(total)
        # Keep the rate-by-total pmf matrix only while it is small (<= ~38 MB);
        # beyond that recompute it in slices at each use.
        self._rows = self._log_pmf(self.rates) if total <= 12_000 else None

    def _log_pmf(self, rates: Any) -> Any:
        import numpy as np

        q = np.asarray(rates, dtype=float)[:, None]
        m = self.total
        return np.exp(self._lc[None, :] + self._t * np.log(q) + (m - self._t) * np.log1p(-q))

    def sup(self, weights: Any, refine: bool) -> float:
        """Return the largest size over the grid, refined locally when asked."""
        import numpy as np

        if self._rows is not None:
            curve = self._rows @ weights
        else:
            curve = np.concatenate(
                [self._log_pmf(self.rates[i : i + 25]) @ weights for i in range(0, _GRID, 25)]
            )
        i = int(curve.argmax())
        best = float(curve[i])
        if not refine:
            return best
        from scipy.optimize import minimize_scalar

        lo = float(self.rates[max(0, i - 1)])
        hi = float(self.rates[min(len(self.rates) - 1, i + 1)])
        res = minimize_scalar(
            lambda q: -float((self._log_pmf(np.array([q])) @ weights)[0]),
            bounds=(lo, hi),
            method="bounded",
            options={"xatol": 1e-10},
        )
        return max(best, -float(res.fun))


def _log_choose(n: int) -> Any:
    import numpy as np
    from scipy.special import gammaln

    k = np.arange(n + 1)
    return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)


def _tail(a: Any, t: Any, arms: tuple[int, int], logs: tuple[Any, Any, Any]) -> tuple[Any, Any]:
    """Return (pmf, cdf) at a of the variant's count given t failures, a inside the support.

    The count is Hypergeom(n1 + n2, t, n1). The cdf is summed downwards with
    the pmf ratio p(x-1)/p(x) = x (n2-t+x) / ((n1-x+1)(t-x+1)); in a lower
    tail the terms fall off faster than geometrically, and scipy's hypergeom
    is 40x slower here.
    """
    import numpy as np

    n1, n2 = arms
    lc1, lc2, lcn = logs
    pmf = np.exp(lc1[a] + lc2[t - a] - lcn[t])
    total = pmf.copy()
    term = pmf.copy()
    x = a.astype(float)
    tf = t.astype(float)
    for _ in range(2 * (n1 + n2) + 2):
        ratio = x * (n2 - tf + x) / ((n1 - x + 1) * (tf - x + 1))
        ratio = np.where(x > 0, np.maximum(ratio, 0.0), 0.0)
        term = term * ratio
        total += term
        x = x - 1
        if not np.any(term > total * 1e-17):
            break
    return pmf, np.minimum(total, 1.0)


def _critical(arms: tuple[int, int], c: float, guess: Any = None) -> tuple[Any, Any]:
    """Return (a_c(t), H_t(a_c(t))) for every total t at Fisher threshold *c*.

    a_c(t) is the largest variant count whose hypergeometric cdf is <= c (or
    max(0, t-n2) - 1 when there is none). Found by stepping from a guess (the
    previous threshold's answer, or a normal approximation) in pmf-sized steps,
    bisecting a known bracket when the steps overshoot.
    """
    import numpy as np
    from scipy.stats import norm

    n1, n2 = arms
    total = n1 + n2
    logs = (_log_choose(n1), _log_choose(n2), _log_choose(total))
    lc1, lc2, lcn = logs
    t = np.arange(total + 1)
    lo = np.maximum(0, t - n2) - 1  # lo means "nothing rejected"
    hi = np.minimum(t, n1)
    if guess is None:
        f = n1 / total
        sd = np.sqrt(t * f * (1 - f) * (total - t) / max(1, total - 1))
        guess = np.floor(t * f + float(norm.ppf(min(c, 1 - 1e-12))) * sd)
    a = np.clip(np.asarray(guess, dtype=np.int64), lo, hi)
    limit = c * (1 + _REL)
    ok = lo.copy()  # largest count known to have cdf <= c (lo: the empty tail)
    bad = hi + 1  # smallest count known to have cdf > c (hi + 1: beyond the support)
    for step_no in range(2 * total + 8):
        inside = a > lo
        pmf, cdf = _tail(np.where(inside, a, lo + 1), t, arms, logs)
        cdf = np.where(inside, cdf, 0.0)
        pmf = np.where(inside, pmf, 0.0)
        up = np.minimum(a + 1, n1)
        nxt = np.where(a < hi, np.exp(lc1[up] + lc2[np.clip(t - up, 0, n2)] - lcn[t]), np.inf)
        down = cdf > limit
        grow = ~down & (cdf + nxt <= limit)
        if not (down.any() or grow.any()):
            return a, cdf
        ok = np.where(down, ok, np.maximum(ok, a))
        bad = np.where(down, np.minimum(bad, a), bad)
        # A Newton step on the cdf, sized by the pmf; it can overshoot where the
        # pmf changes fast, so after a few rounds bisect the known bracket.
        step_down = np.clip(np.ceil((cdf - limit) / np.maximum(pmf, 1e-300)), 1, 64)
        step_up = np.clip(np.floor((limit - cdf) / np.maximum(nxt, 1e-300)), 1, 64)
        nxt_a = np.where(down, a - step_down, np.where(grow, a + step_up, a)).astype(np.int64)
        if step_no >= 8:
            inside_bracket = (nxt_a > ok) & (nxt_a < bad)
            nxt_a = np.where(down | grow, np.where(inside_bracket, nxt_a, (ok + bad) // 2), a)
        a = np.clip(nxt_a, lo, hi)
    raise RuntimeError("critical values did not converge")  # pragma: no cover


@functools.lru_cache(maxsize=64)
def region(n: int, alpha: float, hint: float | None = None) -> Region:
    """Return Boschloo's one-sided rejection region at level *alpha* for *n* runs per arm.

    *hint* is a threshold known to be near c* (c* moves little with n), which
    shortens the search; the answer does not depend on it.
    """
    if n < 1:
        raise ValueError("runs per arm must be at least 1")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be between 0 and 1, not {alpha}")
    import numpy as np

    sizes = _Sizes(2 * n)
    arms = (n, n)
    # Fisher's own threshold alpha has size <= alpha; Boschloo's c* is at least that.
    lo_c = alpha
    a_lo, w_lo = _critical(arms, lo_c)
    if hint is not None and hint / 1.01 > alpha:
        a_try, w_try = _critical(arms, hint / 1.01, a_lo)
        if sizes.sup(w_try, refine=True) <= alpha:
            lo_c, a_lo, w_lo = hint / 1.01, a_try, w_try
    hi_c = lo_c
    a_hi, w_hi = a_lo, w_lo
    grow = 1.02 if hint is not None else 1.5
    while hi_c < 1.0:
        hi_c = min(1.0, hi_c * grow)
        a_hi, w_hi = _critical(arms, hi_c, a_hi)
        if sizes.sup(w_hi, refine=True) > alpha:
            break
        lo_c, a_lo, w_lo = hi_c, a_hi, w_hi
    else:
        return Region(n, alpha, 1.0, tuple(int(x) for x in a_lo), sizes.sup(w_lo, True))
    # Bisect on log c; the region changes only where c crosses some table's p-value.
    while hi_c / lo_c > 1 + 1e-5:
        mid = math.sqrt(lo_c * hi_c)
        a_mid, w_mid = _critical(arms, mid, a_lo)
        if np.array_equal(a_mid, a_lo):
            lo_c = mid
        elif np.array_equal(a_mid, a_hi) or sizes.sup(w_mid, refine=False) > alpha:
            hi_c, a_hi = mid, a_mid
        else:
            lo_c, a_lo, w_lo = mid, a_mid, w_mid
    size = sizes.sup(w_lo, refine=True)
    while size > alpha:  # the grid missed a peak that refinement found: step back
        lo_c /= 1 + 1e-4
        a_lo, w_lo = _critical(arms, lo_c, a_lo)
        size = sizes.sup(w_lo, refine=True)
    return Region(n, alpha, lo_c, tuple(int(x) for x in a_lo), size)


def fisher_region(n: int, alpha: float, threshold: float) -> Region:
    """Return the region "Fisher's one-sided p <= threshold" without maximising its size.

    With threshold = c* of a nearby n this is (almost always) Boschloo's
    region for n: ``plan`` searches with it, then confirms with ``region``.
    """
    a, _ = _critical((n, n), threshold)
    return Region(n, alpha, threshold, tuple(int(x) for x in a), float("nan"))


def rejects(reg: Region, variant_failures: int, baseline_failures: int) -> bool:
    """Return True when the table (variant, baseline failures; n each) lies in *reg*."""
    t = variant_failures + baseline_failures
    return variant_failures <= reg.critical[t]


def power(reg: Region, baseline_rate: float, variant_rate: float) -> float:
    """Return the exact probability that *reg* rejects when the true rates are as given."""
    import numpy as np
    from scipy.stats import binom

    n = reg.n
    # Outcomes outside these ranges carry under 1e-13 of probability together.
    a_hi = int(binom.isf(1e-14, n, variant_rate)) if variant_rate > 0 else 0
    b_hi = int(binom.isf(1e-14, n, baseline_rate)) if baseline_rate > 0 else 0
    a = np.arange(min(n, a_hi) + 1)
    b = np.arange(min(n, b_hi) + 1)
    pa = binom.pmf(a, n, variant_rate)
    pb = binom.pmf(b, n, baseline_rate)
    crit = np.asarray(reg.critical)
    hit = a[:, None] <= crit[a[:, None] + b[None, :]]
    return float(pa @ (hit * pb[None, :]).sum(axis=1)) if len(a) else 0.0


def boschloo_p(
    variant_failures: int, baseline_failures: int, n: int, n_baseline: int | None = None
) -> float:
    """Return Boschloo's one-sided p-value for "variant fails less".

    *n* runs of the variant, *n_baseline* of the baseline (default: *n*).
    """
    import numpy as np
    from scipy.stats import hypergeom

    nb = n if n_baseline is None else n_baseline
    if n < 1 or nb < 1:
        raise ValueError("each arm needs at least one run")
    if not (0 <= variant_failures <= n and 0 <= baseline_failures <= nb):
        raise ValueError("failures must lie between 0 and the runs of their arm")
    t = variant_failures + baseline_failures
    observed = float(hypergeom.cdf(variant_failures, n + nb, t, n))
    _, w = _critical((n, nb), observed)
    return min(1.0, _Sizes(n + nb).sup(w, refine=True)) if np.any(w) else 1.0
