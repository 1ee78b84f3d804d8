"""Parse and format the durations and sizes users type (``30m``, ``2GiB``)."""

from __future__ import annotations

import re

from flakehunt.errors import InputError

_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?")

_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "m": 1000**2,
    "mb": 1000**2,
    "g": 1000**3,
    "gb": 1000**3,
    "t": 1000**4,
    "tb": 1000**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}
_SIZE_RE = re.compile(r"(\d+(?:\.\d+)?)\s*([a-zA-Z]*)")


def parse_duration(text: str) -> float:
    """Return seconds for ``90``, ``1.5s``, ``250ms``, ``30m``, ``12h`` or ``1h30m``."""
    s = text.strip().lower()
    if not s:
        raise InputError("empty duration", "write e.g. 30s, 10m, 12h or 1h30m")
    pos = 0
    total = 0.0
    while pos < len(s):
        m = _DURATION_RE.match(s, pos)
        if m is None or m.end() == pos:
            raise InputError(
                f"cannot read duration {text!r}", "write e.g. 30s, 10m, 12h, 1h30m or 250ms"
            )
        unit = m.group(2) or "s"
        total += float(m.group(1)) * _DURATION_UNITS[unit]
        pos = m.end()
    return total


def parse_size(text: str) -> int:
    """Return bytes for ``2GiB``, ``500M``, ``64k`` or a plain number of bytes."""
    m = _SIZE_RE.fullmatch(text.strip())
    if m is None or m.group(2).lower() not in _SIZE_UNITS:
        raise InputError(f"cannot read size {text!r}", "write e.g. 64KiB, 500MB or 2GiB")
    return int(float(m.group(1)) * _SIZE_UNITS[m.group(2).lower()])


def format_duration(seconds: float) -> str:
    """Format seconds for people: ``850ms``, ``4.2s``, ``3m05s``, ``2h04m``."""
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, sec = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{sec:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def format_size(n: float) -> str:
    """Format bytes with binary units: ``512 B``, ``1.5 KiB``, ``2.0 GiB``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")
