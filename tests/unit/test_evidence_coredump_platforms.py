"""macOS kern.corefile and Windows WER LocalDumps: pure logic."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from flakehunt.evidence import coredump_windows as wn
from flakehunt.evidence.budget import EvidenceBudget
from flakehunt.evidence.coredump_macos import expand_corefile, find_macos_core
from flakehunt.evidence.cores import CoreCollector


@pytest.mark.parametrize(
    ("corefile", "path"),
    [
        ("/cores/core.%P", "/cores/core.501"),
        ("/tmp/%N-%U-%P.core", "/tmp/crashy-20-501.core"),
        ("/c/100%%.%P", "/c/100%.501"),
        ("/c/%X%P", "/c/501"),
    ],
)
def test_macos_corefile(corefile: str, path: str) -> None:
    assert expand_corefile(corefile, 501, "crashy", 20) == path


def test_macos_find(tmp_path: Path) -> None:
    (tmp_path / "core.501").write_bytes(b"core")
    assert find_macos_core(f"{tmp_path}/core.%P", 501, "x", 0, time.time() - 5)
    assert find_macos_core(f"{tmp_path}/core.%P", 502, "x", 0, time.time() - 5) is None


ENV = {"LOCALAPPDATA": r"C:\Users\me\AppData\Local"}


@pytest.mark.parametrize(
    ("glob", "app", "enabled", "folder", "dtype", "says"),
    [
        (None, None, False, "", 1, "not configured"),
        ({}, None, True, r"C:\Users\me\AppData\Local\CrashDumps", 1, ""),
        ({"DumpType": 2, "DumpFolder": r"D:\dumps"}, None, True, r"D:\dumps", 2, ""),
        ({"DumpType": 1}, {"DumpType": 2}, True, r"C:\Users\me\AppData\Local\CrashDumps", 2, ""),
        (None, {"DumpFolder": r"%localappdata%\X"}, True, r"C:\Users\me\AppData\Local\X", 1, ""),
        ({"DumpCount": 0}, None, False, r"C:\Users\me\AppData\Local\CrashDumps", 1, "DumpCount"),
        ({"DumpFolder": r"%NOPE%\d"}, None, False, r"%NOPE%\d", 1, "unset variable"),
    ],
)
def test_wer_settings(glob: dict[str, object] | None, app: dict[str, object] | None,
                      enabled: bool, folder: str, dtype: int, says: str) -> None:
    s = wn.wer_settings(glob, app, ENV)
    assert s.enabled is enabled and s.folder == folder and s.dump_type == dtype
    assert says in s.reason


def test_wer_dump_name_and_collect(tmp_path: Path) -> None:
    assert wn.dump_name(r"C:\b\app.exe", 1234) == "app.exe.1234.dmp"
    (tmp_path / "app.exe.1234.dmp").write_bytes(b"MDMP")
    col = CoreCollector("win32", wer_reader=lambda exe: ({"DumpFolder": str(tmp_path),
                                                          "DumpType": 2}, None))
    res = col.collect(pid=1234, returncode=0xC0000005, cwd=".", started=time.time() - 5,
                      dest_dir=str(tmp_path / "ev"), budget=EvidenceBudget(None), exe="app.exe")
    assert res.captured and "full dump" in res.reason
    assert os.path.basename(res.path or "") == "app.exe.1234.dmp"


def test_wer_not_configured_reason() -> None:
    col = CoreCollector("win32", wer_reader=lambda exe: (None, None))
    res = col.collect(pid=1, returncode=0xC0000409, cwd=".", started=0, dest_dir="/nonexistent",
                      budget=EvidenceBudget(None), exe="app.exe")
    assert not res.captured and "LocalDumps is not configured" in res.reason
    ok = col.collect(pid=1, returncode=1, cwd=".", started=0, dest_dir="/nonexistent",
                     budget=EvidenceBudget(None), exe="app.exe")
    assert "unhandled exception" in ok.reason


def test_enable_commands_name_the_key() -> None:
    cmds = wn.enable_commands()
    assert all(c.startswith('reg add "HKLM\\SOFTWARE\\Microsoft\\Windows\\Windows Error '
                            'Reporting\\LocalDumps"') for c in cmds)
    assert any("DumpType /t REG_DWORD /d 2" in c for c in cmds)


def test_wer_image_names_and_a_childs_dump(tmp_path: Path) -> None:
    assert wn.dump_name(r"build\app", 7) == "app.exe.7.dmp"
    assert wn.dump_name("runner.cmd", 7) == "runner.cmd.7.dmp"
    (tmp_path / "worker.exe.99.dmp").write_bytes(b"MDMP")
    (tmp_path / "other.exe.98.dmp").write_bytes(b"MDMP")
    s = wn.wer_settings({"DumpFolder": str(tmp_path)}, None, ENV)
    found = wn.find_wer_dump(s, "runner.exe", 7, time.time() - 5, frozenset({7, 99}))
    assert found == str(tmp_path / "worker.exe.99.dmp")
    assert wn.find_wer_dump(s, "runner.exe", 7, time.time() - 5) is None
