"""The hunt loop with real processes: trees, floods of output, signals, resumes."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from tests.helpers import flakehunt, leftovers, wait_until

from flakehunt.errors import StoreError
from flakehunt.record.store import Store

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX process control")

DAEMON = r"""
import os, sys, time
# Double fork + setsid: the classic daemon that escapes its parent's process group.
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        with open(sys.argv[1], "w") as fh:
            fh.write(str(os.getpid()))
        time.sleep(300)
        os._exit(0)
    os._exit(0)
time.sleep(300)   # the run itself hangs: the timeout must end it
"""


def test_timeout_kills_whole_tree_including_setsid_daemon(tmp_path: Path) -> None:
    script = tmp_path / "daemon.py"
    script.write_text(DAEMON)
    pidfile = tmp_path / "daemon.pid"
    t0 = time.monotonic()
    proc = flakehunt(
        "run",
        "-n",
        "1",
        "-j",
        "1",
        "--timeout",
        "1s",
        "--kill-after",
        "1s",
        "--json",
        "--",
        sys.executable,
        str(script),
        str(pidfile),
        cwd=tmp_path,
    )
    assert proc.returncode == 1, proc.stderr
    assert time.monotonic() - t0 < 30
    summary = json.loads(proc.stdout)
    assert summary["failures"] == 1
    assert summary["signatures"][0]["title"].startswith("timeout")
    daemon_pid = int(pidfile.read_text())
    assert wait_until(
        lambda: (
            not psutil.pid_exists(daemon_pid)
            or psutil.Process(daemon_pid).status() == psutil.STATUS_ZOMBIE
        )
    )
    assert leftovers() == []


def _vm_hwm_kib(pid: int) -> int | None:
    """The peak resident size of process *pid* itself (Linux VmHWM), or None if gone."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs /proc VmHWM")
def test_gigabyte_of_output_does_not_flow_through_memory(tmp_path: Path) -> None:
    # The run prints 1 GiB; flakehunt's own peak RSS must stay under 150 MB. VmHWM
    # is the kernel's high-water mark of that process alone (wait4's ru_maxrss would
    # also fold in every descendant flakehunt reaped); it only grows, so the last
    # reading before exit is the peak up to then.
    cmd = [sys.executable, "-m", "flakehunt", "run", "-n", "1", "-j", "1", "-q",
           "--keep-passing", "0", "--", "head", "-c", str(1024**3), "/dev/zero"]
    p = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = 0
    while p.poll() is None:
        peak = max(peak, _vm_hwm_kib(p.pid) or 0)
        time.sleep(0.02)
    out = p.stdout.read().decode() if p.stdout else ""
    assert p.returncode == 0, out
    assert 0 < peak < 150 * 1024, f"flakehunt peak RSS {peak} KiB"
    assert "no failure in 1 runs" in out


