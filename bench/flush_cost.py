"""What flushing costs: `exec --flush` on a 100 MB output, and `flush` on 1,000 small files.

Side by side in one run, each case repeated and interleaved, medians printed with
ratios. Peers: the same tool without flakehunt, and coreutils `sync` (the story's
first, heavyweight fix). Between repetitions everything is synced outside the
timing, so no case pays for another's dirty pages.

    python bench/flush_cost.py [--repeat 5] [--mb 100] [--files 1000] [--dir DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])

from flakehunt.durable import flush  # noqa: E402

FH = [sys.executable, "-m", "flakehunt"]


def timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def sh(cmd: list[str], cwd: Path) -> None:
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def bench_big(work: Path, mb: int, repeat: int) -> dict[str, list[float]]:
    tool = ["sh", "-c", f"head -c {mb * 1000 * 1000} /dev/zero > out.bin"]
    cases: dict[str, Callable[[], None]] = {
        "tool alone": lambda: sh(tool, work),
        "tool + sync": lambda: (sh(tool, work), sh(["sync"], work)),  # type: ignore[func-returns-value]
        "exec --flush": lambda: sh([*FH, "exec", "--flush", "out.bin", "--", *tool], work),
        # What part of exec's cost is just starting Python and click:
        "(flakehunt --version alone)": lambda: sh([*FH, "--version"], work),
    }
    times: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(repeat):
        for name, fn in cases.items():
            (work / "out.bin").unlink(missing_ok=True)
            os.sync()
            times[name].append(timed(fn))
    return times


def bench_small(work: Path, n: int, repeat: int) -> dict[str, list[float]]:
    files = work / "many"
    payload = os.urandom(4096)

    def write_all() -> None:
        shutil.rmtree(files, ignore_errors=True)
        files.mkdir()
        for i in range(n):
            (files / f"f{i:04d}.o").write_bytes(payload)

    cases: dict[str, Callable[[], object]] = {
        "write alone": write_all,
        "write + flush() API": lambda: (write_all(), flush([files], recursive=True)),
        "write + `flakehunt flush -r`": lambda: (
            write_all(),
            sh([*FH, "flush", "-q", "-r", "many"], work),
        ),
        "write + sync": lambda: (write_all(), sh(["sync"], work)),
    }
    times: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(repeat):
        for name, fn in cases.items():
            os.sync()
            times[name].append(timed(fn))
    return times


def table(title: str, times: dict[str, list[float]]) -> str:
    base = statistics.median(next(iter(times.values())))
    lines = [title, f"  {'case':34} {'median':>9} {'min':>9} {'ratio':>7}"]
    for name, ts in times.items():
        med = statistics.median(ts)
        lines.append(f"  {name:34} {med * 1000:8.1f}ms {min(ts) * 1000:8.1f}ms {med / base:6.2f}x")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--mb", type=int, default=100)
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--dir", type=Path, default=None, help="where to write (default: TMPDIR)")
    opts = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=opts.dir, prefix="flakehunt-flush-bench.") as tmp:
        work = Path(tmp)
        print(f"in {work} ({os.cpu_count()} cores), {opts.repeat} repetitions, interleaved")
        big = bench_big(work, opts.mb, opts.repeat)
        print(table(f"{opts.mb} MB output, one link-like step:", big))
        print(table(f"{opts.files} files of 4 KiB:", bench_small(work, opts.files, opts.repeat)))


if __name__ == "__main__":
    main()
