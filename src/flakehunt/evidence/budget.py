"""The evidence byte cap: one shared budget that every kept file draws from."""

from __future__ import annotations

import threading

from flakehunt.units import format_size

DEFAULT_EVIDENCE_CAP = 2 * 1024**3


class EvidenceBudget:
    """Bytes left for evidence; thread-safe; the cap is announced once, not per file."""

    def __init__(self, cap_bytes: int | None = DEFAULT_EVIDENCE_CAP, used: int = 0) -> None:
        self.cap = cap_bytes  # None: unlimited
        self._used = used
        self._lock = threading.Lock()
        self._refused = 0
        self._told = False

    @property
    def used(self) -> int:
        """Return the bytes reserved so far."""
        with self._lock:
            return self._used

    @property
    def cap_reached(self) -> bool:
        """Whether anything was refused for want of room."""
        with self._lock:
            return self._refused > 0

    def remaining(self) -> int | None:
        """Return the bytes still available, or None when unlimited."""
        with self._lock:
            return None if self.cap is None else max(0, self.cap - self._used)

    def try_reserve(self, nbytes: int) -> bool:
        """Reserve *nbytes* if they fit under the cap; say False (and remember) if not."""
        with self._lock:
            if self.cap is None or self._used + nbytes <= self.cap:
                self._used += nbytes
                return True
            self._refused += 1
            return False

    def release(self, nbytes: int) -> None:
        """Give back bytes reserved for a file that was not written after all."""
        with self._lock:
            self._used = max(0, self._used - nbytes)

    def refusal_reason(self, nbytes: int) -> str:
        """Say why *nbytes* did not fit (for a record's reason field)."""
        left = self.remaining()
        return (
            f"{format_size(nbytes)} does not fit in the evidence cap "
            f"({format_size(left or 0)} of {format_size(self.cap or 0)} left)"
        )

    def take_notice(self) -> str | None:
        """Return a one-time message after the first refusal; None before and after."""
        with self._lock:
            if self._refused == 0 or self._told:
                return None
            self._told = True
            return (
                f"evidence cap of {format_size(self.cap or 0)} reached: larger evidence is "
                "no longer kept (raise it with --max-evidence)"
            )
