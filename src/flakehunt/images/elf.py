"""Read the parts of ELF that chkimg needs: headers, segments, sections, notes.

Layouts from the System V gABI and Linux's include/uapi/linux/elf.h. Written
with ``struct`` over a bounds-checked source so that a truncated or corrupt
file gives one FormatError; pyelftools is the differential check in the tests.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from flakehunt.errors import FormatError
from flakehunt.images.memory import ByteSource

MAGIC = b"\x7fELF"
ET_EXEC, ET_DYN, ET_CORE = 2, 3, 4
PT_LOAD, PT_NOTE = 1, 4
PF_X, PF_W, PF_R = 1, 2, 4
SHT_NOBITS = 8
SHF_ALLOC, SHF_EXECINSTR = 0x2, 0x4
NT_PRSTATUS, NT_FILE = 1, 0x46494C45
NT_GNU_BUILD_ID = 3
MACHINES = {3: "x86", 62: "x86-64", 40: "arm", 183: "arm64", 243: "riscv", 8: "mips", 21: "ppc64"}
_MAX_HEADERS = 1 << 16  # e_phnum / e_shnum are 16-bit; more means corrupt


@dataclass(frozen=True)
class Segment:
    """A program header."""

    type: int
    flags: int
    offset: int
    vaddr: int
    filesz: int
    memsz: int
    align: int


@dataclass(frozen=True)
class Section:
    """A section header with its resolved name."""

    name: str
    type: int
    flags: int
    addr: int
    offset: int
    size: int


@dataclass(frozen=True)
class Note:
    """One note: its owner name, type and descriptor bytes."""

    name: bytes
    type: int
    desc: bytes


class ElfFile:
    """An ELF file (image or core) read through a ByteSource."""

    def __init__(self, source: ByteSource, what: str) -> None:
        self.source = source
        self.what = what
        ident = source.read_at(0, 16)
        if ident[:4] != MAGIC:
            raise FormatError(f"{what} is not an ELF file (no ELF magic)")
        if len(ident) < 16 or ident[4] not in (1, 2) or ident[5] not in (1, 2):
            raise FormatError(f"{what}: unsupported ELF class or byte order")
        self.is64 = ident[4] == 2
        self.endian = "<" if ident[5] == 1 else ">"
        self.word = "Q" if self.is64 else "I"
        fmt = "HHIQQQIHHHHHH" if self.is64 else "HHIIIIIHHHHHH"
        (self.type, machine, _v, self.entry, self.phoff, self.shoff, _fl, _eh,
         self.phentsize, self.phnum, self.shentsize, self.shnum, self.shstrndx) = self.unpack(
            fmt, 16, "ELF header")
        self.machine = MACHINES.get(machine, f"machine {machine}")

    def unpack(self, fmt: str, offset: int, what: str) -> tuple[int, ...]:
        """Unpack *fmt* at *offset*, or raise FormatError if the file ends first."""
        fmt = self.endian + fmt
        size = struct.calcsize(fmt)
        data = self.source.read_at(offset, size)
        if len(data) != size:
            raise FormatError(
                f"{self.what} is truncated: {what} at offset {offset:,} lies past the end",
                "the file was cut short; copy or write it again",
            )
        return struct.unpack(fmt, data)

    def read(self, offset: int, size: int, what: str) -> bytes:
        """Return exactly *size* bytes at *offset*, or raise FormatError."""
        data = self.source.read_at(offset, size)
        if len(data) != size:
            raise FormatError(f"{self.what} is truncated: {what} lies past the end of the file")
        return data

    def segments(self) -> list[Segment]:
        """Return the program headers."""
        if self.phnum > _MAX_HEADERS or (self.phnum and self.phentsize < (56 if self.is64 else 32)):
            raise FormatError(f"{self.what}: corrupt program header table")
        out = []
        for i in range(self.phnum):
            off = self.phoff + i * self.phentsize
            if self.is64:
                t, fl, o, va, _pa, fs, ms, al = self.unpack("IIQQQQQQ", off, "program header")
            else:
                t, o, va, _pa, fs, ms, fl, al = self.unpack("IIIIIIII", off, "program header")
            out.append(Segment(t, fl, o, va, fs, ms, al))
        return out

    def sections(self) -> list[Section]:
        """Return the section headers with names (empty if the table is absent)."""
        if not self.shoff or not self.shnum:
            return []
        if self.shnum > _MAX_HEADERS or self.shentsize < (64 if self.is64 else 40):
            raise FormatError(f"{self.what}: corrupt section header table")
        fmt = "IIQQQQIIQQ" if self.is64 else "IIIIIIIIII"
        raw = []
        for i in range(self.shnum):
            name, t, fl, addr, off, size, *_ = self.unpack(
                fmt, self.shoff + i * self.shentsize, "section header")
            raw.append((name, t, fl, addr, off, size))
        strtab = b""
        if self.shstrndx < len(raw):
            _, _, _, _, soff, ssize = raw[self.shstrndx]
            strtab = self.read(soff, ssize, "section name table")
        out = []
        for name, t, fl, addr, off, size in raw:
            end = strtab.find(b"\0", name)
            label = strtab[name : end if end >= 0 else None].decode("ascii", errors="replace")
            out.append(Section(label, t, fl, addr, off, size))
        return out

    def notes(self, data: bytes, align: int = 4) -> list[Note]:
        """Parse a note segment's bytes."""
        return parse_notes(data, self.endian, align, self.what)


