"""The run journal: durable at once, in the database in batches, replayed after a kill."""

from __future__ import annotations

import contextlib
import fcntl
import glob
import os
import pickle
import time
from pathlib import Path
from typing import Any

import pytest

from flakehunt.campaign.model import LayeredEnv
from flakehunt.record.journal import RunJournal, encode_record, journal_glob, read_records
from flakehunt.record.store import Store, run_tuple


def _row(cid: int, seq: int, run_id: str | None = None) -> dict[str, Any]:
    return dict(run_id=run_id or f"id-{cid}-{seq}", campaign_id=cid, variant="default", seq=seq,
                block=seq, slot=0, host="h", worker="", platform="posix", concurrency=1,
                load_profile="", started=time.time(), duration=0.01, returncode=0,
                status_label="exit 0", outcome="pass", signature=None, pid=100 + seq,
                max_rss_kb=1, user_cpu=0.0, sys_cpu=0.0, core_dumped=0, evidence_path=None,
                output_tail=None, note=None, core_captured=None, core_reason=None,
                evidence_json=None)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(tmp_path / "f.db")


def _campaign(store: Store) -> int:
    return store.create_campaign(uuid=os.urandom(8).hex(), kind="run", host="h", version="v",
                                 spec={}, title="t")


def _seqs(store: Store, cid: int) -> list[int]:
    return [r.seq for r in store.runs(cid)]


def test_rows_reach_the_database_in_batches_and_the_journal_goes(store: Store) -> None:
    cid = _campaign(store)
    j = RunJournal(store, cid, every=0.05)
    for seq in range(1, 501):
        j.add(run_tuple(_row(cid, seq)))
    deadline = time.monotonic() + 5
    while len(_seqs(store, cid)) < 500 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _seqs(store, cid) == list(range(1, 501))  # before close: the batches went in
    j.close()
    assert glob.glob(journal_glob(store.path)) == []


def test_close_stores_what_is_pending(store: Store) -> None:
    cid = _campaign(store)
    j = RunJournal(store, cid, every=3600)  # no batch before close
    for seq in (1, 2, 3):
        j.add(run_tuple(_row(cid, seq)))
    assert _seqs(store, cid) == []
    j.close()
    assert _seqs(store, cid) == [1, 2, 3]


def _dead_journal(store: Store, rows: list[dict[str, Any]], name: str = "c1-99999-1") -> Path:
    """A journal as a SIGKILLed flakehunt leaves it (nothing holds its lock)."""
    path = Path(f"{store.path}-runs-{name}")
    path.write_bytes(b"".join(encode_record(run_tuple(r)) for r in rows))
    return path


def test_open_replays_a_killed_flakehunts_journal_once(tmp_path: Path, store: Store) -> None:
    cid = _campaign(store)
    store.add_runs([_row(cid, 1)])
    # Killed between its commit and the unlink: run 1 is in both places.
    path = _dead_journal(store, [_row(cid, s) for s in (1, 2, 3)])
    store.close()
    again = Store.open(tmp_path / "f.db")
    assert _seqs(again, cid) == [1, 2, 3]
    assert not path.exists()


def test_a_torn_last_record_is_skipped(tmp_path: Path, store: Store) -> None:
    cid = _campaign(store)
    path = _dead_journal(store, [_row(cid, 1), _row(cid, 2)])
    data = path.read_bytes()
    path.write_bytes(data + encode_record(run_tuple(_row(cid, 3)))[:-5])
    assert len(list(read_records(path.read_bytes()))) == 2
    store.close()
    assert _seqs(Store.open(tmp_path / "f.db"), cid) == [1, 2]


def test_a_live_journal_is_left_alone(tmp_path: Path, store: Store) -> None:
    cid = _campaign(store)
    path = _dead_journal(store, [_row(cid, 1)])
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # as the running flakehunt holds it
        assert _seqs(Store.open(tmp_path / "f.db"), cid) == []
        assert path.exists()
    finally:
        os.close(fd)
    assert _seqs(Store.open(tmp_path / "f.db"), cid) == [1]


def test_layered_env_is_a_mapping_and_pickles_as_a_dict() -> None:
    base = {"PATH": "/bin", "FLAKEHUNT_RUN": "stale", "HOME": "/root"}
    env = LayeredEnv(base, {"FLAKEHUNT_RUN": "7", "FLAKEHUNT_SLOT": "1"})
    want = {"PATH": "/bin", "FLAKEHUNT_RUN": "7", "HOME": "/root", "FLAKEHUNT_SLOT": "1"}
    assert dict(env) == want and len(env) == 4 and env == want
    assert env["FLAKEHUNT_RUN"] == "7" and "HOME" in env and env.get("NOPE") is None
    back = pickle.loads(pickle.dumps(env))
    assert type(back) is dict and back == want


