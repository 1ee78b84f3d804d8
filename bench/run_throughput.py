"""Runs/s of ``flakehunt run`` against Go's ``stress`` and a bash loop, side by side.

Each round runs every contender once (flakehunt and stress back to back, their
order alternating), so that a noisy machine hits them alike; the ratio within
each round, and the median of those, is what to compare.

    python bench/run_throughput.py [--runs 20000] [--rounds 3] [--stress-seconds 10]
                                   [--overhead-runs 200]

The 20 ms overhead compares the median time from one run's start to the next:
flakehunt's own records against a bash loop's ``$EPOCHREALTIME``, at -j 1.

Go's stress: Debian package golang-golang-x-tools, binary golang-stress. It has
no run count, so it runs for --stress-seconds and we read its own progress line.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

LINE = re.compile(rb"^(\d+(?:\.\d+)?)s: (\d+) runs so far", re.M)


# As installed for users: byte-compiled modules (PYTHONDONTWRITEBYTECODE would make
# every start-up compile the whole package again).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def flakehunt_seconds(runs: int, jobs: int, workdir: str, cmd: list[str]) -> float:
    """Return the wall time of a recording flakehunt campaign, start-up included."""
    t0 = time.monotonic()
    subprocess.run([sys.executable, "-m", "flakehunt", "run", "-q", "-j", str(jobs), "-n",
                    str(runs), "--max-failures", "0", "--", *cmd], cwd=workdir, check=True,
                   stdout=subprocess.DEVNULL, env=ENV)
    return time.monotonic() - t0


def startup_seconds(workdir: str, repeat: int = 5) -> float:
    """Return the median wall time of a one-run campaign: interpreter, imports, database."""
    return statistics.median(flakehunt_seconds(1, 1, workdir, ["true"]) for _ in range(repeat))


def stress_rate(seconds: float, jobs: int, workdir: str) -> float | None:
    """Return runs/s of Go's stress over its own reporting interval."""
    exe = shutil.which("golang-stress") or shutil.which("stress")
    if exe is None:
        return None
    p = subprocess.Popen([exe, "-p", str(jobs), "/bin/true"], cwd=workdir,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    time.sleep(seconds + 0.5)
    # SIGKILL, not SIGINT: started from a shell's background job, SIGINT is
    # ignored and stress ran on, loading every later measurement. Its progress
    # lines are already written.
    p.send_signal(signal.SIGKILL)
    out, _ = p.communicate(timeout=10)
    points = [(float(t), int(n)) for t, n in LINE.findall(out)]
    if not points:
        return None
    t, n = points[-1]
    return n / t


def bash_rate(runs: int, jobs: int) -> float:
    """Return runs/s of *jobs* bash loops running /bin/true in parallel."""
    each = runs // jobs
    loop = f"for ((i=0;i<{each};i++)); do /bin/true; done"
    t0 = time.monotonic()
    procs = [subprocess.Popen(["bash", "-c", loop]) for _ in range(jobs)]
    for p in procs:
        p.wait()
    return each * jobs / (time.monotonic() - t0)


def _timed(cmd: list[str], **kw: object) -> float:
    t0 = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, **kw)  # type: ignore[call-overload]
    return time.monotonic() - t0


def bare_periods(n: int) -> tuple[list[float], float]:
    """Run ``sleep 0.02`` n times from bash; return (seconds between starts, total seconds).

    Each iteration notes ``$EPOCHREALTIME`` (a bash builtin, no fork) after its sleep.
    """
    t0 = time.monotonic()
    out = subprocess.run(["bash", "-c", f"for ((i=0;i<{n};i++)); do sleep 0.02; "
                          "t[i]=$EPOCHREALTIME; done; printf '%s\\n' \"${t[@]}\""],
                         check=True, capture_output=True, text=True).stdout
    took = time.monotonic() - t0
    ends = [float(x.replace(",", ".")) for x in out.split()]
    return [b - a for a, b in itertools.pairwise(ends)], took


def hunted_periods(n: int, workdir: str) -> tuple[list[float], float]:
    """Run ``sleep 0.02`` n times under flakehunt at -j 1; periods from its own records."""
    db = os.path.join(workdir, f"periods-{time.monotonic_ns()}.db")
    t0 = time.monotonic()
    subprocess.run([sys.executable, "-m", "flakehunt", "run", "-q", "-j", "1", "-n", str(n),
                    "--max-failures", "0", "--db", db, "--", "sleep", "0.02"], cwd=workdir,
                   env=ENV, check=True, stdout=subprocess.DEVNULL)
    took = time.monotonic() - t0
    with contextlib.closing(sqlite3.connect(db)) as conn:
        starts = [t for (t,) in conn.execute("SELECT started FROM runs ORDER BY seq")]
    return [b - a for a, b in itertools.pairwise(starts)], took


