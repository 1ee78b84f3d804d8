"""flush(): which files and directories get synced, errors, and waiting for writers."""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path

import pytest

from flakehunt.durable import flush
from flakehunt.durable.writers import Backoff, wait_for_writers
from flakehunt.errors import EnvironmentProblem, NotFound, UsageError


class RecordingSyncer:
    """A Syncer that records what it was asked to sync."""

    name = "fake"

    def __init__(self) -> None:
        self.files: list[Path] = []
        self.dirs: list[Path] = []

    def sync_file(self, path: Path) -> None:
        self.files.append(path)

    def sync_dir(self, path: Path) -> None:
        self.dirs.append(path)


def make(path: Path, size: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    return path


def test_flush_syncs_each_file_and_each_parent_directory_once(tmp_path: Path) -> None:
    a = make(tmp_path / "a.exe", 10)
    b = make(tmp_path / "b.dll", 20)
    c = make(tmp_path / "sub" / "c.pdb", 5)
    fake = RecordingSyncer()
    report = flush([a, b, c, a], syncer=fake, jobs=1)
    assert fake.files == [a, b, c]
    assert fake.dirs == [tmp_path.resolve(), (tmp_path / "sub").resolve()]
    assert report.total_bytes == 35
    assert [f.size for f in report.files] == [10, 20, 5]
    assert report.method == "fake"


def test_recursive_walks_directories_in_sorted_order(tmp_path: Path) -> None:
    make(tmp_path / "out" / "z", 1)
    make(tmp_path / "out" / "a", 1)
    make(tmp_path / "out" / "d" / "m", 1)
    fake = RecordingSyncer()
    report = flush([tmp_path / "out"], recursive=True, syncer=fake, jobs=4)
    assert [f.path.relative_to(tmp_path).as_posix() for f in report.files] == [
        "out/a", "out/z", "out/d/m"
    ]
    assert sorted(fake.files) == sorted(f.path for f in report.files)
    fake = RecordingSyncer()
    flush([tmp_path / "out"], recursive=True, syncer=fake, jobs=1)
    assert [p.relative_to(tmp_path).as_posix() for p in fake.files] == ["out/a", "out/z", "out/d/m"]


def test_directory_without_recursive_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="-r"):
        flush([tmp_path], syncer=RecordingSyncer())


def test_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        flush([tmp_path / "nope"], syncer=RecordingSyncer())


def test_real_fsync_reports_bytes(tmp_path: Path) -> None:
    f = make(tmp_path / "big", 1 << 20)
    report = flush([f])
    assert report.total_bytes == 1 << 20
    assert report.method in {"fsync", "F_FULLFSYNC", "FlushFileBuffers"}


def test_flush_waits_for_a_writer_holding_an_exclusive_lock(tmp_path: Path) -> None:
    f = make(tmp_path / "linked.exe", 100)
    writer = os.open(f, os.O_RDWR)
    fcntl.flock(writer, fcntl.LOCK_EX)
    done_writing = threading.Event()

    def finish() -> None:
        os.pwrite(writer, b"LATE", 0)
        done_writing.set()
        os.close(writer)  # releases the flock, like the demo linker's late writer

    timer = threading.Timer(0.2, finish)
    timer.start()
    report = flush([f], syncer=RecordingSyncer())
    timer.join()
    assert done_writing.is_set()
    assert report.waited >= 0.15
    assert f.read_bytes().startswith(b"LATE")


def test_flush_without_waiting_does_not_block(tmp_path: Path) -> None:
    f = make(tmp_path / "linked.exe", 100)
    writer = os.open(f, os.O_RDWR)
    fcntl.flock(writer, fcntl.LOCK_EX)
    try:
        report = flush([f], wait_writers=False, syncer=RecordingSyncer())
        assert report.waited == 0
    finally:
        os.close(writer)


def test_wait_for_writers_times_out_with_a_hint(tmp_path: Path) -> None:
    f = make(tmp_path / "held", 1)
    writer = os.open(f, os.O_RDWR)
    fcntl.flock(writer, fcntl.LOCK_EX)
    now = [0.0]
    sleeps: list[float] = []

    def sleep(s: float) -> None:
        sleeps.append(s)
        now[0] += s

    reader = os.open(f, os.O_RDONLY)
    try:
        with pytest.raises(EnvironmentProblem, match="write lock") as err:
            wait_for_writers(reader, str(f), 1.0, clock=lambda: now[0], sleep=sleep)
        assert "writer-timeout" in str(err.value)
        assert sleeps[:3] == Backoff().delays()[:3]
        assert max(sleeps) <= Backoff().cap
    finally:
        os.close(reader)
        os.close(writer)


def test_backoff_doubles_up_to_the_cap() -> None:
    assert Backoff(first=0.001, factor=2, cap=0.004).delays()[:4] == [0.001, 0.002, 0.004, 0.004]


def test_parallel_flush_syncs_every_file_once_and_dirs_after_files(tmp_path: Path) -> None:
    files = [make(tmp_path / f"d{i % 3}" / f"f{i}", i) for i in range(40)]
    events: list[tuple[str, Path]] = []
    lock = threading.Lock()

    class Ordered(RecordingSyncer):
        def sync_file(self, path: Path) -> None:
            with lock:
                events.append(("file", path))

        def sync_dir(self, path: Path) -> None:
            with lock:
                events.append(("dir", path))

    report = flush(files, syncer=Ordered(), jobs=8)
    assert [f.path for f in report.files] == files
    assert sorted(p for kind, p in events if kind == "file") == sorted(files)
    kinds = [kind for kind, _ in events]
    assert kinds == ["file"] * 40 + ["dir"] * 3
