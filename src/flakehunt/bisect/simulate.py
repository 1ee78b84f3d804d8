"""Simulated searches, hundreds side by side with numpy: accuracy and runs to a verdict.

Used by the tests and ``bench/bisect_runs.py``. The simulated test fails at
rate ``p`` on and after the culprit and at ``q`` before it; no process runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flakehunt.bisect.policy import choose
from flakehunt.bisect.posterior import Model, posterior


@dataclass(frozen=True)
class SimResult:
    """What a batch of simulated searches found."""

    searches: int
    correct: int
    mean_runs: float
    undecided: int  # stopped by max_runs before reaching the confidence

    @property
    def accuracy(self) -> float:
        """Fraction of searches that named the true culprit."""
        return self.correct / self.searches


def simulate_bayes(
    *,
    commits: int,
    p: float,
    q: float = 0.0,
    searches: int,
    seed: int,
    confidence: float = 0.95,
    max_runs: int = 20_000,
    calibrate_failures: int = 10,
    calibrate_runs: int = 10_000,
    model: Model | None = None,
) -> SimResult:
    """Run *searches* Bayesian searches over *commits* commits after the good one."""
    rng = np.random.default_rng(seed)
    model = model or Model()
    width = commits + 1  # position 0 is the good commit, `commits` the bad one
    culprit = rng.integers(1, commits + 1, size=searches)
    positions = np.arange(width)
    rate = np.where(positions[None, :] >= culprit[:, None], p, q)
    runs = np.zeros((searches, width))
    fails = np.zeros((searches, width))
    # Calibration at the bad commit: run until `calibrate_failures` failures
    # (a negative binomial count of passes), as V8's flake bisect does.
    passes = rng.negative_binomial(calibrate_failures, p, size=searches)
    cal = np.minimum(passes + calibrate_failures, calibrate_runs)
    runs[:, -1] = cal
    fails[:, -1] = np.where(passes + calibrate_failures <= calibrate_runs, calibrate_failures, 0)
    current = np.full(searches, commits, dtype=np.int64)
    active = np.ones(searches, dtype=bool)
    verdict = np.zeros(searches, dtype=np.int64)
    while active.any():
        idx = np.flatnonzero(active)
        post = posterior(runs[idx], fails[idx], model)
        top = post.probs.argmax(axis=-1)
        top_p = post.probs.max(axis=-1)
        spent = runs[idx].sum(axis=-1)
        done = (top_p >= confidence) | (spent >= max_runs)
        verdict[idx[done]] = top[done] + 1
        active[idx[done]] = False
        keep = ~done
        if not keep.any():
            break
        idx = idx[keep]
        pick = choose(post.take(np.flatnonzero(keep)), current=current[idx])
        m = np.minimum(pick.runs, np.maximum(max_runs - runs[idx].sum(axis=-1), 1)).astype(int)
        r = rate[idx, pick.position]
        f = rng.binomial(m, r)
        runs[idx, pick.position] += m
        fails[idx, pick.position] += f
        current[idx] = pick.position
    total = runs.sum(axis=-1)
    post = posterior(runs, fails, model)
    undecided = int((post.probs.max(axis=-1) < confidence).sum())
    return SimResult(searches, int((verdict == culprit).sum()), float(total.mean()), undecided)


def simulate_naive(
    *, commits: int, p: float, repeats: int, searches: int, seed: int, q: float = 0.0
) -> SimResult:
    """Run plain bisection that calls a commit bad if any of *repeats* runs fails."""
    rng = np.random.default_rng(seed)
    culprit = rng.integers(1, commits + 1, size=searches)
    lo = np.zeros(searches, dtype=np.int64)  # known good
    hi = np.full(searches, commits, dtype=np.int64)  # believed bad
    total = np.zeros(searches)
    while (hi - lo > 1).any():
        live = hi - lo > 1
        mid = (lo + hi) // 2
        rate = np.where(mid >= culprit, p, q)
        failed = rng.random(searches) < -np.expm1(repeats * np.log1p(-rate))
        total += np.where(live, repeats, 0)
        hi = np.where(live & failed, mid, hi)
        lo = np.where(live & ~failed, mid, lo)
    return SimResult(searches, int((hi == culprit).sum()), float(total.mean()), 0)
