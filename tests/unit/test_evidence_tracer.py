"""--tracer, --tracer-snapshot and --on-failure: argv building and process lifetimes."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import psutil
import pytest

from flakehunt.errors import CouldNotStart, UsageError
from flakehunt.evidence.tracer import Tracer, expand_command, parse_snapshot, run_hook

VALUES = {"run_dir": "/tmp/my runs/r 1", "pid": "4242", "exit": "-11", "core": "/e/core;rm -rf ~"}


@pytest.mark.parametrize(
    ("template", "argv"),
    [
        ("gdb -p {pid} -batch", ["gdb", "-p", "4242", "-batch"]),
        ("tar czf {run_dir}/x.tgz {core}", ["tar", "czf", "/tmp/my runs/r 1/x.tgz",
                                            "/e/core;rm -rf ~"]),
        ("echo 'exit={exit}' {{literal}}", ["echo", "exit=-11", "{literal}"]),
        ("notify --core={core}", ["notify", "--core=/e/core;rm -rf ~"]),
    ],
)
def test_split_first_then_substitute(template: str, argv: list[str]) -> None:
    assert expand_command(template, VALUES) == argv


def test_shell_only_when_asked_and_quoted() -> None:
    argv = expand_command("ls {run_dir} && cat {core}", VALUES, shell=True)
    assert argv[:2] == ["/bin/sh", "-c"]
    assert argv[2] == "ls '/tmp/my runs/r 1' && cat '/e/core;rm -rf ~'"


@pytest.mark.parametrize("bad", ["", "echo {nope}", "echo 'unclosed"])
def test_bad_commands(bad: str) -> None:
    with pytest.raises(UsageError):
        expand_command(bad, VALUES)


@pytest.mark.parametrize(("spec", "want"), [("USR2", signal.SIGUSR2), ("SIGUSR2", signal.SIGUSR2),
                                            ("sighup", signal.SIGHUP), ("10", 10),
                                            ("lttng snapshot record", "lttng snapshot record")])
def test_parse_snapshot(spec: str, want: int | str) -> None:
    assert parse_snapshot(spec) == want


def test_hook_runs_without_shell_and_times_out(tmp_path: Path) -> None:
    log = tmp_path / "hook.log"
    ok = run_hook([sys.executable, "-c", "import sys; print(sys.argv[1:])", "a b", "$HOME"],
                  str(tmp_path), str(log))
    assert ok.returncode == 0 and "['a b', '$HOME']" in log.read_text()
    slow = run_hook(["sleep", "30"], str(tmp_path), str(log), timeout=0.2)
    assert "killed after" in slow.reason


TRACER = r"""
import os, signal, subprocess, sys, time
child = subprocess.Popen(["sleep", "60"])  # a grandchild that must not be orphaned
open("child.pid", "w").write(str(child.pid))
n = [0]
def snap(sig, frame):
    n[0] += 1
    open(f"trace.{n[0]}.data", "w").write("snapshot")
signal.signal(signal.SIGUSR2, snap)
signal.signal(signal.SIGINT, lambda s, f: sys.exit(0))
open("ready", "w").write("")
while True:
    time.sleep(0.05)
"""


def test_tracer_snapshot_lands_in_evidence_and_stop_kills_the_group(tmp_path: Path) -> None:
    script = tmp_path / "tracer.py"
    script.write_text(TRACER)
    work = tmp_path / "tracer"
    t = Tracer(f"{sys.executable} {script}", str(work), snapshot="USR2")
    t.start()
    deadline = time.monotonic() + 10
    while not (work / "ready").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    child = int((work / "child.pid").read_text())
    ev = tmp_path / "ev"
    res = t.snapshot(str(ev), VALUES, settle=2.0)
    assert res is not None and res.returncode == 0
    assert (ev / "trace.1.data").read_text() == "snapshot"
    assert t.stop(grace=5) == 0
    deadline = time.monotonic() + 5
    while psutil.pid_exists(child) and time.monotonic() < deadline:
        try:
            if psutil.Process(child).status() == psutil.STATUS_ZOMBIE:
                break
        except psutil.NoSuchProcess:
            break
        time.sleep(0.05)
    alive = psutil.pid_exists(child) and psutil.Process(child).status() != psutil.STATUS_ZOMBIE
    assert not alive, "the tracer's child outlived stop()"


def test_tracer_that_cannot_start(tmp_path: Path) -> None:
    with pytest.raises(CouldNotStart):
        Tracer("/nonexistent/perf record", str(tmp_path)).start()
    with pytest.raises(CouldNotStart):
        Tracer("false", str(tmp_path)).start()
    assert os.path.exists(tmp_path / "tracer.log")
