"""Map a PE image as the Windows loader would, rebased, and pick the code to compare.

The rules follow WinDbg's ``!chkimg`` defaults: compare sections that hold code
(IMAGE_SCN_CNT_CODE or IMAGE_SCN_MEM_EXECUTE), skip discardable and writable
ones, and skip the Import Address Table, which the loader rewrites by design.
Relocation uses pefile's ``relocate_image`` (the ``.reloc`` directory).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from flakehunt.errors import FormatError, InputError, NotFound
from flakehunt.images.image import CodeRange, ExpectedImage

# Section characteristics (winnt.h).
SCN_CNT_CODE = 0x00000020
SCN_MEM_DISCARDABLE = 0x02000000
SCN_MEM_EXECUTE = 0x20000000
SCN_MEM_WRITE = 0x80000000
DIRECTORY_IAT = 12


@dataclass(frozen=True)
class PeIdentity:
    """What identifies a PE build: its link timestamp and size of image."""

    timestamp: int
    size_of_image: int
    image_base: int

    def describe(self) -> str:
        """Return the identity as ``TimeDateStamp 0x... SizeOfImage 0x...``."""
        return f"TimeDateStamp {self.timestamp:#010x} SizeOfImage {self.size_of_image:#x}"


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise NotFound(f"image {path} does not exist", "check --image") from None
    except OSError as exc:
        raise InputError(f"cannot read image {path}: {exc.strerror}") from None


def read_pe_identity(path: Path) -> PeIdentity:
    """Read TimeDateStamp, SizeOfImage and ImageBase from the headers of *path*."""
    data = _read(path)[:4096]
    try:
        if data[:2] != b"MZ":
            raise FormatError(f"{path} is not a PE image (no MZ header)")
        (lfanew,) = struct.unpack_from("<I", data, 0x3C)
        if data[lfanew : lfanew + 4] != b"PE\0\0":
            raise FormatError(f"{path} is not a PE image (no PE signature)")
        (stamp,) = struct.unpack_from("<I", data, lfanew + 8)
        opt = lfanew + 24
        (magic,) = struct.unpack_from("<H", data, opt)
        if magic == 0x20B:
            (base,) = struct.unpack_from("<Q", data, opt + 24)
        elif magic == 0x10B:
            (base,) = struct.unpack_from("<I", data, opt + 28)
        else:
            raise FormatError(f"{path}: unknown PE optional header magic {magic:#x}")
        (size,) = struct.unpack_from("<I", data, opt + 56)
    except struct.error:
        raise FormatError(f"{path} is a truncated PE image", "copy the file again") from None
    return PeIdentity(stamp, size, base)


def section_is_code(characteristics: int) -> tuple[bool, str]:
    """Say whether !chkimg's default rules compare a section, and why not if not."""
    if not characteristics & (SCN_CNT_CODE | SCN_MEM_EXECUTE):
        return False, "not executable"
    if characteristics & SCN_MEM_DISCARDABLE:
        return False, "discardable"
    if characteristics & SCN_MEM_WRITE:
        return False, "writable"
    return True, ""


def load_pe(path: Path, base: int) -> ExpectedImage:
    """Return the code of the PE at *path* as it should read when loaded at *base*."""
    import pefile

    data = bytearray(_read(path))
    try:
        pe = pefile.PE(data=data, fast_load=True)
        pe.parse_data_directories(
            directories=[pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_BASERELOC"]]
        )
        identity = read_pe_identity(path)
        for sec in pe.sections:  # a cut file may still hold .text but lose .reloc
            end = pe.adjust_PointerToRawData(sec.PointerToRawData) + sec.SizeOfRawData
            if sec.SizeOfRawData and end > len(data):
                raise FormatError(
                    f"{path} is truncated: its sections need {end:,} bytes, the file has "
                    f"{len(data):,}", "copy the image again")
        skipped: list[str] = []
        if base != pe.OPTIONAL_HEADER.ImageBase:
            if not hasattr(pe, "DIRECTORY_ENTRY_BASERELOC"):
                skipped.append(
                    f"no .reloc: cannot rebase from {pe.OPTIONAL_HEADER.ImageBase:#x} to "
                    f"{base:#x}; expect differences at absolute addresses"
                )
            pe.relocate_image(base)
        iat = pe.OPTIONAL_HEADER.DATA_DIRECTORY[DIRECTORY_IAT]
        iat_start, iat_end = base + iat.VirtualAddress, base + iat.VirtualAddress + iat.Size
        image = bytes(pe.__data__)
        ranges: list[CodeRange] = []
        for sec in pe.sections:
            name = sec.Name.rstrip(b"\0").decode("ascii", errors="replace") or "(unnamed)"
            ok, why = section_is_code(sec.Characteristics)
            if not ok:
                skipped.append(f"{name} ({why})")
                continue
            vsize = sec.Misc_VirtualSize or sec.SizeOfRawData
            raw_off = pe.adjust_PointerToRawData(sec.PointerToRawData)
            raw_len = min(sec.SizeOfRawData, vsize)
            if raw_off + raw_len > len(image):
                raise FormatError(
                    f"{path} is truncated: section {name} needs bytes up to "
                    f"{raw_off + raw_len:,} but the file has {len(image):,}",
                    "copy the image again",
                )
            # Bytes past the raw data up to VirtualSize are zero-filled by the loader.
            expected = image[raw_off : raw_off + raw_len] + bytes(vsize - raw_len)
            start = base + sec.VirtualAddress
            if iat.Size and start < iat_end and iat_start < start + vsize:
                skipped.append(f"IAT {iat_start:#x}-{iat_end:#x} in {name} (the loader writes it)")
            ranges.extend(_cut(CodeRange(name, start, start, expected), iat_start, iat_end))
    except pefile.PEFormatError as exc:
        raise FormatError(f"{path} is not a valid PE image: {exc.value}") from None
    except (struct.error, IndexError, ValueError, OverflowError) as exc:
        raise FormatError(f"{path} is a corrupt PE image ({exc})", "copy the file again") from None
    return ExpectedImage(str(path), identity.describe(), ranges, skipped)


def _cut(r: CodeRange, start: int, end: int) -> list[CodeRange]:
    """Return *r* without [start, end)."""
    if end <= r.start or start >= r.end or start == end:
        return [r]
    out = []
    if start > r.start:
        out.append(CodeRange(r.section, r.section_start, r.start, r.expected[: start - r.start]))
    if end < r.end:
        out.append(CodeRange(r.section, r.section_start, end, r.expected[end - r.start :]))
    return out
