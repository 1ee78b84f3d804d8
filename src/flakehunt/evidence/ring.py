"""A fixed-capacity ring of numpy records, ordered by time, safe across two threads."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np


class Ring:
    """Keep the last *capacity* records of *dtype* (first field must be ``t``)."""

    def __init__(self, dtype: np.dtype[Any], capacity: int) -> None:
        if capacity < 1:
            raise ValueError("ring capacity must be at least 1")
        self.data = np.zeros(capacity, dtype=dtype)
        self.capacity = capacity
        self.written = 0
        self._last_t: float | None = None  # read per run by the loop: no lock, no numpy
        self._lock = threading.Lock()

    @property
    def nbytes(self) -> int:
        """Return the memory the ring holds (fixed at construction)."""
        return int(self.data.nbytes)

    def append(self, row: tuple[Any, ...]) -> None:
        """Store one record, overwriting the oldest when full."""
        with self._lock:
            self.data[self.written % self.capacity] = row
            self.written += 1
            self._last_t = float(self.data[(self.written - 1) % self.capacity]["t"])

    def ordered(self) -> np.ndarray[Any, Any]:
        """Return a copy of the records held, oldest first."""
        with self._lock:
            if self.written <= self.capacity:
                out: np.ndarray[Any, Any] = self.data[: self.written].copy()
                return out
            cut = self.written % self.capacity
            return np.concatenate((self.data[cut:], self.data[:cut]))

    def latest_t(self) -> float | None:
        """Return the time of the newest record, or None when empty."""
        return self._last_t

    def between(self, start: float, end: float) -> np.ndarray[Any, Any]:
        """Return copies of the records with ``start <= t <= end``, oldest first."""
        with self._lock:
            if self.written <= self.capacity:
                segments = [self.data[: self.written]]
            else:
                cut = self.written % self.capacity
                segments = [self.data[cut:], self.data[:cut]]
            parts = []
            for seg in segments:  # each segment is sorted by t: no full copy needed
                lo = int(np.searchsorted(seg["t"], start, side="left"))
                hi = int(np.searchsorted(seg["t"], end, side="right"))
                if hi > lo:
                    parts.append(seg[lo:hi].copy())
        if not parts:
            return np.zeros(0, dtype=self.data.dtype)
        return parts[0] if len(parts) == 1 else np.concatenate(parts)
