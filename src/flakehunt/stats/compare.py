"""Analyse a mitigation experiment: per-variant rates, differences, verdicts.

Pure: per-run records in, a frozen ``ComparisonResult`` out. The verdict
rules are written once in ``_verdict`` and documented in docs/statistics.md.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from flakehunt.stats import design, plan, sequential
from flakehunt.stats.difference import newcombe
from flakehunt.stats.intervals import DEFAULT_METHOD, METHODS, interval, zero_failure_upper_bound
from flakehunt.stats.records import RunRecord
from flakehunt.stats.tests import boschloo_greater, boschloo_less, holm, holm_level

VERDICTS = ("baseline", "better", "worse", "no evidence of a difference", "underpowered")
PLANNING_POWER = 0.8  # the power "runs needed" is computed for
PLANNING_CAP = 5_000  # runs per arm beyond which a verdict says "more than"


@dataclass(frozen=True)
class GroupRate:
    """Failures among the counted runs of one variant within one group."""

    key: str  # a signature id, or a concurrency level written as text
    runs: int
    failures: int
    rate: float


@dataclass(frozen=True)
class VariantResult:
    """Everything the report says about one variant."""

    name: str
    runs: int  # counted runs
    not_counted: int
    failures: int
    rate: float
    interval: tuple[float, float]  # two-sided, widened by the design effect
    design_effect: float
    upper_bound: float | None  # one-sided bound, only when there were no failures
    difference: float | None  # rate - baseline rate
    difference_interval: tuple[float, float] | None
    p_better: float | None  # Holm-adjusted exact one-sided p, "fails less than baseline"
    p_worse: float | None  # Holm-adjusted exact one-sided p, "fails more than baseline"
    verdict: str
    runs_needed: int | None  # per arm, to detect the observed difference (underpowered)
    runs_needed_over: int | None  # set when that number exceeds what plan computes
    signatures: tuple[GroupRate, ...]
    by_concurrency: tuple[GroupRate, ...]  # empty unless concurrency levels were mixed
    sequential: sequential.SequentialState | None


@dataclass(frozen=True)
class ComparisonResult:
    """A whole experiment, ready for a renderer."""

    baseline: str
    confidence: float
    method: str
    alpha: float  # two-sided: each direction is tested at alpha / 2
    sequential: bool  # verdicts come from the e-process (``--until-decided``)
    variants: tuple[VariantResult, ...]
    notes: tuple[str, ...]


@dataclass
class _Arm:
    runs: int
    failures: int
    not_counted: int
    deff: float


def _cluster_group(records: Sequence[RunRecord]) -> int:
    """Return how many consecutive blocks run at once (see ``design.clusters_of``)."""
    per_block = Counter(r.block for r in records if r.counted)
    if not per_block:
        return 1
    size = statistics.median(per_block.values())
    jobs = max(r.concurrency for r in records)
    return max(1, round(jobs / size))


def _arm(records: Sequence[RunRecord], group: int) -> _Arm:
    counted = [r for r in records if r.counted]
    failures = sum(r.failed for r in counted)
    clusters: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for r, c in zip(counted, design.clusters_of([r.block for r in counted], group), strict=True):
        clusters[c][0] += int(r.failed)
        clusters[c][1] += 1
    deff = 1.0
    if clusters and max(m for _, m in clusters.values()) > 1:
        deff = design.design_effect(
            [y for y, _ in clusters.values()], [m for _, m in clusters.values()]
        )
    return _Arm(len(counted), failures, len(records) - len(counted), deff)


def _groups(records: Sequence[RunRecord], key: str) -> tuple[GroupRate, ...]:
    runs: Counter[str] = Counter()
    fails: Counter[str] = Counter()
    for r in records:
        if not r.counted:
            continue
        if key == "signature":
            if r.failed:
                fails[r.signature or "(no signature)"] += 1
            continue
        runs[str(r.concurrency)] += 1
        fails[str(r.concurrency)] += int(r.failed)
    if key == "signature":
        total = sum(1 for r in records if r.counted)
        return tuple(
            GroupRate(sig, total, n, n / total if total else 0.0)
            for sig, n in sorted(fails.items(), key=lambda kv: (-kv[1], kv[0]))
        )
    return tuple(GroupRate(k, runs[k], fails[k], fails[k] / runs[k]) for k in sorted(runs, key=int))


def _scaled(arm: _Arm, deff: float) -> tuple[int, int]:
    """Return (failures, runs) divided by *deff*, rounded: Rao and Scott's (1992) correction."""
    if deff <= 1.0:
        return arm.failures, arm.runs
    runs = max(1, round(arm.runs / deff))
    return min(runs, round(arm.failures / deff)), runs


