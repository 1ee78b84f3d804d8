"""What an ELF image on disk says its executable mappings should hold.

A file-backed mapping shows the file's bytes from its offset (zeros past the
end of the file), so the expected bytes of an executable mapping are the file
itself. PIE and shared-library code is position independent: no relocation is
applied to it. Writable mappings (.data, .got, RELRO) differ by design and are
not code, so only executable mappings are compared.
"""

from __future__ import annotations

from pathlib import Path

from flakehunt.errors import FormatError
from flakehunt.images.elf import SHF_ALLOC, SHT_NOBITS, ElfFile, Section, file_build_id
from flakehunt.images.image import CodeRange, ExpectedImage
from flakehunt.images.memory import MappedFile
from flakehunt.images.target import LoadedModule


def read_build_id(path: Path) -> bytes | None:
    """Return the GNU build-id of the ELF image at *path*, if it has one."""
    source = MappedFile(path, "image")
    try:
        return file_build_id(ElfFile(source, str(path)))
    finally:
        source.close()


def load_elf(path: Path, module: LoadedModule) -> ExpectedImage:
    """Return the expected bytes of *module*'s executable mappings, from *path*."""
    source = MappedFile(path, "image")
    try:
        elf = ElfFile(source, str(path))
        build_id = file_build_id(elf)
        sections = [s for s in elf.sections()
                    if s.flags & SHF_ALLOC and s.type != SHT_NOBITS and s.size]
        size = source.length
        ranges: list[CodeRange] = []
        skipped = []
        for m in module.mappings:
            if not m.executable:
                continue
            length = m.end - m.start
            data = source.read_at(m.file_offset, length)
            # Only the last page of a mapping may run past the end of the file.
            if m.file_offset + length - size >= 4096:
                raise FormatError(f"{path} is shorter than the mapping at {m.start:#x} expects",
                                  "this is not the file the process mapped, or it was cut short")
            expected = data + bytes(length - len(data))
            ranges.extend(_by_section(expected, m.start, m.file_offset, sections))
        writable = sum(1 for m in module.mappings if not m.executable)
        if writable:
            skipped.append(f"{writable} non-executable mapping(s) (data, RELRO: not code)")
    finally:
        source.close()
    identity = f"build-id {build_id.hex()}" if build_id else "no build-id"
    return ExpectedImage(str(path), identity, ranges, skipped)


def _by_section(expected: bytes, start: int, file_offset: int,
                sections: list[Section]) -> list[CodeRange]:
    """Split a mapping's bytes at section boundaries, naming each part."""
    end_off = file_offset + len(expected)
    cuts = []
    for s in sorted(sections, key=lambda s: s.offset):
        lo, hi = max(s.offset, file_offset), min(s.offset + s.size, end_off)
        if lo < hi:
            cuts.append((lo, hi, s.name, s.offset))
    out = []
    pos = file_offset
    for lo, hi, name, sec_off in cuts:
        if lo < pos:
            continue
        if lo > pos:
            out.append(_range("(no section)", pos, pos, lo, expected, start, file_offset))
        out.append(_range(name, sec_off, lo, hi, expected, start, file_offset))
        pos = hi
    if pos < end_off:
        out.append(_range("(no section)", pos, pos, end_off, expected, start, file_offset))
    return out


def _range(name: str, sec_off: int, lo: int, hi: int, expected: bytes, start: int,
           file_offset: int) -> CodeRange:
    return CodeRange(name, start + sec_off - file_offset, start + lo - file_offset,
                     expected[lo - file_offset : hi - file_offset])
