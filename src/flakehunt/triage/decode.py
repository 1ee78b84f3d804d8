"""Decode exit statuses (minimal: POSIX signals and exit codes).

The triage work (issue 3) extends this with NTSTATUS/HRESULT tables; the
function ``status_label`` is the contract the rest of flakehunt uses.
"""

from __future__ import annotations

import signal


def _signal_name(num: int) -> str:
    try:
        return signal.Signals(num).name
    except ValueError:
        return f"signal {num}"


def status_label(returncode: int | None, platform: str = "posix") -> str:
    """Return the primary human reading of *returncode* for a run on *platform*."""
    if returncode is None:
        return "no status"
    if platform == "windows":
        return f"0x{returncode & 0xFFFFFFFF:08X}"
    if returncode < 0:
        return f"{_signal_name(-returncode)} ({returncode})"
    return f"exit {returncode}"
