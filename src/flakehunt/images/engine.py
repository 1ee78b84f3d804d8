"""The one diff engine: equal bytes fast, differing bytes exactly.

Three levels, cheapest first: one ``bytes ==`` over the whole range (memcmp);
if that fails, a page screen over large chunks (numpy compares 8 bytes at a
time and reduces per page); byte runs only inside the pages that differ,
batched per chunk so a range with thousands of bad pages stays vectorised.
Pages sit on absolute addresses, so verdicts line up with the target's pages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PAGE = 4096
CHUNK_PAGES = 1024  # 4 MiB per screen step: big enough to amortise, small for cache
MERGE_GAP = 16


@dataclass
class BufferDiff:
    """Where two equal-length buffers differ, in absolute addresses."""

    differing: int = 0  # bytes that differ
    zero_differing: int = 0  # of those, bytes that read as zero in the actual buffer
    # [start, end) runs of differing bytes, merged when fewer than MERGE_GAP equal
    # bytes separate them (a zeroed stretch of code stays one range although the
    # original held some zero bytes). Each run starts and ends on a differing byte.
    runs: list[tuple[int, int]] = field(default_factory=list)
    pages: dict[int, bool] = field(default_factory=dict)  # differing page -> reads all zeros

    def add_run(self, start: int, end: int) -> None:
        """Append a run, merging it with the previous one when they are close."""
        if self.runs and start - self.runs[-1][1] < MERGE_GAP:
            self.runs[-1] = (self.runs[-1][0], end)
        else:
            self.runs.append((start, end))


def diff_bytes(expected: bytes, actual: bytes, base: int, page_size: int = PAGE) -> BufferDiff:
    """Compare *actual* (held at address *base*) with *expected*; return the differences."""
    if len(expected) != len(actual):
        raise ValueError("diff_bytes needs buffers of equal length")
    if page_size % 64:
        raise ValueError("page_size must be a multiple of 64")
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
        _rows(out, e8[:head].reshape(1, head), a8[:head].reshape(1, head), [base], page_size)
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
            _rows(out, e8[s : s + k * page_size].reshape(k, page_size)[bad],
                  a8[s : s + k * page_size].reshape(k, page_size)[bad],
                  base + s + bad * page_size, page_size)
    tail_start = head + body_pages * page_size
    if tail_start < n:
        t = n - tail_start
        _rows(out, e8[tail_start:].reshape(1, t), a8[tail_start:].reshape(1, t),
              [base + tail_start], page_size)
    return out


def _rows(out: BufferDiff, e: Any, a: Any, starts: Any, page_size: int) -> None:
    """Record the differences of rows *e*/*a* (each inside one page) at addresses *starts*."""
    import numpy as np

    nrows, width = e.shape
    row_starts = np.asarray(starts, dtype=np.int64).reshape(nrows)
    mask = e != a
    count = int(np.count_nonzero(mask))
    if count == 0:
        return
    # Runs are found on 8-byte words (an eighth of the work), then each end moves
    # to its exact differing byte. Rows shorter than a word (dump pieces) use bytes.
    unit = 8 if width % 8 == 0 else 1
    cells = mask.view(np.uint64) != 0 if unit > 1 else mask
    bad = np.flatnonzero(cells.any(axis=1))
    out.differing += count
    a_cells = a.view(np.uint64) if unit > 1 else a
    zero_rows = np.logical_not(a_cells.any(axis=1))[bad]
    partial = bad[~zero_rows]
    # Every differing byte of an all-zero row reads zero; count the others' zeros.
    out.zero_differing += count
    if partial.size:
        pm = mask[partial]
        out.zero_differing += int(np.count_nonzero(pm & (a[partial] == 0)))
        out.zero_differing -= int(np.count_nonzero(pm))
    for page, zero in zip((row_starts[bad] // page_size * page_size).tolist(),
                          zero_rows.tolist(), strict=True):
        out.pages[page] = out.pages.get(page, True) and bool(zero)
    stride = cells.shape[1] + 1
    # One False cell before each row (and after the last) closes every run in its row.
    flat = np.zeros(nrows * stride + 1, dtype=bool)
    flat[:-1].reshape(nrows, stride)[:, 1:] = cells
    toggles = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    on, last = toggles[0::2], toggles[1::2] - 1
    on_row, on_cell = on // stride, on % stride - 1
    last_row, last_cell = last // stride, last % stride - 1
    if unit > 1:
        m3 = mask.reshape(nrows, width // unit, unit)
        first_byte = np.argmax(m3[on_row, on_cell], axis=1)
        last_byte = unit - 1 - np.argmax(m3[last_row, last_cell][:, ::-1], axis=1)
    else:
        first_byte = last_byte = np.zeros(on.size, dtype=np.int64)
    run_start = row_starts[on_row] + on_cell * unit + first_byte
    run_end = row_starts[last_row] + last_cell * unit + last_byte + 1
    # Merge runs closer than MERGE_GAP before leaving numpy.
    breaks = np.flatnonzero(run_start[1:] - run_end[:-1] >= MERGE_GAP) + 1
    keep_start = run_start[np.concatenate(([0], breaks))]
    keep_end = run_end[np.concatenate((breaks - 1, [run_start.size - 1]))]
    for s, e_ in zip(keep_start.tolist(), keep_end.tolist(), strict=True):
        out.add_run(s, e_)
