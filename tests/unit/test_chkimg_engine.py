"""The diff engine against a byte-by-byte reference, on chosen and random cases."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flakehunt.images.engine import MERGE_GAP, PAGE, diff_bytes


def reference(expected: bytes, actual: bytes, base: int) -> tuple[int, int, list, dict]:
    """The obvious slow answer: differing count, zero count, runs, page -> all-zero."""
    runs: list[tuple[int, int]] = []
    diff = zero = 0
    pages: dict[int, bool] = {}
    for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
        if e == a:
            continue
        diff += 1
        zero += a == 0
        addr = base + i
        if runs and addr - runs[-1][1] < MERGE_GAP:
            runs[-1] = (runs[-1][0], addr + 1)
        else:
            runs.append((addr, addr + 1))
        pages[addr - addr % PAGE] = True
    for page in pages:
        lo, hi = max(page, base) - base, min(page + PAGE, base + len(actual)) - base
        pages[page] = not any(actual[lo:hi])
    return diff, zero, runs, pages


def check(expected: bytes, actual: bytes, base: int) -> None:
    d = diff_bytes(expected, actual, base)
    assert (d.differing, d.zero_differing, d.runs, d.pages) == reference(expected, actual, base)


CODE = bytes(random.Random(7).randrange(1, 256) for _ in range(5 * PAGE + 123))


def zeroed(data: bytes, start: int, end: int) -> bytes:
    b = bytearray(data)
    b[start:end] = bytes(end - start)
    return bytes(b)


def flipped(data: bytes, *offsets: int) -> bytes:
    b = bytearray(data)
    for o in offsets:
        b[o] ^= 0xFF
    return bytes(b)


CASES = {
    "identical": (CODE, CODE, 0x10000),
    "one byte": (CODE, flipped(CODE, 5000), 0x10000),
    "first and last byte": (CODE, flipped(CODE, 0, len(CODE) - 1), 0x10000),
    "one page zeroed": (CODE, zeroed(CODE, 2 * PAGE, 3 * PAGE), 0x10000),
    "unaligned base, zeroed page": (CODE, zeroed(CODE, PAGE, 2 * PAGE), 0x10010),
    "run across a page boundary": (CODE, zeroed(CODE, PAGE - 10, PAGE + 10), 0x10000),
    "two adjacent pages zeroed": (CODE, zeroed(CODE, PAGE, 3 * PAGE), 0x10000),
    "shorter than a page": (CODE[:300], flipped(CODE[:300], 3, 4, 5), 0x6F6B43),
    "tail only": (CODE, zeroed(CODE, 5 * PAGE, 5 * PAGE + 123), 0x10000),
    "empty": (b"", b"", 0),
}


@pytest.mark.parametrize("name", CASES)
def test_engine_matches_reference(name: str) -> None:
    check(*CASES[name])


def test_zeroed_page_is_one_zero_filled_run() -> None:
    d = diff_bytes(CODE, zeroed(CODE, 2 * PAGE, 3 * PAGE), 0x10000)
    assert d.runs == [(0x12000, 0x13000)]
    assert d.pages == {0x12000: True}
    assert d.differing == d.zero_differing == PAGE


def test_close_runs_merge_far_runs_do_not() -> None:
    # MERGE_GAP - 1 equal bytes between two differing bytes: one range.
    d = diff_bytes(CODE, flipped(CODE, 100, 100 + MERGE_GAP), 0)
    assert d.runs == [(100, 101 + MERGE_GAP)] and d.differing == 2
    # MERGE_GAP equal bytes between them: two ranges.
    d = diff_bytes(CODE, flipped(CODE, 300, 301 + MERGE_GAP), 0)
    assert d.runs == [(300, 301), (301 + MERGE_GAP, 302 + MERGE_GAP)]


def test_nonzero_change_is_not_zero_filled() -> None:
    d = diff_bytes(CODE, flipped(CODE, 100), 0x10000)
    assert d.pages == {0x10000: False}


def test_many_pages_in_one_chunk_and_across_chunks() -> None:
    rng = random.Random(3)
    size = 1100 * PAGE  # crosses the 1024-page screen chunk
    expected = rng.randbytes(size)
    actual = bytearray(expected)
    bad = sorted(rng.sample(range(1100), 110))
    for p in bad:
        actual[p * PAGE : (p + 1) * PAGE] = bytes(PAGE)
    d = diff_bytes(expected, bytes(actual), 0)
    assert sorted(d.pages) == [p * PAGE for p in bad]
    assert all(d.pages.values())
    assert d.differing == d.zero_differing


def test_unequal_lengths_are_refused() -> None:
    with pytest.raises(ValueError):
        diff_bytes(b"ab", b"a", 0)


@settings(max_examples=60, deadline=None)
@given(
    data=st.binary(min_size=0, max_size=3 * PAGE),
    base=st.integers(0, 3 * PAGE),
    edits=st.lists(st.tuples(st.integers(0, 3 * PAGE), st.integers(0, 300), st.booleans()),
                   max_size=5),
)
def test_engine_matches_reference_on_random_edits(data: bytes, base: int,
                                                  edits: list[tuple[int, int, bool]]) -> None:
    actual = bytearray(data)
    for start, length, zero in edits:
        for i in range(start, min(start + length, len(actual))):
            actual[i] = 0 if zero else actual[i] ^ 0x5A
    check(data, bytes(actual), base)
