"""``flakehunt bisect`` on a real git repository where one commit introduces a timing race.

The race is genuine: a background subshell writes a file while the script
reads it; before the culprit the script waits for the writer, after it the
read usually loses (~98% of runs here: the writer must fork a subshell first). A rate
that high is deliberate: a slower race (~50%) drifted with the machine's load and with
flakehunt's own start of each probe (its samplers' first scan), and a few-run probe
then saw a flaky commit as clean. No random number decides.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from tests.helpers import flakehunt

SAFE = """#!/bin/sh
f=$(mktemp)
(echo ready > "$f") &
wait
read -r line < "$f"
rm -f "$f"
[ "$line" = ready ]
"""
# The culprit moves the wait after the read: the reader races the writer.
RACY = """#!/bin/sh
f=$(mktemp)
(echo ready > "$f") &
: # the writer must fork a subshell; the reader reads at once and usually wins
read -r line < "$f"
wait
rm -f "$f"
[ "$line" = ready ]
"""

ENV = {
    "GIT_AUTHOR_NAME": "Ada",
    "GIT_AUTHOR_EMAIL": "ada@example.invalid",
    "GIT_COMMITTER_NAME": "Ada",
    "GIT_COMMITTER_EMAIL": "ada@example.invalid",
    "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z",
}


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, **ENV}
    out = subprocess.run(
        ["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True
    )
    return out.stdout.strip()


def _commit(repo: Path, files: dict[str, str], msg: str) -> str:
    for name, text in files.items():
        (repo / name).write_text(text)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", msg)
    return _git(repo, "rev-parse", "HEAD")


@pytest.fixture()
def repo(tmp_path: Path) -> tuple[Path, list[str]]:
    """A repository of 1 + 30 commits; commit 17 makes race.sh.in racy, 26 fixes it."""
    r = tmp_path / "repo"
    r.mkdir()
    _git(r, "init", "-q", "-b", "main")
    shas = [_commit(r, {"race.sh.in": SAFE, "notes.txt": "0\n"}, "start")]
    for i in range(1, 31):
        files = {"notes.txt": f"{i}\n"}
        if i == 17:
            files["race.sh.in"] = RACY
        if i == 26:
            files["race.sh.in"] = SAFE
        shas.append(_commit(r, files, f"change {i}"))
    return r, shas


def _short(repo: Path, sha: str) -> str:
    return _git(repo, "rev-parse", "--short", sha)


def _bisect(repo: Path, db: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``flakehunt bisect ARGS`` on *repo*: --build turns the template into the script in
    each probe's own worktree, and the test is ``sh race.sh``."""
    return flakehunt("bisect", *args, "--build", "cp race.sh.in race.sh", "--db", db, "--",
                     "sh", "race.sh", cwd=repo, timeout=300)


def test_bisect_finds_the_commit_that_introduced_the_race(
    repo: tuple[Path, list[str]], tmp_path: Path
) -> None:
    r, shas = repo
    db = str(tmp_path / "fh.db")
    proc = _bisect(r, db, "--good", shas[0], "--bad", shas[20], "-j", "2")
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    m = re.search(r"first bad commit: (\w+) \(P = ([0-9.]+)\)", proc.stdout)
    assert m, proc.stdout
    assert m.group(1) == _short(r, shas[17]), proc.stdout
    assert float(m.group(2)) >= 0.95
    assert "change 17" in proc.stdout  # git show --stat of the culprit
    assert "top:" in proc.stderr  # the live posterior
    # The user's working tree was never touched; no worktree left behind.
    assert _git(r, "status", "--porcelain") == ""
    assert _git(r, "rev-parse", "HEAD") == shas[-1]
    assert len(_git(r, "worktree", "list").splitlines()) == 1
    assert not (r / "race.sh").exists()


