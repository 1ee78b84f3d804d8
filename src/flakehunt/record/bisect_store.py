"""The probes of bisect campaigns (table ``bisect_probes``, schema migration 2)."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from flakehunt.errors import StoreError
from flakehunt.record.store import Store


@dataclass(frozen=True)
class ProbeRow:
    """One recorded probe of a bisect campaign."""

    seq: int
    position: int
    commit: str
    phase: str
    runs: int
    failures: int
    probe_campaign_id: int | None
    skipped: str | None
    recorded: float


class BisectStore:
    """Queries on ``bisect_probes``; shares the connection of a ``Store``."""

    def __init__(self, store: Store) -> None:
        # record/ is the only package that speaks SQL; this module is its bisect part.
        self._conn = store._conn

    def add_probe(
        self,
        bisect_id: int,
        *,
        position: int,
        commit: str,
        phase: str,
        runs: int,
        failures: int,
        probe_campaign_id: int | None,
        skipped: str | None,
    ) -> int:
        """Record a finished probe (committed at once); return its sequence number."""
        try:
            with self._conn:
                (seq,) = self._conn.execute(
                    "SELECT COALESCE(MAX(seq), 0) + 1 FROM bisect_probes WHERE bisect_id = ?",
                    (bisect_id,),
                ).fetchone()
                self._conn.execute(
                    "INSERT INTO bisect_probes (bisect_id, seq, position, commit_sha, phase,"
                    " runs, failures, probe_campaign_id, skipped, recorded)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        bisect_id,
                        seq,
                        position,
                        commit,
                        phase,
                        runs,
                        failures,
                        probe_campaign_id,
                        skipped,
                        time.time(),
                    ),
                )
        except sqlite3.Error as exc:
            raise StoreError(
                f"cannot record a bisect probe: {exc}", "is the disk full or the database locked?"
            ) from exc
        return int(seq)

    def probes(self, bisect_id: int) -> list[ProbeRow]:
        """Return a bisect campaign's probes in order."""
        rows = self._conn.execute(
            "SELECT seq, position, commit_sha, phase, runs, failures, probe_campaign_id,"
            " skipped, recorded FROM bisect_probes WHERE bisect_id = ? ORDER BY seq",
            (bisect_id,),
        ).fetchall()
        return [ProbeRow(*r) for r in rows]

    def latest_bisect(self) -> int | None:
        """Return the id of the newest bisect campaign, if any."""
        row = self._conn.execute(
            "SELECT id FROM campaigns WHERE kind = 'bisect' ORDER BY id DESC LIMIT 1"
        ).fetchone()
        return None if row is None else int(row[0])