def overhead_20ms(n: int, workdir: str) -> tuple[float, float, float, float]:
    """(bare, flakehunt) median seconds from one run's start to the next, at -j 1, and
    (bare, flakehunt) seconds for all n runs, start-up included.

    The median period leaves out start-up (which alone varies by more than the 2%
    being measured) and the machine's hiccups, which hit either loop at random.
    """
    b, b_all = bare_periods(n)
    h, h_all = hunted_periods(n, workdir)
    return statistics.median(b), statistics.median(h), b_all, h_all


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--stress-seconds", type=float, default=10.0)
    ap.add_argument("--overhead-runs", type=int, default=200)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="fh-bench-")
    fh, fh_steady, st, bash = [], [], [], []
    ratios: list[float] = []  # flakehunt/stress within each round
    try:
        startup = startup_seconds(work)
        for r in range(args.rounds):
            # flakehunt and stress back to back, in alternating order, so that a
            # machine slowing down within a round favours neither.
            rate = stress_rate(args.stress_seconds, args.jobs, work) if r % 2 else None
            took = flakehunt_seconds(args.runs, args.jobs, work, ["/bin/true"])
            fh.append(args.runs / took)
            fh_steady.append(args.runs / max(1e-9, took - startup))
            if r % 2 == 0:
                rate = stress_rate(args.stress_seconds, args.jobs, work)
            if rate is not None:
                st.append(rate)
                ratios.append(fh[-1] / rate)
            bash.append(bash_rate(args.runs, args.jobs))
            ratio = f" ({fh[-1] / rate:.2f}x)" if rate is not None else ""
            print(f"round {r + 1}: flakehunt {fh[-1]:,.0f}/s  stress "
                  f"{st[-1] if st else float('nan'):,.0f}/s{ratio}  bash {bash[-1]:,.0f}/s",
                  flush=True)
        m_fh, m_bash = statistics.median(fh), statistics.median(bash)
        m_steady = statistics.median(fh_steady)
        print(f"\n/bin/true at -j {args.jobs}, {args.runs:,} runs, recording on "
              f"(medians of {args.rounds} interleaved rounds; load {os.getloadavg()[0]:.1f}):")
        print(f"  flakehunt run   {m_fh:8,.0f} runs/s wall, start-up {startup:.2f}s included")
        print(f"  flakehunt run   {m_steady:8,.0f} runs/s steady state (start-up subtracted)")
        if st:
            m_st = statistics.median(st)
            print(f"  Go stress       {m_st:8,.0f} runs/s   (its own counter: no start-up)")
            per_round = statistics.median(ratios)
            print(f"    flakehunt/stress = {m_fh / m_st:.2f}x wall, {m_steady / m_st:.2f}x steady"
                  f"; median of the rounds' own ratios {per_round:.2f}x (goal >= 1.0x)")
        else:
            print("  Go stress       not installed (apt-get install golang-golang-x-tools)")
        print(f"  bash loops      {m_bash:8,.0f} runs/s   flakehunt/bash   = {m_fh / m_bash:.2f}x")
        # The overhead is a small difference of two long times: interleave rounds
        # and take the median, as for the rates.
        n = args.overhead_runs
        trials = [overhead_20ms(n, work) for _ in range(args.rounds)]
        extra = [h - b for b, h, _, _ in trials]
        bare = statistics.median(b for b, _, _, _ in trials)
        per_run = statistics.median(extra)
        print(f"\n20 ms command (sleep 0.02) at -j 1, {n} runs, {args.rounds} rounds: bare "
              f"{bare * 1000:.2f} ms from one start to the next (median); flakehunt "
              f"+{per_run * 1000:.2f} ms (median of rounds "
              f"{', '.join(f'{x * 1000:+.2f}' for x in extra)}) = "
              f"{per_run / bare * 100:+.2f}% per run (goal < 2%)")
        whole = statistics.median(h_all / b_all for _, _, b_all, h_all in trials)
        print(f"  a whole {n}-run campaign, start-up included: {(whole - 1) * 100:+.1f}% over "
              "the bare loop")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
