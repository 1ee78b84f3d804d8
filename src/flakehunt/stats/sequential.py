"""An always-valid stopping rule for interleaved pairs: the discordant-block e-process.

In a block that ran the baseline and a variant once each, in random order and
close in time, both runs face the same conditions. If the variant makes no
difference, then given that exactly one of the two failed, each is equally
likely to be that one, whatever the failure rate was at that moment: drift
cancels. So the discordant blocks are fair coin flips under the null, and
theta = P(variant is the one that failed | discordant) is 1/2.

The e-process is the likelihood ratio of theta against 1/2, mixed over a
uniform prior on theta in [0, 1/2] ("better") or [1/2, 1] ("worse"). A mixture
of likelihood ratios is a nonnegative martingale with mean 1 under the null,
so Ville's inequality (1939) gives P(it ever reaches 1/a) <= a: one may look
after every block and stop at the first crossing (Ramdas et al. 2023, "Game-
theoretic statistics and safe anytime-valid inference"). alpha is split
evenly over variants and the two directions (Bonferroni), so the chance of
declaring any difference when there is none stays at most alpha.

Closed form, s = discordant blocks where the variant failed, d = all discordant:
E_better = 2^(d+1) B(s+1, d-s+1) I_{1/2}(s+1, d-s+1);  E_worse mirrors s <-> d-s.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from flakehunt.stats.records import RunRecord


@dataclass(frozen=True)
class SequentialState:
    """Where one variant stands against the baseline in the sequential rule."""

    variant: str
    pairs: int  # blocks with a counted run of both
    discordant: int  # pairs where exactly one of the two failed
    variant_failed: int  # discordant pairs where it was the variant
    e_better: float
    e_worse: float
    threshold: float  # 1 / (alpha / (2 * variants))
    decision: str | None  # "better", "worse", or None while undecided


def log_e_better(discordant: Any, variant_failed: Any) -> Any:
    """Return log E_better for scalars or numpy arrays of counts (see module docstring)."""
    import numpy as np
    from scipy.special import betainc, betaln

    d = np.asarray(discordant, dtype=float)
    s = np.asarray(variant_failed, dtype=float)
    a, b = s + 1, d - s + 1
    with np.errstate(divide="ignore"):
        out = (d + 1) * math.log(2) + betaln(a, b) + np.log(betainc(a, b, 0.5))
    return out if out.ndim else float(out)


def log_e_worse(discordant: Any, variant_failed: Any) -> Any:
    """Return log E_worse: E_better with the roles of the two runs swapped."""
    import numpy as np

    d = np.asarray(discordant, dtype=float)
    return log_e_better(d, d - np.asarray(variant_failed, dtype=float))


def pairs_of(records: Iterable[RunRecord], baseline: str) -> dict[str, list[tuple[bool, bool]]]:
    """Return, per variant, (baseline failed, variant failed) for each paired run, in block order.

    Within a block the i-th counted run of the variant pairs with the i-th of
    the baseline; a block missing either (interrupted, ignored) adds no pair.
    """
    by_block: dict[int, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    for r in records:
        if r.counted:
            by_block[r.block][r.variant].append(r.failed)
    out: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    for block in sorted(by_block):
        arms = by_block[block]
        base = arms.get(baseline, [])
        for variant, runs in arms.items():
            if variant != baseline:
                out[variant].extend(zip(base, runs, strict=False))  # extra runs stay unpaired
    return dict(out)


def states(
    records: Iterable[RunRecord],
    baseline: str,
    variants: Sequence[str],
    alpha: float = 0.05,
) -> list[SequentialState]:
    """Return the sequential state of each of *variants* (baseline excluded)."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be between 0 and 1, not {alpha}")
    others = [v for v in variants if v != baseline]
    threshold = 2 * max(1, len(others)) / alpha
    paired = pairs_of(records, baseline)
    out = []
    for v in others:
        pairs = paired.get(v, [])
        disc = [vf for bf, vf in pairs if bf != vf]
        d, s = len(disc), sum(disc)
        e_b = math.exp(min(700.0, log_e_better(d, s)))
        e_w = math.exp(min(700.0, log_e_worse(d, s)))
        decision = "better" if e_b >= threshold else "worse" if e_w >= threshold else None
        out.append(SequentialState(v, len(pairs), d, s, e_b, e_w, threshold, decision))
    return out