def _start(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    return subprocess.Popen(
        [sys.executable, "-m", "flakehunt", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _db_rows(db: Path, *, replay: bool = False) -> list[tuple[int, str]]:
    """The runs in the database; *replay*: first store a killed flakehunt's journal."""
    try:
        if replay:
            Store.open(db, create=False).close()  # as any later flakehunt command would
        with sqlite3.connect(db) as conn:
            return conn.execute("SELECT seq, outcome FROM runs ORDER BY seq").fetchall()
    except (sqlite3.OperationalError, StoreError):  # created, schema not yet written
        return []


def test_sigint_mid_campaign_records_everything_and_leaves_nothing(tmp_path: Path) -> None:
    # Each run writes its sequence number when it finishes: the ground truth.
    done = tmp_path / "done.txt"
    body = f"sleep 0.3; echo $FLAKEHUNT_RUN >> {done}"
    p = _start(
        ["run", "-j", "2", "-n", "1000", "--max-failures", "0", "--", "sh", "-c", body], tmp_path
    )
    time.sleep(2.5)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    db = tmp_path / ".flakehunt" / "flakehunt.db"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = _db_rows(db)
    finished = {int(x) for x in done.read_text().split()}
    recorded_pass = {seq for seq, outcome in rows if outcome == "pass"}
    assert finished <= recorded_pass | {seq for seq, o in rows if o == "interrupted"}
    assert recorded_pass <= finished
    assert any(o == "interrupted" for _, o in rows)
    assert "interrupted" in out
    assert wait_until(lambda: leftovers() == [])


def test_sigkill_of_flakehunt_loses_no_finished_run_and_resume_continues(tmp_path: Path) -> None:
    done = tmp_path / "done.txt"
    body = f"sleep 0.2; echo $FLAKEHUNT_RUN >> {done}"
    p = _start(
        ["run", "-j", "2", "-n", "40", "--max-failures", "0", "--", "sh", "-c", body], tmp_path
    )
    db = tmp_path / ".flakehunt" / "flakehunt.db"
    assert wait_until(lambda: db.exists() and len(_db_rows(db)) >= 6, timeout=30)
    p.kill()
    p.wait()
    rows = _db_rows(db, replay=True)
    # Every run recorded before the kill is complete and consistent.
    assert all(o == "pass" for _, o in rows)
    # The guardian ended the runs that were in flight: nothing is orphaned.
    assert wait_until(lambda: leftovers() == [], timeout=15)
    finished_before = len(done.read_text().split())
    assert len(rows) >= finished_before - 2  # at most the 2 in flight were lost
    resumed = flakehunt("run", "--resume", "--json", cwd=tmp_path, check=0)
    summary = json.loads(resumed.stdout)
    assert summary["runs"] == 40
    seqs = [s for s, o in _db_rows(db) if o == "pass"]
    assert len(seqs) == 40 and len(set(seqs)) == 40


def test_missing_command_is_one_clear_error(tmp_path: Path) -> None:
    proc = flakehunt("run", "-n", "1000", "--", "no-such-command-xyz", cwd=tmp_path)
    assert proc.returncode == 3
    err = proc.stderr.strip().splitlines()
    assert err[-1] == (
        "flakehunt: error: command not found: no-such-command-xyz "
        "(check the command, its PATH and the directory)"
    )
    assert "Traceback" not in proc.stderr
    # Refused before anything ran: no campaign of 1,000 failures.
    assert (
        not (tmp_path / ".flakehunt" / "flakehunt.db").exists()
        or _db_rows(tmp_path / ".flakehunt" / "flakehunt.db") == []
    )


def test_not_executable_is_one_clear_error(tmp_path: Path) -> None:
    script = tmp_path / "script.sh"
    script.write_text("#!/bin/sh\nexit 0\n")
    proc = flakehunt("run", "-n", "5", "--", str(script), cwd=tmp_path)
    assert proc.returncode == 3
    assert "permission denied" in proc.stderr


def test_shell_string_and_flaky_rate(tmp_path: Path) -> None:
    # bash, not sh: dash has no $RANDOM. Every third run fails, deterministically.
    proc = flakehunt(
        "run",
        "-n",
        "30",
        "-j",
        "2",
        "--max-failures",
        "0",
        "--json",
        "-c",
        "test $((FLAKEHUNT_RUN % 3)) -ne 0",
        cwd=tmp_path,
        env={"SHELL": "/bin/bash"},
    )
    assert proc.returncode == 1, proc.stderr
    s = json.loads(proc.stdout)
    assert (s["runs"], s["failures"]) == (30, 10)
    assert 0.15 < s["interval"]["low"] < s["rate"] < s["interval"]["high"] < 0.55


def test_no_kill_leaves_the_hung_run_for_a_debugger(tmp_path: Path) -> None:
    proc = flakehunt(
        "run",
        "-n",
        "3",
        "-j",
        "1",
        "--max-failures",
        "0",
        "--timeout",
        "0.5s",
        "--no-kill",
        "--json",
        "--",
        "sh",
        "-c",
        'if [ "$FLAKEHUNT_RUN" = 2 ]; then exec sleep 30; fi',
        cwd=tmp_path,
    )
    s = json.loads(proc.stdout)
    try:
        assert s["runs"] == 3 and s["failures"] == 1
        (pid,) = s["left_running"]
        assert psutil.Process(pid).is_running()
    finally:
        for pid in s.get("left_running", []):
            os.killpg(pid, signal.SIGKILL)


def test_hooks_run_in_order(tmp_path: Path) -> None:
    log = tmp_path / "hooks.txt"
    flakehunt(
        "run",
        "-n",
        "2",
        "-j",
        "1",
        "--setup",
        f"echo setup >> {log}",
        "--prepare",
        f"echo prepare $FLAKEHUNT_RUN >> {log}",
        "--cleanup",
        f"echo cleanup $FLAKEHUNT_RUN >> {log}",
        "--conclude",
        f"echo conclude >> {log}",
        "--",
        "true",
        cwd=tmp_path,
        check=0,
    )
    assert log.read_text().split("\n")[:-1] == [
        "setup",
        "prepare 1",
        "cleanup 1",
        "prepare 2",
        "cleanup 2",
        "conclude",
    ]


def test_plain_status_lines_when_not_a_tty(tmp_path: Path) -> None:
    proc = flakehunt(
        "run",
        "-n",
        "3",
        "--status-every",
        "0.01s",
        "--",
        "sleep",
        "0.05",
        cwd=tmp_path,
        env={"CI": "true"},
        check=0,
    )
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("flakehunt: ")]
    assert lines and "3 runs" in lines[-1] and "runs/s" in lines[-1]


def test_second_ctrl_c_ends_everything_at_once(tmp_path: Path) -> None:
    # The run ignores SIGTERM; with --kill-after 60s only a second Ctrl-C can end
    # it quickly, and it must still leave no process behind.
    p = _start(["run", "-j", "2", "-n", "10", "--kill-after", "60s", "--", "sh", "-c",
                "trap '' TERM; sleep 120 & wait; sleep 120"], tmp_path)
    # Both shells and both sleeps: a sleep exists only once its shell has set the
    # trap (two shells alone may still die of the first TERM: a race, not the test).
    assert wait_until(lambda: len(leftovers()) >= 4, timeout=20)
    p.send_signal(signal.SIGINT)
    time.sleep(1.0)
    assert p.poll() is None  # still waiting for the TERM-ignoring runs
    t0 = time.monotonic()
    p.send_signal(signal.SIGINT)
    p.communicate(timeout=30)
    assert time.monotonic() - t0 < 10
    assert p.returncode == 130
    assert wait_until(lambda: leftovers() == [], timeout=10)
