"""The HTML report in headless Chromium: no console error, a screenshot, inert run output."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from flakehunt.report.html import CSP

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"
)


def chromium(tmp_path: Path, page: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
         "--log-level=0", *extra, page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)


def console_messages(stderr: str) -> list[str]:
    # Chromium logs every console message (errors, CSP refusals) as ":CONSOLE" lines.
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]



@needs_chromium
def test_chromium_renders_without_console_errors(report_file: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    run = chromium(tmp_path, report_file, f"--screenshot={shot}", "--window-size=1280,2000")
    assert run.returncode == 0, run.stderr[-2000:]
    assert console_messages(run.stderr) == []
    assert shot.stat().st_size > 20_000  # a page was drawn, not a blank one


@needs_chromium
def test_chromium_dom_has_no_element_from_run_output(report_file: Path, tmp_path: Path) -> None:
    run = chromium(tmp_path, report_file, "--dump-dom")
    dom = run.stdout
    assert "</html>" in dom  # the page parsed
    assert "<script" not in dom.lower()
    assert "<img" not in dom.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert console_messages(run.stderr) == []


@needs_chromium
def test_console_check_catches_a_blocked_script(tmp_path: Path) -> None:
    page = tmp_path / "bad.html"
    page.write_text(f'<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" '
                    f'content="{CSP}"></head><body><script>alert(1)</script></body></html>')
    run = chromium(tmp_path, page, "--dump-dom")
    assert any("Content Security Policy" in m for m in console_messages(run.stderr))
