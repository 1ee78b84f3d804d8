"""`flakehunt exec` and `flakehunt flush` as real processes: statuses, signals, files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

FH = [sys.executable, "-m", "flakehunt"]


def fh(*args: str, cwd: Path, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*FH, *args], cwd=cwd, capture_output=True, text=True, timeout=60, **kw)  # type: ignore[call-overload, no-any-return]


@pytest.mark.parametrize("status", [0, 1, 3, 42, 255])
def test_exec_exits_with_the_tools_status(tmp_path: Path, status: int) -> None:
    r = fh("exec", "--flush", "out.bin", "--", "sh", "-c", f"echo x > out.bin; exit {status}",
           cwd=tmp_path)
    assert r.returncode == status, r.stderr
    assert (tmp_path / "out.bin").read_text() == "x\n"


@pytest.mark.parametrize("sig", [signal.SIGSEGV, signal.SIGABRT, signal.SIGTERM, signal.SIGKILL])
def test_exec_dies_by_the_signal_that_killed_the_tool(tmp_path: Path, sig: int) -> None:
    r = fh("exec", "--flush", "out.bin", "--", "sh", "-c", f"echo x > out.bin; kill -{sig} $$",
           cwd=tmp_path)
    assert r.returncode == -sig
    assert not list(tmp_path.glob("core*"))  # no misleading core of flakehunt itself


def test_exec_refuses_an_escaping_glob_without_running_the_tool(tmp_path: Path) -> None:
    work = tmp_path / "build"
    work.mkdir()
    r = fh("exec", "--flush", "../secrets/*", "--", "touch", "ran", cwd=work)
    assert r.returncode == 2
    assert "escapes the working directory" in r.stderr
    assert not (work / "ran").exists()


def test_exec_flush_written_lists_exactly_the_new_and_changed_files(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    old = tmp_path / "out" / "stale.o"
    old.write_text("old")
    os.utime(old, (1_000_000_000, 1_000_000_000))
    r = fh("exec", "-v", "--flush-written", "out", "--", "sh", "-c",
           "echo a > out/app.exe && mkdir out/d && echo b > out/d/app.pdb", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    listed = [line.split()[0] for line in r.stderr.splitlines() if line.startswith("/")]
    assert listed == [str(tmp_path / "out" / "app.exe"), str(tmp_path / "out" / "d" / "app.pdb")]
    assert "flushed 2 files" in r.stderr


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_exec_forwards_stop_signals_to_the_tool(tmp_path: Path, sig: int) -> None:
    tool = (
        "import signal, sys, time, pathlib\n"
        "def bye(s, f):\n"
        "    pathlib.Path('got-term').write_text(str(s)); sys.exit(7)\n"
        f"signal.signal({int(sig)}, bye)\n"
        "pathlib.Path('ready').write_text('1')\n"
        "time.sleep(30)\n"
    )
    proc = subprocess.Popen([*FH, "exec", "--flush", "got-term", "--", sys.executable, "-c", tool],
                            cwd=tmp_path, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # so only exec gets our signal
    deadline = time.monotonic() + 20
    while not (tmp_path / "ready").exists():
        assert time.monotonic() < deadline, "tool did not start"
        time.sleep(0.02)
    proc.send_signal(sig)
    assert proc.wait(timeout=20) == 7
    assert (tmp_path / "got-term").read_text() == str(int(sig))


def test_exec_of_a_missing_tool_exits_127_like_a_shell(tmp_path: Path) -> None:
    r = fh("exec", "--flush", "x", "--", "no-such-linker-xyz", cwd=tmp_path)
    assert r.returncode == 127
    assert "command not found" in r.stderr


def test_exec_warns_when_a_glob_matched_nothing(tmp_path: Path) -> None:
    r = fh("exec", "--flush", "*.exe", "--", "true", cwd=tmp_path)
    assert r.returncode == 0
    assert "matched no file" in r.stderr


def test_flush_command_reports_files_bytes_and_time(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    for i in range(3):
        (tmp_path / "d" / f"f{i}").write_bytes(b"z" * 1000)
    r = fh("flush", "-r", "d", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("flushed 3 files, ")
    assert "1 directory in" in r.stdout


def test_flush_command_errors_are_one_line(tmp_path: Path) -> None:
    r = fh("flush", "missing.exe", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.startswith("flakehunt: error: missing.exe: no such file")
    r = fh("flush", ".", cwd=tmp_path)
    assert r.returncode == 2 and "-r" in r.stderr
