#!/usr/bin/env python3
"""Benchmark chkimg's diff engine against libc memcmp (ctypes), side by side.

Usage: python bench/chkimg_speed.py [--size 1GiB] [--repeat 3]

Compares an image pair that is identical, then one with 10% of its pages
zeroed. memcmp stops at the first difference and cannot say where the others
are, so the zeroed case is measured against one full memcmp pass over the
identical pair: the cost of reading both buffers once. Goals (issue 7): at
least 0.7x memcmp's throughput on identical data; no worse than 3x slower
with 10% of pages zeroed.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import os
import sys
import time
from collections.abc import Callable

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

from flakehunt.images.engine import PAGE, diff_bytes
from flakehunt.units import parse_size


def interleaved(fns: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Time every function once per round, *repeat* rounds; return each one's best.

    Interleaving keeps a busy machine's slow moments from favouring one side.
    """
    best = {name: float("inf") for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="1GiB", help="size of each image (default 1GiB)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    import numpy as np

    n = parse_size(args.size) // PAGE * PAGE
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    libc.memcmp.restype = ctypes.c_int
    libc.memcmp.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t]

    rng = np.random.default_rng(1)
    a = rng.bytes(n)
    b = bytes(bytearray(a))  # a distinct copy: same object would short-cut
    pages = n // PAGE
    zeroed = np.frombuffer(bytearray(a), dtype=np.uint8).reshape(pages, PAGE)
    bad = rng.choice(pages, pages // 10, replace=False)
    zeroed[bad] = 0
    z = zeroed.tobytes()
    del zeroed
    gib = n / 2**30

    assert libc.memcmp(a, b, n) == 0 and a == b
    assert diff_bytes(a, b, 0).differing == 0
    found = diff_bytes(a, z, 0)
    assert len(found.pages) == len(bad) and all(found.pages.values())
    t = interleaved({
        "memcmp": lambda: libc.memcmp(a, b, n),
        "eq": lambda: a == b,
        "same": lambda: diff_bytes(a, b, 0),
        "first": lambda: libc.memcmp(a, z, n),
        "zero": lambda: diff_bytes(a, z, 0),
    }, args.repeat)
    t_memcmp, t_eq, t_same, t_first, t_zero = (
        t[k] for k in ("memcmp", "eq", "same", "first", "zero"))

    def rate(t: float) -> str:
        return f"{gib / t:6.2f} GiB/s  {t * 1000:8.1f} ms"

    print(f"image pair: {gib:.2f} GiB each, best of {args.repeat} interleaved rounds")
    print(f"identical   memcmp (ctypes)      {rate(t_memcmp)}")
    print(f"identical   bytes ==             {rate(t_eq)}")
    print(f"identical   chkimg engine        {rate(t_same)}   "
          f"ratio {t_memcmp / t_same:.2f}x memcmp throughput (goal >= 0.7)")
    print(f"10% zeroed  memcmp, stops at the first difference: {t_first * 1e6:.1f} us")
    print(f"10% zeroed  chkimg engine        {rate(t_zero)}   "
          f"{t_zero / t_memcmp:.2f}x the time of a full memcmp pass (goal <= 3), "
          f"{len(bad):,} zero-filled pages found")
    return 0


if __name__ == "__main__":
    sys.exit(main())
