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


def test_campaigns_and_runs_are_found_by_id_prefix_and_sequence(tmp_path: Path) -> None:
    from flakehunt.errors import NotFound

    store = Store.open(tmp_path / "f.db")
    a = store.create_campaign(uuid="abc111", kind="run", host="h", version="0", spec={},
                              title="a")
    store.create_campaign(uuid="abc222", kind="run", host="h", version="0", spec={}, title="b")
    assert store.campaign(str(a)).uuid == "abc111"
    assert store.campaign("abc1").id == a
    assert store.campaign(None).uuid == "abc222"  # the latest
    with pytest.raises(NotFound, match="ambiguous"):
        store.campaign("abc")
    with pytest.raises(NotFound, match="no campaign 'zzz'"):
        store.campaign("zzz")
    row = dict(run_id="feedbeef01", campaign_id=a, variant="default", seq=7, block=7, slot=0,
               host="h", worker="", platform="posix", concurrency=1, load_profile="",
               started=1.0, duration=0.1, returncode=0, status_label="exit 0", outcome="pass")
    store.add_runs([row, {**row, "run_id": "feedbeef02", "seq": 8, "block": 8}])
    assert store.run(f"{a}:7").run_id == "feedbeef01"
    assert store.run("feedbeef02").seq == 8
    with pytest.raises(NotFound, match="ambiguous"):
        store.run("feedbeef")
    with pytest.raises(NotFound, match="CAMPAIGN:SEQ"):
        store.run(f"{a}:x")
