"""The pure logic of the Windows live-process reader (the ctypes part needs Windows)."""

from __future__ import annotations

import pytest
from chkimg_paths import X64

from flakehunt.images.memory import BytesSource, HeldMemory
from flakehunt.images.winproc import (
    MEM_COMMIT,
    PAGE_GUARD,
    PAGE_NOACCESS,
    modules_from_list,
    pe_header_identity,
    readable_pieces,
)

PAGE_EXECUTE_READ, PAGE_READWRITE, MEM_RESERVE = 0x20, 0x04, 0x2000


def test_only_committed_readable_regions_are_held() -> None:
    pieces = readable_pieces([
        (0x10000, 0x1000, MEM_COMMIT, PAGE_EXECUTE_READ),
        (0x11000, 0x1000, MEM_COMMIT, PAGE_NOACCESS),
        (0x12000, 0x1000, MEM_COMMIT, PAGE_READWRITE | PAGE_GUARD),
        (0x13000, 0x1000, MEM_RESERVE, PAGE_READWRITE),
        (0x14000, 0x2000, MEM_COMMIT, PAGE_READWRITE),
    ])
    assert [(p.start, p.size, p.offset) for p in pieces] == [
        (0x10000, 0x1000, 0x10000), (0x14000, 0x2000, 0x14000)]


def test_module_identity_is_read_from_the_header_in_memory() -> None:
    dll = (X64 / "chkimg_victim_dll.dll").read_bytes()
    base = 0x7FF600000000
    memory = HeldMemory(readable_pieces([(base, 0x1000, MEM_COMMIT, 0x02)]),
                        _AddressSource(base, dll[:0x1000]), "fake process")
    [m] = modules_from_list([("C:\\x\\chkimg_victim_dll.dll", base, 0x10000)],
                            lambda a, n: b"".join(d for _, d in memory.read(a, a + n)))
    assert (m.base, m.size, m.basename) == (base, 0x10000, "chkimg_victim_dll.dll")
    assert (m.pe_timestamp, 0x10000) == pe_header_identity(dll)


@pytest.mark.parametrize("header", [b"", b"MZ", b"MZ" + bytes(100), b"ELF" * 50])
def test_bad_headers_give_no_identity(header: bytes) -> None:
    assert pe_header_identity(header) is None


class _AddressSource(BytesSource):
    """Bytes that live at an address (offset == address), like ReadProcessMemory."""

    def __init__(self, base: int, data: bytes) -> None:
        super().__init__(data)
        self.base = base

    @property
    def length(self) -> None:  # type: ignore[override]
        return None

    def read_at(self, offset: int, size: int) -> bytes:
        return super().read_at(offset - self.base, size)
