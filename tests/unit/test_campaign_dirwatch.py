"""DirWatch: is a listing of the scratch directory needed after this run?"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from flakehunt.campaign import dirwatch
from flakehunt.campaign.dirwatch import DirWatch


def _inotify_here() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    w = DirWatch(os.getcwd())
    try:
        return w.active
    finally:
        w.close()


linux = pytest.mark.skipif(not _inotify_here(), reason="no inotify here (or none left)")


@linux
def test_nothing_created_means_no_listing(tmp_path: Path) -> None:
    w = DirWatch(str(tmp_path))
    assert w.active
    assert [w.changed(), w.changed()] == [False, False]
    (tmp_path / "a").write_text("x")
    (tmp_path / "b").write_text("x")
    assert [w.changed(), w.changed()] == [True, False]  # one answer for both files
    os.unlink(tmp_path / "a")  # removals (our own emptying) are not news
    assert w.changed() is False
    w.close()
    assert w.changed() is True  # closed: the caller lists, as without inotify


@linux
def test_a_replaced_directory_is_followed_after_rearm(tmp_path: Path) -> None:
    d = tmp_path / "scratch"
    d.mkdir()
    w = DirWatch(str(d))
    os.replace(d, tmp_path / "kept")
    assert w.changed() is True
    d.mkdir()
    w.rearm()
    (tmp_path / "kept" / "late").write_text("x")  # the old directory: no longer ours
    assert w.changed() is False
    (d / "new").write_text("x")
    assert w.changed() is True


@linux
def test_a_missing_directory_means_always_list(tmp_path: Path) -> None:
    w = DirWatch(str(tmp_path / "nope"))
    assert not w.active
    assert w.changed() is True


def test_without_inotify_every_run_lists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dirwatch, "_libc", False)  # as on macOS and Windows
    w = DirWatch(str(tmp_path))
    assert not w.active
    assert [w.changed(), w.changed()] == [True, True]
    w.rearm()
    w.close()
