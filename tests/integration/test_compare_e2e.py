"""compare and demo end to end, with real processes."""

from __future__ import annotations

import json
import sqlite3
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from tests.helpers import flakehunt

# A real race, no random number: two processes append to one file; the reader
# counts what has arrived. The "fix" waits for the writer before reading.
RACE = r"""
import os, subprocess, sys, time
fixed = sys.argv[1] == "fixed"
path = os.path.join(os.environ["FLAKEHUNT_RUN_DIR"], "out.txt")
WRITER = ("import sys\nwith open(sys.argv[1], 'a') as f:\n for i in range(200):\n"
          "  f.write('x'*100+'\\n'); f.flush()")
w = subprocess.Popen([sys.executable, "-c", WRITER, path])
if fixed:
    w.wait()
else:
    time.sleep(0.03)
n = sum(1 for _ in open(path)) if os.path.exists(path) else 0
w.wait()
sys.exit(0 if n == 200 else 1)
"""


def test_experiment_on_a_real_race(tmp_path: Path) -> None:
    script = tmp_path / "race.py"
    script.write_text(RACE)
    py = sys.executable
    proc = flakehunt("compare", "-n", "16", "-j", "2", "--seed", "5", "--json",
                     "-V", f"racy={py} {script} racy", "-V", f"fixed={py} {script} fixed",
                     cwd=tmp_path, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr
    doc = json.loads(proc.stdout)
    by = {v["name"]: v for v in doc["variants"]}
    assert by["racy"]["runs"] == by["fixed"]["runs"] == 16
    assert by["fixed"]["failures"] == 0  # the race is closed, not special-cased
    assert doc["seed"] == 5


def test_deterministic_pattern_and_block_structure(tmp_path: Path) -> None:
    # "bad" fails every run; "good" never: the verdict must be "worse", and every
    # block must hold exactly one run of each variant, in a recorded random order.
    proc = flakehunt("compare", "-n", "30", "-j", "2", "--seed", "11", "--json",
                     "-V", "good=true", "-V", "bad=false", "-V", "also=true",
                     cwd=tmp_path, timeout=120)
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    verdicts = {v["name"]: v["verdict"] for v in doc["variants"]}
    assert verdicts["bad"] == "worse"
    assert verdicts["also"] == "no evidence of a difference"
    with sqlite3.connect(tmp_path / ".flakehunt" / "flakehunt.db") as conn:
        rows = conn.execute("SELECT block, variant, outcome, concurrency FROM runs "
                            "ORDER BY seq").fetchall()
    blocks: dict[int, list[str]] = defaultdict(list)
    for block, variant, outcome, concurrency in rows:
        blocks[block].append(variant)
        assert (outcome == "fail") == (variant == "bad")
        assert concurrency == 2
    assert sorted(blocks) == list(range(1, 31))
    assert all(sorted(v) == ["also", "bad", "good"] for v in blocks.values())
    assert len({tuple(v) for v in blocks.values()}) > 1  # order varies by block
    # The same campaign reads the same through `show`.
    shown = json.loads(flakehunt("show", "--json", cwd=tmp_path, check=0).stdout)
    assert {v["name"]: v["verdict"] for v in shown["comparison"]["variants"]} == verdicts


def test_compare_needs_a_bound(tmp_path: Path) -> None:
    proc = flakehunt("compare", "-V", "a=true", "-V", "b=true", cwd=tmp_path)
    assert proc.returncode == 2
    assert "needs a bound" in proc.stderr and "flakehunt plan" in proc.stderr


@pytest.mark.slow
def test_demo_fixed_size_run(tmp_path: Path) -> None:
    proc = flakehunt("demo", "--quick", "--runs", "10", "-q", "--seed", "3", cwd=tmp_path,
                     timeout=300)
    assert proc.returncode == 0, proc.stderr
    with sqlite3.connect(tmp_path / ".flakehunt" / "flakehunt.db") as conn:
        counts = dict(conn.execute(
            "SELECT variant, SUM(outcome IN ('fail','timeout')) FROM runs GROUP BY variant"))
        n = dict(conn.execute("SELECT variant, COUNT(*) FROM runs GROUP BY variant"))
    assert n == {"normal": 10, "sleep": 10, "flush": 10}
    assert counts["flush"] == 0
    assert counts["normal"] >= 1, "the race did not show in 10 runs: widen the window"
    assert "0xC000" in proc.stdout  # the story's status codes name the signatures
