"""The demo toolchain's race is real, and `flakehunt exec --flush` really closes it."""

from __future__ import annotations

import signal
import subprocess
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from flakehunt.demo.image import PAGE, Finding, decode_header, inspect
from flakehunt.demo.variants import demo_variants

RUNS = {"normal": 12, "flush": 12, "sleep": 4}
# Wider than the demo's default window, so that 12 runs of `normal` fail at
# least once on a loaded 2-core machine; `flush` must stay at 0 regardless.
ROUNDS = 2500
CRASHES = {-signal.SIGSEGV, -signal.SIGABRT}


def run(cmd: str) -> int:
    return subprocess.run(["sh", "-c", cmd], capture_output=True, timeout=120).returncode


def test_normal_fails_flush_never_does(tmp_path: Path) -> None:
    variants = demo_variants(tmp_path, rounds=ROUNDS)
    jobs: list[str] = []
    for i in range(max(RUNS.values())):
        jobs += [name for name in ("normal", "flush", "sleep") if i < RUNS[name]]  # interleaved
    with ThreadPoolExecutor(2) as pool:
        statuses = list(pool.map(lambda name: run(str(variants[name])), jobs))
    by: dict[str, Counter[int]] = {name: Counter() for name in RUNS}
    for name, status in zip(jobs, statuses, strict=True):
        by[name][status] += 1
    assert by["flush"] == Counter({0: RUNS["flush"]}), by
    assert sum(n for s, n in by["normal"].items() if s != 0) >= 1, by
    for counts in by.values():  # every failure is one of the two signatures
        assert set(counts) <= {0} | CRASHES, by
    assert sum(by["sleep"].values()) == RUNS["sleep"]

    # The evidence matches the story: what the run step saw had zero pages,
    # while the image on disk (its writer has finished by now) is complete.
    seen = sorted((tmp_path / "seen").glob("*.seen"))
    assert seen
    dump = seen[0].read_bytes()
    layout = decode_header(dump[:PAGE])
    verdict = inspect(dump, layout)
    assert verdict.finding in {Finding.ZERO_CODE, Finding.ZERO_GUARD, Finding.TORN_CODE}
    kept = tmp_path / seen[0].name.removesuffix(".seen")
    for _ in range(100):
        if inspect(kept.read_bytes(), layout).finding is Finding.OK:
            break
        subprocess.run(["sleep", "0.05"], check=True)
    assert inspect(kept.read_bytes(), layout).finding is Finding.OK
