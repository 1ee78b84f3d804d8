"""The demo's executable format: a header page, code pages, then a guard (CFG) table.

Each non-header page is self-checking: a 16-byte tag (magic, region, index),
a body, and the CRC-32 of tag+body in its last 4 bytes. So a loader can tell
a page that was never written (all zero, the story's ``add byte ptr [rax],al``)
from one torn mid-write, without knowing the content in advance. Pure code:
no I/O, so the format and the verdicts are unit-tested.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from dataclasses import dataclass
from enum import Enum

PAGE = 4096
MAGIC = b"FHDEMO01"
PAGE_MAGIC = b"FHPG"
# magic, code pages, guard pages, seed, header crc (of the preceding fields)
_HEADER = struct.Struct("<8sIIQI")
_TAG = struct.Struct("<4sIII")  # magic, region, index, reserved
CODE, GUARD = 1, 2


class FormatProblem(ValueError):
    """The file is not a demo image at all (bad header)."""


@dataclass(frozen=True)
class Layout:
    """Where the regions of one image are, in pages."""

    code_pages: int
    guard_pages: int
    seed: int

    @property
    def pages(self) -> int:
        """Return the total number of pages, header included."""
        return 1 + self.code_pages + self.guard_pages

    @property
    def size(self) -> int:
        """Return the file size in bytes."""
        return self.pages * PAGE

    def region_of(self, page: int) -> int:
        """Return CODE or GUARD for a non-header page number."""
        return CODE if page <= self.code_pages else GUARD


class Finding(Enum):
    """What a loader found: the two failure signatures mirror the story's."""

    OK = "ok"
    ZERO_CODE = "zero-code"  # 0xC0000005 access violation: executing zeros
    TORN_CODE = "torn-code"  # also an access violation: garbage instructions
    ZERO_GUARD = "zero-guard"  # 0xC0000409 fail fast: CFG says the call target is invalid


@dataclass(frozen=True)
class Verdict:
    """The first problem found while loading (pages in address order), or OK."""

    finding: Finding
    page: int = 0
    zero_pages: int = 0


def encode_header(layout: Layout) -> bytes:
    """Return the header page for *layout*."""
    fields = (MAGIC, layout.code_pages, layout.guard_pages, layout.seed)
    crc = zlib.crc32(struct.pack("<8sIIQ", *fields))
    return _HEADER.pack(*fields, crc).ljust(PAGE, b"\0")


def decode_header(page: bytes) -> Layout:
    """Return the layout in a header page, or raise FormatProblem."""
    if len(page) < _HEADER.size:
        raise FormatProblem("file shorter than a header")
    magic, code, guard, seed, crc = _HEADER.unpack_from(page)
    if magic != MAGIC:
        raise FormatProblem(f"bad magic {magic!r}")
    if zlib.crc32(struct.pack("<8sIIQ", magic, code, guard, seed)) != crc:
        raise FormatProblem("header checksum mismatch")
    return Layout(code, guard, seed)


def make_page(layout: Layout, page: int, rounds: int = 0) -> bytes:
    """Return page *page* (1-based after the header); *rounds* models the linker's work."""
    region = layout.region_of(page)
    digest = hashlib.blake2b(struct.pack("<QI", layout.seed, page)).digest()
    for _ in range(rounds):
        digest = hashlib.blake2b(digest).digest()
    tag = _TAG.pack(PAGE_MAGIC, region, page, 0)
    body_len = PAGE - _TAG.size - 4
    body = hashlib.shake_256(digest).digest(body_len)
    if region == GUARD:
        # A CFG-like bitmap: sorted valid call-target offsets, never all zero.
        body = bytes(b | 1 for b in body)
    head = tag + body
    return head + struct.pack("<I", zlib.crc32(head))


def page_ok(data: bytes | memoryview, layout: Layout, page: int) -> bool:
    """Return whether *data* is page *page*, completely written."""
    if len(data) != PAGE:
        return False
    magic, region, index, _ = _TAG.unpack_from(data)
    if magic != PAGE_MAGIC or index != page or region != layout.region_of(page):
        return False
    (crc,) = struct.unpack_from("<I", data, PAGE - 4)
    return bool(zlib.crc32(data[: PAGE - 4]) == crc)


def is_zero(data: bytes | memoryview) -> bool:
    """Return whether *data* is all zero bytes."""
    return bytes(data).count(0) == len(data)


def inspect(image: bytes | memoryview, layout: Layout) -> Verdict:
    """Load *image* the way the run step does: code first, then the guard table."""
    view = memoryview(image)
    zeros = sum(
        1 for p in range(1, layout.pages) if is_zero(view[p * PAGE : (p + 1) * PAGE])
    )
    for p in range(1, layout.code_pages + 1):
        chunk = view[p * PAGE : (p + 1) * PAGE]
        if is_zero(chunk):
            return Verdict(Finding.ZERO_CODE, p, zeros)
        if not page_ok(chunk, layout, p):
            return Verdict(Finding.TORN_CODE, p, zeros)
    for p in range(layout.code_pages + 1, layout.pages):
        chunk = view[p * PAGE : (p + 1) * PAGE]
        if is_zero(chunk) or not page_ok(chunk, layout, p):
            return Verdict(Finding.ZERO_GUARD, p, zeros)
    return Verdict(Finding.OK, 0, zeros)
