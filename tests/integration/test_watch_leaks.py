"""Leak watch with a real outside process that opens one more file per run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.helpers import flakehunt, wait_until

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads /proc")

# Watches a counter file the runs append to; holds one open fd per line (a leak
# in step with the runs, like the story's service and its handles).
LEAKER = r"""
import os, sys, time
counter, held = sys.argv[1], []
open(sys.argv[2], "w").close()  # ready
while True:
    try:
        with open(counter, "rb") as fh:
            n = fh.read().count(b"\n")
    except FileNotFoundError:
        n = 0
    while len(held) < n:
        held.append(os.open(os.devnull, os.O_RDONLY))
    time.sleep(0.01)
"""


@pytest.fixture
def leaker(tmp_path: Path):  # type: ignore[no-untyped-def]
    script = tmp_path / "leaker.py"
    script.write_text(LEAKER)
    exe = tmp_path / "fdleaker"  # its process name (comm) is the file's name
    exe.symlink_to(sys.executable)
    ready = tmp_path / "ready"
    proc = subprocess.Popen([str(exe), str(script), str(tmp_path / "counter"), str(ready)])
    assert wait_until(ready.exists, timeout=10)
    yield proc
    proc.kill()
    proc.wait()


def test_outside_process_leaking_one_fd_per_run_is_reported(tmp_path: Path, leaker) -> None:  # type: ignore[no-untyped-def]
    cmd = f"echo x >> {tmp_path / 'counter'}; sleep 0.05"
    proc = flakehunt("run", "--json", "-n", "40", "-j", "1", "--watch-every", "0.1s",
                     "-c", cmd, cwd=tmp_path, check=0)
    leaks = json.loads(proc.stdout)["watch"]["leaks"]
    mine = [lk for lk in leaks if lk["pid"] == leaker.pid and lk["metric"] == "fds"]
    assert mine, leaks
    assert mine[0]["name"] == "fdleaker"
    assert 0.85 <= mine[0]["per_run"] <= 1.15
    assert mine[0]["r2"] >= 0.95
    again = flakehunt("run", "-n", "25", "-j", "1", "--watch-every", "0.1s", "-c", cmd,
                      cwd=tmp_path, check=0)
    assert f"fdleaker pid {leaker.pid}: +1.0 fds/run" in again.stdout
    assert f"leaking with the runs: fdleaker pid {leaker.pid}" in again.stderr  # live


def test_kill_leaker_ends_the_named_leaker_with_a_warning(tmp_path: Path, leaker) -> None:  # type: ignore[no-untyped-def]
    cmd = f"echo x >> {tmp_path / 'counter'}; sleep 0.05"
    proc = flakehunt("run", "-n", "40", "-j", "1", "--watch-every", "0.1s",
                     "--kill-leaker", "fdleaker", "-c", cmd, cwd=tmp_path, check=0)
    assert f"WARNING: --kill-leaker ended fdleaker pid {leaker.pid}" in proc.stdout
    t0 = time.monotonic()
    assert leaker.wait(timeout=10) is not None and time.monotonic() - t0 < 10
