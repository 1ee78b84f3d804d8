"""Decode exit statuses: every plausible reading of a number, most likely first.

A process status is just a number; what it means depends on where it came
from. On Windows it is a 32-bit value that crashes fill with an NTSTATUS
(0xC0000005), and the same bits print as 3221225477 or -1073741819. On POSIX,
Python reports death by signal N as -N, and a shell reports it as 128+N.
``decode`` lists every reading; ``status_label`` picks the one for a known
platform. Both are pure: tables are imported, nothing is read at run time.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from flakehunt.triage import notes, signals
from flakehunt.triage.parse import Named, Parsed, parse_value


class Kind(str, enum.Enum):
    """Which convention a reading follows."""

    NTSTATUS = "ntstatus"
    HRESULT = "hresult"
    WIN32 = "win32"
    SIGNAL = "signal"  # Python's negative returncode: -N is death by signal N
    SHELL_SIGNAL = "shell-signal"  # a shell's 128+N for a child killed by signal N
    EXIT = "exit"
    WAIT_STATUS = "wait-status"  # a raw waitpid()/os.system() status
    FAST_FAIL = "fast-fail"


WINDOWS_KINDS = (Kind.NTSTATUS, Kind.HRESULT, Kind.WIN32, Kind.FAST_FAIL)
SEVERITIES = ("success", "informational", "warning", "error")


@dataclass(frozen=True)
class Reading:
    """One interpretation of a status: the convention, its value there, name and meaning."""

    kind: Kind
    value: int  # in the convention's own terms: unsigned 32-bit, signal number, exit code
    name: str  # "" when the convention has no name for this value
    description: str
    details: Mapping[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    platform: str = ""  # "windows", "linux", "macos" or "" (any POSIX)

    @property
    def label(self) -> str:
        """Return the short form people expect, e.g. ``0xC0000005 STATUS_ACCESS_VIOLATION``."""
        if self.kind in (Kind.NTSTATUS, Kind.HRESULT):
            return f"0x{self.value:08X} {self.name}".rstrip()
        if self.kind is Kind.SIGNAL:
            return f"{self.name or 'signal ' + str(self.value)} (-{self.value})"
        if self.kind is Kind.SHELL_SIGNAL:
            return f"exit {self.value} ({self.name} by shell convention?)"
        if self.kind is Kind.WAIT_STATUS:
            return f"wait status {self.value} = {self.details.get('means', '')}".rstrip(" =")
        if self.kind is Kind.EXIT:
            return f"exit {self.value}"
        return f"{self.name} ({self.value})" if self.name else str(self.value)


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[int, tuple[str, ...]], ...]:
    from flakehunt.triage import fastfail_table, ntstatus_table, winerror_table

    nt = dict(ntstatus_table.NTSTATUS)
    for value, name in notes.EXTRA_CODES.items():
        nt.setdefault(value, (name,))
    return nt, winerror_table.HRESULTS, winerror_table.WIN32_ERRORS, fastfail_table.FAST_FAIL


def _facility(table: Mapping[int, tuple[str, ...]], num: int) -> str:
    names = table.get(num)
    return f"0x{num:03X} {names[0]}" if names else f"0x{num:03X}"


def _numbers(u: int) -> dict[str, str]:
    signed = u - (1 << 32) if u & 0x80000000 else u
    return {"hex": f"0x{u:08X}", "unsigned": str(u), "signed": str(signed)}


def ntstatus_reading(u: int, *, fast_fail_code: int | None = None) -> Reading:
    """Read *u* as an NTSTATUS: severity, customer bit, facility and code."""
    from flakehunt.triage import ntstatus_table

    nt = _tables()[0]
    names = nt.get(u, ())
    details = {
        **_numbers(u),
        "severity": SEVERITIES[u >> 30],
        "customer": "1 (defined by an application, not Microsoft)" if u & 0x20000000 else "0",
        "facility": _facility(ntstatus_table.NT_FACILITIES, (u >> 16) & 0xFFF),
        "code": f"0x{u & 0xFFFF:04X}",
    }
    if fast_fail_code is not None:
        details["fail-fast"] = fast_fail_reading(fast_fail_code).label
    desc = notes.WINDOWS.get(u) or (notes.from_name(names[0]) if names else "no name known")
    return Reading(Kind.NTSTATUS, u, names[0] if names else "", desc, details, names[1:], "windows")


def hresult_reading(u: int) -> Reading:
    """Read *u* as an HRESULT, naming the Win32 error or NTSTATUS it wraps."""
    from flakehunt.triage import winerror_table

    nt, hres, win32, _ = _tables()
    names = hres.get(u, ())
    facility = (u >> 16) & 0x7FF
    details = {
        **_numbers(u),
        "severity": "failure" if u & 0x80000000 else "success",
        "customer": "1" if u & 0x20000000 else "0",
        "facility": _facility(winerror_table.HRESULT_FACILITIES, facility),
        "code": f"0x{u & 0xFFFF:04X}",
    }
    if u & 0x10000000 and (u & ~0x10000000) in nt:  # HRESULT_FROM_NT sets bit 28
        details["wraps"] = f"NTSTATUS 0x{u & ~0x10000000:08X} {nt[u & ~0x10000000][0]}"
    elif facility == 7 and (u & 0xFFFF) in win32:  # FACILITY_WIN32: HRESULT_FROM_WIN32
        details["wraps"] = f"Win32 {win32[u & 0xFFFF][0]} ({u & 0xFFFF})"
    desc = notes.WINDOWS.get(u) or (notes.from_name(names[0]) if names else "")
    desc = desc or ("wraps " + details["wraps"] if "wraps" in details else "no name known")
    return Reading(Kind.HRESULT, u, names[0] if names else "", desc, details, names[1:], "windows")


def win32_reading(code: int) -> Reading:
    """Read *code* as a Win32 error code (GetLastError)."""
    names = _tables()[2].get(code, ())
    hr = code if code == 0 else (code & 0xFFFF) | 0x80070000
    desc = notes.WIN32.get(code) or (notes.from_name(names[0]) if names else "no name known")
    details = {
        "as HRESULT": f"0x{hr:08X}",
        "convention": "a Windows program that exits with its GetLastError() code",
    }
    return Reading(Kind.WIN32, code, names[0] if names else "", desc, details, names[1:], "windows")


def fast_fail_reading(code: int) -> Reading:
    """Read *code* as a __fastfail code (from a crash dump's exception record)."""
    names = _tables()[3].get(code & 0xFFFFFFFF, ())
    name = names[0] if names else ""
    desc = notes.FAST_FAIL.get(name) or (notes.from_name(name) if name else "unknown code")
    details = {
        "raised as": "0xC0000409 STATUS_STACK_BUFFER_OVERRUN (Windows 8 and later)",
        "where": "first parameter of the exception record in a crash dump",
    }
    return Reading(Kind.FAST_FAIL, code, name, desc, details, names[1:], "windows")


def _signal_readings(num: int, kind: Kind, shown: int) -> list[Reading]:
    """Return one reading per distinct name of signal *num* (Linux vs macOS/BSD)."""
    here = signals.table_for("posix")
    order = ["linux", "bsd"] if here == "linux" else ["bsd", "linux"]
    found: dict[str, list[str]] = {}
    for which in order:
        name = signals.signal_name(num, "macos" if which == "bsd" else "linux")
        if name is not None:
            found.setdefault(name, []).append("macos" if which == "bsd" else "linux")
    out = []
    for name, plats in found.items():
        plat = "" if len(plats) == 2 else plats[0]
        how = (
            "death by signal, as Python reports it (-N)"
            if kind is Kind.SIGNAL
            else f"a shell reports a child killed by signal {num} as 128+{num}"
        )
        details = {"signal": str(num), "convention": how}
        if plat:
            details["platform"] = "Linux" if plat == "linux" else "macOS and BSD"
        value = num if kind is Kind.SIGNAL else shown
        out.append(Reading(kind, value, name, signals.describe(name), details, (), plat))
    return out


def _exit_reading(code: int) -> Reading:
    desc = notes.EXIT.get(code, "the program's own exit code")
    details: dict[str, str] = {}
    if code > 255:
        details["note"] = "POSIX exit codes stop at 255: this came from Windows"
    return Reading(Kind.EXIT, code, "", desc, details)


def _from_number(v: int, *, fast_fail_code: int | None) -> list[tuple[int, Reading]]:
    """Return (score, reading) for every plausible reading of number *v*."""
    nt, hres, win32, _ = _tables()
    u = v & 0xFFFFFFFF
    out: list[tuple[int, Reading]] = []
    top = signals.max_signal("linux")
    if -top <= v < 0:
        out += [(90, r) for r in _signal_readings(-v, Kind.SIGNAL, v)]
    if 0 <= v <= 255:
        if 128 < v <= 128 + top:
            out += [(85, r) for r in _signal_readings(v - 128, Kind.SHELL_SIGNAL, v)]
        out.append((80, _exit_reading(v)))
        if v and v in win32:
            out.append((30, win32_reading(v)))
    elif 256 <= v <= 0xFFFF:
        if v & 0x7F == 0:  # waitpid: exit code in the high byte
            r = Reading(
                Kind.WAIT_STATUS,
                v,
                "",
                "a raw status from waitpid() or os.system()",
                {"means": f"exit {v >> 8}"},
            )
            out.append((60, r))
        if v in win32:
            out.append((50, win32_reading(v)))
        out.append((40, _exit_reading(v)))
    if u > 0xFFFF:
        if u in nt:
            out.append((95, ntstatus_reading(u, fast_fail_code=fast_fail_code)))
        if u in hres:
            out.append((92, hresult_reading(u)))
            if (u >> 16) & 0x7FF == 7 and (u & 0xFFFF) in win32:
                out.append((91, win32_reading(u & 0xFFFF)))
        elif u & 0x10000000 and (u & ~0x10000000) in nt:
            out.append((70, hresult_reading(u)))
        elif (u >> 16) & 0x7FFF == 0x8007 and (u & 0xFFFF) in win32:
            out.append((88, hresult_reading(u)))
            out.append((87, win32_reading(u & 0xFFFF)))
        if not out:  # nothing named: show the structure in both conventions
            if u >> 30:
                out.append((20, ntstatus_reading(u, fast_fail_code=fast_fail_code)))
            if u & 0x80000000:
                out.append((19, hresult_reading(u)))
    if not out:
        out.append((10, _exit_reading(u)))
    return out


def _from_names(names: tuple[Named, ...], *, fast_fail_code: int | None) -> list[Reading]:
    out: list[Reading] = []
    for n in names:
        if n.table == "ntstatus":
            out.append(ntstatus_reading(n.value, fast_fail_code=fast_fail_code))
        elif n.table == "hresult":
            out.append(hresult_reading(n.value))
            if (n.value >> 16) & 0x7FF == 7 and (n.value & 0xFFFF) in _tables()[2]:
                out.append(win32_reading(n.value & 0xFFFF))
        elif n.table == "win32":
            out.append(win32_reading(n.value))
            hr = (n.value & 0xFFFF) | 0x80070000
            if n.value and hr in _tables()[1]:
                out.append(hresult_reading(hr))
        elif n.table == "fast-fail":
            out.append(fast_fail_reading(n.value))
            out.append(ntstatus_reading(0xC0000409, fast_fail_code=n.value))
        else:
            out += _signal_readings(n.value, Kind.SIGNAL, -n.value)
            out += _signal_readings(n.value, Kind.SHELL_SIGNAL, 128 + n.value)
    # A name's own reading comes first; drop repeats of the same convention+value.
    seen: set[tuple[Kind, int, str]] = set()
    unique = []
    for r in out:
        if (r.kind, r.value, r.name) not in seen:
            seen.add((r.kind, r.value, r.name))
            unique.append(r)
    return unique


def _boost(platform: str | None, r: Reading) -> int:
    if not platform:
        return 0
    if r.kind is Kind.EXIT:  # every platform has plain exit codes
        return 100
    windows = platform.lower() == "windows"
    if (r.kind in WINDOWS_KINDS) == windows:
        if (
            not windows
            and r.platform
            and r.platform != ("macos" if signals.table_for(platform) == "bsd" else "linux")
        ):
            return 0
        return 100
    return 0


def decode(
    value: str | int, *, platform: str | None = None, fast_fail_code: int | None = None
) -> list[Reading]:
    """Return every plausible reading of *value*, most likely first.

    *platform* ("windows", "linux", "macos", "posix") puts that platform's
    readings first; *fast_fail_code* (from a crash dump) is attached to an
    NTSTATUS reading. Raises InputError naming the accepted forms.
    """
    parsed: Parsed = parse_value(value)
    if parsed.value is None:
        return _from_names(parsed.names, fast_fail_code=fast_fail_code)
    scored = _from_number(parsed.value, fast_fail_code=fast_fail_code)
    if parsed.also_hex is not None:
        # "80070005" is a decimal number too, but one that means nothing: prefer hex.
        as_hex = _from_number(parsed.also_hex, fast_fail_code=fast_fail_code)
        named = [(s, r) for s, r in as_hex if r.name]
        if named and not any(r.name for _, r in scored):
            scored = [(s + 10, r) for s, r in named] + scored
    ranked = sorted(scored, key=lambda sr: -(sr[0] + _boost(platform, sr[1])))
    return [r for _, r in ranked]


def status_label(
    returncode: int | None, platform: str = "posix", *, fast_fail_code: int | None = None
) -> str:
    """Return the primary human reading of *returncode* for a run on *platform*."""
    if returncode is None:
        return "no status"
    if platform.lower() == "windows":
        u = returncode & 0xFFFFFFFF
        if u <= 0xFFFF:
            return f"exit {u}"
        scored = _from_number(returncode, fast_fail_code=fast_fail_code)
        ranked = sorted(scored, key=lambda sr: -sr[0])
        for _score, r in ranked:
            if r.kind in (Kind.NTSTATUS, Kind.HRESULT) and r.name:
                label = r.label
                if fast_fail_code is not None and r.kind is Kind.NTSTATUS:
                    label += f" ({fast_fail_reading(fast_fail_code).name or fast_fail_code})"
                return label
        return f"0x{u:08X}"
    if returncode < 0:
        name = signals.signal_name(-returncode, platform)
        return f"{name or 'signal ' + str(-returncode)} ({returncode})"
    if 128 < returncode <= 128 + signals.max_signal(platform):
        name = signals.signal_name(returncode - 128, platform)
        if name is not None:
            return f"exit {returncode} ({name} by shell convention?)"
    if returncode == 127:
        return "exit 127 (command not found?)"
    if returncode == 126:
        return "exit 126 (not executable?)"
    return f"exit {returncode}"
