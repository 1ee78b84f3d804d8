"""One thread that enforces every run's deadline (cheaper than a timer per run)."""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable


class Watchdog:
    """Call each registered callback once its deadline passes, unless cancelled."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._heap: list[tuple[float, int]] = []
        self._callbacks: dict[int, Callable[[], None]] = {}
        self._ids = itertools.count()
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="flakehunt-watchdog", daemon=True)
        self._thread.start()

    def add(self, deadline: float, callback: Callable[[], None]) -> int:
        """Arrange for *callback* at monotonic time *deadline*; return a cancel token."""
        with self._cond:
            token = next(self._ids)
            self._callbacks[token] = callback
            heapq.heappush(self._heap, (deadline, token))
            if self._heap[0][1] == token:
                self._cond.notify()
            return token

    def cancel(self, token: int) -> None:
        """Forget a callback that has not fired (a no-op if it already did)."""
        with self._cond:
            self._callbacks.pop(token, None)

    def close(self) -> None:
        """Stop the thread; pending callbacks never fire."""
        with self._cond:
            self._closed = True
            self._callbacks.clear()
            self._cond.notify()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._closed:
                    while self._heap and self._heap[0][1] not in self._callbacks:
                        heapq.heappop(self._heap)  # cancelled
                    if not self._heap:
                        self._cond.wait()
                        continue
                    wait = self._heap[0][0] - self._clock()
                    if wait <= 0:
                        break
                    self._cond.wait(wait)
                if self._closed:
                    return
                _, token = heapq.heappop(self._heap)
                callback = self._callbacks.pop(token)
            callback()  # outside the lock: callbacks may take a while (kill grace)
