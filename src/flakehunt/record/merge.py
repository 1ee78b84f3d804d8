"""Merge campaigns recorded on several machines (CI shards) into one database.

Every run keeps its host and worker; run ids (unique across databases) are the
merge key, so merging the same database twice adds nothing. Campaigns merge
only when they ran the same commands (kind and every variant's name, argv and
environment) unless forced. Sequence numbers are re-counted in block order
(blocks keep their global numbers under ``--shard``, so the merged campaign
reads like the unsharded one); evidence files are not copied: merged runs
point at the source database's evidence directory.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flakehunt import __version__
from flakehunt.errors import UsageError
from flakehunt.record.store import _INSERT_COLUMNS, Store


@dataclass
class MergeReport:
    """What a merge did."""

    campaign_id: int = 0
    added: int = 0
    duplicates: int = 0
    campaigns: int = 0
    hosts: list[str] = field(default_factory=list)
    forced: list[str] = field(default_factory=list)  # the differences --force overrode


def command_key(kind: str, spec: dict[str, Any]) -> str:
    """What must agree for two campaigns to be one experiment."""
    variants = [
        [v["name"], list(v["argv"]), sorted([list(e) for e in v.get("env", ())])]
        for v in spec.get("variants", ())
    ]
    return json.dumps([kind, variants])


def _sources(paths: list[Path], into: Path) -> list[tuple[Path, list[Any]]]:
    target = os.path.realpath(into)
    out = []
    for p in paths:
        if os.path.realpath(p) == target:
            continue  # merging a database into itself adds nothing
        src = Store.open(p, create=False)  # migrates an older database in place
        try:
            out.append((p, src.campaigns()[::-1]))
        finally:
            src.close()
    return out


def merge_databases(paths: list[Path], into: Path, *, force: bool = False) -> MergeReport:
    """Merge every campaign of *paths* into one campaign of *into*; see the module doc."""
    sources = _sources(paths, into)
    camps = [c for _, cs in sources for c in cs]
    if not camps:
        raise UsageError("nothing to merge", "give databases that hold campaigns")
    first = camps[0]
    key = command_key(first.kind, first.spec)
    report = MergeReport(campaigns=len(camps))
    for c in camps[1:]:
        if command_key(c.kind, c.spec) != key:
            if not force:
                raise UsageError(
                    f"campaign {c.id} ({c.title}) ran different commands from {first.title}",
                    "merge only shards of one campaign, or pass --force",
                )
            report.forced.append(f"{c.title} merged into {first.title}")
    store = Store.open(into)
    conn = store._conn
    try:
        cid = _target_campaign(store, first, key)
        report.campaign_id = cid
        cols = ", ".join(_INSERT_COLUMNS)
        picks = ", ".join(
            "?" if c == "campaign_id"
            else "CASE WHEN evidence_path IS NULL THEN NULL ELSE ? || evidence_path END"
            if c == "evidence_path" else c
            for c in _INSERT_COLUMNS
        )
        for path, cs in sources:
            evidence = str(Path(path).resolve().parent / "evidence") + os.sep
            conn.execute("ATTACH DATABASE ? AS src", (str(path),))
            try:
                with conn:
                    for c in cs:
                        before = conn.total_changes
                        conn.execute(
                            f"INSERT OR IGNORE INTO runs ({cols}) SELECT {picks}"
                            " FROM src.runs WHERE campaign_id = ? ORDER BY block, started, id",
                            (cid, evidence, c.id),
                        )
                        added = conn.total_changes - before
                        (offered,) = conn.execute(
                            "SELECT COUNT(*) FROM src.runs WHERE campaign_id = ?", (c.id,)
                        ).fetchone()
                        report.added += added
                        report.duplicates += offered - added
                        conn.execute(
                            "INSERT OR IGNORE INTO signatures (campaign_id, id, title)"
                            " SELECT ?, id, title FROM src.signatures WHERE campaign_id = ?",
                            (cid, c.id),
                        )
            finally:
                conn.execute("DETACH DATABASE src")
        with conn:
            # Re-count seq in block order: shards each counted from 1. Blocks are
            # disjoint across shards, so inside a block the old seq is one shard's order.
            conn.execute(
                "WITH o AS (SELECT id, ROW_NUMBER() OVER (ORDER BY block, seq, id) AS n"
                " FROM runs WHERE campaign_id = ?)"
                " UPDATE runs SET seq = o.n FROM o WHERE runs.id = o.id",
                (cid,),
            )
            state = "finished" if all(c.state == "finished" for c in camps) else "interrupted"
            store.set_campaign_state(cid, state)
        report.hosts = [
            h for (h,) in conn.execute(
                "SELECT DISTINCT host FROM runs WHERE campaign_id = ? ORDER BY host", (cid,)
            )
        ]
    finally:
        store.close()
    return report


def _target_campaign(store: Store, first: Any, key: str) -> int:
    """The campaign of *into* that receives the runs: an alike one, or a new one."""
    for c in store.campaigns():
        if command_key(c.kind, c.spec) == key:
            return int(c.id)
    spec = dict(first.spec)
    spec["shard"] = None
    spec["limits"] = {**spec.get("limits", {}), "runs": None}  # a shard's -n is not the total
    return store.create_campaign(
        uuid=uuid.uuid4().hex,
        kind=first.kind,
        host=socket.gethostname(),
        version=__version__,
        spec=spec,
        title=first.title,
    )