def decided(
    records: Iterable[RunRecord],
    baseline: str,
    variants: Sequence[str],
    *,
    alpha: float = 0.05,
    max_runs: int | None = None,
) -> bool:
    """Return True when ``--until-decided`` may stop after the current block.

    Stop when every variant is decided better or worse than the baseline by
    the e-process, or when every variant (baseline included) has at least
    *max_runs* counted runs. Calling it after every block is allowed: that is
    what the e-process is for.
    """
    records = list(records)
    if max_runs is not None:
        counted: dict[str, int] = defaultdict(int)
        for r in records:
            if r.counted:
                counted[r.variant] += 1
        if all(counted[v] >= max_runs for v in variants):
            return True
    others = [v for v in variants if v != baseline]
    if not others:
        return False
    return all(s.decision is not None for s in states(records, baseline, variants, alpha))


class Monitor:
    """The same rule, fed one run at a time: O(1) per run for a scheduler's loop.

    ``decided(records, ...)`` rescans every record; a long campaign that asks
    after each block should keep a Monitor, ``add`` each finished run, and ask
    ``decided()``. Pairs form as runs finish, in the same order as ``pairs_of``.
    """

    def __init__(
        self,
        baseline: str,
        variants: Sequence[str],
        *,
        alpha: float = 0.05,
        max_runs: int | None = None,
    ) -> None:
        if not 0.0 < alpha < 1.0:
            raise ValueError(f"alpha must be between 0 and 1, not {alpha}")
        self.baseline = baseline
        self.variants = list(variants)
        self.others = [v for v in self.variants if v != baseline]
        self.threshold = 2 * max(1, len(self.others)) / alpha
        self.max_runs = max_runs
        self.counted: dict[str, int] = defaultdict(int)
        self._waiting: dict[tuple[int, str], list[bool]] = defaultdict(list)
        self._base_seen: dict[int, list[bool]] = defaultdict(list)
        self._used: dict[tuple[int, str], int] = defaultdict(int)
        self._pairs: dict[str, int] = defaultdict(int)
        self._disc: dict[str, int] = defaultdict(int)
        self._vfail: dict[str, int] = defaultdict(int)

    def _pair(self, variant: str, base_failed: bool, var_failed: bool) -> None:
        self._pairs[variant] += 1
        if base_failed != var_failed:
            self._disc[variant] += 1
            self._vfail[variant] += int(var_failed)

    def add(self, record: RunRecord) -> None:
        """Take one finished run into account."""
        if not record.counted:
            return
        self.counted[record.variant] += 1
        b = record.block
        if record.variant == self.baseline:
            self._base_seen[b].append(record.failed)
            i = len(self._base_seen[b]) - 1
            for v in self.others:  # variant runs of this block waiting for a partner
                waiting = self._waiting[(b, v)]
                if self._used[(b, v)] < len(waiting) and self._used[(b, v)] == i:
                    self._pair(v, record.failed, waiting[i])
                    self._used[(b, v)] += 1
        elif record.variant in self.others:
            key = (b, record.variant)
            self._waiting[key].append(record.failed)
            i = len(self._waiting[key]) - 1
            base = self._base_seen[b]
            if i < len(base) and self._used[key] == i:
                self._pair(record.variant, base[i], record.failed)
                self._used[key] += 1

    def states(self) -> list[SequentialState]:
        """Return where each variant stands."""
        out = []
        for v in self.others:
            d, s = self._disc[v], self._vfail[v]
            e_b = math.exp(min(700.0, log_e_better(d, s)))
            e_w = math.exp(min(700.0, log_e_worse(d, s)))
            th = self.threshold
            decision = "better" if e_b >= th else "worse" if e_w >= th else None
            out.append(SequentialState(v, self._pairs[v], d, s, e_b, e_w, th, decision))
        return out

    def decided(self) -> bool:
        """Return True when the experiment may stop (see ``decided``)."""
        if self.max_runs is not None and all(
            self.counted[v] >= self.max_runs for v in self.variants
        ):
            return True
        return bool(self.others) and all(s.decision is not None for s in self.states())
