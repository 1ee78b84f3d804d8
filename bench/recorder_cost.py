"""Flight recorder CPU cost at 10 Hz with ~500 idle processes, against a naive psutil snapshot.

Run: python bench/recorder_cost.py [--procs 500] [--seconds 20] [--hz 10]

Spawns N ``sleep`` processes (always killed at the end), then measures this
process's CPU time (all threads, getrusage) over the same wall time for:
idle, the naive peer (a full ``psutil.process_iter`` snapshot every tick), and
flakehunt's FlightRecorder with one registered run. Goal: recorder < 2% of one
core. Also prints the recorder's fixed memory for 10 minutes of samples.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from flakehunt.evidence.recorder import FlightRecorder
from flakehunt.evidence.sampler import FakeSource


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def measure(seconds: float, start: object, stop: object) -> float:
    """Return the CPU fraction of one core used while *start*..*stop* ran."""
    c0, t0 = cpu(), time.monotonic()
    start()  # type: ignore[operator]
    time.sleep(seconds)
    stop()  # type: ignore[operator]
    return (cpu() - c0) / (time.monotonic() - t0)


def naive(hz: float) -> tuple[object, object]:
    import psutil

    done = threading.Event()

    def loop() -> None:
        while not done.is_set():
            for _p in psutil.process_iter(["pid", "ppid", "name", "cpu_times", "memory_info",
                                           "num_fds", "io_counters"]):
                pass
            psutil.cpu_times()
            psutil.disk_io_counters()
            psutil.virtual_memory()
            done.wait(1.0 / hz)

    th = threading.Thread(target=loop, daemon=True)
    return th.start, lambda: (done.set(), th.join())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--procs", type=int, default=500)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--hz", type=float, default=10.0)
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda s, f: sys.exit(143))  # so the finally below runs
    kids: list[subprocess.Popen[bytes]] = []
    root: subprocess.Popen[bytes] | None = None
    try:
        for _ in range(args.procs):
            kids.append(subprocess.Popen(["sleep", "3600"], stdin=subprocess.DEVNULL))
        # a small tree (sh with two children) stands in for a registered run
        root = subprocess.Popen(["sh", "-c", "sleep 3600 & sleep 3600 & wait"],
                                start_new_session=True)
        nprocs = sum(1 for n in os.listdir("/proc") if n.isdigit())
        print(f"{len(kids) + 3} processes spawned; {nprocs} processes on the machine")
        time.sleep(1.0)
        idle = measure(args.seconds / 4, lambda: None, lambda: None)
        n_start, n_stop = naive(args.hz)
        peer = measure(args.seconds / 2, n_start, n_stop)
        rec = FlightRecorder(hz=args.hz)
        rec.register("bench", root.pid)
        ours = measure(args.seconds, rec.start, rec.stop)
        ticks = rec.system.written
        tree = int(rec.runs.ordered()["nprocs"][-1])
        print(f"idle:                     {idle * 100:6.2f}% of one core")
        print(f"naive psutil snapshot:    {peer * 100:6.2f}% of one core at {args.hz:g} Hz")
        print(f"flakehunt FlightRecorder: {ours * 100:6.2f}% of one core at {args.hz:g} Hz "
              f"({ticks} ticks, {rec.errors} errors, tree of {tree} processes sampled)")
        print(f"snapshots: {rec.procs.written} rows kept; interval now "
              f"{rec.snapshot_interval:.2f}s (1 s unless one costs > 1% of a core)")
        print(f"ratio naive/recorder:     {peer / max(ours - idle, 1e-9):6.1f}x "
              f"(recorder minus idle: {(ours - idle) * 100:.2f}%; goal < 2%)")
    finally:
        for k in kids:
            k.kill()
        if root is not None:
            os.killpg(root.pid, signal.SIGKILL)  # the whole tree: no orphaned sleep
            root.wait()
        for k in kids:
            k.wait()
    full = FlightRecorder(FakeSource(), clock=time.time, hz=10, retention=600, max_runs=4)
    print(f"memory for 10 minutes at 10 Hz (4 concurrent runs): {full.memory_bytes / 2**20:.2f} "
          f"MiB fixed (system {full.system.nbytes / 2**10:.0f} KiB, runs "
          f"{full.runs.nbytes / 2**10:.0f} KiB, snapshots {full.procs.nbytes / 2**10:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