def analyse(
    records: Iterable[RunRecord],
    baseline: str,
    *,
    confidence: float = 0.95,
    method: str = DEFAULT_METHOD,
    variants: Sequence[str] | None = None,
    sequential_rule: bool = False,
) -> ComparisonResult:
    """Return the comparison of every variant with *baseline*.

    *variants* fixes the order (default: order of first appearance).
    *sequential_rule* says the experiment stopped by ``--until-decided``: its
    fixed-n p-values are then not valid, and verdicts come from the e-process.
    """
    if method not in METHODS:
        raise ValueError(f"unknown interval method {method!r}; choose one of {', '.join(METHODS)}")
    if not 0.5 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0.5 and 1, not {confidence}")
    records = list(records)
    names = (
        list(variants) if variants is not None else list(dict.fromkeys(r.variant for r in records))
    )
    if baseline not in names:
        raise ValueError(f"the baseline {baseline!r} is not one of the variants")
    alpha = 1.0 - confidence
    by_variant: dict[str, list[RunRecord]] = defaultdict(list)
    for r in records:
        by_variant[r.variant].append(r)
    group = _cluster_group(records) if records else 1
    arms = {v: _arm(by_variant[v], group) for v in names}
    base = arms[baseline]
    others = [v for v in names if v != baseline]

    raw_better, raw_worse = [], []
    for v in others:
        deff = max(arms[v].deff, base.deff)
        fv, nv = _scaled(arms[v], deff)
        fb, nb = _scaled(base, deff)
        raw_better.append(boschloo_less(fv, nv, fb, nb))
        raw_worse.append(boschloo_greater(fv, nv, fb, nb))
    adj_better, adj_worse = holm(raw_better), holm(raw_worse)
    seq = (
        {s.variant: s for s in sequential.states(records, baseline, names, alpha)} if others else {}
    )
    mixed = len({r.concurrency for r in records if r.counted}) > 1

    results = []
    notes: list[str] = []
    for v in names:
        arm = arms[v]
        n_eff = arm.runs / arm.deff
        rate = arm.failures / arm.runs if arm.runs else 0.0
        ci = interval(arm.failures / arm.deff, n_eff, confidence, method)
        bound = zero_failure_upper_bound(n_eff, confidence) if arm.failures == 0 else None
        if arm.deff > 1.0:
            notes.append(
                f"{v}: between-block variation gives a design effect of {arm.deff:.2f}; "
                f"intervals and tests use {n_eff:.0f} effective runs"
            )
        diff = diff_ci = p_b = p_w = None
        needed = needed_over = None
        if v == baseline:
            verdict = "baseline"
        else:
            i = others.index(v)
            base_rate = base.failures / base.runs if base.runs else 0.0
            diff = rate - base_rate
            deff = max(arm.deff, base.deff)
            diff_ci = newcombe(
                arm.failures / deff,
                arm.runs / deff,
                base.failures / deff,
                base.runs / deff,
                confidence,
            )
            # After optional stopping fixed-n p-values are not valid: do not show them.
            if not sequential_rule:
                p_b, p_w = adj_better[i], adj_worse[i]
            verdict, needed, needed_over = _verdict(
                v,
                i,
                rate,
                base_rate,
                min(arm.runs, base.runs) / deff,
                raw_better,
                raw_worse,
                alpha,
                seq.get(v) if sequential_rule else None,
            )
            # plan answers in effective runs; a user runs real ones.
            needed = None if needed is None else math.ceil(needed * deff)
            needed_over = None if needed_over is None else math.ceil(needed_over * deff)
        results.append(
            VariantResult(
                name=v,
                runs=arm.runs,
                not_counted=arm.not_counted,
                failures=arm.failures,
                rate=rate,
                interval=ci,
                design_effect=arm.deff,
                upper_bound=bound,
                difference=diff,
                difference_interval=diff_ci,
                p_better=p_b,
                p_worse=p_w,
                verdict=verdict,
                runs_needed=needed,
                runs_needed_over=needed_over,
                signatures=_groups(by_variant[v], "signature"),
                by_concurrency=_groups(by_variant[v], "concurrency") if mixed else (),
                sequential=seq.get(v),
            )
        )
    if mixed:
        notes.append("runs used different concurrency levels: see the rates per level")
    return ComparisonResult(
        baseline, confidence, method, alpha, sequential_rule, tuple(results), tuple(notes)
    )


def _verdict(
    name: str,
    index: int,
    rate: float,
    base_rate: float,
    runs_per_arm: float,
    raw_better: Sequence[float],
    raw_worse: Sequence[float],
    alpha: float,
    seq: sequential.SequentialState | None,
) -> tuple[str, int | None, int | None]:
    """Return (verdict, runs needed per arm, "more than" cap) for one variant.

    better/worse: Holm-adjusted one-sided exact p <= alpha/2 (fixed n), or the
    e-process crossed its threshold (sequential). Otherwise "underpowered" when
    detecting the observed difference needs more runs per arm than were made,
    and "no evidence of a difference" when the rates are equal or the runs
    made would have sufficed.
    """
    side = alpha / 2
    if runs_per_arm <= 0:
        return "underpowered", None, None  # an arm without a counted run: nothing to compare
    if seq is not None:
        if seq.decision is not None:
            return seq.decision, None, None
    else:
        if holm(raw_better)[index] <= side:
            return "better", None, None
        if holm(raw_worse)[index] <= side:
            return "worse", None, None
    if rate == base_rate:
        return "no evidence of a difference", None, None
    family = raw_better if rate < base_rate else raw_worse
    level = holm_level(family, index, side)
    # Enumeration costs grow with n; past this many runs per arm "more than" is
    # answer enough for a verdict (``flakehunt plan`` goes further).
    cap = min(plan.MAX_EXACT_RUNS, max(PLANNING_CAP, 4 * round(runs_per_arm)))
    try:
        need = plan.runs_for_difference(base_rate, rate, PLANNING_POWER, level, cap)
    except ValueError:
        return "no evidence of a difference", None, None
    if need.runs_per_arm is None:
        return "underpowered", None, cap
    if need.runs_per_arm > runs_per_arm:
        return "underpowered", need.runs_per_arm, None
    return "no evidence of a difference", None, None
