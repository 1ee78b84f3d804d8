#!/usr/bin/env python3
"""Generate flakehunt's Windows status tables from the mingw-w64 headers.

Usage: python tools/gen_status_tables.py [--include DIR] [--check]

Reads ntstatus.h, winerror.h, winnt.h and minwinbase.h (Debian package
``mingw-w64-common``, /usr/share/mingw-w64/include; those files say they are
placed in the public domain) and writes three committed modules, so flakehunt
needs no header at run time:

* src/flakehunt/triage/ntstatus_table.py  NTSTATUS value -> names, NT facilities
* src/flakehunt/triage/winerror_table.py  Win32 error and HRESULT value -> names
* src/flakehunt/triage/fastfail_table.py  __fastfail code -> names

``--check`` regenerates in memory and exits 1 if a committed module differs
(CI can run it where the headers are installed).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "flakehunt" / "triage"
DEFAULT_INCLUDE = Path("/usr/share/mingw-w64/include")

DEFINE = re.compile(r"^\s*#\s*define\s+([A-Za-z_]\w*)\s+(.+?)\s*(?:/\*.*|//.*)?$")
# Value spellings used by these headers.
INT = r"(0[xX][0-9A-Fa-f]+|\d+)[uUlL]*"
FORMS = [
    ("ntstatus", re.compile(rf"^\(\(NTSTATUS\)\s*{INT}\s*\)$")),
    ("hresult", re.compile(rf"^_HRESULT_TYPEDEF_\(\s*{INT}\s*\)$")),
    ("hresult", re.compile(rf"^\(\(HRESULT\)\s*{INT}\s*\)$")),
    ("long", re.compile(rf"^__MSABI_LONG\(\s*{INT}\s*\)$")),
    ("plain", re.compile(rf"^\(?\s*{INT}\s*\)?$")),
]
FROM_WIN32 = re.compile(r"^HRESULT_FROM_WIN32\(\s*([A-Za-z_]\w*)\s*\)$")
BASE_PLUS = re.compile(rf"^\(\s*([A-Za-z_]\w*)\s*\+\s*{INT}\s*\)$")
ALIAS = re.compile(r"^([A-Za-z_]\w*)$")

# Codes newer than the mingw-w64 winnt.h installed here (it stops at 9). The
# numbers are the documented values of Microsoft's Windows SDK winnt.h
# (FAST_FAIL_* constants, __fastfail documentation); names and numbers only.
FAST_FAIL_SUPPLEMENT: dict[str, int] = {
    "FAST_FAIL_GUARD_ICALL_CHECK_FAILURE": 10,
    "FAST_FAIL_GUARD_WRITE_CHECK_FAILURE": 11,
    "FAST_FAIL_INVALID_FIBER_SWITCH": 12,
    "FAST_FAIL_INVALID_SET_OF_CONTEXT": 13,
    "FAST_FAIL_INVALID_REFERENCE_COUNT": 14,
    "FAST_FAIL_INVALID_JUMP_BUFFER": 18,
    "FAST_FAIL_MRDATA_MODIFIED": 19,
    "FAST_FAIL_CERTIFICATION_FAILURE": 20,
    "FAST_FAIL_INVALID_EXCEPTION_CHAIN": 21,
    "FAST_FAIL_CRYPTO_LIBRARY": 22,
    "FAST_FAIL_INVALID_CALL_IN_DLL_CALLOUT": 23,
    "FAST_FAIL_INVALID_IMAGE_BASE": 24,
    "FAST_FAIL_DLOAD_PROTECTION_FAILURE": 25,
    "FAST_FAIL_UNSAFE_EXTENSION_CALL": 26,
    "FAST_FAIL_DEPRECATED_SERVICE_INVOKED": 27,
    "FAST_FAIL_INVALID_BUFFER_ACCESS": 28,
    "FAST_FAIL_INVALID_BALANCED_TREE": 29,
    "FAST_FAIL_INVALID_NEXT_THREAD": 30,
    "FAST_FAIL_GUARD_ICALL_CHECK_SUPPRESSED": 31,
    "FAST_FAIL_APCS_DISABLED": 32,
    "FAST_FAIL_INVALID_IDLE_STATE": 33,
    "FAST_FAIL_MRDATA_PROTECTION_FAILURE": 34,
    "FAST_FAIL_UNEXPECTED_HEAP_EXCEPTION": 35,
    "FAST_FAIL_INVALID_LOCK_STATE": 36,
    "FAST_FAIL_GUARD_JUMPTABLE": 37,
    "FAST_FAIL_INVALID_LONGJUMP_TARGET": 38,
    "FAST_FAIL_INVALID_DISPATCH_CONTEXT": 39,
    "FAST_FAIL_INVALID_THREAD": 40,
    "FAST_FAIL_INVALID_SYSCALL_NUMBER": 41,
    "FAST_FAIL_INVALID_FILE_OPERATION": 42,
    "FAST_FAIL_LPAC_ACCESS_DENIED": 43,
    "FAST_FAIL_GUARD_SS_FAILURE": 44,
    "FAST_FAIL_LOADER_CONTINUITY_FAILURE": 45,
    "FAST_FAIL_GUARD_EXPORT_SUPPRESSION_FAILURE": 46,
    "FAST_FAIL_INVALID_CONTROL_STACK": 47,
    "FAST_FAIL_SET_CONTEXT_DENIED": 48,
    "FAST_FAIL_INVALID_IAT": 49,
    "FAST_FAIL_HEAP_METADATA_CORRUPTION": 50,
    "FAST_FAIL_PAYLOAD_RESTRICTION_VIOLATION": 51,
    "FAST_FAIL_LOW_LABEL_ACCESS_DENIED": 52,
    "FAST_FAIL_ENCLAVE_CALL_FAILURE": 53,
    "FAST_FAIL_UNHANDLED_LSS_EXCEPTON": 54,  # sic: the SDK spells it so
    "FAST_FAIL_ADMINLESS_ACCESS_DENIED": 55,
    "FAST_FAIL_UNEXPECTED_CALL": 56,
    "FAST_FAIL_CONTROL_INVALID_RETURN_ADDRESS": 57,
    "FAST_FAIL_UNEXPECTED_HOST_BEHAVIOR": 58,
    "FAST_FAIL_FLAGS_CORRUPTION": 59,
    "FAST_FAIL_VEH_CORRUPTION": 60,
    "FAST_FAIL_ETW_CORRUPTION": 61,
    "FAST_FAIL_RIO_ABORT": 62,
    "FAST_FAIL_INVALID_PFN": 63,
    "FAST_FAIL_GUARD_ICALL_CHECK_FAILURE_XFG": 64,
    "FAST_FAIL_CAST_GUARD": 65,
    "FAST_FAIL_HOST_VISIBILITY_CHANGE": 66,
    "FAST_FAIL_KERNEL_CET_SHADOW_STACK_ASSIST": 67,
    "FAST_FAIL_PATCH_CALLBACK_FAILED": 68,
    "FAST_FAIL_NTDLL_PATCH_FAILED": 69,
    "FAST_FAIL_INVALID_FLS_DATA": 70,
}

# Names in winerror.h that are range markers or bit-field constants, not codes.
NOT_A_CODE = re.compile(
    r"^(FACILITY_|SEVERITY_|__|WSABASEERR$)|_BASE$|_FIRST$|_LAST$|^NOERROR$|^NO_ERROR$"
)


def defines(path: Path) -> Iterable[tuple[str, str]]:
    """Yield (name, body) for every object-like #define in *path*."""
    for line in path.read_text(encoding="latin-1").splitlines():
        m = DEFINE.match(line)
        if m and "(" not in m.group(1):
            yield m.group(1), m.group(2).strip()


