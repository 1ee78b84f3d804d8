"""A database made by an older flakehunt opens, upgrades in place, and keeps its runs."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from flakehunt.errors import StoreError
from flakehunt.record.schema import MIGRATIONS, SCHEMA_VERSION
from flakehunt.record.store import Store


def test_version_1_database_is_upgraded_with_its_runs(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    conn = sqlite3.connect(db)
    conn.executescript(MIGRATIONS[0] + "PRAGMA user_version = 1;")
    conn.execute("INSERT INTO campaigns (uuid, kind, created, state, host, version, spec_json,"
                 " title) VALUES ('u', 'run', 1.0, 'finished', 'h', '0.0', '{}', 'make')")
    conn.execute("INSERT INTO runs (run_id, campaign_id, variant, seq, block, slot, host,"
                 " platform, concurrency, started, duration, returncode, status_label, outcome)"
                 " VALUES ('r1', 1, 'default', 1, 1, 0, 'h', 'posix', 1, 1.0, 0.5, -11,"
                 " 'SIGSEGV (-11)', 'fail')")
    conn.commit()
    conn.close()
    store = Store.open(db)
    (run,) = store.runs(1)
    assert (run.run_id, run.outcome, run.core_captured, run.evidence_json) == (
        "r1", "fail", None, None)
    (version,) = sqlite3.connect(db).execute("PRAGMA user_version").fetchone()
    assert version == SCHEMA_VERSION


def test_a_newer_database_is_refused_with_a_hint(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    sqlite3.connect(db).execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="upgrade flakehunt"):
        Store.open(db)


def test_not_a_database_is_one_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "junk.db"
    db.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="is it a flakehunt database"):
        Store.open(db)
