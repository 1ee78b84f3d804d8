"""The report model and its Markdown, JUnit, JSON forms, on one recorded campaign."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from junitparser import Failure, JUnitXml
from tests.report_campaign import make_campaign

from flakehunt.campaign.experiment import analyse_campaign
from flakehunt.record.store import Store
from flakehunt.report.compare_table import to_dict
from flakehunt.report.json_export import SCHEMA, render_json
from flakehunt.report.junit import render_junit
from flakehunt.report.markdown import code, render_markdown
from flakehunt.report.model import CampaignReport, build_report, clean_text
from flakehunt.report.write import Outputs, write_reports, write_step_summary


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, int, CampaignReport]:
    store, cid = make_campaign(tmp_path_factory.mktemp("formats"))
    return store, cid, build_report(store, cid)


def test_model_counts_match_the_runs(recorded: tuple[Store, int, CampaignReport]) -> None:
    store, cid, r = recorded
    runs = list(store.runs(cid))
    want = Counter((x.variant, x.outcome) for x in runs)
    got = Counter({(v.name, o): n for v in r.variants for o, n in v.outcomes.items()})
    assert got == want
    assert [v.name for v in r.variants] == ["normal", "sleep", "flush"]
    failed = [x for x in runs if x.outcome in ("fail", "timeout")]
    assert r.failures_total == len(failed)
    sigs = Counter((x.signature or "", x.variant) for x in failed)
    assert {(s.id, v): n for s in r.signatures for v, n in s.per_variant.items()} == sigs
    for c in r.curves:  # cumulative curves end at each variant's totals
        v = next(x for x in r.variants if x.name == c.variant)
        assert c.by_run[-1] == (v.runs, v.failures)
        assert [t for t, _ in c.by_time] == sorted(t for t, _ in c.by_time)
    assert r.durations is not None
    assert sum(sum(c) for c in r.durations.counts.values()) == sum(v.runs for v in r.variants)
    assert {s.outcome for s in r.durations.stats} == {"pass", "fail", "timeout"}


def test_fast_analysis_equals_analyse_campaign(
        recorded: tuple[Store, int, CampaignReport]) -> None:
    store, cid, r = recorded
    assert r.comparison == to_dict(analyse_campaign(store, cid))


def test_example_output_is_clean_text(recorded: tuple[Store, int, CampaignReport]) -> None:
    _, _, r = recorded
    tails = [s.example.tail for s in r.signatures if s.example is not None]
    assert any("<script>alert(1)</script>" in t for t in tails)  # kept as text, escaped later
    assert all("\x1b" not in t and "\x00" not in t for t in tails)
    assert clean_text("a\x1b[31mred\x1b[0m\x00b") == "ared\ufffdb"


def test_junit_parsed_by_junitparser(recorded: tuple[Store, int, CampaignReport],
                                     tmp_path: Path) -> None:
    _, cid, r = recorded
    path = tmp_path / "flaky.xml"
    path.write_text(render_junit([r]), encoding="utf-8")
    xml = JUnitXml.fromfile(str(path))
    suites = list(xml)
    assert len(suites) == 1
    cases = {(c.classname, c.name): c for c in suites[0]}
    variants = {n for cls, n in cases if cls == f"flakehunt.c{cid}.variants"}
    assert variants == {"normal", "sleep", "flush"}
    assert len([k for k in cases if k[0].endswith(".signatures")]) == len(r.signatures)
    normal = cases[(f"flakehunt.c{cid}.variants", "normal")]
    assert normal.result and isinstance(normal.result[0], Failure)
    assert normal.result[0].type == "flaky" and normal.result[0].message.startswith("flaky:")
    assert cases[(f"flakehunt.c{cid}.variants", "flush")].is_passed
    assert suites[0].tests == len(cases) and suites[0].failures == len(cases) - 1


def test_markdown_fits_a_comment_and_escapes(recorded: tuple[Store, int, CampaignReport]) -> None:
    _, _, r = recorded
    md = render_markdown([r])
    assert len(md) < 65_536
    assert md.splitlines()[4].startswith("| variant | runs | failures |")
    assert "baseline" in md and "SIGSEGV" in md and "Rerun: `flakehunt compare" in md
    assert "<script" not in md.replace("`<script", "")  # only inside code spans
    assert code("a ` b") == "``a ` b``" and code("`x`") == "`` `x` ``"
    assert code("x" * 500).endswith("…`")


def test_json_schema(recorded: tuple[Store, int, CampaignReport]) -> None:
    _, cid, r = recorded
    doc = json.loads(render_json([r]))
    assert doc["schema"] == SCHEMA == "flakehunt.report/1"
    c = doc["campaigns"][0]
    assert c["id"] == cid and c["kind"] == "compare"
    assert {v["name"] for v in c["variants"]} == {"normal", "sleep", "flush"}
    assert c["comparison"]["baseline"] == "normal"
    assert c["failures"]["total"] == r.failures_total
    assert c["telemetry"] and c["telemetry"][0]["system"]["cpu busy %"]
    assert c["orphans"] is None
    documented = Path(__file__).parents[2] / "docs" / "json-schema.md"
    text = documented.read_text()
    for key in c:  # every top-level campaign field is documented
        assert f"`{key}`" in text, key


def test_write_reports_and_step_summary(recorded: tuple[Store, int, CampaignReport],
                                        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, cid, _ = recorded
    out = Outputs(markdown=str(tmp_path / "r.md"), junit=str(tmp_path / "r.xml"), json="-")
    done = write_reports(store, [cid], out)
    assert [w for _, w in done] == [str(tmp_path / "r.md"), str(tmp_path / "r.xml"), "-"]
    assert json.loads(done[2][0])["schema"] == SCHEMA
    assert write_step_summary(store, cid) is None
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert write_step_summary(store, cid) == str(summary)
    text = summary.read_text()
    assert text.startswith("earlier step\n") and "| variant | runs |" in text


def test_duration_histogram_samples_passes_only(
        recorded: tuple[Store, int, CampaignReport]) -> None:
    from flakehunt.record import queries

    store, cid, r = recorded
    d = r.durations
    assert d is not None and d.pass_sample == 1
    width = d.edges[1] - d.edges[0]
    half = queries.duration_histogram(store, cid, d.edges[0], width, 30, pass_sample=2)
    assert sum(half["fail"]) == sum(d.counts["fail"])
    assert sum(half["timeout"]) == sum(d.counts["timeout"])
    # Exactly the passes on every second row (rows land in completion order with
    # two slots, so "about half" would be a flaky assertion).
    import sqlite3

    with sqlite3.connect(store.path) as conn:
        (expected,) = conn.execute(
            "SELECT COUNT(*) FROM runs WHERE campaign_id = ? AND outcome = 'pass'"
            " AND id % 2 = 0", (cid,)).fetchone()
    assert sum(half["pass"]) == expected
    assert 0 < expected < sum(d.counts["pass"])


@pytest.mark.parametrize(("kind", "spec", "want"), [
    ("run", {"jobs": 4, "limits": {"runs": 100, "max_failures": 0}, "timeout": 600.0,
             "variants": [{"name": "default", "argv": ["/bin/sh", "-c", "make test"]}]},
     "flakehunt run -j 4 -n 100 --max-failures 0 --timeout 600s -c 'make test'"),
    ("run", {"jobs": 1, "limits": {"max_failures": 1, "duration": 3600.0},
             "variants": [{"name": "default", "argv": ["ninja", "-C", "out dir"]}]},
     "flakehunt run -j 1 --duration 3600s -- ninja -C 'out dir'"),
    ("compare", {"jobs": 2, "limits": {"runs": 50}, "seed": 9, "baseline": "a",
                 "variants": [{"name": "a", "argv": ["/bin/sh", "-c", "t"]},
                              {"name": "b", "argv": ["/bin/sh", "-c", "t && sync"],
                               "env": [["K", "v w"]]}]},
     "flakehunt compare -j 2 -n 50 --seed 9 --baseline a -V a=t -V 'b=t && sync' "
     "-e 'b:K=v w'"),
])
def test_rerun_command(kind: str, spec: dict[str, object], want: str) -> None:
    from flakehunt.record.store import CampaignRow
    from flakehunt.report.model import rerun_command

    row = CampaignRow(1, "u", kind, 0.0, None, "finished", "h", "0", dict(spec), "t")
    assert rerun_command(row) == want
