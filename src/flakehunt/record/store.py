"""The SQLite store: the only module that speaks SQL.

WAL with ``synchronous=NORMAL`` and one commit per finished run: a SIGKILL of
flakehunt loses only the runs still in flight, and readers (``history``,
``report``) never block the writer.
"""

from __future__ import annotations

import contextlib
import json
import operator
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flakehunt.errors import NotFound, StoreError
from flakehunt.record.schema import MIGRATIONS, SCHEMA_VERSION

DEFAULT_DB = Path(".flakehunt") / "flakehunt.db"


def default_db_path(explicit: str | None = None) -> Path:
    """Return the database path: ``--db``, then ``FLAKEHUNT_DB``, then ``./.flakehunt``."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("FLAKEHUNT_DB")
    if env:
        return Path(env)
    return DEFAULT_DB


@dataclass(frozen=True)
class CampaignRow:
    """One campaign as stored."""

    id: int
    uuid: str
    kind: str
    created: float
    finished: float | None
    state: str
    host: str
    version: str
    spec: dict[str, Any]
    title: str


@dataclass(frozen=True)
class RunRow:
    """One recorded run (every column of ``runs``)."""

    id: int
    run_id: str
    campaign_id: int
    variant: str
    seq: int
    block: int
    slot: int
    host: str
    worker: str
    platform: str
    concurrency: int
    load_profile: str
    started: float
    duration: float
    returncode: int | None
    status_label: str
    outcome: str
    signature: str | None
    pid: int | None
    max_rss_kb: int | None
    user_cpu: float | None
    sys_cpu: float | None
    core_dumped: bool
    evidence_path: str | None
    output_tail: bytes | None
    note: str | None
    core_captured: bool | None = None
    core_reason: str | None = None
    evidence_json: str | None = None


_RUN_COLUMNS = tuple(RunRow.__dataclass_fields__)
_INSERT_COLUMNS = _RUN_COLUMNS[1:]  # all but the autoincrement id
_ROW = operator.itemgetter(*_INSERT_COLUMNS)  # dict -> tuple in C: this is a hot path
_N_INSERT = len(_INSERT_COLUMNS)
_INSERT_RUN = (
    f"INSERT INTO runs ({', '.join(_INSERT_COLUMNS)})"
    f" VALUES ({', '.join('?' * len(_INSERT_COLUMNS))})"
)
# Columns a passing run almost always leaves at the schema's default, and those
# defaults. Binding a parameter costs ~0.65 µs in the sqlite3 module, so a run
# whose values there are all defaults is inserted without them: 6 µs a row in
# the journal's thread instead of 16 (measured here).
_SPARSE = {"worker": "", "load_profile": "", "signature": None, "core_dumped": 0,
           "evidence_path": None, "output_tail": None, "note": None, "core_captured": None,
           "core_reason": None, "evidence_json": None}
_SPARSE_OF = operator.itemgetter(*(_INSERT_COLUMNS.index(c) for c in _SPARSE))
_SPARSE_DEFAULTS = tuple(_SPARSE.values())
_DENSE_COLUMNS = tuple(c for c in _INSERT_COLUMNS if c not in _SPARSE)
_DENSE_OF = operator.itemgetter(*(_INSERT_COLUMNS.index(c) for c in _DENSE_COLUMNS))
_INSERT_DENSE = (
    f"INSERT INTO runs ({', '.join(_DENSE_COLUMNS)})"
    f" VALUES ({', '.join('?' * len(_DENSE_COLUMNS))})"
)


def run_tuple(row: dict[str, Any]) -> tuple[Any, ...]:
    """A full run row (every insert column) as a tuple in column order: a journal record."""
    return tuple(_ROW(row))


@dataclass(frozen=True)
class SignatureDetail:
    """One failure signature of a campaign: how often, where, when; first_seq is an example."""

    id: str
    title: str
    count: int
    per_variant: dict[str, int]
    first_seq: int
    last_seq: int
    first_seen: float
    last_seen: float


@dataclass(frozen=True)
class Tally:
    """Counts of one campaign (or variant) by outcome."""

    runs: int = 0  # counted runs: pass + fail + timeout
    failures: int = 0
    ignored: int = 0
    interrupted: int = 0
    could_not_start: int = 0


class Store:
    """A flakehunt database; open with ``Store.open(path)``."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        # The journal's thread and the slots (new signatures) write through one
        # connection: a transaction must not take in another thread's statements.
        self._write_lock = threading.RLock()

    # -- opening -----------------------------------------------------------------

    @classmethod
    def open(cls, path: Path, *, create: bool = True) -> Store:
        """Open (and create or migrate) the database at *path*."""
        if not create and not path.exists():
            raise NotFound(
                f"no flakehunt database at {path}",
                "run 'flakehunt run -- CMD' first, or point --db / FLAKEHUNT_DB at one",
            )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # check_same_thread=False: the scheduler hands the store to one writer
            # thread at a time; we never use a connection from two threads at once.
            conn = sqlite3.connect(str(path), timeout=30, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            store = cls(conn, path)
            store._migrate()
            from flakehunt.record.journal import recover

            # Runs a killed flakehunt had journaled but not yet stored; a database
            # we may only read keeps its journals for a later, writable open.
            with contextlib.suppress(StoreError):
                recover(store)
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"cannot use database {path}: {exc}",
                "is it a flakehunt database? choose another with --db",
            ) from exc
        except OSError as exc:
            raise StoreError(
                f"cannot create database {path}: {exc.strerror}",
                "choose a writable place with --db",
            ) from exc
        return store

    def _migrate(self) -> None:
        (version,) = self._conn.execute("PRAGMA user_version").fetchone()
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"database {self.path} has schema version {version}, newer than this "
                f"flakehunt understands ({SCHEMA_VERSION})",
                "upgrade flakehunt",
            )
        for target in range(version, SCHEMA_VERSION):
            with self._conn:
                self._conn.executescript(
                    f"BEGIN; {MIGRATIONS[target]} PRAGMA user_version = {target + 1}; COMMIT;"
                )

    def close(self) -> None:
        """Close the connection (a checkpoint folds the WAL back into the file)."""
        self._conn.close()

    def integrity_ok(self) -> bool:
        """Return whether ``PRAGMA integrity_check`` says ok."""
        (result,) = self._conn.execute("PRAGMA integrity_check").fetchone()
        return bool(result == "ok")

    # -- campaigns ---------------------------------------------------------------

    def create_campaign(
        self, *, uuid: str, kind: str, host: str, version: str, spec: dict[str, Any], title: str
    ) -> int:
        """Insert a campaign in state ``running``; return its id."""
        with self._write_lock, self._conn:
            cur = self._conn.execute(
                "INSERT INTO campaigns (uuid, kind, created, state, host, version, spec_json,"
                " title) VALUES (?, ?, ?, 'running', ?, ?, ?, ?)",
                (uuid, kind, time.time(), host, version, json.dumps(spec), title),
            )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def set_campaign_state(self, campaign_id: int, state: str) -> None:
        """Mark a campaign running, finished or interrupted."""
        finished = None if state == "running" else time.time()
        with self._write_lock, self._conn:
            self._conn.execute(
                "UPDATE campaigns SET state = ?, finished = ? WHERE id = ?",
                (state, finished, campaign_id),
            )

    def campaign(self, ref: str | int | None = None) -> CampaignRow:
        """Return a campaign by id, uuid prefix, or the latest when *ref* is None."""
        if ref is None or ref == "":
            row = self._conn.execute("SELECT * FROM campaigns ORDER BY id DESC LIMIT 1").fetchone()
            if row is None:
                raise NotFound("no campaign recorded yet", "start one with 'flakehunt run -- CMD'")
            return _campaign(row)
        text = str(ref)
        if text.isdigit():
            row = self._conn.execute(
                "SELECT * FROM campaigns WHERE id = ?", (int(text),)
            ).fetchone()
        else:
            row = _by_prefix(self._conn.execute(
                "SELECT * FROM campaigns WHERE uuid LIKE ? || '%' LIMIT 2", (text,)
            ), f"campaign {text!r}")
        if row is None:
            raise NotFound(f"no campaign {text!r}", "'flakehunt history' lists them")
        return _campaign(row)

    def campaigns(self, limit: int | None = None) -> list[CampaignRow]:
        """Return campaigns, newest first."""
        sql = "SELECT * FROM campaigns ORDER BY id DESC"
        params: tuple[Any, ...] = ()
        if limit is not None:
            sql += " LIMIT ?"
            params = (limit,)
        return [_campaign(r) for r in self._conn.execute(sql, params)]

    # -- runs --------------------------------------------------------------------

    def add_runs(self, runs: Sequence[dict[str, Any]]) -> None:
        """Insert finished runs and commit at once (one transaction for the batch)."""
        if not runs:
            return
        # Fast path: rows with every column (the scheduler's). A row with fewer
        # inserts just its own columns, so the schema's defaults fill the rest.
        full = [_ROW(r) for r in runs if len(r) == _N_INSERT]
        partial = [r for r in runs if len(r) != _N_INSERT]
        try:
            with self._write_lock, self._conn:
                if full:
                    self._conn.executemany(_INSERT_RUN, full)
                for r in partial:
                    unknown = set(r) - set(_INSERT_COLUMNS)
                    if unknown:
                        raise sqlite3.OperationalError(f"no column {sorted(unknown)[0]!r}")
                    cols = list(r)
                    self._conn.execute(
                        f"INSERT INTO runs ({', '.join(cols)})"
                        f" VALUES ({', '.join('?' * len(cols))})",
                        [r[c] for c in cols],
                    )
        except sqlite3.Error as exc:
            raise StoreError(
                f"cannot record runs in {self.path}: {exc}",
                "is the disk full or the database locked?",
            ) from exc

    def insert_run_tuples(self, rows: Sequence[tuple[Any, ...]], *, replay: bool = False) -> int:
        """Insert full run tuples (``run_tuple``) in one transaction; return how many.

        With *replay*, rows whose run id is already stored are skipped, and rows
        of another column layout (an older flakehunt's journal) are dropped.
        """
        if replay:
            rows = [r for r in rows if len(r) == _N_INSERT]
        if not rows:
            return 0
        try:
            dense = [_DENSE_OF(r) for r in rows if _SPARSE_OF(r) == _SPARSE_DEFAULTS]
            full = rows if not dense else [r for r in rows if _SPARSE_OF(r) != _SPARSE_DEFAULTS]
            # A journal replayed twice (killed between commit and unlink) adds
            # nothing twice.
            conflict = " ON CONFLICT (run_id) DO NOTHING" if replay else ""
            with self._write_lock, self._conn:
                before = self._conn.total_changes
                if dense:
                    self._conn.executemany(_INSERT_DENSE + conflict, dense)
                if full:
                    self._conn.executemany(_INSERT_RUN + conflict, full)
                return self._conn.total_changes - before
        except sqlite3.Error as exc:
            raise StoreError(
                f"cannot record runs in {self.path}: {exc}",
                "is the disk full or the database locked? every finished run stays in "
                "the journal beside the database and is stored at its next use",
            ) from exc

    def set_evidence_paths(self, paths: Iterable[tuple[str, str]]) -> None:
        """Point runs (by run id) at their kept files: passing logs are chosen at the end."""
        try:
            with self._write_lock, self._conn:
                self._conn.executemany(
                    "UPDATE runs SET evidence_path = ? WHERE run_id = ?",
                    [(path, run_id) for run_id, path in paths],
                )
        except sqlite3.Error as exc:
            raise StoreError(
                f"cannot record runs in {self.path}: {exc}",
                "is the disk full or the database locked?",
            ) from exc

    def add_signature(self, campaign_id: int, sig_id: str, title: str) -> None:
        """Remember a signature's title for a campaign (first title wins)."""
        with self._write_lock, self._conn:
            self._conn.execute(
                "INSERT OR IGNORE INTO signatures (campaign_id, id, title) VALUES (?, ?, ?)",
                (campaign_id, sig_id, title),
            )

    def signature_titles(self, campaign_id: int) -> dict[str, str]:
        """Return signature id -> title for a campaign."""
        rows = self._conn.execute(
            "SELECT id, title FROM signatures WHERE campaign_id = ?", (campaign_id,)
        )
        return {r[0]: r[1] for r in rows}

    def runs(
        self,
        campaign_id: int,
        *,
        outcomes: Iterable[str] | None = None,
        signature: str | None = None,
        variant: str | None = None,
        with_tail: bool = False,
    ) -> Iterator[RunRow]:
        """Yield a campaign's runs in sequence order, optionally filtered."""
        where = ["campaign_id = ?"]
        params: list[Any] = [campaign_id]
        if outcomes is not None:
            outs = list(outcomes)
            where.append(f"outcome IN ({', '.join('?' for _ in outs)})")
            params.extend(outs)
        if signature is not None:
            where.append("signature LIKE ? || '%'")
            params.append(signature)
        if variant is not None:
            where.append("variant = ?")
            params.append(variant)
        cols = ", ".join(c if (with_tail or c != "output_tail") else "NULL" for c in _RUN_COLUMNS)
        sql = f"SELECT {cols} FROM runs WHERE {' AND '.join(where)} ORDER BY seq"
        for row in self._conn.execute(sql, params):
            yield _run(row)

    def run(self, ref: str) -> RunRow:
        """Return one run by its run id (prefix) or ``CAMPAIGN:SEQ``."""
        if ":" in ref:
            camp, _, seq = ref.partition(":")
            cid = self.campaign(camp).id
            if not seq.isdigit():
                raise NotFound(f"no run {ref!r}", "write CAMPAIGN:SEQ, e.g. 3:17")
            row = self._conn.execute(
                f"SELECT {', '.join(_RUN_COLUMNS)} FROM runs WHERE campaign_id = ? AND seq = ?",
                (cid, int(seq)),
            ).fetchone()
        else:
            row = _by_prefix(self._conn.execute(
                f"SELECT {', '.join(_RUN_COLUMNS)} FROM runs WHERE run_id LIKE ? || '%' LIMIT 2",
                (ref,),
            ), f"run {ref!r}")
        if row is None:
            raise NotFound(f"no run {ref!r}", "'flakehunt failures' lists failed runs")
        return _run(row)

    def max_seq(self, campaign_id: int) -> int:
        """Return the highest sequence number recorded for a campaign (0 if none)."""
        (seq,) = self._conn.execute(
            "SELECT COALESCE(MAX(seq), 0) FROM runs WHERE campaign_id = ?", (campaign_id,)
        ).fetchone()
        return int(seq)

    def max_block(self, campaign_id: int) -> int:
        """Return the highest block number recorded for a campaign (0 if none)."""
        (block,) = self._conn.execute(
            "SELECT COALESCE(MAX(block), 0) FROM runs WHERE campaign_id = ?", (campaign_id,)
        ).fetchone()
        return int(block)

    def tally(self, campaign_id: int, variant: str | None = None) -> Tally:
        """Count a campaign's runs by outcome (one GROUP BY)."""
        sql = "SELECT outcome, COUNT(*) FROM runs WHERE campaign_id = ?"
        params: list[Any] = [campaign_id]
        if variant is not None:
            sql += " AND variant = ?"
            params.append(variant)
        counts = dict(self._conn.execute(sql + " GROUP BY outcome", params).fetchall())
        return _tally(counts)

    def tallies_by_variant(self, campaign_id: int) -> dict[str, Tally]:
        """Count runs by variant and outcome."""
        rows = self._conn.execute(
            "SELECT variant, outcome, COUNT(*) FROM runs WHERE campaign_id = ?"
            " GROUP BY variant, outcome ORDER BY MIN(seq)",
            (campaign_id,),
        ).fetchall()
        per: dict[str, dict[str, int]] = {}
        for variant, outcome, n in rows:
            per.setdefault(variant, {})[outcome] = n
        return {v: _tally(c) for v, c in per.items()}

    def signature_counts(self, campaign_id: int) -> list[tuple[str, str, int]]:
        """Return (signature id, title, failures) for a campaign, most frequent first."""
        rows = self._conn.execute(
            "SELECT r.signature, COALESCE(s.title, r.status_label), COUNT(*) FROM runs r"
            " LEFT JOIN signatures s ON s.campaign_id = r.campaign_id AND s.id = r.signature"
            " WHERE r.campaign_id = ? AND r.outcome IN ('fail', 'timeout')"
            " GROUP BY r.signature ORDER BY COUNT(*) DESC, MIN(r.seq)",
            (campaign_id,),
        ).fetchall()
        return [(r[0] or "", r[1], r[2]) for r in rows]


    def signature_details(self, campaign_id: int) -> list[SignatureDetail]:
        """Per signature: title, failures per variant, first and last run, an example run."""
        rows = self._conn.execute(
            "SELECT r.signature, COALESCE(s.title, MIN(r.status_label)), r.variant, COUNT(*),"
            " MIN(r.seq), MAX(r.seq), MIN(r.started), MAX(r.started) FROM runs r"
            " LEFT JOIN signatures s ON s.campaign_id = r.campaign_id AND s.id = r.signature"
            " WHERE r.campaign_id = ? AND r.outcome IN ('fail', 'timeout')"
            " GROUP BY r.signature, r.variant",
            (campaign_id,),
        ).fetchall()
        merged: dict[str, dict[str, Any]] = {}
        for sig, title, variant, n, first, last, t_first, t_last in rows:
            d = merged.setdefault(sig or "", {"title": title, "per_variant": {}, "first": first,
                                              "last": last, "t_first": t_first,
                                              "t_last": t_last})
            d["per_variant"][variant] = n
            d["first"], d["last"] = min(d["first"], first), max(d["last"], last)
            d["t_first"], d["t_last"] = min(d["t_first"], t_first), max(d["t_last"], t_last)
        out = [SignatureDetail(id=k, title=v["title"], count=sum(v["per_variant"].values()),
                               per_variant=v["per_variant"], first_seq=v["first"],
                               last_seq=v["last"], first_seen=v["t_first"],
                               last_seen=v["t_last"])
               for k, v in merged.items()]
        return sorted(out, key=lambda d: (-d.count, d.first_seq))


