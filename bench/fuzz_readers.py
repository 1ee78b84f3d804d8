#!/usr/bin/env python3
"""Fuzz chkimg's readers with hypothesis: mutated dumps, cores and images.

Usage: python bench/fuzz_readers.py [--minutes 3] [--out DIR]

Seeds are the committed PE + minidump fixtures, the real noreturn.dmp when it
is present, this Python's own ELF executable, and a small ELF core built here.
Every input must either parse or raise a FlakehuntError (which the CLI turns
into one line and exit status 2). Any other exception is a bug: the input is
saved under --out and the script exits 1.
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from flakehunt.errors import FlakehuntError  # noqa: E402
from flakehunt.images.check import check_opened  # noqa: E402
from flakehunt.images.elf import ElfFile, file_build_id  # noqa: E402
from flakehunt.images.elfcore import parse_core  # noqa: E402
from flakehunt.images.memory import BytesSource  # noqa: E402
from flakehunt.images.minidump import parse_minidump  # noqa: E402


def small_core() -> bytes:
    """Build a little-endian ELF64 core: NT_PRSTATUS, NT_FILE and one PT_LOAD."""
    def note(name: bytes, ntype: int, desc: bytes) -> bytes:
        pad = lambda b: b + bytes(-len(b) % 4)  # noqa: E731
        return struct.pack("<III", len(name) + 1, len(desc), ntype) + pad(name + b"\0") + pad(desc)

    prstatus = struct.pack("<i", 11) + bytes(28) + struct.pack("<i", 42) + bytes(300)
    files = struct.pack("<QQ", 1, 4096) + struct.pack("<QQQ", 0x400000, 0x401000, 0) + b"/bin/x\0"
    notes = note(b"CORE", 1, prstatus) + note(b"CORE", 0x46494C45, files)
    phoff, nph = 64, 2
    note_off = phoff + 56 * nph
    load_off = (note_off + len(notes) + 4095) // 4096 * 4096
    eh = b"\x7fELF\x02\x01\x01" + bytes(9) + struct.pack(
        "<HHIQQQIHHHHHH", 4, 62, 1, 0, phoff, 0, 0, 64, 56, nph, 64, 0, 0)
    ph = struct.pack("<IIQQQQQQ", 4, 0, note_off, 0, 0, len(notes), 0, 4)
    ph += struct.pack("<IIQQQQQQ", 1, 5, load_off, 0x400000, 0, 4096, 4096, 4096)
    body = eh + ph + notes
    return body + bytes(load_off - len(body)) + b"\x7fELF" + bytes(4092)


def seeds() -> dict[str, bytes]:
    data = ROOT / "tests" / "data" / "chkimg"
    out = {p.name + "@" + p.parent.name: p.read_bytes()
           for p in sorted(data.glob("pe-*/*")) if p.suffix in (".dmp", ".exe", ".dll")}
    for shared in (ROOT.parent / "shared", ROOT.parent.parent / "shared"):
        dmp = shared / "data" / "blogstuff" / "ConfusingCrash" / "noreturn.dmp"
        if dmp.is_file():
            out["noreturn.dmp"] = dmp.read_bytes()
            break
    out["python-elf"] = Path(os.path.realpath(sys.executable)).read_bytes()[:200_000]
    out["core"] = small_core()
    return out


def exercise(data: bytes, tmp: Path) -> None:
    """Run the reader that the magic selects, as chkimg would."""
    if data[:4] == b"MDMP":
        t = parse_minidump(BytesSource(data), "fuzz.dmp")
        check_opened(t, [], [])
    elif data[:4] == b"\x7fELF":
        elf = ElfFile(BytesSource(data), "fuzz.elf")
        if elf.type == 4:
            check_opened(parse_core(BytesSource(data), "fuzz.core"), [], [])
        else:
            elf.sections()
            file_build_id(elf)
    elif data[:2] == b"MZ":
        from flakehunt.images.pe import load_pe, read_pe_identity

        p = tmp / "fuzz.exe"
        p.write_bytes(data)
        load_pe(p, read_pe_identity(p).image_base + 0x10000)


mutation = st.one_of(
    st.tuples(st.just("cut"), st.floats(0, 1)),
    st.tuples(st.just("flip"), st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)),
                                        min_size=1, max_size=16)),
    st.tuples(st.just("field"), st.floats(0, 1),
              st.sampled_from([0, 1, 0x7FFFFFFF, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF, 1 << 40])),
)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=3.0)
    ap.add_argument("--out", type=Path, default=Path("fuzz-failures"))
    args = ap.parse_args()
    corpus = seeds()
    names = sorted(corpus)
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / f"fuzz-readers-{os.getpid()}"
    tmp.mkdir(exist_ok=True)
    stats = {"inputs": 0, "clean errors": 0, "parsed": 0}
    failures: list[str] = []

    @settings(max_examples=500, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(names), st.lists(mutation, min_size=1, max_size=4))
    def one(name: str, mutations: list[tuple]) -> None:  # type: ignore[type-arg]
        data = bytearray(corpus[name])
        for m in mutations:
            if not data:
                break
            if m[0] == "cut":
                del data[int(m[1] * len(data)):]
            elif m[0] == "flip":
                for where, value in m[1]:
                    data[min(len(data) - 1, int(where * len(data)))] = value
            else:
                at = min(max(0, len(data) - 8), int(m[1] * len(data)))
                data[at : at + 8] = (m[2] & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "little")
        stats["inputs"] += 1
        try:
            exercise(bytes(data), tmp)
            stats["parsed"] += 1
        except FlakehuntError:
            stats["clean errors"] += 1
        except Exception:
            args.out.mkdir(exist_ok=True)
            path = args.out / f"crash-{len(failures)}-{name}"
            path.write_bytes(bytes(data))
            failures.append(f"{path}: {traceback.format_exc()}")

    deadline = time.monotonic() + args.minutes * 60
    while time.monotonic() < deadline and not failures:
        one()
    print(f"{stats['inputs']:,} inputs in {args.minutes:g} min from {len(names)} seeds: "
          f"{stats['parsed']:,} parsed, {stats['clean errors']:,} clean errors, "
          f"{len(failures)} crashes")
    for f in failures[:5]:
        print(f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
