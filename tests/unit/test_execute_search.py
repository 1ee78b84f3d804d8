"""find_program: the lookup execvp would make, done once in the parent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flakehunt.execute.search import find_program


@pytest.fixture
def dirs(tmp_path: Path) -> dict[str, Path]:
    made = {}
    for name in ("a", "b", "c"):
        made[name] = tmp_path / name
        made[name].mkdir()

    def put(where: str, mode: int) -> None:
        f = made[where] / "tool"
        f.write_text("#!/bin/sh\n")
        f.chmod(mode)

    put("b", 0o644)  # not executable: skipped, as execvp goes on past EACCES
    put("c", 0o755)
    (made["a"] / "tool.d").mkdir()
    return made


@pytest.mark.parametrize(("name", "path", "expected"), [
    ("tool", "{a}:{b}:{c}", "{c}/tool"),
    ("tool", "{c}:{a}", "{c}/tool"),
    ("tool", "{a}:{b}", None),  # only a non-executable: the child reports EACCES
    ("tool.d", "{a}", None),  # a directory is not a program
    ("tool", "relative:{c}", None),  # the child's directory decides: the child searches
    ("tool", ":{c}", None),  # an empty entry is the current directory too
    ("tool", "{c}:relative", "{c}/tool"),  # found before the relative entry matters
    ("./tool", "{c}", None),  # a slash: no search at all
    ("/bin/sh", "{c}", None),
    ("", "{c}", None),
    ("tool", "", None),
    ("tool", None, None),
])
def test_finds_what_execvp_would(dirs: dict[str, Path], name: str, path: str | None,
                                 expected: str | None) -> None:
    fmt = {k: str(v) for k, v in dirs.items()}
    search = None if path is None else path.format(**fmt).replace(":", os.pathsep)
    want = None if expected is None else expected.format(**fmt)
    assert find_program(name, search) == want
