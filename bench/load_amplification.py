"""How much does load make a timing-dependent failure more frequent? Measured side by side.

The flaky program races two threads and no random number decides: a writer
thread writes 256 KiB and fsyncs it, while the main thread waits a fixed
deadline for it and fails if the writer is late (a test with a timeout that
is generous on a quiet machine). The deadline is calibrated first, on the
quiet machine, at the 90th percentile of the writer's latency, so the quiet
failure rate is about 10%. Then one interleaved ``flakehunt compare`` runs
three variants of the same command: quiet, under ``io=`` stressors and under
``cpu=`` stressors (``--variant-load``: each variant's stressors run only
during its runs), and the failure rates and their ratios to quiet are printed.

    python bench/load_amplification.py [--runs 120] [--io 2] [--cpu 4]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

RACE = r"""
import os, sys, threading, time

def writer(path, done, took):
    t0 = time.monotonic()
    with open(path, "wb") as fh:
        fh.write(b"x" * 256 * 1024)
        fh.flush()
        os.fsync(fh.fileno())
    took.append(time.monotonic() - t0)
    done.set()

path = f"race-{os.getpid()}.tmp"
done, took = threading.Event(), []
threading.Thread(target=writer, args=(path, done, took), daemon=True).start()
deadline = float(sys.argv[1])
ok = done.wait(deadline) if deadline > 0 else done.wait()
if deadline <= 0:
    print(took[0])
try:
    os.unlink(path)
except OSError:
    pass
sys.exit(0 if ok else 1)
"""


def calibrate(workdir: str, script: str, samples: int) -> float:
    """Return the writer's 90th-percentile latency on the quiet machine, in seconds."""
    took = []
    for _ in range(samples):
        out = subprocess.run([sys.executable, script, "0"], cwd=workdir, check=True,
                             capture_output=True, text=True).stdout
        took.append(float(out))
    return statistics.quantiles(took, n=10)[-1]


def main() -> int:
    """Calibrate, run the interleaved experiment, print rates and ratios."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=120, help="runs per variant")
    ap.add_argument("--io", type=int, default=2, help="io stressors of the io variant")
    ap.add_argument("--cpu", type=int, default=4, help="cpu stressors of the cpu variant")
    ap.add_argument("--calibrate", type=int, default=40)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="flakehunt-amp-", dir=os.getcwd()) as workdir:
        script = os.path.join(workdir, "race.py")
        with open(script, "w") as fh:
            fh.write(RACE)
        deadline = calibrate(workdir, script, args.calibrate)
        cmd = f"{sys.executable} {script} {deadline:.6f}"
        t0 = time.monotonic()
        argv = [sys.executable, "-m", "flakehunt", "compare", "-q", "--json", "-j", "1",
                "-n", str(args.runs), "--watch-every", "0",
                "-V", f"quiet={cmd}", "-V", f"io={cmd}", "-V", f"cpu={cmd}",
                "--variant-load", f"io=io={args.io}", "--variant-load", f"cpu=cpu={args.cpu}"]
        proc = subprocess.run(argv, cwd=workdir, check=False, capture_output=True, text=True)
        took = time.monotonic() - t0
        if proc.returncode not in (0, 1):  # 1: some runs failed, which is the point
            print(proc.stderr, file=sys.stderr)
            return proc.returncode
        db = sqlite3.connect(os.path.join(workdir, ".flakehunt", "flakehunt.db"))
        rows = db.execute("SELECT variant, load_profile, COUNT(*), SUM(outcome = 'fail') "
                          "FROM runs WHERE outcome IN ('pass', 'fail') GROUP BY variant")
        rates = {v: (load, n, f, f / n) for v, load, n, f in rows}
    print(f"race deadline (quiet p90 of the writer's write+fsync): {deadline * 1000:.1f} ms")
    print(f"{'variant':8} {'load':10} {'runs':>5} {'fails':>6} {'rate':>7}  vs quiet")
    quiet = rates["quiet"][3]
    for v in ("quiet", "io", "cpu"):
        load, n, f, r = rates[v]
        ratio = f"{r / quiet:.1f}x" if quiet else ("inf" if r else "-")
        print(f"{v:8} {load or '-':10} {n:5d} {f:6d} {r:7.1%}  {ratio}")
    print(f"experiment took {took:.0f}s ({3 * args.runs} runs, interleaved, -j 1)")
    print(json.dumps({v: {"load": x[0], "runs": x[1], "failures": x[2], "rate": x[3]}
                      for v, x in rates.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
