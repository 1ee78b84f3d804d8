"""Renderers for what was recorded: campaign lists, one campaign, one run."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from flakehunt.record.store import CampaignRow, RunRow, SignatureDetail, Tally
from flakehunt.report.compare_table import pct
from flakehunt.report.summary import rate_sentence
from flakehunt.stats.intervals import wilson
from flakehunt.units import format_duration


def when(epoch: float) -> str:
    """Format a timestamp in local time, to the minute."""
    return dt.datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M")


def _rate(t: Tally) -> str:
    return pct(t.failures / t.runs) if t.runs else "-"


def render_history(rows: Iterable[tuple[CampaignRow, Tally]]) -> str:
    """Return a table of campaigns: id, when, state, runs, failures, rate, command."""
    lines = [
        f"{'id':>4}  {'when':16}  {'state':11}  {'runs':>8}  {'fails':>6}  {'rate':>7}  command"
    ]
    for c, t in rows:
        lines.append(
            f"{c.id:>4}  {when(c.created):16}  {c.state:11}  {t.runs:>8,}  "
            f"{t.failures:>6,}  {_rate(t):>7}  {c.title}"
        )
    if len(lines) == 1:
        return "no campaign recorded yet (start one with 'flakehunt run -- CMD')"
    return "\n".join(lines)


def history_to_list(rows: Iterable[tuple[CampaignRow, Tally]]) -> list[dict[str, Any]]:
    """Return campaigns for ``--json``."""
    out = []
    for c, t in rows:
        out.append(
            {
                "id": c.id,
                "uuid": c.uuid,
                "kind": c.kind,
                "created": c.created,
                "finished": c.finished,
                "state": c.state,
                "host": c.host,
                "title": c.title,
                "runs": t.runs,
                "failures": t.failures,
                "rate": t.failures / t.runs if t.runs else None,
                "ignored": t.ignored,
                "interrupted": t.interrupted,
            }
        )
    return out


def render_run_line(r: RunRow) -> str:
    """One failed (or any) run on one line."""
    sig = f"[{r.signature}] " if r.signature else ""
    return (
        f"{r.campaign_id}:{r.seq:<6} {r.outcome:8} {sig}{r.status_label}  "
        f"{format_duration(r.duration)}  {when(r.started)}"
        + (f"  {r.variant}" if r.variant != "default" else "")
    )


def render_campaign(
    c: CampaignRow,
    tallies: dict[str, Tally],
    details: list[SignatureDetail],
    failed: list[RunRow],
    limit: int = 20,
) -> str:
    """Return a campaign's summary and its failed runs."""
    total = Tally(
        runs=sum(t.runs for t in tallies.values()),
        failures=sum(t.failures for t in tallies.values()),
        ignored=sum(t.ignored for t in tallies.values()),
        interrupted=sum(t.interrupted for t in tallies.values()),
    )
    lines = [
        f"campaign {c.id} ({c.kind}, {c.state}) on {c.host}, {when(c.created)}",
        f"  command: {c.title}",
        "  " + rate_sentence(total.failures, total.runs),
    ]
    if len(tallies) > 1:
        for name, t in tallies.items():
            lo, hi = wilson(t.failures, t.runs)
            lines.append(
                f"    {name:16} {t.failures:>5}/{t.runs:<6} {_rate(t):>7} [{pct(lo)}–{pct(hi)}]"
            )
    if total.ignored or total.interrupted:
        lines.append(f"  also: {total.ignored} ignored, {total.interrupted} interrupted")
    if details:
        lines.append(f"  {len(details)} distinct failure(s):")
        for d in details:
            where = ", ".join(f"{v} x{n}" for v, n in d.per_variant.items())
            lines.append(f"    [{d.id}] {d.title}  x{d.count}")
            lines.append(f"        {where}; first run {c.id}:{d.first_seq} ({when(d.first_seen)}),"
                         f" last {c.id}:{d.last_seq} ({when(d.last_seen)})")
    if failed:
        lines.append("  failed runs:")
        for r in failed[:limit]:
            lines.append("    " + render_run_line(r))
        if len(failed) > limit:
            lines.append(f"    ... {len(failed) - limit} more ('flakehunt failures {c.id}')")
    return "\n".join(lines)


def render_run(r: RunRow, evidence_root: str) -> str:
    """Return one run in full, with its output tail."""
    lines = [
        f"run {r.campaign_id}:{r.seq} (id {r.run_id})",
        f"  outcome:   {r.outcome}",
        f"  status:    {r.status_label}"
        + (f"  (raw {r.returncode})" if r.returncode is not None else ""),
        f"  variant:   {r.variant}   block {r.block}   slot {r.slot}   concurrency {r.concurrency}",
        f"  host:      {r.host}" + (f"  worker {r.worker}" if r.worker else ""),
        f"  started:   {when(r.started)}   duration {format_duration(r.duration)}",
    ]
    if r.signature:
        lines.append(f"  signature: {r.signature}")
    if r.max_rss_kb is not None:
        lines.append(
            f"  rusage:    max RSS {r.max_rss_kb:,} KiB, user {r.user_cpu:.3f}s, "
            f"sys {r.sys_cpu:.3f}s"
        )
    if r.core_captured:
        lines.append("  core:      kept with the evidence")
    elif r.core_reason:
        lines.append(f"  core:      not kept: {r.core_reason}")
    elif r.core_dumped:
        lines.append("  core:      dumped")
    lines.extend(_evidence_lines(r.evidence_json))
    if r.note:
        lines.append(f"  note:      {r.note}")
    if r.evidence_path:
        lines.append(f"  evidence:  {evidence_root}/{r.evidence_path}")
    if r.output_tail:
        text = r.output_tail.decode("utf-8", "replace")
        lines.append(f"  output (last {len(r.output_tail):,} bytes):")
        lines.extend("    " + ln for ln in text.splitlines()[-60:])
    return "\n".join(lines)


def _evidence_lines(doc_json: str | None) -> list[str]:
    """The evidence document of a run, in a few lines."""
    if not doc_json:
        return []
    try:
        doc = json.loads(doc_json)
    except ValueError:
        return ["  evidence:  (unreadable evidence record)"]
    out = []
    chk = doc.get("chkimg") or {}
    if chk.get("summary"):
        out.append(f"  {chk['summary']}")
    for k in doc.get("kept", []):
        name = k.get("kept_as") or k.get("path")
        out.append(f"  kept:      {name} ({k.get('size', '?')} bytes, sha256 "
                   f"{str(k.get('sha256', ''))[:16]}…)")
    tele = doc.get("telemetry_path")
    if tele:
        out.append(f"  telemetry: {tele}")
    for problem in doc.get("evidence_problems", []):
        out.append(f"  evidence problem: {problem}")
    return out


def run_to_dict(r: RunRow) -> dict[str, Any]:
    """Return a run for ``--json`` (output tail as text)."""
    d = {k: getattr(r, k) for k in RunRow.__dataclass_fields__}
    d["output_tail"] = r.output_tail.decode("utf-8", "replace") if r.output_tail else None
    d["evidence"] = json.loads(r.evidence_json) if r.evidence_json else None
    d.pop("evidence_json", None)
    return d