def test_a_failed_batch_stays_journaled_and_is_retried(tmp_path: Path, store: Store,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from flakehunt.errors import StoreError

    cid = _campaign(store)
    j = RunJournal(store, cid, every=3600)
    j.add(run_tuple(_row(cid, 1)))
    real = store.insert_run_tuples
    calls = []

    def broken(rows: Any, **kw: Any) -> int:
        calls.append(len(rows))
        raise StoreError("disk full", "free some")

    monkeypatch.setattr(store, "insert_run_tuples", broken)
    with pytest.raises(StoreError):
        j.close()
    assert glob.glob(journal_glob(store.path))  # the run is still on disk
    monkeypatch.setattr(store, "insert_run_tuples", real)
    j.close()  # a caller may retry: now the run is stored
    assert _seqs(store, cid) == [1]
    assert calls == [1]
    store.close()
    again = Store.open(tmp_path / "f.db")  # the kept file replays without doubling the run
    assert _seqs(again, cid) == [1] and glob.glob(journal_glob(again.path)) == []


@pytest.mark.parametrize("mappable", [True, False], ids=["mapped", "written"])
def test_a_run_is_in_the_journal_file_as_soon_as_add_returns(
        store: Store, monkeypatch: pytest.MonkeyPatch, mappable: bool) -> None:
    """What a SIGKILL right after ``add`` leaves on disk: every added run, nothing torn."""
    import flakehunt.record.journal as journal

    if not mappable:
        def refuse(*_a: Any, **_k: Any) -> Any:
            raise OSError(19, "No such device")  # as some filesystems answer mmap

        monkeypatch.setattr(journal.mmap, "mmap", refuse)
    cid = _campaign(store)
    j = RunJournal(store, cid, every=3600)
    try:
        for seq in range(1, 201):
            j.add(run_tuple(_row(cid, seq)))
        (name,) = glob.glob(journal_glob(store.path))
        with open(name, "rb") as fh:  # another process's view: the page cache
            rows = list(read_records(fh.read()))
        assert [r[3] for r in rows] == list(range(1, 201))
    finally:
        j.close()
    assert _seqs(store, cid) == list(range(1, 201))
    assert glob.glob(journal_glob(store.path)) == []


def test_a_full_journal_file_continues_in_the_next(store: Store,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import flakehunt.record.journal as journal

    monkeypatch.setattr(journal, "FILE_BYTES", 4096)
    cid = _campaign(store)
    j = RunJournal(store, cid, every=3600)
    big = {**_row(cid, 2), "output_tail": os.urandom(10_000)}  # larger than a file
    for row in (_row(cid, 1), big, *(_row(cid, s) for s in range(3, 300))):
        j.add(run_tuple(row))
    names = glob.glob(journal_glob(store.path))
    assert len(names) > 2
    replayed = sorted(r[3] for n in names for r in read_records(Path(n).read_bytes()))
    assert replayed == list(range(1, 300))
    j.close()
    assert _seqs(store, cid) == list(range(1, 300))
    import sqlite3

    with contextlib.closing(sqlite3.connect(store.path)) as db:
        (tail,) = db.execute("SELECT output_tail FROM runs WHERE seq = 2").fetchone()
    assert tail == big["output_tail"]


_SET = {"worker": "10.0.0.7:8786", "load_profile": "cpu", "signature": "abc123",
        "core_dumped": 1, "evidence_path": "c1/r000002", "output_tail": b"boom\n",
        "note": "left running", "core_captured": 1, "core_reason": "captured",
        "evidence_json": '{"orphans": []}'}


@pytest.mark.parametrize("replay", [False, True], ids=["batch", "replay"])
def test_every_column_round_trips_whichever_insert_is_used(store: Store, replay: bool) -> None:
    """Plain passing rows skip their default columns; any other value must still land."""
    import sqlite3

    cid = _campaign(store)
    rows = [_row(cid, 1)]  # all defaults: the short insert
    rows += [{**_row(cid, 2 + i), col: value} for i, (col, value) in enumerate(_SET.items())]
    rows.append({**_row(cid, 99), **_SET})
    assert store.insert_run_tuples([run_tuple(r) for r in rows], replay=replay) == len(rows)
    cols = list(rows[0])
    with contextlib.closing(sqlite3.connect(store.path)) as db:
        got = db.execute(f"SELECT {', '.join(cols)} FROM runs ORDER BY seq").fetchall()
    assert got == [tuple(r[c] for c in cols) for r in rows]


def test_no_room_for_a_mapped_file_means_plain_writes(store: Store,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A full disk must surface as an error of write(), never as a SIGBUS in a mapping."""
    import errno

    import flakehunt.record.journal as journal

    def full(*_a: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(journal.os, "posix_fallocate", full, raising=False)
    cid = _campaign(store)
    j = RunJournal(store, cid, every=3600)
    assert j._file is not None and j._file.mm is None
    j.add(run_tuple(_row(cid, 1)))
    (name,) = glob.glob(journal_glob(store.path))
    assert [r[3] for r in read_records(Path(name).read_bytes())] == [1]
    j.close()
    assert _seqs(store, cid) == [1]


@pytest.mark.skipif(not hasattr(os, "posix_fallocate"), reason="no posix_fallocate")
def test_the_journal_is_mapped_where_blocks_can_be_reserved(store: Store) -> None:
    probe = Path(f"{store.path}-probe")
    with open(probe, "wb") as fh:
        try:
            os.posix_fallocate(fh.fileno(), 0, 4096)
        except OSError as exc:  # ZFS, NFS...: the journal writes instead (tested above)
            pytest.skip(f"this filesystem reserves no blocks: {exc}")
    j = RunJournal(store, _campaign(store), every=3600)
    assert j._file is not None and j._file.mm is not None
    j.close()
