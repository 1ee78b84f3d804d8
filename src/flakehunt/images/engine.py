"""The one diff engine: equal bytes fast, differing bytes exactly.

Three levels, cheapest first: one ``bytes ==`` over the whole range (memcmp);
if that fails, a page screen over large chunks (numpy compares 8 bytes at a
time and reduces per page); byte runs only inside the pages that differ,
batched per chunk so a range with thousands of bad pages stays vectorised.
Pages sit on absolute addresses, so verdicts line up with the target's pages.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PAGE = 4096
CHUNK_PAGES = 1024  # 4 MiB per screen step: big enough to amortise, small for cache


@dataclass
class BufferDiff:
    """Where two equal-length buffers differ, in absolute addresses."""

    differing: int = 0  # bytes that differ
    zero_differing: int = 0  # of those, bytes that read as zero in the actual buffer
    runs: list[tuple[int, int]] = field(default_factory=list)  # [start, end) of differing bytes
    pages: dict[int, bool] = field(default_factory=dict)  # differing page -> reads all zeros

    def add_run(self, start: int, end: int) -> None:
        """Append a run, merging it with the previous one when they touch."""
        if self.runs and self.runs[-1][1] == start:
            self.runs[-1] = (self.runs[-1][0], end)
        else:
            self.runs.append((start, end))


def diff_bytes(expected: bytes, actual: bytes, base: int, page_size: int = PAGE) -> BufferDiff:
    """Compare *actual* (held at address *base*) with *expected*; return the differences."""
    if len(expected) != len(actual):
        raise ValueError("diff_bytes needs buffers of equal length")
    out = BufferDiff()
    if not expected or expected == actual:
        return out
    import numpy as np

    n = len(expected)
    e8 = np.frombuffer(expected, dtype=np.uint8)
    a8 = np.frombuffer(actual, dtype=np.uint8)
    head = min(n, (page_size - base % page_size) % page_size)
    body_pages = (n - head) // page_size
    if head:
        _pages(out, e8[:head].reshape(1, head), a8[:head].reshape(1, head), base, page_size)
    words = page_size // 8
    screen = np.empty(CHUNK_PAGES * words, dtype=bool)
    for first in range(0, body_pages, CHUNK_PAGES):
        k = min(CHUNK_PAGES, body_pages - first)
        s = head + first * page_size
        e64 = np.frombuffer(expected, dtype=np.uint64, count=k * words, offset=s)
        a64 = np.frombuffer(actual, dtype=np.uint64, count=k * words, offset=s)
        ne = screen[: k * words]
        np.not_equal(e64, a64, out=ne)
        # 8 booleans per uint64: reduce each page's words to one flag cheaply.
        bad = np.flatnonzero(ne.view(np.uint64).reshape(k, words // 8).any(axis=1))
        if bad.size:
            e_pages = e8[s : s + k * page_size].reshape(k, page_size)[bad]
            a_pages = a8[s : s + k * page_size].reshape(k, page_size)[bad]
            _pages(out, e_pages, a_pages, base + s + bad * page_size, page_size)
    tail_start = head + body_pages * page_size
    if tail_start < n:
        t = n - tail_start
        _pages(out, e8[tail_start:].reshape(1, t), a8[tail_start:].reshape(1, t),
               base + tail_start, page_size)
    return out


def _pages(out: BufferDiff, e: object, a: object, starts: object, page_size: int) -> None:
    """Record the differing bytes of page rows *e*/*a* starting at addresses *starts*."""
    import numpy as np

    e_rows = np.asarray(e)
    a_rows = np.asarray(a)
    row_starts = np.broadcast_to(np.asarray(starts, dtype=np.int64), (e_rows.shape[0],))
    mask = e_rows != a_rows
    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        return
    out.differing += int(rows.size)
    out.zero_differing += int(np.count_nonzero(a_rows[rows, cols] == 0))
    addrs = row_starts[rows] + cols
    # Runs: split where consecutive differing addresses are not adjacent.
    breaks = np.flatnonzero(np.diff(addrs) != 1) + 1
    run_starts = addrs[np.concatenate(([0], breaks))]
    run_ends = addrs[np.concatenate((breaks - 1, [addrs.size - 1]))] + 1
    for s, e_ in zip(run_starts.tolist(), run_ends.tolist(), strict=True):
        out.add_run(s, e_)
    bad_rows = np.unique(rows)
    zero_rows = np.logical_not(a_rows[bad_rows].any(axis=1))
    page_of = row_starts[bad_rows] // page_size * page_size
    for page, zero in zip(page_of.tolist(), zero_rows.tolist(), strict=True):
        out.pages[page] = out.pages.get(page, True) and bool(zero)
