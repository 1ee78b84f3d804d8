"""``flakehunt report`` end to end on real runs: default HTML path, formats, errors."""

from __future__ import annotations

import json
from pathlib import Path

from junitparser import JUnitXml
from tests.helpers import flakehunt

# Fails when the run number is a multiple of 3; prints hostile text.
FLAKY = ("echo '<script>alert(1)</script>'; echo '\"><img src=x onerror=alert(1)>';"
         " test $((FLAKEHUNT_RUN % 3)) -ne 0")


def test_report_of_real_compare(tmp_path: Path) -> None:
    flakehunt("compare", "-n", "6", "-j", "2", "--seed", "1", "-V", f"flaky={FLAKY}",
              "-V", "fixed=true", cwd=tmp_path, check=1)
    proc = flakehunt("report", cwd=tmp_path, check=0)
    path = Path(proc.stdout.strip())
    assert path == Path(".flakehunt/reports/c1.html")
    html = (tmp_path / path).read_text()
    assert "flakehunt compare -j 2 -n 6 --seed 1 --baseline flaky" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script" not in html

    proc = flakehunt("report", "1", "--markdown", "-", "--junit", "out/j.xml",
                     "--json", "r.json", "--html", "r.html", cwd=tmp_path, check=0)
    assert "| variant | runs | failures |" in proc.stdout
    assert "r.html" in proc.stdout and "out/j.xml" in proc.stdout
    cases = [c.name for s in JUnitXml.fromfile(str(tmp_path / "out" / "j.xml")) for c in s]
    assert {"flaky", "fixed"} <= set(cases)
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["schema"] == "flakehunt.report/1"
    c = doc["campaigns"][0]
    listed = [f for f in c["failures"]["listed"] if f["variant"] == "flaky"]
    assert listed and all(f["seq"] % 3 == 0 for f in listed)
    assert c["variants"][0]["failures"] == len(listed)


def test_report_errors(tmp_path: Path) -> None:
    proc = flakehunt("report", cwd=tmp_path, check=2)
    assert "no flakehunt database" in proc.stderr and "Traceback" not in proc.stderr
    flakehunt("run", "-n", "2", "--", "true", cwd=tmp_path, check=0)
    proc = flakehunt("report", "9", cwd=tmp_path)
    assert proc.returncode != 0 and "no campaign '9'" in proc.stderr
    proc = flakehunt("report", "--html", "/proc/nope/r.html", cwd=tmp_path)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
