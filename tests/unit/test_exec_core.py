"""run_and_flush and die_like with fakes: what is flushed, and how the status comes back."""

from __future__ import annotations

import os
import signal
from collections.abc import Sequence
from pathlib import Path

import pytest

from flakehunt.durable.flush import FlushReport
from flakehunt.durable.launch import (
    ExecSpec,
    die_like,
    exit_code_for,
    run_and_flush,
    windows_exit_code,
)
from flakehunt.errors import UsageError

OLD = 1_000_000_000


class FakeFlusher:
    """Record exactly which paths would be flushed."""

    def __init__(self) -> None:
        self.calls: list[list[Path]] = []

    def __call__(self, paths: list[Path]) -> FlushReport:
        self.calls.append(list(paths))
        return FlushReport((), (), 0.0, "fake")


def tool_writing(files: dict[str, bytes], status: int = 0):  # type: ignore[no-untyped-def]
    def runner(argv: Sequence[str], cwd: Path) -> int:
        for rel, data in files.items():
            p = cwd / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
        return status

    return runner


def test_flush_written_flushes_exactly_the_files_the_tool_wrote(tmp_path: Path) -> None:
    for name in ("obj/a.o", "obj/b.o", "bin/old.exe"):
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"before")
        os.utime(p, (OLD, OLD))
    fake = FakeFlusher()
    spec = ExecSpec(("link",), tmp_path, written_dirs=(Path("bin"), Path("obj")))
    result = run_and_flush(spec, tool_writing({"bin/app.exe": b"MZ", "obj/b.o": b"relinked"}), fake)
    assert fake.calls == [[tmp_path / "bin/app.exe", tmp_path / "obj/b.o"]]
    assert result.returncode == 0


def test_globs_flush_their_matches_once(tmp_path: Path) -> None:
    fake = FakeFlusher()
    spec = ExecSpec(("link",), tmp_path, globs=("out/*.exe", "out/app.exe"))
    result = run_and_flush(spec, tool_writing({"out/app.exe": b"MZ", "out/app.pdb": b"p"}, 5), fake)
    assert fake.calls == [[tmp_path / "out/app.exe"]]
    assert result.returncode == 5
    assert result.unmatched == ()


def test_nothing_produced_means_no_flush_and_a_warning(tmp_path: Path) -> None:
    fake = FakeFlusher()
    spec = ExecSpec(("link",), tmp_path, globs=("out/*.exe",))
    result = run_and_flush(spec, tool_writing({}, 1), fake)
    assert fake.calls == []
    assert result.report is None
    assert result.unmatched == ("out/*.exe",)
    assert result.returncode == 1


def test_escaping_glob_is_refused_before_the_tool_runs(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="escapes"):
        ExecSpec(("link",), tmp_path, globs=("../elsewhere/*.exe",))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"argv": ()}, "no tool"), ({"argv": ("x",)}, "nothing to flush")],
)
def test_spec_needs_a_tool_and_something_to_flush(tmp_path: Path, kwargs: dict, match: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(UsageError, match=match):
        ExecSpec(cwd=tmp_path, **kwargs)


@pytest.mark.parametrize(("raw", "shell"), [(0, 0), (3, 3), (-11, 139), (-15, 143)])
def test_exit_code_for_matches_the_shell(raw: int, shell: int) -> None:
    assert exit_code_for(raw) == shell


def test_die_like_resets_the_handler_and_kills_itself_with_the_same_signal() -> None:
    events: list[tuple[str, int, object]] = []
    status = die_like(
        -signal.SIGSEGV,
        kill=lambda pid, sig: events.append(("kill", pid, sig)),
        set_handler=lambda sig, h: events.append(("handler", sig, h)),
        no_core=lambda: events.append(("no_core", 0, None)),
    )
    assert events == [
        ("no_core", 0, None),
        ("handler", signal.SIGSEGV, signal.SIG_DFL),
        ("kill", os.getpid(), signal.SIGSEGV),
    ]
    assert status == 139  # only used if the kill was survived


def test_die_like_returns_plain_exit_codes_untouched() -> None:
    def never(*a: object) -> None:
        raise AssertionError("must not signal")

    assert die_like(42, kill=never, set_handler=never) == 42


@pytest.mark.parametrize(
    ("raw", "signed"),
    [
        (0, 0),
        (3, 3),
        (0xC0000005, -1073741819),
        (0xC0000409, -1073740791),
        (-1073741819, -1073741819),
    ],
)
def test_windows_statuses_pass_through_sys_exit_as_the_same_dword(raw: int, signed: int) -> None:
    assert windows_exit_code(raw) == signed
    assert windows_exit_code(raw) & 0xFFFFFFFF == raw & 0xFFFFFFFF
