"""Paths of chkimg test data (imported by the chkimg unit tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "chkimg"
X64 = DATA / "pe-x64"
# CI has the shared data at ../shared; a worktree under /work/wt sits one level deeper.
SHARED = next((p for p in (REPO / ".." / "shared", REPO / ".." / ".." / "shared")
               if (p / "data").is_dir()), REPO / ".." / "shared")
NORETURN = SHARED / "data" / "blogstuff" / "ConfusingCrash" / "noreturn.dmp"

needs_noreturn = pytest.mark.skipif(not NORETURN.is_file(),
                                    reason=f"real minidump {NORETURN} not present")