def literal(body: str) -> tuple[str, int] | None:
    """Return (form, value) when *body* is a literal in one of the known spellings."""
    for form, rx in FORMS:
        m = rx.match(body)
        if m:
            return form, int(m.group(1), 0) & 0xFFFFFFFF
    return None


def add(table: dict[int, list[str]], value: int, name: str) -> None:
    names = table.setdefault(value, [])
    if name not in names:
        names.append(name)


def read_ntstatus(include: Path) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    """Return (NTSTATUS value -> names, NT facility -> names)."""
    codes: dict[int, list[str]] = {}
    facilities: dict[int, list[str]] = {}
    by_name: dict[str, int] = {}
    for name, body in defines(include / "ntstatus.h"):
        lit = literal(body)
        if lit is None:
            continue
        form, value = lit
        if name.startswith("FACILITY_"):
            add(facilities, value, name)
        elif form == "ntstatus":
            if name in by_name and by_name[name] != value:
                raise SystemExit(f"ntstatus.h: {name} defined twice with different values")
            by_name[name] = value
            add(codes, value, name)
    # minwinbase.h: EXCEPTION_ACCESS_VIOLATION and friends alias STATUS_ names.
    for name, body in defines(include / "minwinbase.h"):
        if name.startswith("EXCEPTION_") and body in by_name:
            add(codes, by_name[body], name)
    return codes, facilities


