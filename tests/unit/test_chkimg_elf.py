"""The ELF reader against pyelftools on real files, and on bad ones."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from flakehunt.errors import FormatError
from flakehunt.images.elf import ElfFile, file_build_id, parse_notes
from flakehunt.images.memory import BytesSource, MappedFile

CANDIDATES = [Path(os.path.realpath(sys.executable)), Path("/bin/sh"), Path("/bin/true")]
CANDIDATES += sorted(Path("/usr/lib/x86_64-linux-gnu").glob("libc.so.6"))
FILES = [p for p in CANDIDATES if p.is_file() and p.read_bytes()[:4] == b"\x7fELF"]


@pytest.mark.skipif(not FILES, reason="no ELF files on this machine")
@pytest.mark.parametrize("path", FILES, ids=str)
def test_sections_and_build_id_agree_with_pyelftools(path: Path) -> None:
    ours = ElfFile(MappedFile(path, "image"), str(path))
    with open(path, "rb") as f:
        theirs = ELFFile(f)
        assert [(s.name, s.offset, s.size, s.flags) for s in ours.sections()[1:]] == [
            (s.name, s["sh_offset"], s["sh_size"], s["sh_flags"])
            for s in list(theirs.iter_sections())[1:]]
        note = theirs.get_section_by_name(".note.gnu.build-id")
        if note is not None:
            [n] = list(note.iter_notes())
            assert file_build_id(ours) == bytes.fromhex(n["n_desc"])


@pytest.mark.skipif(not FILES, reason="no ELF files on this machine")
@pytest.mark.parametrize("path", FILES, ids=str)
def test_segments_agree_with_pyelftools(path: Path) -> None:
    ours = ElfFile(MappedFile(path, "image"), str(path))
    with open(path, "rb") as f:
        theirs = [(s["p_offset"], s["p_vaddr"], s["p_filesz"], s["p_memsz"])
                  for s in ELFFile(f).iter_segments()]
    assert [(s.offset, s.vaddr, s.filesz, s.memsz) for s in ours.segments()] == theirs


@pytest.mark.parametrize("data", [
    b"", b"\x7fEL", b"\x7fELF", b"\x7fELF\x03\x01", b"\x7fELF\x02\x01\x01" + bytes(20),
])
def test_short_or_odd_headers_are_format_errors(data: bytes) -> None:
    with pytest.raises(FormatError):
        e = ElfFile(BytesSource(data), "x")
        e.segments()


def test_note_running_past_its_segment_is_an_error() -> None:
    import struct

    data = struct.pack("<III", 4, 100, 3) + b"GNU\0" + bytes(8)
    with pytest.raises(FormatError, match="runs past"):
        parse_notes(data, "<", 4, "x")
