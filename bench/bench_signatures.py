#!/usr/bin/env python3
"""Signatures per second on 64 KiB output tails (the hunt loop's tail size).

Compares, side by side in one run, flakehunt's fingerprint (keyword prefilter,
then ranked patterns) with the same patterns run on every line, and reports the
ratio. Run: python bench/bench_signatures.py
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from flakehunt.campaign.model import Outcome
from flakehunt.triage import fingerprint as fp
from flakehunt.triage.signature import signature_for

TAIL = 64 * 1024


def tails() -> dict[str, bytes]:
    rnd = random.Random(1)
    build = [
        f"[{i:05d}] cc -O2 -c module_{rnd.randint(0, 999)}.c -o obj/m{i}.o  ({rnd.random():.3f}s)"
        for i in range(1500)
    ]
    log = "\n".join(build)
    return {
        "compiler error at the end": (log + "\nx.c:3:5: error: expected ';'\n").encode()[-TAIL:],
        "no error line": log.encode()[-TAIL:],
        "retry noise then a panic": (("warn: error: retrying\n" * 3000) + "panic: boom\n")
        .encode()[-TAIL:],
    }


def per_second(fn, data: bytes, seconds: float = 0.5) -> float:  # type: ignore[no-untyped-def]
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        fn(data)
        n += 1
    return n / (time.perf_counter() - t0)


def full_scan(data: bytes) -> object:
    return fp.find_line(fp.decode_tail(data), prefilter=False)


def main() -> None:
    print(f"{'tail (64 KiB)':<28} {'signature_for/s':>16} {'full scan/s':>12} {'ratio':>6}")
    for name, data in tails().items():
        ours = per_second(lambda d: signature_for(Outcome.FAIL, 1, "posix", d), data)
        peer = per_second(full_scan, data)
        print(f"{name:<28} {ours:>16.0f} {peer:>12.0f} {ours / peer:>5.1f}x")


if __name__ == "__main__":
    main()
