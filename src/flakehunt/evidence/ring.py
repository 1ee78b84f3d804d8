"""A fixed-capacity ring of records, ordered by time, safe across two threads.

Records are stored as the tuples the recorder makes and become a numpy
structured array only when read (a failure's window, a telemetry file). numpy
is imported then, not when a campaign starts: importing it cost ~80 ms of every
``flakehunt run``'s start-up here, and a campaign that never fails never reads
its rings.
"""

from __future__ import annotations

import bisect
import functools
import threading
from collections.abc import Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

Fields = tuple[tuple[str, str], ...]  # numpy (name, format) pairs: f8, f4, i4, S<n>

_SIZES = {"f8": 8, "f4": 4, "i4": 4, "i8": 8}
_T = itemgetter(0)


def itemsize(fields: Fields) -> int:
    """Bytes of one record as a packed numpy structure of *fields*."""
    return sum(int(code[1:]) if code.startswith("S") else _SIZES[code] for _, code in fields)


@functools.lru_cache(maxsize=16)
def structured(fields: Fields) -> np.dtype[Any]:
    """The numpy dtype of *fields* (imports numpy)."""
    import numpy as np

    return np.dtype(list(fields))


class Ring:
    """Keep the last *capacity* records of *fields* (the first must be the time ``t``)."""

    def __init__(self, fields: Sequence[tuple[str, str]], capacity: int) -> None:
        if capacity < 1:
            raise ValueError("ring capacity must be at least 1")
        self.fields: Fields = tuple(fields)
        itemsize(self.fields)  # an unknown format fails here, not at the first read
        self.capacity = capacity
        self.written = 0
        self._rows: list[tuple[Any, ...]] = []  # grows to capacity, then is overwritten
        self._last_t: float | None = None  # read per run by the loop: no lock
        self._lock = threading.Lock()

    @property
    def dtype(self) -> np.dtype[Any]:
        """The records' numpy dtype."""
        return structured(self.fields)

    @property
    def nbytes(self) -> int:
        """Bytes the ring's records take at capacity, as packed structures."""
        return self.capacity * itemsize(self.fields)

    def append(self, row: tuple[Any, ...]) -> None:
        """Store one record, overwriting the oldest when full."""
        with self._lock:
            i = self.written % self.capacity
            if i == len(self._rows):
                self._rows.append(row)
            else:
                self._rows[i] = row
            self.written += 1
            self._last_t = float(row[0])

    def _segments(self) -> list[list[tuple[Any, ...]]]:
        """Copies of the stored rows in time order, as one or two sorted runs (locked)."""
        with self._lock:
            if self.written <= self.capacity:
                return [self._rows[:]]
            cut = self.written % self.capacity
            return [self._rows[cut:], self._rows[:cut]]

    def rows(self) -> list[tuple[Any, ...]]:
        """The records held, oldest first, as tuples (no numpy)."""
        segs = self._segments()
        return segs[0] if len(segs) == 1 else segs[0] + segs[1]

    def latest_t(self) -> float | None:
        """Return the time of the newest record, or None when empty."""
        return self._last_t

    def between(self, start: float, end: float) -> np.ndarray[Any, Any]:
        """Return the records with ``start <= t <= end``, oldest first."""
        picked: list[tuple[Any, ...]] = []
        for seg in self._segments():  # each is sorted by t: bisect, no scan
            lo = bisect.bisect_left(seg, start, key=_T)
            hi = bisect.bisect_right(seg, end, key=_T)
            picked += seg[lo:hi]
        return self._array(picked)

    def _array(self, rows: list[tuple[Any, ...]]) -> np.ndarray[Any, Any]:
        import numpy as np

        if not rows:
            return np.zeros(0, dtype=self.dtype)
        return np.array(rows, dtype=self.dtype)
