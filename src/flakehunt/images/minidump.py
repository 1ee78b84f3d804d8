"""Read a Windows minidump: modules, threads, exception and the memory it holds.

Layouts from Microsoft's minidumpapiset.h (MINIDUMP_HEADER, MINIDUMP_DIRECTORY,
MINIDUMP_MODULE, MINIDUMP_MEMORY_DESCRIPTOR[64], MINIDUMP_EXCEPTION_STREAM).
Written here rather than with the ``minidump`` package, which cannot parse
Wine's dumps (it rejects Wine's private stream type 0xFFF0) and logs a
traceback for a normal Windows dump whose PEB was not captured; the package
serves as a differential check in the tests.
"""

from __future__ import annotations

import struct
from pathlib import Path

from flakehunt.errors import FormatError
from flakehunt.images.memory import ByteSource, HeldMemory, MappedFile, Piece
from flakehunt.images.target import ExceptionInfo, LoadedModule, Target, ThreadInfo

MAGIC = b"MDMP"

THREAD_LIST, MODULE_LIST, MEMORY_LIST, EXCEPTION, SYSTEM_INFO, MEMORY64_LIST = 3, 4, 5, 6, 7, 9

# PROCESSOR_ARCHITECTURE_* values of SYSTEM_INFO.
ARCHITECTURES = {0: "x86", 5: "arm", 6: "ia64", 9: "x86-64", 12: "arm64"}

# Offsets of the instruction/stack pointers in each CONTEXT (winnt.h).
_CONTEXT_IP_SP = {"x86": (0xB8, 0xC4, "<I"), "x86-64": (0xF8, 0x98, "<Q")}

EXCEPTION_NAMES = {
    0x80000003: "EXCEPTION_BREAKPOINT",
    0x80000004: "EXCEPTION_SINGLE_STEP",
    0xC0000005: "EXCEPTION_ACCESS_VIOLATION",
    0xC0000006: "EXCEPTION_IN_PAGE_ERROR",
    0xC000001D: "EXCEPTION_ILLEGAL_INSTRUCTION",
    0xC0000094: "EXCEPTION_INT_DIVIDE_BY_ZERO",
    0xC00000FD: "EXCEPTION_STACK_OVERFLOW",
    0xC0000409: "STATUS_STACK_BUFFER_OVERRUN",
}

# A real dump has a few dozen streams and at most some tens of thousands of
# modules, threads or ranges; larger counts mean a corrupt header, and
# refusing them keeps a bad file from costing minutes.
_MAX_COUNT = 1 << 20


class _Reader:
    """Bounds-checked little-endian reads from a dump, raising FormatError."""

    def __init__(self, source: ByteSource, path: str) -> None:
        self.source = source
        self.path = path

    def unpack(self, fmt: str, offset: int, what: str) -> tuple[int, ...]:
        size = struct.calcsize(fmt)
        data = self.source.read_at(offset, size)
        if len(data) != size:
            raise FormatError(
                f"{self.path}: minidump is truncated or corrupt: {what} at offset {offset:,} "
                f"lies past the end of the file",
                "the dump was cut short; write or copy it again",
            )
        return struct.unpack(fmt, data)

    def count(self, n: int, what: str) -> int:
        if n > _MAX_COUNT:
            raise FormatError(f"{self.path}: minidump is corrupt: {n:,} {what}",
                              "write the dump again")
        return n

    def string(self, rva: int) -> str:
        (length,) = self.unpack("<I", rva, "module name")
        if length > 65536 or length % 2:
            raise FormatError(f"{self.path}: minidump is corrupt: bad module name length {length}")
        raw = self.source.read_at(rva + 4, length)
        if len(raw) != length:
            raise FormatError(f"{self.path}: minidump is truncated: module name past the end")
        return raw.decode("utf-16-le", errors="replace")


def open_minidump(path: Path) -> Target:
    """Open the minidump at *path*."""
    return parse_minidump(MappedFile(path, "minidump"), str(path))


def parse_minidump(source: ByteSource, path: str) -> Target:
    """Parse a minidump from *source*; raise FormatError for anything malformed."""
    r = _Reader(source, path)
    if source.read_at(0, 4) != MAGIC:
        raise FormatError(f"{path} is not a minidump (no MDMP signature)")
    _sig, _ver, nstreams, dir_rva = r.unpack("<4sIII", 0, "header")
    streams: dict[int, tuple[int, int]] = {}
    for i in range(r.count(nstreams, "streams")):
        stype, size, rva = r.unpack("<III", dir_rva + 12 * i, "stream directory")
        streams.setdefault(stype, (rva, size))

    arch = "unknown"
    if SYSTEM_INFO in streams:
        (code,) = r.unpack("<H", streams[SYSTEM_INFO][0], "system info")
        arch = ARCHITECTURES.get(code, f"architecture {code}")

    modules: list[LoadedModule] = []
    if MODULE_LIST in streams:
        rva = streams[MODULE_LIST][0]
        (n,) = r.unpack("<I", rva, "module list")
        for i in range(r.count(n, "modules")):
            base, size, _checksum, stamp, name_rva = r.unpack("<QIIII", rva + 4 + 108 * i, "module")
            modules.append(LoadedModule(r.string(name_rva), base, size, "pe", pe_timestamp=stamp))

    pieces: list[Piece] = []
    if MEMORY_LIST in streams:
        rva = streams[MEMORY_LIST][0]
        (n,) = r.unpack("<I", rva, "memory list")
        for i in range(r.count(n, "memory ranges")):
            start, size, data_rva = r.unpack("<QII", rva + 4 + 16 * i, "memory descriptor")
            pieces.append(Piece(start, size, data_rva))
    if MEMORY64_LIST in streams:
        rva = streams[MEMORY64_LIST][0]
        n, offset = r.unpack("<QQ", rva, "memory64 list")
        for i in range(r.count(n, "memory ranges")):
            start, size = r.unpack("<QQ", rva + 16 + 16 * i, "memory64 descriptor")
            pieces.append(Piece(start, size, offset))
            offset += size

    threads = _threads(r, streams, arch)
    exception = None
    if EXCEPTION in streams:
        rva = streams[EXCEPTION][0]
        tid, _align, code, _flags, _rec, address = r.unpack("<IIIIQQ", rva, "exception")
        exception = ExceptionInfo(code, address, tid, EXCEPTION_NAMES.get(code, ""))
    memory = HeldMemory(pieces, source, f"{path} (minidump)")
    return Target(path, "minidump", arch, modules, memory, exception, threads)


def _threads(r: _Reader, streams: dict[int, tuple[int, int]], arch: str) -> list[ThreadInfo]:
    if THREAD_LIST not in streams:
        return []
    rva = streams[THREAD_LIST][0]
    (n,) = r.unpack("<I", rva, "thread list")
    out = []
    for i in range(r.count(n, "threads")):
        (tid, _s, _pc, _p, _teb, stack, stack_size, _srva, ctx_size, ctx_rva) = r.unpack(
            "<IIIIQQIIII", rva + 4 + 48 * i, "thread"
        )
        ip = sp = None
        layout = _CONTEXT_IP_SP.get(arch)
        if layout is not None and ctx_size > max(layout[0], layout[1]):
            ip = r.unpack(layout[2], ctx_rva + layout[0], "thread context")[0]
            sp = r.unpack(layout[2], ctx_rva + layout[1], "thread context")[0]
        out.append(ThreadInfo(tid, ip, sp, stack, stack_size))
    return out
