"""Read a live Windows process: VirtualQueryEx regions, ReadProcessMemory bytes.

The same reader interface as /proc on Linux: modules from the process's module
list (with TimeDateStamp and SizeOfImage read from each module's PE header in
memory) and held memory from committed, readable regions. The pure parts are
tested on Linux; the ctypes calls run only on Windows.
"""

from __future__ import annotations

import struct
import sys
from collections.abc import Iterable
from typing import Any

from flakehunt.errors import EnvironmentProblem, NotFound
from flakehunt.images.memory import HeldMemory, Piece
from flakehunt.images.target import LoadedModule, Target

MEM_COMMIT = 0x1000
PAGE_NOACCESS, PAGE_GUARD = 0x01, 0x100
PROCESS_QUERY_INFORMATION, PROCESS_VM_READ = 0x0400, 0x0010


def readable_pieces(regions: Iterable[tuple[int, int, int, int]]) -> list[Piece]:
    """Turn (base, size, state, protect) regions into the pieces a reader may read."""
    return [Piece(base, size, base) for base, size, state, protect in regions
            if state == MEM_COMMIT and not protect & (PAGE_NOACCESS | PAGE_GUARD) and size]


def pe_header_identity(header: bytes) -> tuple[int, int] | None:
    """Return (TimeDateStamp, SizeOfImage) from a PE header read from memory."""
    try:
        if header[:2] != b"MZ":
            return None
        (lfanew,) = struct.unpack_from("<I", header, 0x3C)
        if header[lfanew : lfanew + 4] != b"PE\0\0":
            return None
        (stamp,) = struct.unpack_from("<I", header, lfanew + 8)
        (size,) = struct.unpack_from("<I", header, lfanew + 24 + 56)
    except struct.error:
        return None
    return stamp, size


def modules_from_list(entries: Iterable[tuple[str, int, int]],
                      read: Any) -> list[LoadedModule]:
    """Build modules from (path, base, size), reading each PE header with *read(addr, n)*."""
    out = []
    for path, base, size in entries:
        ident = pe_header_identity(read(base, 4096))
        stamp = ident[0] if ident else None
        out.append(LoadedModule(path, base, size, "pe", pe_timestamp=stamp))
    return out


class WindowsProcessMemory:  # pragma: no cover - needs Windows
    """ReadProcessMemory behind the ByteSource interface (offset == address)."""

    def __init__(self, pid: int) -> None:
        import ctypes

        self.k32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
        self.handle = self.k32.OpenProcess(PROCESS_QUERY_INFORMATION | PROCESS_VM_READ, False, pid)
        if not self.handle:
            err = ctypes.get_last_error()  # type: ignore[attr-defined]
            if err == 87:  # ERROR_INVALID_PARAMETER: no such process
                raise NotFound(f"no process {pid}", "check the pid; it may have exited")
            raise EnvironmentProblem(f"cannot open process {pid} (Windows error {err})",
                                     "run as the same user, or elevated")

    @property
    def length(self) -> None:
        """A process has no fixed end."""
        return None

    def read_at(self, offset: int, size: int) -> bytes:
        """Return the bytes at address *offset*, or fewer if they cannot be read."""
        import ctypes

        buf = ctypes.create_string_buffer(size)
        got = ctypes.c_size_t(0)
        self.k32.ReadProcessMemory(self.handle, ctypes.c_void_p(offset), buf, size,
                                   ctypes.byref(got))
        return buf.raw[: got.value]

    def close(self) -> None:
        """Close the process handle."""
        self.k32.CloseHandle(self.handle)


def open_windows_process(pid: int) -> Target:  # pragma: no cover - needs Windows
    """Open live Windows process *pid*."""
    import ctypes
    from ctypes import wintypes

    if sys.platform != "win32":
        raise EnvironmentProblem("reading a Windows process needs Windows")
    source = WindowsProcessMemory(pid)

    class MBI(ctypes.Structure):
        _fields_ = [("BaseAddress", ctypes.c_void_p), ("AllocationBase", ctypes.c_void_p),
                    ("AllocationProtect", wintypes.DWORD), ("PartitionId", wintypes.WORD),
                    ("RegionSize", ctypes.c_size_t), ("State", wintypes.DWORD),
                    ("Protect", wintypes.DWORD), ("Type", wintypes.DWORD)]

    regions = []
    addr, mbi = 0, MBI()
    while source.k32.VirtualQueryEx(source.handle, ctypes.c_void_p(addr), ctypes.byref(mbi),
                                    ctypes.sizeof(mbi)):
        regions.append((mbi.BaseAddress or 0, mbi.RegionSize, mbi.State, mbi.Protect))
        addr = (mbi.BaseAddress or 0) + mbi.RegionSize
    psapi = ctypes.WinDLL("psapi")  # type: ignore[attr-defined]
    handles = (ctypes.c_void_p * 4096)()
    needed = wintypes.DWORD()
    psapi.EnumProcessModulesEx(source.handle, handles, ctypes.sizeof(handles),
                               ctypes.byref(needed), 3)
    entries = []
    for h in handles[: needed.value // ctypes.sizeof(ctypes.c_void_p)]:
        name = ctypes.create_unicode_buffer(32768)
        psapi.GetModuleFileNameExW(source.handle, ctypes.c_void_p(h), name, 32768)
        info = (ctypes.c_void_p * 3)()  # MODULEINFO: base, SizeOfImage, entry point
        psapi.GetModuleInformation(source.handle, ctypes.c_void_p(h), info, ctypes.sizeof(info))
        entries.append((name.value, info[0] or 0, (info[1] or 0) & 0xFFFFFFFF))
    arch = "x86-64" if ctypes.sizeof(ctypes.c_void_p) == 8 else "x86"
    memory = HeldMemory(readable_pieces(regions), source, f"process {pid}")
    return Target(f"pid:{pid}", "live", arch, modules_from_list(entries, source.read_at),
                  memory, pid=pid)
