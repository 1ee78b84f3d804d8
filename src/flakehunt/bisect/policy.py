"""Where to probe next and how many runs: the most information per run.

A probe of m runs at position i is summarised by whether any run failed. The
expected drop in the entropy of the culprit's posterior is then the mutual
information between that outcome and the culprit K:

    I = h(P(fail)) - sum_k P(k) h(a_k(i)),
    a_k(i) = 1 - (1 - r_k(i))^m,

where r_k(i) is the posterior mean of the rate at position i's side under
hypothesis k (new side if k <= i). Both sums split at i into a prefix (k <= i,
new-side rates) and a suffix (k > i, old-side rates): cumulative sums give
every position in O(N) per m. Rates are kept per hypothesis, not averaged:
an averaged rate blurs a bimodal posterior (baseline ~0 under some k, ~p under
others) into one that no probe seems to resolve, and the search stalls.

Minimising expected entropy per unit cost (m runs plus the cost of moving to
another commit) picks the probe. With the rate known and the baseline zero,
one run is best where P(K <= i) ~ 1/e ~ 0.37, not at the median: maximising
h(pC) - C h(p) over C gives C -> 1/e as p -> 0 (docs/bisect.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from flakehunt.bisect.posterior import Array, Posterior

RUN_CHOICES = (1, 2, 3, 5, 8, 13, 20, 30, 50)


def _h(x: Array) -> Array:
    """Binary entropy in nats."""
    x = np.clip(x, 1e-15, 1 - 1e-15)
    out: Array = -(x * np.log(x) + (1 - x) * np.log1p(-x))
    return out


def information(post: Posterior, m: int) -> Array:
    """Return the expected entropy drop (nats) of m runs at every position 0..N."""
    lim = 1 - 1e-12
    a_new = -np.expm1(m * np.log1p(-np.clip(post.new_given_k, 0.0, lim)))
    a_old = -np.expm1(m * np.log1p(-np.clip(post.old_given_k, 0.0, lim)))
    pi = post.probs
    zero = np.zeros((*pi.shape[:-1], 1))

    def prefix(x: Array) -> Array:  # sum over k <= i, i.e. hypotheses j < i
        out: Array = np.concatenate([zero, np.cumsum(x, axis=-1)], axis=-1)
        return out

    def suffix(x: Array) -> Array:  # sum over k > i, i.e. hypotheses j >= i
        out: Array = np.concatenate([np.cumsum(x[..., ::-1], axis=-1)[..., ::-1], zero], axis=-1)
        return out

    p_fail = prefix(pi * a_new) + suffix(pi * a_old)
    info: Array = _h(p_fail) - prefix(pi * _h(a_new)) - suffix(pi * _h(a_old))
    return np.maximum(info, 0.0)


@dataclass(frozen=True)
class Choice:
    """The next probe: position, runs, expected information per run."""

    position: NDArray[np.int64]
    runs: NDArray[np.int64]
    value: Array


def choose(
    post: Posterior,
    *,
    current: NDArray[np.int64] | None = None,
    switch_cost: float = 0.0,
    run_choices: tuple[int, ...] = RUN_CHOICES,
    min_runs: int = 1,
    excluded: NDArray[np.bool_] | None = None,
) -> Choice:
    """Pick the probe with the most expected information per run-equivalent of cost."""
    choices = [m for m in run_choices if m >= min_runs] or [min_runs]
    batch = post.new_side.shape[:-1]
    best_val = np.full(batch, -np.inf)
    best_pos = np.zeros(batch, dtype=np.int64)
    best_m = np.zeros(batch, dtype=np.int64)
    width = post.new_side.shape[-1]
    moving = np.full((*batch, width), float(switch_cost))
    if current is not None:
        cur = np.asarray(current)
        np.put_along_axis(moving, cur[..., None], 0.0, axis=-1)
    for m in choices:
        per_run = information(post, m) / (m + moving)
        if excluded is not None:
            per_run = np.where(excluded, -np.inf, per_run)
        pos = np.argmax(per_run, axis=-1)
        val = np.take_along_axis(per_run, pos[..., None], axis=-1)[..., 0]
        better = val > best_val
        if not better.any():
            # Information per run is unimodal in m here: more runs stopped paying.
            break
        best_val = np.where(better, val, best_val)
        best_pos = np.where(better, pos, best_pos)
        best_m = np.where(better, m, best_m)
    return Choice(best_pos, best_m, best_val)