def test_bisect_fixed_finds_the_commit_that_removed_the_race(
    repo: tuple[Path, list[str]], tmp_path: Path
) -> None:
    r, shas = repo
    db = str(tmp_path / "fh.db")
    proc = _bisect(r, db, "--fixed", "--bad", shas[18], "--good", shas[30], "-j", "2")
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    m = re.search(r"first fixed commit: (\w+) \(P = ([0-9.]+)\)", proc.stdout)
    assert m and m.group(1) == _short(r, shas[26]), proc.stdout


def test_resume_continues_from_the_recorded_probes(
    repo: tuple[Path, list[str]], tmp_path: Path
) -> None:
    r, shas = repo
    db = str(tmp_path / "fh.db")
    first = _bisect(r, db, "--good", shas[0], "--bad", shas[20], "--max-runs", "12", "-j", "1")
    assert first.returncode == 1, (first.stdout, first.stderr)
    assert "undecided" in first.stdout
    before = runs_in(first.stdout)
    assert before >= 12
    # The budget was spent; a new one (0: none) lets the search go on from its probes.
    again = flakehunt("bisect", "--resume", "--max-runs", "0", "--db", db, cwd=r, timeout=300)
    assert again.returncode == 0, (again.stdout, again.stderr)
    m = re.search(r"first bad commit: (\w+)", again.stdout)
    assert m and m.group(1) == _short(r, shas[17]), again.stdout
    assert runs_in(again.stdout) > before
    # The resumed search kept the recorded probes: they are in its counts.
    assert probes_in(again.stdout) > probes_in(first.stdout)


def probes_in(text: str) -> int:
    m = re.search(r"(\d+) runs over (\d+) probes", text)
    assert m, text
    return int(m.group(2))


def runs_in(text: str) -> int:
    m = re.search(r"(\d+) runs over (\d+) probes", text)
    assert m, text
    return int(m.group(1))


def test_a_failure_that_never_reproduces_is_said_and_nothing_is_searched(
    repo: tuple[Path, list[str]], tmp_path: Path
) -> None:
    r, shas = repo
    proc = flakehunt(
        "bisect",
        "--good",
        shas[0],
        "--bad",
        shas[5],
        "--calibrate-runs",
        "20",
        "--db",
        str(tmp_path / "fh.db"),
        "--",
        "true",
        cwd=r,
        timeout=120,
    )
    assert proc.returncode == 1
    assert "did not reproduce" in proc.stdout and "in 20 runs" in proc.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--good", "HEAD", "--bad", "HEAD~3", "--", "true"), "is not an ancestor"),
        (("--good", "nosuchrev", "--bad", "HEAD", "--", "true"), "nosuchrev"),
        (("--good", "HEAD~3", "--bad", "HEAD"), "no test command"),
        (("--resume",), "no bisect campaign"),
    ],
)
def test_bad_usage_says_what_is_wrong(
    repo: tuple[Path, list[str]], tmp_path: Path, args: tuple[str, ...], says: str
) -> None:
    r, _ = repo
    proc = flakehunt("bisect", *args, "--db", str(tmp_path / "fh.db"), cwd=r)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert says in proc.stderr and "Traceback" not in proc.stderr


def test_sigterm_records_the_probe_cleans_up_and_resume_finishes(
    repo: tuple[Path, list[str]], tmp_path: Path
) -> None:
    import signal
    import sys
    import time

    r, shas = repo
    db = str(tmp_path / "fh.db")
    slow = "sleep 0.3; cp race.sh.in race.sh && sh race.sh"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flakehunt",
            "bisect",
            "--good",
            shas[0],
            "--bad",
            shas[20],
            "-j",
            "2",
            "--db",
            db,
            "--",
            "sh",
            "-c",
            slow,
        ],
        cwd=r,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(3)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err)
    assert "interrupted" in out
    assert len(_git(r, "worktree", "list").splitlines()) == 1
    again = flakehunt("bisect", "--resume", "--db", db, cwd=r, timeout=300)
    assert again.returncode == 0, (again.stdout, again.stderr)
    m = re.search(r"first bad commit: (\w+)", again.stdout)
    assert m and m.group(1) == _short(r, shas[17]), again.stdout
