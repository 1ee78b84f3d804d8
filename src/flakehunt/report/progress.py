"""Live progress: a rich panel on a terminal, plain status lines elsewhere.

Not a TTY, or ``CI`` set: one line every ``--status-every`` seconds, so CI logs
stay readable. ``NO_COLOR`` is honoured by rich itself.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import IO, Any

from flakehunt.campaign.events import Snapshot
from flakehunt.report.compare_table import pct
from flakehunt.stats.intervals import wilson
from flakehunt.units import format_duration


def status_line(snap: Snapshot) -> str:
    """Return one plain line describing *snap*."""
    lo, hi = wilson(snap.failures, snap.done)
    parts = [f"{snap.done:,} runs", f"{snap.failures:,} failed"]
    if snap.done:
        parts.append(f"rate {pct(snap.failures / snap.done)} [{pct(lo)}–{pct(hi)}]")
    parts.append(f"{snap.runs_per_s:,.1f} runs/s")
    parts.append(f"elapsed {format_duration(snap.elapsed)}")
    eta = eta_seconds(snap)
    if eta is not None:
        parts.append(f"eta {format_duration(eta)}")
    if snap.last_failure:
        parts.append(f"last failure: {snap.last_failure}")
    return "flakehunt: " + " · ".join(parts)


def eta_seconds(snap: Snapshot) -> float | None:
    """Return the time left when a bound is known (runs or duration), else None."""
    etas = []
    if snap.deadline_in is not None:
        etas.append(snap.deadline_in)
    if snap.planned is not None and snap.runs_per_s > 0:
        etas.append(max(0, snap.planned - snap.done) / snap.runs_per_s)
    return min(etas) if etas else None


class PlainProgress:
    """One status line every *every* seconds on *stream*."""

    def __init__(
        self, stream: IO[str], every: float = 5.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.stream = stream
        self.every = every
        self.clock = clock
        self._last = clock()

    def update(self, snap: Snapshot) -> None:
        """Print a line if *every* seconds have passed since the last one."""
        now = self.clock()
        if now - self._last >= self.every:
            self._last = now
            self._write(status_line(snap))

    def notice(self, text: str) -> None:
        """Print *text* at once."""
        self._write(f"flakehunt: {text}")

    def close(self, snap: Snapshot) -> None:
        """Print the final status line."""
        self._write(status_line(snap))

    def _write(self, line: str) -> None:
        try:
            self.stream.write(line + "\n")
            self.stream.flush()
        except (OSError, ValueError):
            pass  # a closed stderr must not stop the hunt


class RichProgress:
    """A live panel: counts, rate with interval, speed, ETA, signatures."""

    def __init__(self, stream: IO[str]) -> None:
        from rich.console import Console
        from rich.live import Live

        self.console = Console(file=stream, stderr=True)
        self.live = Live(console=self.console, auto_refresh=False, transient=False)
        self.live.start()
        self._last = 0.0

    def _render(self, snap: Snapshot) -> Any:
        from rich.markup import escape
        from rich.table import Table

        # Commands and failure titles are the user's text: "[id]" or "[bold]" in
        # them must print as written, not be read as rich markup.

        t = Table.grid(padding=(0, 2))
        t.add_column(style="bold")
        t.add_column()
        lo, hi = wilson(snap.failures, snap.done)
        t.add_row("campaign", f"{snap.campaign_id}  {escape(snap.title)}")
        runs = f"{snap.done:,}" + (f" / {snap.planned:,}" if snap.planned else "")
        t.add_row("runs", f"{runs}   ({snap.running} running)")
        fail_style = "red" if snap.failures else "green"
        rate = f"{pct(snap.failures / snap.done)} [{pct(lo)}–{pct(hi)}] 95%" if snap.done else "-"
        t.add_row("failures", f"[{fail_style}]{snap.failures:,}[/]   rate {rate}")
        eta = eta_seconds(snap)
        speed = f"{snap.runs_per_s:,.1f} runs/s   elapsed {format_duration(snap.elapsed)}"
        if eta is not None:
            speed += f"   eta {format_duration(eta)}"
        t.add_row("speed", speed)
        for sid, title, n in snap.signatures[:5]:
            t.add_row("signature", escape(f"[{sid}] {title}  x{n}"))
        if snap.last_failure:
            t.add_row("last failure", escape(snap.last_failure))
        return t

    def update(self, snap: Snapshot) -> None:
        """Redraw at most 10 times a second."""
        now = time.monotonic()
        if now - self._last >= 0.1:
            self._last = now
            self.live.update(self._render(snap), refresh=True)

    def notice(self, text: str) -> None:
        """Print *text* above the live panel."""
        self.console.print(f"flakehunt: {text}", markup=False, highlight=False)

    def close(self, snap: Snapshot) -> None:
        """Draw the last state and stop."""
        self.live.update(self._render(snap), refresh=True)
        self.live.stop()


def choose_progress(stream: IO[str], *, quiet: bool, every: float) -> Any:
    """Pick the display for *stream*: rich on a terminal, plain lines in CI or pipes."""
    from flakehunt.campaign.events import NullProgress

    if quiet:
        return NullProgress()
    is_tty = hasattr(stream, "isatty") and stream.isatty()
    if is_tty and not os.environ.get("CI") and os.environ.get("TERM") != "dumb":
        return RichProgress(stream)
    return PlainProgress(stream, every)
