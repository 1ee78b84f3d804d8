"""The full result as JSON, schema ``flakehunt.report/1`` (docs/json-schema.md).

Versioning: fields may be added within version 1; a field removed, renamed
or changed in meaning makes it ``flakehunt.report/2``.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from typing import Any

from flakehunt.report.model import CampaignReport

SCHEMA = "flakehunt.report/1"


def campaign_to_dict(r: CampaignReport) -> dict[str, Any]:
    """Return one campaign in schema ``flakehunt.report/1``."""
    d = r.durations
    return {
        "id": r.id, "uuid": r.uuid, "kind": r.kind, "title": r.title, "state": r.state,
        "created": r.created, "finished": r.finished,
        "span": None if r.span is None else {"first_start": r.span[0], "last_end": r.span[1]},
        "variants": [{
            "name": v.name, "argv": list(v.argv), "env": [list(e) for e in v.env],
            "outcomes": v.outcomes, "runs": v.runs, "failures": v.failures,
            "timeouts": v.timeouts, "rate": v.rate, "interval": list(v.interval),
            "verdict": v.verdict or None,
        } for v in r.variants],
        "comparison": r.comparison,
        "signatures": [{
            "id": s.id, "title": s.title, "failures": s.total, "per_variant": s.per_variant,
            "example": None if s.example is None else asdict(s.example),
        } for s in r.signatures],
        "cumulative": [{"variant": c.variant, "by_run": [list(p) for p in c.by_run],
                        "by_time": [list(p) for p in c.by_time]} for c in r.curves],
        "durations": None if d is None else {
            "edges": d.edges, "counts": d.counts, "pass_sample": d.pass_sample,
            "stats": [{"outcome": s.outcome, "runs": s.runs, "min": s.minimum,
                       "mean": s.mean, "max": s.maximum} for s in d.stats]},
        "failures": {"total": r.failures_total, "listed": [asdict(f) for f in r.failures]},
        "telemetry": [{
            "seq": t.seq, "path": t.path, "run_duration": t.run_duration,
            "system": {k: [list(p) for p in v] for k, v in t.system.items()},
            "run_cpu": [list(p) for p in t.run_cpu],
            "run_rss_mb": [list(p) for p in t.run_rss_mb],
            "neighbours": {k: [list(p) for p in v] for k, v in t.neighbours.items()},
            "top": [list(p) for p in t.top],
        } for t in r.timelines],
        "orphans": None,  # not recorded yet (issue 6)
        "rerun": {
            "command": r.rerun.command, "cwd": r.rerun.cwd, "settings": r.rerun.settings,
            "hosts": [{"host": h, "platform": p, "runs": n, "min_concurrency": lo,
                       "max_concurrency": hi} for h, p, n, lo, hi in r.rerun.hosts],
            "created_with": r.rerun.created_with, "reported_with": r.rerun.reported_with,
        },
        "evidence_root": r.evidence_root,
        "spec": r.spec,
    }


def to_document(reports: list[CampaignReport], now: float | None = None) -> dict[str, Any]:
    """Return the whole document."""
    from flakehunt import __version__

    return {"schema": SCHEMA, "generated": time.time() if now is None else now,
            "flakehunt_version": __version__,
            "campaigns": [campaign_to_dict(r) for r in reports]}


def render_json(reports: list[CampaignReport]) -> str:
    """Return the document as indented JSON."""
    return json.dumps(to_document(reports), indent=2) + "\n"
