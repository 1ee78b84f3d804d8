"""atomic_write and write_mapped: content, modes, clean-up, and their syncs."""

from __future__ import annotations

import mmap
import os
import stat
from pathlib import Path

import pytest

from flakehunt.durable import atomic_write, write_mapped
from flakehunt.errors import UsageError


class RecordingSyncer:
    name = "fake"

    def __init__(self) -> None:
        self.dirs: list[Path] = []

    def sync_file(self, path: Path) -> None:
        pass

    def sync_dir(self, path: Path) -> None:
        self.dirs.append(path)


def test_atomic_write_replaces_content_and_syncs_the_directory(tmp_path: Path) -> None:
    target = tmp_path / "cache.json"
    target.write_text("old")
    fake = RecordingSyncer()
    atomic_write(target, b"new", syncer=fake)
    assert target.read_bytes() == b"new"
    assert fake.dirs == [tmp_path.resolve()]
    assert [p.name for p in tmp_path.iterdir()] == ["cache.json"]  # no temp left


def test_atomic_write_accepts_text_as_utf8(tmp_path: Path) -> None:
    atomic_write(tmp_path / "t", "zéro")
    assert (tmp_path / "t").read_bytes() == "zéro".encode()


def test_atomic_write_keeps_the_existing_mode(tmp_path: Path) -> None:
    target = tmp_path / "tool"
    target.write_bytes(b"#!")
    target.chmod(0o751)
    atomic_write(target, b"#!/bin/sh\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o751


def test_atomic_write_new_file_gets_umask_mode(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / "n", b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "n").stat().st_mode) == 0o644


def test_atomic_write_failure_leaves_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "keep"
    target.write_bytes(b"old")

    def full_disk(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError):
        atomic_write(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["keep"]


def test_write_mapped_with_bytes(tmp_path: Path) -> None:
    fake = RecordingSyncer()
    data = bytes(range(256)) * 64
    write_mapped(tmp_path / "img", len(data), data, syncer=fake)
    assert (tmp_path / "img").read_bytes() == data
    assert fake.dirs == [tmp_path.resolve()]


def test_write_mapped_with_a_fill_callback(tmp_path: Path) -> None:
    def fill(view: mmap.mmap) -> None:
        view[0:4] = b"MZ\x90\x00"
        view[-2:] = b"\xff\xff"

    write_mapped(tmp_path / "a.exe", 8192, fill)
    data = (tmp_path / "a.exe").read_bytes()
    assert len(data) == 8192
    assert data[:4] == b"MZ\x90\x00" and data[-2:] == b"\xff\xff"
    assert data[4:-2] == bytes(8186)


def test_write_mapped_truncates_an_existing_longer_file(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"y" * 10000)
    write_mapped(tmp_path / "f", 3, b"abc")
    assert (tmp_path / "f").read_bytes() == b"abc"


def test_write_mapped_empty_file(tmp_path: Path) -> None:
    write_mapped(tmp_path / "e", 0, b"")
    assert (tmp_path / "e").read_bytes() == b""


@pytest.mark.parametrize(("size", "data"), [(4, b"abc"), (-1, b"")])
def test_write_mapped_rejects_bad_sizes(tmp_path: Path, size: int, data: bytes) -> None:
    with pytest.raises(UsageError):
        write_mapped(tmp_path / "x", size, data)
