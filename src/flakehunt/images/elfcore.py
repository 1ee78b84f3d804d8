"""Read an ELF core file: mapped files (NT_FILE), held memory (PT_LOAD), signal."""

from __future__ import annotations

import signal
import struct
from pathlib import Path

from flakehunt.errors import FormatError
from flakehunt.images.elf import (
    ET_CORE,
    NT_FILE,
    NT_PRSTATUS,
    PF_X,
    PT_LOAD,
    PT_NOTE,
    ElfFile,
    build_id_from_notes,
    parse_nt_file,
)
from flakehunt.images.memory import ByteSource, HeldMemory, MappedFile, Piece
from flakehunt.images.target import ExceptionInfo, LoadedModule, Mapping, Target, ThreadInfo

# Offsets inside struct elf_prstatus (Linux include/uapi/linux/elfcore.h):
# pr_cursig follows the 12-byte elf_siginfo; pr_pid follows two longs.
_PRSTATUS_PID = {True: 32, False: 24}
_PRSTATUS_REGS = {True: 112, False: 72}
# user_regs_struct index of the instruction and stack pointers.
_IP_SP_INDEX = {"x86-64": (16, 19), "x86": (12, 15), "arm64": (32, 31)}


def open_core(path: Path) -> Target:
    """Open the ELF core file at *path*."""
    return parse_core(MappedFile(path, "core file"), str(path))


def parse_core(source: ByteSource, path: str) -> Target:
    """Parse an ELF core from *source*; raise FormatError for anything malformed."""
    elf = ElfFile(source, path)
    if elf.type != ET_CORE:
        raise FormatError(f"{path} is an ELF file but not a core dump",
                          "give a core file, a minidump or pid:N; images go to --image")
    segments = elf.segments()
    pieces = [Piece(s.vaddr, s.filesz, s.offset) for s in segments if s.type == PT_LOAD]
    memory = HeldMemory(pieces, source, f"{path} (core)")
    files: list[tuple[int, int, int, str]] = []
    exception = None
    threads: list[ThreadInfo] = []
    pid = None
    for seg in segments:
        if seg.type != PT_NOTE:
            continue
        for note in elf.notes(elf.read(seg.offset, seg.filesz, "core notes")):
            if note.type == NT_FILE and note.name == b"CORE":
                files = parse_nt_file(note.desc, elf)
            elif note.type == NT_PRSTATUS and note.name == b"CORE":
                info, tid = _prstatus(note.desc, elf)
                threads.append(info)
                if exception is None:
                    exception, pid = _signal(note.desc, elf), tid
    exec_starts = {s.vaddr for s in segments if s.type == PT_LOAD and s.flags & PF_X}
    modules = group_mappings(
        [(s, e, off, name, s in exec_starts) for s, e, off, name in files])
    target = Target(path, "elf-core", elf.machine, modules, memory, exception, threads, pid)
    if not files:
        target.notes.append("the core has no NT_FILE note: it does not say which files were mapped")
    return target


def group_mappings(entries: list[tuple[int, int, int, str, bool]]) -> list[LoadedModule]:
    """Group file mappings (start, end, offset, path, executable) into modules by path."""
    by_path: dict[str, list[Mapping]] = {}
    for start, end, offset, name, executable in entries:
        by_path.setdefault(name, []).append(Mapping(start, end, offset, executable))
    modules = []
    for name, maps in by_path.items():
        maps.sort(key=lambda m: m.start)
        base, top = maps[0].start, max(m.end for m in maps)
        modules.append(LoadedModule(name, base, top - base, "elf", mappings=tuple(maps)))
    modules.sort(key=lambda m: m.base)
    return modules


def _prstatus(desc: bytes, elf: ElfFile) -> tuple[ThreadInfo, int]:
    w = 8 if elf.is64 else 4
    try:
        (tid,) = struct.unpack_from(elf.endian + "i", desc, _PRSTATUS_PID[elf.is64])
        ip = sp = None
        index = _IP_SP_INDEX.get(elf.machine)
        if index is not None:
            regs = _PRSTATUS_REGS[elf.is64]
            (ip,) = struct.unpack_from(elf.endian + elf.word, desc, regs + index[0] * w)
            (sp,) = struct.unpack_from(elf.endian + elf.word, desc, regs + index[1] * w)
    except struct.error:
        raise FormatError(f"{elf.what}: truncated NT_PRSTATUS note") from None
    return ThreadInfo(tid, ip, sp), tid


def _signal(desc: bytes, elf: ElfFile) -> ExceptionInfo | None:
    try:
        (signo,) = struct.unpack_from(elf.endian + "i", desc, 0)
        (tid,) = struct.unpack_from(elf.endian + "i", desc, _PRSTATUS_PID[elf.is64])
    except struct.error:
        raise FormatError(f"{elf.what}: truncated NT_PRSTATUS note") from None
    if signo <= 0:
        return None
    try:
        name = signal.Signals(signo).name
    except ValueError:
        name = f"signal {signo}"
    return ExceptionInfo(signo, None, tid, name)


class MemorySource:
    """Target memory seen as a file starting at *base* (to read an ELF header in memory)."""

    def __init__(self, memory: HeldMemory, base: int) -> None:
        self.memory = memory
        self.base = base

    @property
    def length(self) -> None:
        """Memory has no fixed end."""
        return None

    def read_at(self, offset: int, size: int) -> bytes:
        """Return the held bytes at base+offset, stopping at the first gap."""
        parts = self.memory.read(self.base + offset, self.base + offset + size)
        if not parts or parts[0][0] != self.base + offset:
            return b""
        return parts[0][1]


def memory_build_id(memory: HeldMemory, module: LoadedModule) -> bytes | None:
    """Return the build-id an ELF module carries in memory, if the target holds it."""
    first = next((m for m in module.mappings if m.file_offset == 0), None)
    if first is None:
        return None
    try:
        elf = ElfFile(MemorySource(memory, first.start), f"{module.name} in memory")
        segments = elf.segments()
        loads = [s for s in segments if s.type == PT_LOAD]
        if not loads:
            return None
        bias = first.start - (loads[0].vaddr & ~0xFFF)
        for seg in segments:
            if seg.type == PT_NOTE and 0 < seg.filesz < (1 << 16):
                data = MemorySource(memory, 0).read_at(bias + seg.vaddr, seg.filesz)
                if len(data) == seg.filesz:
                    bid = build_id_from_notes(elf.notes(data, seg.align))
                    if bid:
                        return bid
    except FormatError:
        return None
    return None
