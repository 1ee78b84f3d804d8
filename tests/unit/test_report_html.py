"""The HTML report: sections in order, self-contained, script-free, escaped, linked."""

from __future__ import annotations

import re
from pathlib import Path

from tests.report_campaign import make_campaign

from flakehunt.report.html import CSP, render_html
from flakehunt.report.model import build_report


def test_default_path_and_sections(report_file: Path) -> None:
    assert report_file.name == "c1.html" and report_file.parent.name == "reports"
    html = report_file.read_text()
    order = ["Verdict", "Cumulative failures", "Failure rate per variant",
             "Failure signatures", "Durations", "Flight recorder", "Orphans",
             "Failed runs and their evidence", "Run it again"]
    positions = [html.index(f">{h}") for h in order]
    assert positions == sorted(positions)
    assert "underpowered" in html or "no evidence" in html or "better" in html
    assert "SIGSEGV" in html and "timeout" in html
    assert "flakehunt compare -j 2 -n 60 --timeout 30s --seed 7 --baseline normal" in html
    assert "Not recorded" in html  # orphans: issue 6 not done


def test_self_contained_and_script_free(report_file: Path) -> None:
    html = report_file.read_text()
    assert f'content="{CSP}"' in html
    assert "<script" not in html.lower()
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert html.count("<svg") >= 6
    assert len(html) < 1_000_000


def test_run_output_stays_text(report_file: Path) -> None:
    html = report_file.read_text()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;b&gt;cc1plus&lt;/b&gt;" in html  # a process name from telemetry
    assert "\x1b" not in html and "\x00" not in html


def test_evidence_links_relative_to_report(report_file: Path, tmp_path: Path) -> None:
    html = report_file.read_text()
    links = re.findall(r'href="(\.\./evidence/c1/r\d{6}(?:/output\.log)?)"', html)
    assert links
    for link in links:
        assert (report_file.parent / link).exists(), link
    # Moved elsewhere, links follow the new location.
    store, cid = make_campaign(tmp_path)
    other = tmp_path / "deep" / "dir" / "r.html"
    other.parent.mkdir(parents=True)
    other.write_text(render_html([build_report(store, cid)], other))
    assert 'href="../../.flakehunt/evidence/c1/r' in other.read_text()


def test_telemetry_section_and_absence(report_file: Path, tmp_path: Path) -> None:
    html = report_file.read_text()
    assert "failing run #" in html and "passing ffffffffffff" in html
    store, cid = make_campaign(tmp_path)
    for p in (tmp_path / ".flakehunt" / "evidence").rglob("*.telemetry.jsonl.gz"):
        p.unlink()
    for p in (tmp_path / ".flakehunt" / "evidence").rglob("telemetry.jsonl.gz"):
        p.write_bytes(b"not gzip")  # a broken file counts as none
    html2 = render_html([build_report(store, cid)], tmp_path / "r.html")
    assert "No telemetry recorded" in html2
