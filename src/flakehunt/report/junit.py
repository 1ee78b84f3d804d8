"""JUnit XML: one test case per variant and one per failure signature.

Convention for flaky cases (docs/report.md): a variant that failed some of its
runs gets a ``<failure type="flaky">`` whose message starts with ``flaky:``;
one that failed every run gets ``type="failed"``; one that never failed
passes. Maven Surefire's ``<flakyFailure>`` element was not chosen: GitLab and
the Jenkins JUnit plugin (without the flaky-test-handler plugin) ignore it and
show the case as passed, hiding exactly what the campaign found, while a
``<failure>`` is shown as failed by GitLab, Jenkins and the GitHub Actions
reporters (dorny/test-reporter, mikepenz/action-junit-report), with the
``flaky:`` message beside it.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

from flakehunt.report.compare_table import pct
from flakehunt.report.model import CampaignReport, clean_text


def _kind(failures: int, runs: int) -> str:
    if failures == 0:
        return "passed"
    return "failed" if failures >= runs else "flaky"


def _suite(r: CampaignReport) -> ET.Element:
    started = r.span[0] if r.span else r.created
    elapsed = (r.span[1] - r.span[0]) if r.span else 0.0
    suite = ET.Element("testsuite", {
        "name": clean_text(f"flakehunt c{r.id}: {r.title}"),
        "timestamp": dt.datetime.fromtimestamp(started, dt.timezone.utc)
        .strftime("%Y-%m-%dT%H:%M:%S"),
        "time": f"{elapsed:.3f}",
        "hostname": clean_text(r.rerun.hosts[0][0] if r.rerun.hosts else ""),
    })
    props = ET.SubElement(suite, "properties")
    for name, value in (("campaign", str(r.id)), ("uuid", r.uuid), ("kind", r.kind),
                        ("rerun", r.rerun.command)):
        ET.SubElement(props, "property", {"name": f"flakehunt.{name}",
                                          "value": clean_text(value)})
    verdicts = {v["name"]: v["verdict_text"] for v in (r.comparison or {}).get("variants", [])}
    failed = 0
    cases = 0
    runs_by = {v.name: v.runs for v in r.variants}
    for v in r.variants:
        case = ET.SubElement(suite, "testcase", {
            "classname": f"flakehunt.c{r.id}.variants", "name": clean_text(v.name),
            "time": "0"})
        cases += 1
        kind = _kind(v.failures, v.runs)
        summary = (f"{v.failures:,} of {v.runs:,} runs failed ({pct(v.rate)}, interval "
                   f"[{pct(v.interval[0])}, {pct(v.interval[1])}]; {v.timeouts:,} timeouts)")
        if v.name in verdicts:
            summary += f"; verdict: {verdicts[v.name]}"
        if kind != "passed":
            failed += 1
            el = ET.SubElement(case, "failure", {"type": kind, "message": f"{kind}: {summary}"})
            el.text = clean_text(summary)
        ET.SubElement(case, "system-out").text = clean_text(
            f"{summary}\ncommand: {' '.join(v.argv)}")
    for s in r.signatures:
        case = ET.SubElement(suite, "testcase", {
            "classname": f"flakehunt.c{r.id}.signatures",
            "name": clean_text(f"{s.id[:12] or '-'} {s.title}"), "time": "0"})
        cases += 1
        failed += 1
        total_runs = sum(runs_by.get(name, 0) for name in s.per_variant)
        per = ", ".join(f"{name}: {n:,}" for name, n in s.per_variant.items())
        kind = _kind(s.total, total_runs)
        el = ET.SubElement(case, "failure", {
            "type": kind, "message": clean_text(f"{kind}: {s.total:,} failures ({per})")})
        ex = s.example
        if ex is not None:
            el.text = clean_text(f"example run #{ex.seq} ({ex.variant}), status {ex.status}\n"
                                 f"{ex.tail}")
    suite.set("tests", str(cases))
    suite.set("failures", str(failed))
    suite.set("errors", "0")
    suite.set("skipped", "0")
    return suite


def render_junit(reports: list[CampaignReport]) -> str:
    """Return a JUnit XML document: one ``<testsuite>`` per campaign."""
    root = ET.Element("testsuites", {"name": "flakehunt"})
    suites = [_suite(r) for r in reports]
    root.extend(suites)
    root.set("tests", str(sum(int(s.get("tests", "0")) for s in suites)))
    root.set("failures", str(sum(int(s.get("failures", "0")) for s in suites)))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"
