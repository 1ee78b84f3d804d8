"""Render ``flakehunt plan`` answers as text or a JSON-able dict."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flakehunt.report.compare_table import pct
from flakehunt.stats.plan import MAX_EXACT_RUNS, BelowPlan, ComparisonPlan


def _test_words(p: ComparisonPlan, two_sided_alpha: float | None) -> str:
    level = f"{p.alpha:g}"
    if two_sided_alpha is not None:
        return (
            f"exact one-sided Boschloo test at {level}: alpha {two_sided_alpha:g} split over "
            "both directions, as compare does"
        )
    return f"exact one-sided Boschloo test at {level}"


def render_comparison(p: ComparisonPlan, two_sided_alpha: float | None) -> str:
    """Return the runs-per-arm answer with the assumptions it rests on."""
    head = (
        f"To detect {pct(p.baseline)} -> {pct(p.target)} with {p.power * 100:g}% power "
        f"({_test_words(p, two_sided_alpha)}):"
    )
    if p.runs_per_arm is None:
        body = [
            f"  more than {MAX_EXACT_RUNS:,} runs per arm (not enumerated further)",
            f"  the normal approximation says {p.normal_approximation:,}",
        ]
    else:
        body = [
            f"  {p.runs_per_arm:,} runs per arm ({2 * p.runs_per_arm:,} in all); "
            f"exact power at {p.runs_per_arm:,}: {p.achieved_power * 100:.1f}%",
            f"  the normal approximation says {p.normal_approximation:,}"
            + (" (optimistic near 0%)" if p.normal_approximation < p.runs_per_arm else ""),
        ]
    return "\n".join([head, *body]) + "\n"


def render_below(p: BelowPlan) -> str:
    """Return the clean-runs answer, and the bound after k clean runs when asked."""
    conf = f"{p.confidence * 100:g}%"
    lines = [
        f"To claim a failure rate below {pct(p.bound)} with {conf} confidence: "
        f"{p.runs_needed:,} runs in a row without a failure."
    ]
    if p.after is not None and p.bound_after is not None:
        verdict = (
            "reached" if p.after >= p.runs_needed else f"{p.runs_needed - p.after:,} more to go"
        )
        lines.append(
            f"After {p.after:,} clean runs, the {conf} upper bound is "
            f"{pct(p.bound_after)} ({verdict})."
        )
    return "\n".join(lines) + "\n"


def to_dict(p: ComparisonPlan | BelowPlan, two_sided_alpha: float | None = None) -> dict[str, Any]:
    """Return the plan as a JSON-able dict."""
    out = asdict(p)
    out["question"] = "difference" if isinstance(p, ComparisonPlan) else "below"
    if isinstance(p, ComparisonPlan):
        out["two_sided_alpha"] = two_sided_alpha
    return out
