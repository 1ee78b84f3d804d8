"""The end-of-campaign summary, as text for people and as a dict for ``--json``."""

from __future__ import annotations

from typing import Any

from flakehunt.campaign.books import CampaignSummary
from flakehunt.report.compare_table import pct
from flakehunt.stats.intervals import wilson, zero_failure_upper_bound
from flakehunt.units import format_duration

_STOP_WORDS = {
    "runs": "all planned runs done",
    "duration": "time limit reached",
    "max-failures": "failure limit reached",
    "interrupted": "interrupted",
    "could-not-start": "the command could not start",
}


def rate_sentence(failures: int, runs: int, confidence: float = 0.95) -> str:
    """Say what *failures* out of *runs* mean, with the interval, in words."""
    if runs == 0:
        return "no run completed"
    if failures == 0:
        bound = zero_failure_upper_bound(runs, confidence)
        return (
            f"no failure in {runs:,} runs: the rate is below {pct(bound)} "
            f"with {confidence:.0%} confidence"
        )
    lo, hi = wilson(failures, runs, confidence)
    return (
        f"{failures:,} of {runs:,} runs failed: {pct(failures / runs)} "
        f"[{pct(lo)}–{pct(hi)}, {confidence:.0%} Wilson]"
    )


def _also(s: CampaignSummary) -> str:
    """The runs that are recorded but not counted, in words ("" when none)."""
    extra = []
    if s.ignored:
        extra.append(f"{s.ignored} ignored (--ignore-regex)")
    if s.interrupted:
        extra.append(f"{s.interrupted} interrupted (not counted)")
    if s.could_not_start:
        extra.append(f"{s.could_not_start} could not start")
    return ", ".join(extra)


def render_summary(s: CampaignSummary) -> str:
    """Return the multi-line summary printed at the end of ``run``."""
    lines = [
        f"campaign {s.campaign_id} ({s.title}): {_STOP_WORDS.get(s.stop_reason, s.stop_reason)}"
        f" after {format_duration(s.elapsed)}"
    ]
    lines.append("  " + rate_sentence(s.failures, s.runs))
    if also := _also(s):
        lines.append("  also: " + also)
    if s.signatures:
        n = len(s.signatures)
        word = "distinct failure" if n == 1 else "distinct failures"
        parts = [f"{title} x{count}" for _sid, title, count in s.signatures]
        lines.append(f"  {n} {word}: " + " · ".join(parts))
        for sid, title, count in s.signatures:
            lines.append(f"    [{sid}] {title}  x{count}")
    if s.first_failure:
        where = f"  first failure: run {s.first_failure} (flakehunt show {s.first_failure})"
        lines.append(where)
        if s.first_failure_log:
            lines.append(f"  its output: {s.first_failure_log}")
    for note in s.telemetry_notes:
        lines.append(f"  telemetry: {note}")
    for problem in s.setup_problems:
        lines.append(f"  evidence set-up: {problem} (see 'flakehunt doctor')")
    if s.evidence_cap_reached:
        lines.append("  evidence cap reached: later logs were dropped (raise --max-evidence)")
    for pid in s.left_running:
        lines.append(f"  left running for a debugger: pid {pid} (end it: kill -- -{pid})")
    if s.watch is not None:  # orphans, zombies, leaks, pauses, load (flakehunt.watch)
        lines += [f"  {line}" for line in s.watch.lines()]
    if s.runs or s.failures:
        lines.append(f"  evidence: {s.evidence_dir}")
    return "\n".join(lines)


def summary_to_dict(s: CampaignSummary, confidence: float = 0.95) -> dict[str, Any]:
    """Return the summary for ``--json`` (stable keys; see docs/json.md)."""
    lo, hi = wilson(s.failures, s.runs, confidence)
    return {
        "schema": "flakehunt.summary/1",
        "campaign": s.campaign_id,
        "uuid": s.uuid,
        "kind": s.kind,
        "title": s.title,
        "stop_reason": s.stop_reason,
        "elapsed_s": round(s.elapsed, 3),
        "runs": s.runs,
        "failures": s.failures,
        "rate": s.failures / s.runs if s.runs else None,
        "interval": {"method": "wilson", "confidence": confidence, "low": lo, "high": hi},
        "upper_bound_if_clean": zero_failure_upper_bound(s.runs, confidence)
        if s.runs and not s.failures
        else None,
        "ignored": s.ignored,
        "interrupted": s.interrupted,
        "could_not_start": s.could_not_start,
        "start_error": s.start_error,
        "signatures": [{"id": i, "title": t, "count": c} for i, t, c in s.signatures],
        "variants": {n: {"runs": c.runs, "failures": c.failures} for n, c in s.per_variant.items()},
        "first_failure": s.first_failure,
        "first_failure_log": s.first_failure_log,
        "evidence_dir": s.evidence_dir,
        "evidence_cap_reached": s.evidence_cap_reached,
        "left_running": s.left_running,
        "telemetry_notes": s.telemetry_notes,
        "setup_problems": s.setup_problems,
        "watch": s.watch.to_dict() if s.watch is not None else None,
    }


def render_experiment(s: CampaignSummary, seed: int, table: str) -> str:
    """Return what ``compare`` prints: a header, the verdict table, signatures, evidence."""
    stop = _STOP_WORDS.get(s.stop_reason, s.stop_reason)
    lines = [f"campaign {s.campaign_id} ({s.title}): {stop} after "
             f"{format_duration(s.elapsed)}; blocked random order, seed {seed}", "", table]
    if s.signatures:
        n = len(s.signatures)
        parts = [f"{title} x{count}" for _sid, title, count in s.signatures]
        lines.append(f"{n} distinct failure{'s' if n > 1 else ''}: " + " · ".join(parts))
    if s.first_failure:
        lines.append(f"first failure: run {s.first_failure} (flakehunt show {s.first_failure})")
        if s.first_failure_log:
            lines.append(f"its output: {s.first_failure_log}")
    if also := _also(s):
        lines.append("also: " + also)
    if s.watch is not None:
        lines += s.watch.lines()
    return "\n".join(lines)
