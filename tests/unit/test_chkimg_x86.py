"""x86 end to end: a minidump built here around the real x86 DLL, loaded rebased.

Wine's wine64 cannot run 32-bit programs here, so this dump is assembled by the
test: the DLL's .text relocated by the test's own HIGHLOW arithmetic (pefile
only lists the relocation entries), one page zeroed, in a 32-bit memory list.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pefile
import pytest
from chkimg_paths import DATA

from flakehunt.images import check_target, summary_line

DLL = DATA / "pe-x86" / "chkimg_victim_dll.dll"
LOAD_BASE = 0x6F0000  # like noreturn.exe: far from the ImageBase 0x400000


def relocated_text(pe: pefile.PE, base: int) -> tuple[int, bytes]:
    text = next(s for s in pe.sections if s.Name.startswith(b".text"))
    data = bytearray(text.get_data()[: text.Misc_VirtualSize])
    data += bytes(text.Misc_VirtualSize - len(data))
    delta = base - pe.OPTIONAL_HEADER.ImageBase
    for block in pe.DIRECTORY_ENTRY_BASERELOC:
        for e in block.entries:
            off = e.rva - text.VirtualAddress
            if e.type == 3 and 0 <= off < len(data):  # IMAGE_REL_BASED_HIGHLOW
                (v,) = struct.unpack_from("<I", data, off)
                struct.pack_into("<I", data, off, (v + delta) & 0xFFFFFFFF)
    return text.VirtualAddress, bytes(data)


def minidump(module_name: str, base: int, size: int, stamp: int,
             ranges: list[tuple[int, bytes]]) -> bytes:
    """Assemble a minimal x86 minidump: SystemInfo, ModuleList, MemoryList."""
    name = module_name.encode("utf-16-le")
    sysinfo = struct.pack("<HHH", 0, 6, 0).ljust(56, b"\0")
    header_size, dir_size = 32, 3 * 12
    sys_rva = header_size + dir_size
    mod_rva = sys_rva + len(sysinfo)
    name_rva = mod_rva + 4 + 108
    mem_rva = name_rva + 4 + len(name)
    data_rva = mem_rva + 4 + 16 * len(ranges)
    module = struct.pack("<QIIII", base, size, 0, stamp, name_rva).ljust(108, b"\0")
    modlist = struct.pack("<I", 1) + module
    memlist = struct.pack("<I", len(ranges))
    blobs = b""
    for start, blob in ranges:
        memlist += struct.pack("<QII", start, len(blob), data_rva + len(blobs))
        blobs += blob
    directory = struct.pack("<III", 7, len(sysinfo), sys_rva)
    directory += struct.pack("<III", 4, len(modlist), mod_rva)
    directory += struct.pack("<III", 5, len(memlist), mem_rva)
    header = struct.pack("<4sIIIIIQ", b"MDMP", 0xA793, 3, header_size, 0, 0, 0)
    return (header + directory + sysinfo + modlist + struct.pack("<I", len(name)) + name
            + memlist + blobs)


@pytest.fixture()
def dll_pe() -> pefile.PE:
    return pefile.PE(str(DLL))


def victim_rva(pe: pefile.PE) -> int:
    return next(s.address for s in pe.DIRECTORY_ENTRY_EXPORT.symbols
                if s.name == b"victim_page")


@pytest.mark.parametrize("zero", [False, True])
def test_x86_rebased_dll(tmp_path: Path, dll_pe: pefile.PE, zero: bool) -> None:
    text_rva, text = relocated_text(dll_pe, LOAD_BASE)
    page = victim_rva(dll_pe) - text_rva
    assert (LOAD_BASE + text_rva + page) % 4096 == 0  # victim_page is page aligned
    if zero:
        text = text[:page] + bytes(4096) + text[page + 4096 :]
    dump = tmp_path / "x86.dmp"
    dump.write_bytes(minidump("C:\\x\\chkimg_victim_dll.dll", LOAD_BASE,
                              dll_pe.OPTIONAL_HEADER.SizeOfImage,
                              dll_pe.FILE_HEADER.TimeDateStamp,
                              [(LOAD_BASE + text_rva, text)]))
    r = check_target(dump, images=[DLL])
    assert r.arch == "x86"
    [m] = r.modules
    assert m.compared == m.code_bytes == len(text)
    if not zero:
        assert m.differing == 0 and r.exit_status() == 0
        return
    start = LOAD_BASE + text_rva + page
    assert [(x.start, x.end, x.section) for x in m.ranges] == [(start, start + 4096, ".text")]
    assert m.zero_filled and m.differing == 4096
    assert summary_line(r) == "chkimg: ZERO-FILLED 4,096 bytes in .text of chkimg_victim_dll.dll"


def test_x86_dll_has_text_relocations(dll_pe: pefile.PE) -> None:
    # Without them the test above would not show that rebasing works.
    _, at_home = relocated_text(dll_pe, dll_pe.OPTIONAL_HEADER.ImageBase)
    _, moved = relocated_text(dll_pe, LOAD_BASE)
    assert sum(a != b for a, b in zip(at_home, moved, strict=True)) >= 4


def test_only_the_bytes_the_dump_holds_are_compared(tmp_path: Path, dll_pe: pefile.PE) -> None:
    # Like noreturn.dmp: 256 code bytes around the instruction pointer, nothing else.
    text_rva, text = relocated_text(dll_pe, LOAD_BASE)
    start = LOAD_BASE + text_rva + 0x1100
    dump = tmp_path / "small.dmp"
    dump.write_bytes(minidump("C:\\x\\chkimg_victim_dll.dll", LOAD_BASE,
                              dll_pe.OPTIONAL_HEADER.SizeOfImage,
                              dll_pe.FILE_HEADER.TimeDateStamp,
                              [(start, text[0x1100:0x1200])]))
    r = check_target(dump, images=[DLL])
    [m] = r.modules
    assert (m.compared, m.differing) == (256, 0) and m.code_bytes == len(text)
    held = [(p.start, p.verdict) for p in m.pages if p.verdict == "match"]
    assert held == [(start - start % 4096, "match")]
    assert {p.verdict for p in m.pages} == {"match", "not captured"}
    assert r.exit_status() == 0
