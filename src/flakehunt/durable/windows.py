"""Windows: ``FlushFileBuffers`` through ctypes — the call that ended the story.

FlushFileBuffers needs a handle opened with GENERIC_WRITE (its documentation:
"The handle must have the GENERIC_WRITE access right"), so we open existing
files for writing while sharing read/write/delete with other processes.
Directories cannot be flushed this way without backup privileges, and NTFS
journals its metadata, so directory flushes are skipped (reported as such).
Only the pure parts (argument plan, path form, error text) are tested on Linux.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# winnt.h / fileapi.h constants.
GENERIC_WRITE = 0x40000000
FILE_SHARE_READ = 0x1
FILE_SHARE_WRITE = 0x2
FILE_SHARE_DELETE = 0x4
OPEN_EXISTING = 3
FILE_ATTRIBUTE_NORMAL = 0x80
INVALID_HANDLE_VALUE = -1

# winerror.h: the codes a user of `flakehunt flush` can meet and act on.
_WIN_ERRORS = {
    2: ("ERROR_FILE_NOT_FOUND", "the file does not exist"),
    3: ("ERROR_PATH_NOT_FOUND", "a directory on the path does not exist"),
    5: ("ERROR_ACCESS_DENIED", "read-only file or no write access"),
    19: ("ERROR_WRITE_PROTECT", "the medium is write-protected"),
    32: ("ERROR_SHARING_VIOLATION", "another process holds the file without sharing"),
    1224: ("ERROR_USER_MAPPED_FILE", "the file is mapped by another process"),
}

_LONG_PATH_LIMIT = 260  # MAX_PATH


@dataclass(frozen=True)
class CreateFilePlan:
    """The CreateFileW arguments for flushing one file."""

    path: str
    access: int
    share: int
    disposition: int
    flags: int


def win32_path(path: str) -> str:
    """Return *path* in the form CreateFileW accepts beyond MAX_PATH (``\\\\?\\`` prefix)."""
    p = path.replace("/", "\\")
    if p.startswith("\\\\?\\") or len(p) < _LONG_PATH_LIMIT:
        return p
    if p.startswith("\\\\"):
        return "\\\\?\\UNC\\" + p[2:]
    return "\\\\?\\" + p


def plan_file_flush(path: str) -> CreateFilePlan:
    """Return how to open *path* so that FlushFileBuffers may be called on it."""
    return CreateFilePlan(
        path=win32_path(path),
        access=GENERIC_WRITE,
        share=FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
        disposition=OPEN_EXISTING,
        flags=FILE_ATTRIBUTE_NORMAL,
    )


def describe_error(code: int) -> str:
    """Return ``NAME (what it means)`` for a Win32 error *code*."""
    name, meaning = _WIN_ERRORS.get(code, (f"error {code}", "see the Win32 error list"))
    return f"{name}: {meaning}"


class FlushFileBuffersSyncer:
    """Flush files with FlushFileBuffers; directory flushes are a no-op on NTFS."""

    name = "FlushFileBuffers"

    def sync_file(self, path: Path) -> None:
        """Open *path* for writing and call FlushFileBuffers on it."""
        import ctypes
        from ctypes import wintypes

        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
        kernel32.CreateFileW.restype = wintypes.HANDLE
        kernel32.CreateFileW.argtypes = [
            wintypes.LPCWSTR, wintypes.DWORD, wintypes.DWORD, wintypes.LPVOID,
            wintypes.DWORD, wintypes.DWORD, wintypes.HANDLE,
        ]
        kernel32.FlushFileBuffers.argtypes = [wintypes.HANDLE]
        kernel32.CloseHandle.argtypes = [wintypes.HANDLE]
        plan = plan_file_flush(os.path.abspath(path))
        handle = kernel32.CreateFileW(
            plan.path, plan.access, plan.share, None, plan.disposition, plan.flags, None
        )
        if handle is None or handle == INVALID_HANDLE_VALUE or handle == ctypes.c_void_p(-1).value:
            code = ctypes.get_last_error()  # type: ignore[attr-defined]
            raise OSError(None, describe_error(code), str(path))
        try:
            if not kernel32.FlushFileBuffers(handle):
                code = ctypes.get_last_error()  # type: ignore[attr-defined]
                raise OSError(None, describe_error(code), str(path))
        finally:
            kernel32.CloseHandle(handle)

    def sync_dir(self, path: Path) -> None:
        """Skip: NTFS journals directory changes, and opening a directory needs privileges."""
        return None
