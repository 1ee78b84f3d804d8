"""Stressors with real processes: started for the campaign, never left behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from tests.helpers import flakehunt, processes_with_env, wait_until

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="Linux process control")

PROFILE = "cpu=1,io=1,mem=8MiB,spawn=1"


def stressors(tag: str) -> list[int]:
    return [p.pid for p in processes_with_env("FHTEST", tag)
            if "FLAKEHUNT_STRESSOR" in p.environ()]


def ours(tag: str) -> list[int]:
    return [p.pid for p in processes_with_env("FHTEST", tag)]


def start(tmp_path: Path, tag: str) -> subprocess.Popen[str]:
    env = {**os.environ, "FHTEST": tag}
    env.pop("CI", None)
    proc = subprocess.Popen([sys.executable, "-m", "flakehunt", "run", "-q", "-n", "100000",
                             "--load", PROFILE, "--", "sleep", "0.2"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert wait_until(lambda: len(stressors(tag)) >= 4, timeout=20), proc
    return proc


def load_dirs(tmp_path: Path) -> list[Path]:
    return list(tmp_path.glob(".flakehunt-load-*"))


def test_stressors_run_for_the_campaign_and_go_after_sigint(tmp_path: Path) -> None:
    tag = uuid.uuid4().hex
    proc = start(tmp_path, tag)
    assert len(load_dirs(tmp_path)) == 1  # the io stressor writes in the working directory
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert wait_until(lambda: not ours(tag), timeout=5), ours(tag)
    assert load_dirs(tmp_path) == []


def test_stressors_go_when_flakehunt_is_sigkilled(tmp_path: Path) -> None:
    tag = uuid.uuid4().hex
    proc = start(tmp_path, tag)
    pids = stressors(tag)
    proc.kill()
    proc.communicate(timeout=30)
    # PR_SET_PDEATHSIG ends the workers at once; the guardian ends the rest.
    assert wait_until(lambda: not ours(tag), timeout=10), ours(tag)
    for pid in pids:
        assert not os.path.exists(f"/proc/{pid}") or _zombie(pid)
    # Nobody was left to remove the io directory; the next campaign with io load does.
    assert len(load_dirs(tmp_path)) == 1
    flakehunt("run", "-n", "1", "--load", "io=1", "--", "true", cwd=tmp_path, check=0)
    assert load_dirs(tmp_path) == []


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_load_profile_is_recorded_per_run(tmp_path: Path) -> None:
    proc = flakehunt("run", "--json", "-n", "2", "--load", "cpu=1", "--", "true", cwd=tmp_path,
                     check=0)
    assert json.loads(proc.stdout)["watch"]["load"] == "cpu=1"
    import sqlite3

    db = sqlite3.connect(tmp_path / ".flakehunt" / "flakehunt.db")
    assert [r for (r,) in db.execute("SELECT load_profile FROM runs")] == ["cpu=1", "cpu=1"]


def test_variant_load_gates_a_pool_per_variant(tmp_path: Path) -> None:
    # Each run writes the states of the variant stressors it sees: the loaded
    # variant sees them running (R/S), the quiet one sees them stopped (T).
    probe = ("for p in /proc/[0-9]*; do grep -qs FLAKEHUNT_STRESSOR=variant "
             "$p/environ && cut -d' ' -f3 $p/stat; done | sort -u | tr -d '\\n' "
             "> $FLAKEHUNT_VARIANT.$FLAKEHUNT_RUN.state")
    flakehunt("compare", "--json", "-n", "3", "-j", "1", "-V", f"quiet={probe}",
              "-V", f"loaded={probe}", "--variant-load", "loaded=cpu=1",
              cwd=tmp_path, check=0)
    states = {f.name: f.read_text() for f in tmp_path.glob("*.state")}
    assert len(states) == 6, states
    for name, text in states.items():
        if name.startswith("loaded"):
            assert text and "T" not in text, states
        else:
            assert text == "T", states
    import sqlite3

    db = sqlite3.connect(tmp_path / ".flakehunt" / "flakehunt.db")
    for variant, load in db.execute("SELECT variant, load_profile FROM runs"):
        assert load == ("cpu=1" if variant == "loaded" else "")
