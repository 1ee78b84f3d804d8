"""Repetitions per second of a trivial test: the plugin vs flakehunt run vs pytest-repeat.

Run: PYTHONPATH=src python bench/pytest_plugin_speed.py [REPS]
Times, side by side in one run on one trivial test (``def test_y(): pass``):
  plugin      python -m pytest -p flakehunt.pytest_plugin --flakehunt=REPS test_x.py::test_y
  repeat      python -m pytest -p repeat --count=REPS test_x.py::test_y   (pytest-repeat)
  run         flakehunt run -n RUNS -j 1 -- python -m pytest -q test_x.py::test_y
Each pytest start loads the same plugin set (others are disabled). The in-process
rows report the whole command (start-up included) and the steady state (the
slope between REPS/5 and REPS repetitions), the subprocess row one run per start.
In-process sides run in interleaved rounds; each keeps its fastest round.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

NOISE = [a for p in ("benchmark", "hypothesispytest", "xdist", "randomly", "cacheprovider")
         for a in ("-p", f"no:{p}")]
ROUNDS = 3
PYTEST = [sys.executable, "-m", "pytest", "-q", *NOISE]


def plugin_args() -> list[str]:
    """Name the plugin with -p unless its pytest11 entry point loads it already."""
    from importlib.metadata import entry_points

    if any(ep.value == "flakehunt.pytest_plugin" for ep in entry_points(group="pytest11")):
        return []
    return ["-p", "flakehunt.pytest_plugin"]


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-2000:]}"
                         f"\n{proc.stderr[-2000:]}")
    return dt


def in_process(args: Callable[[int], list[str]], reps: int, cwd: Path, env: dict[str, str]
               ) -> tuple[float, float]:
    """Return (whole-command time for *reps*, for *reps*/5) in seconds."""
    small = max(1, reps // 5)
    t_small = timed([*PYTEST, *args(small), "test_x.py::test_y"], cwd, env)
    t_big = timed([*PYTEST, *args(reps), "test_x.py::test_y"], cwd, env)
    return t_big, t_small


def rates(times: list[tuple[float, float]], reps: int) -> tuple[float, float]:
    """Return (whole, steady) repetitions per second from the least disturbed round."""
    big = min(t for t, _ in times)
    small = min(t for _, t in times)
    return reps / big, (reps - max(1, reps // 5)) / max(1e-9, big - small)


def main() -> None:
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    runs = max(5, reps // 100)
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        (cwd / "test_x.py").write_text("def test_y():\n    pass\n")
        env["FLAKEHUNT_DB"] = str(cwd / "bench.db")
        plugin_args_ = ["-p", "no:repeat", *plugin_args()]
        # Interleaved rounds, best of each: on a shared machine a burst of other work
        # would otherwise land on one side only.
        plugin_t: list[tuple[float, float]] = []
        repeat_t: list[tuple[float, float]] = []
        for _ in range(ROUNDS):
            plugin_t.append(in_process(lambda n: [*plugin_args_, f"--flakehunt={n}"],
                                       reps, cwd, env))
            repeat_t.append(in_process(lambda n: ["-p", "repeat", f"--count={n}"],
                                       reps, cwd, env))
        plugin, repeat = rates(plugin_t, reps), rates(repeat_t, reps)
        t_run = timed([sys.executable, "-m", "flakehunt", "run", "-q", "-n", str(runs), "-j", "1",
                       "--", *PYTEST, "-p", "no:repeat", "test_x.py::test_y"], cwd, env)
    run_rate = runs / t_run
    print(f"trivial test, {reps} repetitions in-process, {runs} runs as processes (-j 1)")
    print(f"{'':28} {'whole command':>15} {'steady state':>14}")
    print(f"{'flakehunt pytest plugin':28} {plugin[0]:>11.0f}/s {plugin[1]:>12.0f}/s")
    print(f"{'pytest-repeat --count':28} {repeat[0]:>11.0f}/s {repeat[1]:>12.0f}/s")
    print(f"{'flakehunt run -- pytest':28} {run_rate:>11.1f}/s {run_rate:>12.1f}/s")
    print(f"plugin / flakehunt run: {plugin[0] / run_rate:.0f}x whole, "
          f"{plugin[1] / run_rate:.0f}x steady")
    print(f"plugin / pytest-repeat: {plugin[0] / repeat[0]:.2f}x whole, "
          f"{plugin[1] / repeat[1]:.2f}x steady (the plugin also records each repetition)")


if __name__ == "__main__":
    main()
