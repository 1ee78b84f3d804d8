"""Parse what a user types as a status: decimal, hex, or a constant's name."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from flakehunt.errors import InputError

ACCEPTED = (
    "decimal, signed or unsigned 32-bit (-1073741819, 3221225477, 139, -11), "
    "hex with or without 0x (0xC0000005, C0000005), or a name (STATUS_ACCESS_VIOLATION, "
    "SIGSEGV, ERROR_ACCESS_DENIED, E_ACCESSDENIED, FAST_FAIL_GUARD_ICALL_CHECK_FAILURE)"
)

_DECIMAL = re.compile(r"[+-]?\d+")
_HEX = re.compile(r"([+-]?)(?:0[xX])([0-9A-Fa-f]+)")
_BARE_HEX = re.compile(r"[0-9A-Fa-f]+")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_+]*")

MIN_VALUE = -(2**31)
MAX_VALUE = 2**32 - 1


@dataclass(frozen=True)
class Named:
    """A name found in a table: which table, and its value there."""

    table: str  # "ntstatus" | "hresult" | "win32" | "signal" | "fast-fail"
    name: str
    value: int


@dataclass(frozen=True)
class Parsed:
    """A parsed input: a number, or the names it matched, and how it was read."""

    text: str
    value: int | None  # the number as written (signed decimal stays negative)
    names: tuple[Named, ...] = ()
    also_hex: int | None = None  # 8 decimal digits might have been meant as hex
    read_as: str = "decimal"  # "decimal" | "hex" | "name"


@lru_cache(maxsize=1)
def _name_index() -> dict[str, tuple[Named, ...]]:
    from flakehunt.triage import fastfail_table, ntstatus_table, winerror_table
    from flakehunt.triage.notes import EXTRA_CODES

    index: dict[str, list[Named]] = {}
    tables = (
        ("ntstatus", ntstatus_table.NTSTATUS),
        ("hresult", winerror_table.HRESULTS),
        ("win32", winerror_table.WIN32_ERRORS),
        ("fast-fail", fastfail_table.FAST_FAIL),
    )
    for table, codes in tables:
        for value, names in codes.items():
            for name in names:
                index.setdefault(name.upper(), []).append(Named(table, name, value))
    for value, name in EXTRA_CODES.items():
        index.setdefault(name, []).append(Named("ntstatus", name, value))
    return {k: tuple(v) for k, v in index.items()}


def _check_range(text: str, value: int) -> int:
    if not MIN_VALUE <= value <= MAX_VALUE:
        raise InputError(
            f"{text!r} does not fit in 32 bits",
            f"exit statuses are 32-bit: give {ACCEPTED}",
        )
    return value


def parse_value(raw: str | int) -> Parsed:
    """Parse *raw* into a number or a set of table names; raise InputError if neither."""
    if isinstance(raw, bool):
        raise InputError(f"{raw!r} is not a status", f"give {ACCEPTED}")
    if isinstance(raw, int):
        return Parsed(str(raw), _check_range(str(raw), raw))
    text = raw.strip()
    if _DECIMAL.fullmatch(text):
        value = _check_range(text, int(text, 10))
        digits = text.lstrip("+-")
        also = int(digits, 16) if len(digits) == 8 and not text.startswith("-") else None
        return Parsed(text, value, also_hex=also)
    m = _HEX.fullmatch(text)
    if m:
        value = int(m.group(2), 16)
        if m.group(1) == "-":
            value = -value
        return Parsed(text, _check_range(text, value), read_as="hex")
    upper = text.upper()
    found = _name_index().get(upper, ())
    from flakehunt.triage import signals

    signum = signals.signal_number(upper) if _NAME.fullmatch(text) else None
    if signum is None and _NAME.fullmatch(text) and upper.startswith("SIG"):
        for plat in ("linux", "macos"):
            signum = signum or signals.signal_number(upper, plat)
    if signum is not None and (upper.startswith("SIG") or not found):
        sig_name = upper if upper.startswith("SIG") else "SIG" + upper
        found = (*found, Named("signal", sig_name, signum))
    if found:
        return Parsed(text, None, names=found, read_as="name")
    if _BARE_HEX.fullmatch(text):
        return Parsed(text, _check_range(text, int(text, 16)), read_as="hex")
    raise InputError(f"cannot read {raw!r} as an exit status", f"give {ACCEPTED}")
