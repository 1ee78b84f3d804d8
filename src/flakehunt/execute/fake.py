"""A fake executor: programmed outcomes, no processes (scheduler tests in ms)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from flakehunt.campaign.model import Attempt, AttemptResult

# Given an attempt, return (returncode, output bytes written to its log).
Behaviour = Callable[[Attempt], tuple[int | None, bytes]]


@dataclass
class FakeExecutor:
    """Answer each attempt with ``behaviour(attempt)``; remember every attempt."""

    behaviour: Behaviour
    platform: str = "posix"
    host: str = "fakehost"
    delay: float = 0.0
    start_error: Callable[[Attempt], str | None] = lambda a: None
    attempts: list[Attempt] = field(default_factory=list)
    started: bool = False
    closed: bool = False
    interrupted: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)
    on_spawn: Callable[[Attempt, int], None] | None = None

    def start(self) -> None:
        """Note that the scheduler started us."""
        self.started = True

    def set_spawn_listener(self, listener: Callable[[Attempt, int], None] | None) -> None:
        """Remember the listener; called with the fake pid of each attempt."""
        self.on_spawn = listener

    def marker_env(self) -> dict[str, str]:
        """No marker: fake runs are not processes."""
        return {}

    def execute(self, attempt: Attempt) -> AttemptResult:
        """Return the programmed result of *attempt* and write its output to the log."""
        with self._lock:
            self.attempts.append(attempt)
        began = time.time()
        error = self.start_error(attempt)
        if error is not None:
            return AttemptResult(
                attempt, began, 0.0, None, self.host, self.platform, start_error=error
            )
        if self.on_spawn is not None:
            self.on_spawn(attempt, 10_000 + attempt.seq)
        if self.delay:
            time.sleep(self.delay)
        code, output = self.behaviour(attempt)
        with open(attempt.log_path, "wb") as fh:
            fh.write(output)
        return AttemptResult(
            attempt,
            began,
            self.delay,
            code,
            self.host,
            self.platform,
            pid=10_000 + attempt.seq,
            interrupted=self.interrupted,
        )

    def interrupt(self, force: bool = False) -> None:
        """Mark later results interrupted, as a real executor would."""
        self.interrupted = True

    def close(self) -> None:
        """Note that the scheduler closed us."""
        self.closed = True
