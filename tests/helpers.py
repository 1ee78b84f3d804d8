"""Helpers shared by tests: run the real CLI, find leftover processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil


def flakehunt(
    *args: str,
    cwd: Path,
    timeout: float = 120,
    env: dict[str, str] | None = None,
    check: int | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m flakehunt ARGS`` in *cwd* and return what it printed."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("CI", None) if env is None or "CI" not in env else None
    proc = subprocess.run(
        [sys.executable, "-m", "flakehunt", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check is not None:
        assert proc.returncode == check, (proc.returncode, proc.stdout, proc.stderr)
    return proc


# Every flakehunt a test starts carries this marker, inherited by all its runs, so
# leftover checks see only this test session's processes (not those of another
# flakehunt on the machine, e.g. a second test session).
TEST_TOKEN = os.environ.setdefault("FLAKEHUNT_TEST_TOKEN", uuid.uuid4().hex)


def leftovers() -> list[psutil.Process]:
    """Return live processes started by this test session's flakehunt runs."""
    return processes_with_env("FLAKEHUNT_TEST_TOKEN", TEST_TOKEN)


def processes_with_env(key: str, value: str | None = None) -> list[psutil.Process]:
    """Return live (non-zombie) processes whose environment has KEY (=VALUE)."""
    found = []
    for p in psutil.process_iter():
        try:
            env = p.environ()
            if p.status() == psutil.STATUS_ZOMBIE:
                continue
        except (psutil.Error, OSError):
            continue
        if key in env and (value is None or env[key] == value):
            found.append(p)
    return found


def wait_until(predicate, timeout: float = 10.0, step: float = 0.05) -> bool:  # type: ignore[no-untyped-def]
    """Poll *predicate* until true or *timeout*; return its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())


def plugin_args() -> tuple[str, ...]:
    """Name the plugin with -p unless its pytest11 entry point loads it already.

    With flakehunt installed, ``-p flakehunt.pytest_plugin`` would register the
    same module a second time, which pytest refuses.
    """
    from importlib.metadata import entry_points

    if any(ep.value == "flakehunt.pytest_plugin" for ep in entry_points(group="pytest11")):
        return ()
    return ("-p", "flakehunt.pytest_plugin")


def proc_file(pid: int, name: str) -> bytes:
    """Return ``/proc/PID/NAME`` (b"" when the process or file is gone)."""
    try:
        with open(f"/proc/{pid}/{name}", "rb") as fh:
            return fh.read()
    except OSError:
        return b""
