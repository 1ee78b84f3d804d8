"""Spawning through ctypes: what the child gets, and errors that name the right culprit."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from flakehunt.campaign.model import Attempt, LayeredEnv
from flakehunt.execute import cspawn
from flakehunt.execute.local import LocalExecutor

pytestmark = pytest.mark.skipif(not cspawn.available(), reason="Linux libc only")

SCRIPT = 'echo "run=$FLAKEHUNT_RUN home=$HOME cwd=$(pwd)"; echo err >&2; read x || echo no-stdin'


def _attempt(tmp_path: Path, seq: int, argv: tuple[str, ...], base: dict[str, str], *,
             cwd: str | None = None, log: Path | None = None) -> Attempt:
    env = LayeredEnv(base, {"FLAKEHUNT_RUN": str(seq)})
    return Attempt(run_id=f"r{seq}", campaign_id=1, seq=seq, variant="v", block=seq, slot=0,
                   argv=argv, cwd=cwd or os.getcwd(), env=env, run_dir=str(tmp_path),
                   log_path=str(log or tmp_path / "out.log"))


@pytest.fixture
def executor() -> LocalExecutor:
    ex = LocalExecutor(use_guardian=False)
    ex.start()
    yield ex
    ex.close()


def test_child_gets_env_log_stdin_and_cwd(tmp_path: Path, executor: LocalExecutor) -> None:
    base = {**os.environ, "HOME": "/nowhere", "FLAKEHUNT_RUN": "stale"}
    other = tmp_path / "elsewhere"
    other.mkdir()
    for seq, cwd in ((1, None), (2, str(other)), (3, None)):
        a = _attempt(tmp_path, seq, ("sh", "-c", SCRIPT), base, cwd=cwd)
        Path(a.log_path).write_text("old content that must go\n")
        res = executor.execute(a)
        assert res.returncode == 0
        want_cwd = cwd or os.getcwd()
        assert Path(a.log_path).read_text() == (
            f"run={seq} home=/nowhere cwd={want_cwd}\nerr\nno-stdin\n")


def test_env_of_a_plain_mapping_survives_the_spawn(tmp_path: Path,
                                                   executor: LocalExecutor) -> None:
    # The encoded block must outlive the spawn even when nothing caches it.
    for seq in range(1, 30):
        env = {"PATH": os.environ["PATH"], "X": f"value-{seq}" * 50}
        a = _attempt(tmp_path, seq, ("sh", "-c", 'echo "$X"'), {})
        a = replace(a, env=env)
        assert executor.execute(a).returncode == 0
        assert Path(a.log_path).read_text() == f"value-{seq}" * 50 + "\n"


@pytest.mark.parametrize(("argv", "say"), [
    (("no-such-command-xyz",), "command not found: no-such-command-xyz"),
    (("/etc/passwd",), "permission denied: /etc/passwd (is it executable?)"),
])
def test_start_errors_blame_the_command(tmp_path: Path, executor: LocalExecutor,
                                        argv: tuple[str, ...], say: str) -> None:
    res = executor.execute(_attempt(tmp_path, 1, argv, dict(os.environ)))
    assert res.start_error == say


def test_an_unwritable_log_is_not_blamed_on_the_command(tmp_path: Path,
                                                        executor: LocalExecutor) -> None:
    log = tmp_path / "missing-dir" / "out.log"
    res = executor.execute(_attempt(tmp_path, 1, ("true",), dict(os.environ), log=log))
    assert res.start_error is not None and res.start_error.startswith("cannot create log")


def test_a_missing_working_directory_is_named(tmp_path: Path, executor: LocalExecutor) -> None:
    a = _attempt(tmp_path, 1, ("true",), dict(os.environ), cwd=str(tmp_path / "gone"))
    res = executor.execute(a)
    assert res.start_error == f"working directory {tmp_path / 'gone'} does not exist"


def test_file_actions_beyond_the_cache_are_used_once(tmp_path: Path, executor: LocalExecutor,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cspawn, "_MAX_CACHED_ACTIONS", 0)  # as a cluster worker's temp paths
    for seq in range(1, 6):
        a = _attempt(tmp_path, seq, ("sh", "-c", SCRIPT), dict(os.environ),
                     log=tmp_path / f"out{seq}.log")
        assert executor.execute(a).returncode == 0
        assert Path(a.log_path).read_text().startswith(f"run={seq} ")


def test_a_program_found_on_path_once_may_move_later(tmp_path: Path,
                                                     executor: LocalExecutor) -> None:
    """The command is looked up once; if it goes, PATH is searched again, as execvp would."""
    first, second = tmp_path / "bin1", tmp_path / "bin2"
    first.mkdir()
    second.mkdir()
    tool = first / "fh-test-tool"
    tool.write_text("#!/bin/sh\necho first\n")
    tool.chmod(0o755)
    env = {"PATH": f"{first}:{second}:/usr/bin:/bin"}
    a = _attempt(tmp_path, 1, ("fh-test-tool",), env)
    assert executor.execute(a).returncode == 0
    assert Path(a.log_path).read_text() == "first\n"
    moved = second / "fh-test-tool"
    os.replace(tool, moved)
    moved.write_text("#!/bin/sh\necho second\n")
    a = _attempt(tmp_path, 2, ("fh-test-tool",), env)
    assert executor.execute(a).returncode == 0
    assert Path(a.log_path).read_text() == "second\n"
