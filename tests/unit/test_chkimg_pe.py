"""PE mapping: !chkimg's section rules, the IAT, and rebasing with .reloc."""

from __future__ import annotations

from pathlib import Path

import pefile
import pytest
from chkimg_paths import DATA

from flakehunt.images.pe import (
    SCN_CNT_CODE,
    SCN_MEM_DISCARDABLE,
    SCN_MEM_EXECUTE,
    SCN_MEM_WRITE,
    load_pe,
    read_pe_identity,
    section_is_code,
)

READ = 0x40000000


@pytest.mark.parametrize(("flags", "compared", "why"), [
    (SCN_CNT_CODE | SCN_MEM_EXECUTE | READ, True, ""),  # .text
    (SCN_MEM_EXECUTE | READ, True, ""),
    (SCN_CNT_CODE | SCN_MEM_EXECUTE | SCN_MEM_WRITE, False, "writable"),  # self-modifying
    (SCN_CNT_CODE | SCN_MEM_EXECUTE | SCN_MEM_DISCARDABLE, False, "discardable"),  # INIT
    (0x40 | READ, False, "not executable"),  # .rdata
    (0x40 | READ | SCN_MEM_WRITE, False, "not executable"),  # .data
])
def test_section_rules(flags: int, compared: bool, why: str) -> None:
    assert section_is_code(flags) == (compared, why)


def reloc_sites(path: Path, lo: int, hi: int) -> list[tuple[int, int]]:
    """(rva, width) of every base relocation inside [lo, hi), read by pefile."""
    pe = pefile.PE(str(path))
    width = {3: 4, 10: 8}
    return [(e.rva, width[e.type]) for b in pe.DIRECTORY_ENTRY_BASERELOC for e in b.entries
            if e.type in width and lo <= e.rva < hi]


@pytest.mark.parametrize("arch", ["x64", "x86"])
def test_rebasing_changes_exactly_the_relocated_words(arch: str) -> None:
    dll = DATA / f"pe-{arch}" / "chkimg_victim_dll.dll"
    ident = read_pe_identity(dll)
    at_home = load_pe(dll, ident.image_base)
    delta = 0x1230000
    moved = load_pe(dll, ident.image_base + delta)
    [home], [away] = at_home.ranges, moved.ranges
    assert home.section == away.section == ".text"
    rva = home.start - ident.image_base
    sites = reloc_sites(dll, rva, rva + len(home.expected))
    assert sites, "the fixture's .text must hold relocations"
    changed = {i for i in range(len(home.expected)) if home.expected[i] != away.expected[i]}
    touched = {rva_ - rva + k for rva_, w in sites for k in range(w)}
    assert changed <= touched
    for rva_, w in sites:
        off = rva_ - rva
        old = int.from_bytes(home.expected[off : off + w], "little")
        new = int.from_bytes(away.expected[off : off + w], "little")
        assert new == (old + delta) % (1 << (8 * w))


def test_code_section_only_and_iat_is_skipped() -> None:
    exe = DATA / "pe-x64" / "chkimg_victim.exe"
    ident = read_pe_identity(exe)
    image = load_pe(exe, ident.image_base)
    assert {r.section for r in image.ranges} == {".text"}
    assert any(s.startswith(".data") and "not executable" in s for s in image.skipped)
    assert ident.describe() == image.identity


def test_zero_fill_past_raw_data() -> None:
    # VirtualSize larger than SizeOfRawData reads as zeros once loaded.
    exe = DATA / "pe-x86" / "chkimg_victim.exe"
    pe = pefile.PE(str(exe))
    text = next(s for s in pe.sections if s.Name.startswith(b".text"))
    image = load_pe(exe, pe.OPTIONAL_HEADER.ImageBase)
    assert len(image.ranges[0].expected) == text.Misc_VirtualSize


@pytest.mark.parametrize(("iat", "kept"), [
    ((0x500, 0x600), [(0x100, 0x500), (0x600, 0x900)]),  # IAT inside the section
    ((0x000, 0x200), [(0x200, 0x900)]),  # overlapping its start
    ((0x800, 0xA00), [(0x100, 0x800)]),  # overlapping its end
    ((0xA00, 0xB00), [(0x100, 0x900)]),  # elsewhere
    ((0x000, 0xB00), []),  # covering it
])
def test_iat_is_cut_out_of_code(iat: tuple[int, int], kept: list[tuple[int, int]]) -> None:
    from flakehunt.images.image import CodeRange
    from flakehunt.images.pe import _cut

    r = CodeRange(".text", 0x100, 0x100, bytes(range(256)) * 8)
    parts = _cut(r, *iat)
    assert [(p.start, p.end) for p in parts] == kept
    for p in parts:
        assert p.expected == r.expected[p.start - r.start : p.end - r.start]
        assert p.section_start == 0x100
