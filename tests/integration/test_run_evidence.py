"""Evidence through the hunt loop: a real crashing C program under ``flakehunt run``."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from tests.helpers import flakehunt

SRC = Path(__file__).resolve().parents[1] / "data" / "src" / "chkimg_linux_victim.c"


def _cores_land_in_cwd() -> bool:
    try:
        pattern = Path("/proc/sys/kernel/core_pattern").read_text().strip()
    except OSError:
        return False
    return not pattern.startswith("|") and "/" not in pattern


pytestmark = [
    pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc"),
    pytest.mark.skipif(not _cores_land_in_cwd(),
                       reason="core_pattern does not write cores into the run's directory"),
]


@pytest.fixture(scope="module")
def victim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("victim")
    exe = d / "victim"
    subprocess.run(["gcc", "-O0", "-g", "-o", str(exe), str(SRC)], check=True)
    return exe


def _rows(db: Path) -> list[dict[str, object]]:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("SELECT * FROM runs ORDER BY seq")]


def test_failed_run_keeps_core_artifact_telemetry_and_chkimg_verdict(victim: Path,
                                                                      tmp_path: Path) -> None:
    # The run copies the program into its private directory (so --keep can keep
    # the very binary that crashed), zeroes one page of its own code, aborts.
    body = f"cp {victim} ./victim && exec ./victim zero 0x37"
    proc = flakehunt("run", "-n", "1", "-j", "1", "--fresh-dir", "--keep", "victim",
                     "--telemetry-hz", "20", "--json", "--", "sh", "-c", body,
                     cwd=tmp_path, timeout=120)
    assert proc.returncode == 1, proc.stderr
    (row,) = _rows(tmp_path / ".flakehunt" / "flakehunt.db")
    assert row["outcome"] == "fail" and row["core_captured"] == 1, row["core_reason"]
    evidence = tmp_path / ".flakehunt" / "evidence" / str(row["evidence_path"])
    names = {p.name for p in evidence.iterdir()}
    assert "output.log" in names and "telemetry.jsonl.gz" in names
    assert any(n.startswith("core") for n in names), names
    doc = json.loads(str(row["evidence_json"]))
    kept = doc["kept"]
    assert [os.path.basename(k["path"]) for k in kept] == ["victim"]
    assert len(kept[0]["sha256"]) == 64
    assert doc["chkimg"]["summary"].startswith("chkimg: ZERO-FILLED 4,096 bytes")
    summary = json.loads(proc.stdout)
    assert "code pages read as zeros (chkimg)" in summary["signatures"][0]["title"]


def test_clean_crash_has_a_core_and_no_chkimg_difference(victim: Path, tmp_path: Path) -> None:
    body = f"cp {victim} ./victim && exec ./victim clean 0x37"
    flakehunt("run", "-n", "1", "-j", "1", "--fresh-dir", "--keep", "victim", "--", "sh", "-c",
              body, cwd=tmp_path, timeout=120, check=1)
    (row,) = _rows(tmp_path / ".flakehunt" / "flakehunt.db")
    doc = json.loads(str(row["evidence_json"]))
    assert doc["chkimg"]["summary"].startswith("chkimg: 0 differences")


def test_no_cores_option_keeps_none(victim: Path, tmp_path: Path) -> None:
    body = f"cp {victim} ./victim && exec ./victim clean 0x37"
    flakehunt("run", "-n", "1", "-j", "1", "--fresh-dir", "--no-cores", "--", "sh", "-c", body,
              cwd=tmp_path, timeout=120, check=1)
    (row,) = _rows(tmp_path / ".flakehunt" / "flakehunt.db")
    assert row["core_captured"] is None
