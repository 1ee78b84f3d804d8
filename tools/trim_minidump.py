#!/usr/bin/env python3
"""Trim a full-memory minidump to the memory of the modules named, to commit it.

Wine's MiniDumpWriteDump ignores MiniDumpWithCodeSegs, so the fixture program
writes a full-memory dump (about 100 MB); this keeps every stream as Wine wrote
it and rewrites only the Memory64ListStream to list the ranges inside the named
modules (and their bytes), so the fixture is a few hundred KB.

Usage: trim_minidump.py IN.dmp OUT.dmp MODULE_BASENAME...
"""

from __future__ import annotations

import struct
import sys


def main(argv: list[str]) -> int:
    src, dst, *names = argv
    with open(src, "rb") as f:
        data = f.read()
    assert data[:4] == b"MDMP", "not a minidump"
    nstreams, dir_rva = struct.unpack_from("<II", data, 8)
    streams = {}
    for i in range(nstreams):
        stype, size, rva = struct.unpack_from("<III", data, dir_rva + 12 * i)
        streams[stype] = (i, size, rva)
    # Module ranges to keep.
    keep = []
    _, _, mrva = streams[4]
    (nmod,) = struct.unpack_from("<I", data, mrva)
    for i in range(nmod):
        base, size, _c, _t, name_rva = struct.unpack_from("<QIIII", data, mrva + 4 + 108 * i)
        (nlen,) = struct.unpack_from("<I", data, name_rva)
        name = data[name_rva + 4 : name_rva + 4 + nlen].decode("utf-16-le")
        if name.replace("\\", "/").rsplit("/", 1)[-1].lower() in {n.lower() for n in names}:
            keep.append((base, base + size))
    index, _, rva = streams[9]
    n, base_rva = struct.unpack_from("<QQ", data, rva)
    # Every other stream must lie before the raw memory, which we cut off.
    for stype, (_i, size, srva) in streams.items():
        assert stype == 9 or srva + size <= base_rva, f"stream {stype} after memory"
    ranges = []
    offset = base_rva
    for i in range(n):
        start, size = struct.unpack_from("<QQ", data, rva + 16 + 16 * i)
        if any(start < e and start + size > s for s, e in keep):
            ranges.append((start, data[offset : offset + size]))
        offset += size
    out = bytearray(data[:base_rva])
    struct.pack_into("<QQ", out, rva, len(ranges), base_rva)
    for i, (start, blob) in enumerate(ranges):
        struct.pack_into("<QQ", out, rva + 16 + 16 * i, start, len(blob))
    struct.pack_into("<I", out, dir_rva + 12 * index + 4, 16 + 16 * len(ranges))
    for _start, blob in ranges:
        out += blob
    with open(dst, "wb") as f:
        f.write(out)
    print(f"{dst}: {len(ranges)} ranges, {len(out):,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
