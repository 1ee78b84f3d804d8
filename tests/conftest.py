"""Test-wide set-up: make this checkout's ``src/`` the flakehunt under test.

Subprocesses started by tests (``python -m flakehunt ...``) inherit PYTHONPATH,
so they test the same code as the in-process tests, installed or not.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parent.parent / "src")
if sys.path[0] != SRC:
    sys.path.insert(0, SRC)
os.environ["PYTHONPATH"] = os.pathsep.join(
    [SRC, *[p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != SRC]]
)
# Tests must never inherit a user's database or CI summary file.
os.environ.pop("FLAKEHUNT_DB", None)
os.environ.pop("GITHUB_STEP_SUMMARY", None)