def read_winerror(
    include: Path,
) -> tuple[dict[int, list[str]], dict[int, list[str]], dict[int, list[str]]]:
    """Return (Win32 code -> names, HRESULT -> names, HRESULT facility -> names)."""
    win32: dict[int, list[str]] = {}
    hresult: dict[int, list[str]] = {}
    facilities: dict[int, list[str]] = {}
    values: dict[str, tuple[str, int]] = {}
    pending: list[tuple[str, str]] = []
    for name, body in defines(include / "winerror.h"):
        lit = literal(body)
        if lit is not None:
            values[name] = lit
        else:
            pending.append((name, body))
    # Resolve HRESULT_FROM_WIN32(ERROR_X), (BASE + N) and plain aliases; the
    # header only ever refers backwards, but loop until nothing changes anyway.
    changed = True
    while changed:
        changed = False
        for name, body in list(pending):
            m_w = FROM_WIN32.match(body)
            m_b = BASE_PLUS.match(body)
            m_a = ALIAS.match(body)
            got: tuple[str, int] | None = None
            if m_w and m_w.group(1) in values:
                code = values[m_w.group(1)][1]
                # HRESULT_FROM_WIN32 rule as written in winerror.h.
                got = ("hresult", code if code == 0 else (code & 0xFFFF) | 0x80070000)
            elif m_b and m_b.group(1) in values:
                got = (values[m_b.group(1)][0], values[m_b.group(1)][1] + int(m_b.group(2), 0))
            elif m_a and m_a.group(1) in values:
                got = values[m_a.group(1)]
            if got is not None:
                values[name] = got
                pending.remove((name, body))
                changed = True
    for name, (form, value) in values.items():
        if name.startswith("FACILITY_"):
            if value <= 0x7FF:  # FACILITY_NT_BIT is a flag, not a facility
                add(facilities, value, name)
        elif NOT_A_CODE.search(name):
            continue
        elif form == "hresult" or value > 0xFFFF:
            add(hresult, value, name)
        else:
            add(win32, value, name)
    return win32, hresult, facilities


def read_fastfail(include: Path) -> tuple[dict[int, list[str]], set[str]]:
    """Return (fail-fast code -> names, names read from the header)."""
    codes: dict[int, list[str]] = {}
    from_header: set[str] = set()
    for name, body in defines(include / "winnt.h"):
        if name.startswith("FAST_FAIL_"):
            lit = literal(body)
            if lit is not None:
                add(codes, lit[1], name)
                from_header.add(name)
    for name, value in FAST_FAIL_SUPPLEMENT.items():
        if name not in from_header:
            add(codes, value, name)
    return codes, from_header


HEADER = '''"""{doc}

GENERATED by tools/gen_status_tables.py from the mingw-w64 headers ({sources});
do not edit. Those headers state: "This file has no copyright assigned and is
placed in the Public Domain." Each value maps to its names in header order;
the first name is the primary one, the others are aliases of the same value.
"""

from __future__ import annotations

'''


def table_text(var: str, comment: str, table: dict[int, list[str]], width: int = 8) -> str:
    lines = [f"# {comment}", f"{var}: dict[int, tuple[str, ...]] = {{"]
    for value in sorted(table):
        names = ", ".join(f'"{n}"' for n in table[value])
        line = f"    0x{value:0{width}X}: ({names},),"
        if len(line) > 99:  # keep generated lines within the project's line length
            lines.append(f"    0x{value:0{width}X}: (")
            lines.extend(f'        "{n}",' for n in table[value])
            line = "    ),"
        lines.append(line)
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(include: Path) -> dict[Path, str]:
    """Return the text of every generated module, keyed by its path."""
    nt, nt_fac = read_ntstatus(include)
    win32, hres, hr_fac = read_winerror(include)
    ff, ff_header = read_fastfail(include)
    out: dict[Path, str] = {}
    out[OUT / "ntstatus_table.py"] = (
        HEADER.format(doc="NTSTATUS codes and NT facilities.", sources="ntstatus.h, minwinbase.h")
        + table_text("NTSTATUS", "NTSTATUS value -> names (EXCEPTION_* from minwinbase.h)", nt)
        + "\n"
        + table_text("NT_FACILITIES", "NTSTATUS facility (bits 16-27) -> names", nt_fac, 3)
    )
    out[OUT / "winerror_table.py"] = (
        HEADER.format(doc="Win32 errors, HRESULTs and HRESULT facilities.", sources="winerror.h")
        + table_text("WIN32_ERRORS", "Win32 error code -> names", win32, 4)
        + "\n"
        + table_text("HRESULTS", "HRESULT value -> names", hres)
        + "\n"
        + table_text("HRESULT_FACILITIES", "HRESULT facility (bits 16-26) -> names", hr_fac, 3)
    )
    supplement = sorted(n for v in ff.values() for n in v if n not in ff_header)
    out[OUT / "fastfail_table.py"] = (
        HEADER.format(doc="__fastfail codes (FAST_FAIL_*).", sources="winnt.h")
        + table_text("FAST_FAIL", "fail-fast code -> names", ff)
        + "\n# Not in the installed winnt.h; values as documented for the Windows SDK.\n"
        + "FROM_WINDOWS_SDK: frozenset[str] = frozenset({\n"
        + "".join(f'    "{n}",\n' for n in supplement)
        + "})\n"
    )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--include", type=Path, default=DEFAULT_INCLUDE)
    parser.add_argument("--check", action="store_true", help="fail if committed tables differ")
    args = parser.parse_args(argv)
    if not (args.include / "ntstatus.h").is_file():
        print(f"gen_status_tables: no ntstatus.h in {args.include} "
              "(install Debian package mingw-w64-common)", file=sys.stderr)
        return 2
    stale = []
    for path, text in render(args.include).items():
        if args.check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(path)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)} ({text.count(chr(10))} lines)")
    if stale:
        print("stale: " + ", ".join(str(p.relative_to(ROOT)) for p in stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
