"""The ``Executor`` protocol: where and how attempts run.

The scheduler calls ``execute`` from one thread per slot; the call blocks
until the attempt ended (or was abandoned under ``--no-kill``). A local process
pool, a Dask cluster and the fake used in tests all fit this shape.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from flakehunt.campaign.model import Attempt, AttemptResult


class Executor(Protocol):
    """Runs attempts; safe to call ``execute`` from several threads at once."""

    def start(self) -> None:
        """Prepare to run (start guards, watchdogs, connections)."""

    def marker_env(self) -> dict[str, str]:
        """Variables every attempt's environment must carry for this executor."""

    def set_spawn_listener(self, listener: Callable[[Attempt, int], None] | None) -> None:
        """Call *listener(attempt, pid)* right after each spawn (the flight recorder)."""

    def execute(self, attempt: Attempt) -> AttemptResult:
        """Run one attempt to its end and report what happened."""

    def interrupt(self, force: bool = False) -> None:
        """End every running attempt: TERM then KILL, or KILL at once if *force*."""

    def close(self) -> None:
        """Release everything; afterwards no process started by this executor lives."""
