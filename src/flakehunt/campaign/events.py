"""What the scheduler tells the outside world while and after it runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class VariantCounts:
    """Counted runs and failures of one variant."""

    runs: int = 0
    failures: int = 0


@dataclass(frozen=True)
class Snapshot:
    """The state of a running campaign, for progress displays."""

    campaign_id: int
    title: str
    done: int  # counted runs recorded in this invocation and before (for --resume)
    failures: int
    ignored: int
    interrupted: int
    elapsed: float
    runs_per_s: float
    planned: int | None  # total counted runs the campaign is bounded to, if known
    deadline_in: float | None  # seconds left under --duration
    last_failure: str | None
    signatures: tuple[tuple[str, str, int], ...] = ()
    per_variant: tuple[tuple[str, VariantCounts], ...] = ()
    running: int = 0
    notice: str | None = None


class ProgressSink(Protocol):
    """Receives snapshots; renders them live. Never raises into the scheduler."""

    def update(self, snap: Snapshot) -> None:
        """Show the newest state (called often; rate-limit inside)."""

    def notice(self, text: str) -> None:
        """Tell the user something once (evidence cap reached, run left running)."""

    def close(self, snap: Snapshot) -> None:
        """Final state; stop live rendering."""


@dataclass
class NullProgress:
    """A sink that shows nothing (``--quiet``, tests)."""

    notices: list[str] = field(default_factory=list)

    def update(self, snap: Snapshot) -> None:
        """Ignore."""

    def notice(self, text: str) -> None:
        """Remember, for tests."""
        self.notices.append(text)

    def close(self, snap: Snapshot) -> None:
        """Ignore."""
