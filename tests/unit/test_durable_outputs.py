"""Which files `exec` flushes: confined globs, and files written during the run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flakehunt.durable.outputs import check_glob, expand_globs, snapshot, written_between
from flakehunt.errors import UsageError

OLD = 1_000_000_000  # 2001: far from any snapshot, so never "ambiguous"


def old_file(path: Path, data: bytes = b"old") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (OLD, OLD))
    return path


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [("out/*.exe", "out/*.exe"), ("./a/../b", "b"), ("**/*.dll", "**/*.dll"), ("x", "x")],
)
def test_globs_inside_the_working_directory_are_accepted(pattern: str, expected: str) -> None:
    assert check_glob(pattern, Path("/work/build")) == expected


@pytest.mark.parametrize(
    "pattern", ["../x", "..", "a/../../x", "/etc/*", "/work/other/*", "out/../../build2/x", ""]
)
def test_globs_escaping_the_working_directory_are_refused(pattern: str) -> None:
    with pytest.raises(UsageError):
        check_glob(pattern, Path("/work/build"))


def test_absolute_glob_under_the_working_directory_is_accepted() -> None:
    assert check_glob("/work/build/out/*.exe", Path("/work/build")) == "out/*.exe"


def test_expand_globs_returns_files_only_and_unmatched_patterns(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a.exe").write_bytes(b"1")
    (tmp_path / "out" / "dir.exe").mkdir()
    files, unmatched = expand_globs(["out/*.exe", "*.nope", "out/a.exe"], tmp_path)
    assert files == [tmp_path / "out" / "a.exe"]
    assert unmatched == ["*.nope"]


def test_written_between_sees_new_modified_and_replaced_files(tmp_path: Path) -> None:
    keep = old_file(tmp_path / "untouched.o")
    mod = old_file(tmp_path / "modified.o")
    rep = old_file(tmp_path / "replaced.exe")
    gone = old_file(tmp_path / "deleted.tmp")
    before = snapshot([tmp_path])
    mod.write_bytes(b"changed")
    os.utime(mod, (OLD, OLD))  # same times: the size change must still show
    tmp = tmp_path / "replaced.exe.tmp"
    tmp.write_bytes(b"old")  # same size and content, but a new inode
    os.utime(tmp, (OLD, OLD))
    os.replace(tmp, rep)
    gone.unlink()
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "new.pdb").write_bytes(b"n")
    after = snapshot([tmp_path])
    got = {p.relative_to(tmp_path).as_posix() for p in written_between(before, after)}
    assert got == {"modified.o", "replaced.exe", "sub/new.pdb"}
    assert keep not in written_between(before, after)


def test_files_touched_right_before_the_snapshot_are_flushed_too(tmp_path: Path) -> None:
    (tmp_path / "just-written").write_bytes(b"x")  # mtime == now: same tick as the snapshot
    before = snapshot([tmp_path])
    after = snapshot([tmp_path])
    assert written_between(before, after) == [tmp_path / "just-written"]


def test_snapshot_of_a_missing_directory_is_empty(tmp_path: Path) -> None:
    assert snapshot([tmp_path / "not-yet"]).files == {}
