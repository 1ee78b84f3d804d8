"""--keep/--hash: globs, confinement to the working directory, budget, link or copy."""

from __future__ import annotations

import glob
import hashlib
import os
import sys
from pathlib import Path

import pytest

from flakehunt.errors import UsageError
from flakehunt.evidence.artifacts import compile_glob, hash_files, keep_files, match_files
from flakehunt.evidence.budget import EvidenceBudget


@pytest.mark.parametrize(
    ("glob", "path", "matches"),
    [
        ("*.log", "a.log", True),
        ("*.log", "sub/a.log", False),
        ("**/*.log", "a.log", True),
        ("**/*.log", "x/y/a.log", True),
        ("build/*.exe", "build/app.exe", True),
        ("build/*.exe", "build/sub/app.exe", False),
        ("build/**", "build/sub/deep/f", True),
        ("out/?.bin", "out/a.bin", True),
        ("out/?.bin", "out/ab.bin", False),
        ("f[0-9].txt", "f7.txt", True),
        ("f[!0-9].txt", "f7.txt", False),
        ("f[!0-9].txt", "fx.txt", True),
        ("./a.txt", "a.txt", True),
        ("a+b(1).txt", "a+b(1).txt", True),
    ],
)
def test_glob_matching(glob: str, path: str, matches: bool) -> None:
    assert bool(compile_glob(glob).regex.match(path)) is matches


@pytest.mark.parametrize(
    ("glob", "says"),
    [
        ("", "empty"),
        ("/etc/passwd", "absolute"),
        ("../secret", "'..'"),
        ("a/../../b", "'..'"),
        ("f[0-9.txt", "closing"),
        ("a**b/c", "whole path component"),
    ],
)
def test_bad_globs_are_usage_errors(glob: str, says: str) -> None:
    with pytest.raises(UsageError) as err:
        compile_glob(glob)
    assert says in str(err.value)
    assert err.value.hint


def _tree(root: Path) -> None:
    (root / "build" / "sub").mkdir(parents=True)
    (root / "build" / "app.exe").write_bytes(b"MZ" + b"\0" * 100)
    (root / "build" / "sub" / "lib.dll").write_bytes(b"dll")
    (root / "log.txt").write_text("hello")


def test_match_walks_below_the_literal_prefix(tmp_path: Path) -> None:
    _tree(tmp_path)
    globs = [compile_glob("build/**/*.dll"), compile_glob("*.txt")]
    assert match_files(str(tmp_path), globs) == ["build/sub/lib.dll", "log.txt"]


def test_links_leading_outside_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("do not copy")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    (cwd / "ok.txt").write_text("ok")
    os.symlink(outside / "secret.txt", cwd / "link.txt")
    os.symlink(outside, cwd / "linkdir")
    os.symlink(cwd / "ok.txt", cwd / "inner.txt")  # a link that stays inside is fine
    assert match_files(str(cwd), [compile_glob("**/*.txt")]) == ["inner.txt", "ok.txt"]


def test_hash_every_matching_file(tmp_path: Path) -> None:
    _tree(tmp_path)
    (h,) = hash_files(str(tmp_path), [compile_glob("build/*.exe")])
    data = (tmp_path / "build" / "app.exe").read_bytes()
    assert (h.path, h.size, h.sha256) == ("build/app.exe", len(data),
                                          hashlib.sha256(data).hexdigest())


def test_keep_links_and_records_hash(tmp_path: Path) -> None:
    _tree(tmp_path)
    dest = tmp_path / "ev"
    budget = EvidenceBudget(10_000)
    kept = keep_files(str(tmp_path), [compile_glob("build/**")], str(dest), budget)
    assert [k.path for k in kept] == ["build/app.exe", "build/sub/lib.dll"]
    assert all(k.how == "link" for k in kept)
    assert (dest / "files" / "build" / "sub" / "lib.dll").read_bytes() == b"dll"
    assert kept[0].sha256 == hashlib.sha256(b"MZ" + b"\0" * 100).hexdigest()
    assert budget.used == 102 + 3


def test_keep_copies_when_asked(tmp_path: Path) -> None:
    _tree(tmp_path)
    (k,) = keep_files(str(tmp_path), [compile_glob("log.txt")], str(tmp_path / "ev"),
                      EvidenceBudget(None), link=False)
    assert k.how == "copy"
    assert os.stat(k.kept_as or "").st_ino != os.stat(tmp_path / "log.txt").st_ino


def test_keep_respects_the_cap_and_says_so(tmp_path: Path) -> None:
    _tree(tmp_path)
    budget = EvidenceBudget(50)
    kept = keep_files(str(tmp_path), [compile_glob("**/*")], str(tmp_path / "ev"), budget)
    by = {k.path: k for k in kept}
    assert by["build/app.exe"].kept_as is None
    assert "does not fit in the evidence cap" in by["build/app.exe"].reason
    assert by["build/app.exe"].sha256  # still hashed: the record can say what it was
    assert by["log.txt"].how == "link"
    assert budget.take_notice() is not None
    assert budget.take_notice() is None  # told once


GLOB_CASES = ["*", "*.txt", "**/*.txt", "a/*", "a/**", "a/**/*.o", "**/b/*.o", "?.txt",
              "[ab]*/*.o", "a/b/c.o", ".hidden/*", "**/*"]


@pytest.mark.skipif(sys.version_info < (3, 11), reason="glob include_hidden needs 3.11")
@pytest.mark.parametrize("pattern", GLOB_CASES)
def test_matches_pythons_glob_on_regular_files(tmp_path: Path, pattern: str) -> None:
    """Differential: the same files as glob.glob(recursive, include_hidden), files only."""
    for rel in ("x.txt", "a/y.txt", "a/b/c.o", "a/b/d/e.o", "b/f.o", "ab/g.o", ".hidden/h",
                "a/.dot.txt", "z/b/w.o"):
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(rel)
    ours = match_files(str(tmp_path), [compile_glob(pattern)])
    theirs = sorted(
        m for m in glob.glob(pattern, root_dir=tmp_path, recursive=True, include_hidden=True)
        if (tmp_path / m).is_file()
    )
    assert ours == theirs
