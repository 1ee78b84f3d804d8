"""Renderers of a comparison: terminal, Markdown, JSON."""

from __future__ import annotations

import json

import pytest

from flakehunt.report.compare_table import pct, pvalue, render_markdown, render_terminal, to_dict
from flakehunt.stats.compare import analyse
from flakehunt.stats.records import RunRecord


@pytest.fixture(scope="module")
def result():  # type: ignore[no-untyped-def]
    recs = []
    for b in range(333):
        recs.append(
            RunRecord("normal", b, b % 28 == 0, True, "0xC0000005" if b % 28 == 0 else None)
        )
        recs.append(RunRecord("flush", b, False))
    return analyse(recs, "normal")


def test_terminal_table_reads_like_the_story(result) -> None:  # type: ignore[no-untyped-def]
    text = render_terminal(result)
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["variant", "runs", "failures"]
    assert lines[1].split()[:4] == ["normal", "333", "12", "3.6%"]
    assert "better" in lines[2] and "p=0.0002" in lines[2]
    assert "Holm-adjusted" in text and "signature 0xC0000005: 12/333" in text


def test_markdown_is_a_table(result) -> None:  # type: ignore[no-untyped-def]
    md = render_markdown(result)
    rows = [line for line in md.splitlines() if line.startswith("|")]
    assert len(rows) == 4 and all(r.count("|") == 7 for r in rows)


def test_json_keeps_numbers_whole(result) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(json.dumps(to_dict(result)))
    flush = data["variants"][1]
    assert flush["verdict"] == "better" and flush["failures"] == 0
    assert flush["rate"] == 0.0 and flush["upper_bound"] == pytest.approx(0.008956, abs=1e-5)
    assert data["interval_method"] == "exact"


@pytest.mark.parametrize(
    "x,text", [(0, "0%"), (0.035, "3.5%"), (0.005, "0.50%"), (0.0003, "0.03%"), (-0.02, "-2.0%")]
)
def test_pct(x: float, text: str) -> None:
    assert pct(x) == text


def test_pvalue() -> None:
    assert (
        pvalue(0.00001) == "p<0.0001"
        and pvalue(0.1648) == "p=0.16"
        and pvalue(0.00034) == "p=0.0003"
    )


def test_sequential_result_shows_e_values_and_the_threshold() -> None:
    recs = []
    for b in range(333):
        recs.append(RunRecord("normal", b, b % 28 == 0))
        recs.append(RunRecord("flush", b, False))
    text = render_terminal(analyse(recs, "normal", sequential_rule=True))
    assert "e=630" in text  # 12 discordant blocks, all the baseline failing: (2^13 - 1) / 13
    assert "e >= 40 (2 x 1 variants / alpha 0.05)" in text
    assert "p=" not in text
