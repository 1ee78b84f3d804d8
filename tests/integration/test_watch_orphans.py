"""Orphans with real processes: a double-forked ``setsid`` daemon left behind by each run."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import uuid
from pathlib import Path

import pytest
from tests.helpers import flakehunt, processes_with_env, wait_until

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="Linux process control")


def daemon_command(tag: str) -> str:
    """A run that double-forks a setsid daemon marked TAG, then exits 0."""
    return f'(LEAKTEST={tag} setsid sh -c "sleep 60" &) ; exit 0'


def summary(proc_stdout: str) -> dict:  # type: ignore[type-arg]
    return json.loads(proc_stdout)  # type: ignore[no-any-return]


def test_setsid_daemon_is_reported_as_an_orphan_of_its_run(tmp_path: Path) -> None:
    tag = uuid.uuid4().hex
    proc = flakehunt("run", "--json", "-n", "2", "--max-failures", "0", "-c",
                     daemon_command(tag), cwd=tmp_path, check=0)
    w = summary(proc.stdout)["watch"]
    runs = sorted({o["run"] for o in w["orphans"]})
    assert runs == [1, 2], w["orphans"]
    assert all(o["found_by"] == "marker" and o["pid"] > 0 for o in w["orphans"])
    # Recorded in the run's evidence document when found as the run ends; a daemon
    # still being born then is found right after and attributed by its marker (above),
    # but its run's row is already committed (docs/leaks.md).
    db = sqlite3.connect(tmp_path / ".flakehunt" / "flakehunt.db")
    docs = [json.loads(j) for (j,) in db.execute(
        "SELECT evidence_json FROM runs WHERE evidence_json IS NOT NULL ORDER BY seq")]
    recorded = [o for d in docs for o in d.get("orphans", [])]
    assert recorded and all(o["cmdline"] for o in recorded)
    # By default the campaign's leftovers are ended at the end.
    assert w["leftovers"] and w["leftovers_ended"]
    assert wait_until(lambda: not processes_with_env("LEAKTEST", tag), timeout=5)


def test_kill_orphans_ends_them_after_each_run(tmp_path: Path) -> None:
    tag = uuid.uuid4().hex
    # Each run checks that the previous run's daemon is gone already.
    check = f"! grep -qs 'LEAKTEST={tag}' /proc/[0-9]*/environ"
    cmd = f"{check} && {daemon_command(tag)}"
    proc = flakehunt("run", "--json", "-n", "3", "--kill-orphans", "-c", cmd, cwd=tmp_path,
                     check=0)
    out = summary(proc.stdout)
    w = out["watch"]
    # Every run passed its check: the previous run's daemon was already gone when it
    # started, so --kill-orphans ended each one after its run (the last one possibly
    # at the campaign's end, if it was still being born as its run ended).
    assert out["failures"] == 0 and out["runs"] == 3, proc.stdout
    # Runs 2 and 3 found no daemon of the run before them (their check passed): each
    # daemon was ended between runs. Which look pinned a daemon that was still being
    # born to its run is timing (docs/leaks.md), so the exact attribution is not
    # asserted here; test_setsid_daemon_is_reported_as_an_orphan_of_its_run covers it.
    assert w["orphans"] and w["orphans_killed"] >= 1
    assert wait_until(lambda: not processes_with_env("LEAKTEST", tag), timeout=5)


def test_leave_orphans_spares_and_lists_them(tmp_path: Path) -> None:
    tag = uuid.uuid4().hex
    proc = flakehunt("run", "-n", "2", "--max-failures", "0", "--leave-orphans", "-c",
                     daemon_command(tag), cwd=tmp_path, check=0)
    try:
        assert "left running (--leave-orphans)" in proc.stdout
        alive = processes_with_env("LEAKTEST", tag)
        assert len(alive) >= 2
        for p in alive:
            assert f"pid {p.pid}" in proc.stdout
    finally:
        for p in processes_with_env("LEAKTEST", tag):
            os.kill(p.pid, signal.SIGKILL)


def test_kill_and_leave_orphans_contradict(tmp_path: Path) -> None:
    proc = flakehunt("run", "--kill-orphans", "--leave-orphans", "--", "true", cwd=tmp_path)
    assert proc.returncode == 2 and "contradict" in proc.stderr


def test_ctrl_c_ends_a_campaign_paused_by_the_resource_guard(tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    env = {**os.environ}
    env.pop("CI", None)
    proc = subprocess.Popen([sys.executable, "-m", "flakehunt", "run", "-n", "5",
                             "--min-free-mem", "1024TiB", "--", "true"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    err = ""
    assert proc.stderr is not None
    while "paused launching" not in err:
        line = proc.stderr.readline()
        assert line, err
        err += line
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 130 and time.monotonic() - t0 < 5
    assert "paused launching 1 time(s)" in out and "no run completed" in out
