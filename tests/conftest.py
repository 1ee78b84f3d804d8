"""Test-wide set-up: make this checkout's ``src/`` the flakehunt under test.

Subprocesses started by tests (``python -m flakehunt ...``) inherit PYTHONPATH,
so they test the same code as the in-process tests, installed or not.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parent.parent / "src")
if sys.path[0] != SRC:
    sys.path.insert(0, SRC)
os.environ["PYTHONPATH"] = os.pathsep.join(
    [SRC, *[p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != SRC]]
)
# Tests must never inherit a user's database or CI summary file.
os.environ.pop("FLAKEHUNT_DB", None)
os.environ.pop("GITHUB_STEP_SUMMARY", None)


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The HTML report of tests/report_campaign.py's fake campaign (HTML, Chromium tests)."""
    from tests.report_campaign import make_campaign

    from flakehunt.report.write import write_html_report

    store, cid = make_campaign(tmp_path_factory.mktemp("report"))
    path = Path(write_html_report(store, cid))
    store.close()
    return path