def parse_notes(data: bytes, endian: str, align: int, what: str) -> list[Note]:
    """Parse the notes in *data* (namesz, descsz, type, name, desc; each padded)."""
    align = 8 if align == 8 else 4
    out = []
    pos = 0
    while pos + 12 <= len(data):
        namesz, descsz, ntype = struct.unpack_from(endian + "III", data, pos)
        pos += 12
        name_end = pos + namesz
        desc_start = (name_end + align - 1) // align * align
        desc_end = desc_start + descsz
        if desc_end > len(data):
            raise FormatError(f"{what}: a note runs past its segment (corrupt or truncated)")
        out.append(Note(data[pos:name_end].rstrip(b"\0"), ntype, data[desc_start:desc_end]))
        pos = (desc_end + align - 1) // align * align
    return out


def build_id_from_notes(notes: list[Note]) -> bytes | None:
    """Return the GNU build-id among *notes*, if any."""
    for n in notes:
        if n.name == b"GNU" and n.type == NT_GNU_BUILD_ID and n.desc:
            return n.desc
    return None


def file_build_id(elf: ElfFile) -> bytes | None:
    """Return the build-id of an ELF image from its PT_NOTE segments."""
    for seg in elf.segments():
        if seg.type == PT_NOTE and seg.filesz < (1 << 20):
            data = elf.read(seg.offset, seg.filesz, "note")
            bid = build_id_from_notes(elf.notes(data, seg.align))
            if bid:
                return bid
    return None


def parse_nt_file(desc: bytes, elf: ElfFile) -> list[tuple[int, int, int, str]]:
    """Decode an NT_FILE note: (start, end, file offset in bytes, path) per mapping.

    Layout from Linux fs/binfmt_elf.c fill_files_note(): count, page_size,
    count x (start, end, page offset), then count NUL-terminated names.
    """
    w = 8 if elf.is64 else 4
    fmt = elf.endian + elf.word
    try:
        (count,) = struct.unpack_from(fmt, desc, 0)
        (page,) = struct.unpack_from(fmt, desc, w)
        if count > len(desc) // (3 * w):
            raise FormatError(f"{elf.what}: corrupt NT_FILE note ({count:,} files)")
        triples = [struct.unpack_from(elf.endian + elf.word * 3, desc, 2 * w + i * 3 * w)
                   for i in range(count)]
    except struct.error:
        raise FormatError(f"{elf.what}: truncated NT_FILE note") from None
    names = desc[2 * w + count * 3 * w :].split(b"\0")
    if len(names) < count:
        raise FormatError(f"{elf.what}: NT_FILE note has fewer names than mappings")
    return [(s, e, o * page, names[i].decode("utf-8", errors="surrogateescape"))
            for i, (s, e, o) in enumerate(triples)]
