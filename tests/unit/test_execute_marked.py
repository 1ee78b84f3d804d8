"""Finding a run's processes by the marker in their environment (``marked_pids``)."""

from __future__ import annotations

import os
import subprocess
import time

import pytest
from tests.helpers import proc_file

from flakehunt.execute import posix

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads /proc")


@pytest.mark.parametrize(
    ("reads", "expected"),
    [
        pytest.param([True], [4242], id="marked"),
        pytest.param([False], [], id="not marked"),
        # Caught between execve's switch of image and the environment's publication.
        pytest.param([None, None, True], [4242], id="mid-exec, then marked"),
        pytest.param([None, False], [], id="mid-exec, then someone else's"),
        pytest.param([None] * 1000, [], id="empty for good (env -i)"),
    ],
)
def test_an_empty_environment_is_looked_at_again(monkeypatch: pytest.MonkeyPatch,
                                                 reads: list[bool | None],
                                                 expected: list[int]) -> None:
    seen = iter(reads)
    monkeypatch.setattr(posix, "_proc_pids", lambda: [4242])
    monkeypatch.setattr(posix, "_environ_has", lambda _pid, _n: next(seen, reads[-1]))
    monkeypatch.setattr(posix, "_user_start", lambda pid: (pid, "123"))
    monkeypatch.setattr(posix, "_stayed_empty", set())
    assert posix.marked_pids([("FLAKEHUNT_RUN_ID", "r")]) == expected


def test_a_zombie_is_not_waited_for() -> None:
    proc = subprocess.Popen(["true"])
    try:
        deadline = time.monotonic() + 5
        while _state(proc.pid) != b"Z":  # exited, not reaped: its environment reads empty
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert not posix._environ_has(proc.pid, [b"X=1"])
        assert posix._user_start(proc.pid) is None
        assert posix._user_start(os.getpid()) is not None
    finally:
        proc.wait()


def test_a_process_without_environment_is_waited_for_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(posix, "_stayed_empty", set())
    proc = subprocess.Popen(["env", "-i", "sleep", "30"])
    try:
        deadline = time.monotonic() + 5
        while proc_file(proc.pid, "comm") != b"sleep\n":  # env has exec'd sleep
            assert time.monotonic() < deadline
            time.sleep(0.01)
        posix.marked_pids([("FLAKEHUNT_TEST_NOBODY", "x")])
        assert posix._user_start(proc.pid) in posix._stayed_empty
    finally:
        proc.kill()
        proc.wait()


def _state(pid: int) -> bytes:
    text = proc_file(pid, "stat")
    return text[text.rfind(b")") + 2 :].split()[0]
