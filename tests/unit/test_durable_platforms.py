"""Pure logic of the macOS and Windows flush paths, and the platform choice."""

from __future__ import annotations

import errno

import pytest

from flakehunt.durable import macos, windows
from flakehunt.durable.platform import PosixSyncer, default_syncer


@pytest.mark.parametrize(
    ("platform", "name"),
    [("linux", "fsync"), ("darwin", "F_FULLFSYNC"), ("win32", "FlushFileBuffers"),
     ("freebsd13", "fsync")],
)
def test_default_syncer_per_platform(platform: str, name: str) -> None:
    assert default_syncer(platform).name == name


def test_full_fsync_uses_fcntl_when_supported() -> None:
    calls: list[tuple[int, int]] = []
    used = macos.full_fsync(7, lambda fd, op: calls.append((fd, op)), lambda fd: None)
    assert used == "F_FULLFSYNC"
    assert calls == [(7, macos.F_FULLFSYNC)]


@pytest.mark.parametrize("err", [errno.ENOTSUP, errno.EINVAL, errno.ENOTTY])
def test_full_fsync_falls_back_where_the_file_system_refuses(err: int) -> None:
    synced: list[int] = []

    def refuse(fd: int, op: int) -> None:
        raise OSError(err, "refused")

    assert macos.full_fsync(3, refuse, synced.append) == "fsync"
    assert synced == [3]


def test_full_fsync_reports_real_io_errors() -> None:
    def broken(fd: int, op: int) -> None:
        raise OSError(errno.EIO, "I/O error")

    with pytest.raises(OSError) as exc:
        macos.full_fsync(3, broken, lambda fd: None)
    assert exc.value.errno == errno.EIO


def test_windows_plan_opens_for_write_sharing_everything() -> None:
    plan = windows.plan_file_flush("C:\\out\\protoc.exe")
    assert plan.access == windows.GENERIC_WRITE  # FlushFileBuffers requires it
    assert plan.share == 0x7
    assert plan.disposition == windows.OPEN_EXISTING
    assert plan.path == "C:\\out\\protoc.exe"


@pytest.mark.parametrize(
    ("path", "expected_prefix"),
    [
        ("C:/short/a.exe", "C:\\short\\a.exe"),
        ("C:\\" + "d" * 300 + "\\a.exe", "\\\\?\\C:\\ddd"),
        ("\\\\server\\share\\" + "d" * 300, "\\\\?\\UNC\\server\\share\\"),
        ("\\\\?\\C:\\already", "\\\\?\\C:\\already"),
    ],
)
def test_windows_long_paths_get_the_verbatim_prefix(path: str, expected_prefix: str) -> None:
    assert windows.win32_path(path).startswith(expected_prefix)


@pytest.mark.parametrize(
    ("code", "text"),
    [(5, "ERROR_ACCESS_DENIED"), (32, "ERROR_SHARING_VIOLATION"), (1224, "mapped"),
     (9999, "error 9999")],
)
def test_windows_errors_are_named(code: int, text: str) -> None:
    assert text in windows.describe_error(code)


def test_windows_directory_flush_is_a_no_op() -> None:
    from pathlib import Path

    assert windows.FlushFileBuffersSyncer().sync_dir(Path(".")) is None


def test_posix_syncer_syncs_a_directory(tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    PosixSyncer().sync_dir(tmp_path)
