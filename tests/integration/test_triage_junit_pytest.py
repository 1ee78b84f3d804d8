"""Differential: the JUnit file real pytest writes names its one failing test among many."""

from __future__ import annotations

import subprocess
import sys

from flakehunt.triage.junit import read_junit

TESTS = """
import pytest

@pytest.mark.parametrize("n", range(60))
def test_many(n):
    assert n != 37

class TestGroup:
    def test_fine(self):
        pass
"""


def test_real_pytest_junitxml(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_many.py").write_text(TESTS)
    xml = tmp_path / "out.xml"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_many.py",
            f"--junitxml={xml}",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stdout
    report = read_junit(xml)
    assert report.tests == 61
    assert report.failing_ids == ("tests/test_many.py::test_many[37]",)