def _by_prefix(cursor: sqlite3.Cursor, what: str) -> tuple[Any, ...] | None:
    """The one row an id prefix names, None if none; ambiguous prefixes are refused."""
    rows = cursor.fetchall()
    if len(rows) > 1:
        raise NotFound(f"{what} is ambiguous", "give more of its id")
    return rows[0] if rows else None


def _tally(counts: dict[str, int]) -> Tally:
    fails = counts.get("fail", 0) + counts.get("timeout", 0)
    return Tally(
        runs=counts.get("pass", 0) + fails,
        failures=fails,
        ignored=counts.get("ignored", 0),
        interrupted=counts.get("interrupted", 0),
        could_not_start=counts.get("could-not-start", 0),
    )


def _campaign(row: tuple[Any, ...]) -> CampaignRow:
    return CampaignRow(
        id=row[0],
        uuid=row[1],
        kind=row[2],
        created=row[3],
        finished=row[4],
        state=row[5],
        host=row[6],
        version=row[7],
        spec=json.loads(row[8]),
        title=row[9],
    )


def _run(row: tuple[Any, ...]) -> RunRow:
    values = dict(zip(_RUN_COLUMNS, row, strict=True))
    values["core_dumped"] = bool(values["core_dumped"])
    return RunRow(**values)
