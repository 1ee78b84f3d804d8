"""The verdict table's cells as plain text, from ``compare_table.to_dict`` data.

Shared by the HTML and Markdown reports, which escape the cells their own way.
"""

from __future__ import annotations

from typing import Any

from flakehunt.report.compare_table import pct, points, pvalue
from flakehunt.report.model import CampaignReport

HEADERS = ["variant", "runs", "failures", "of which timeouts", "rate [interval]",
           "vs baseline", "verdict"]
RUN_HEADERS = ["variant", "runs", "failures", "of which timeouts", "rate [95% exact interval]"]


def _rate(v: dict[str, Any]) -> str:
    cell = f"{pct(v['rate'])} [{pct(v['interval'][0])}, {pct(v['interval'][1])}]"
    if v["upper_bound"] is not None:
        cell += f" (<= {pct(v['upper_bound'])})"
    return cell


def _vs(v: dict[str, Any]) -> str:
    if v["difference"] is None or v["difference_interval"] is None:
        return "-"
    lo, hi = v["difference_interval"]
    cell = f"{points(v['difference'])} pts [{points(lo)}, {points(hi)}]"
    p = v["p_better"] if v["difference"] <= 0 else v["p_worse"]
    return cell if p is None else f"{cell}, {pvalue(p)}"


def rows(r: CampaignReport) -> tuple[list[str], list[list[str]]]:
    """Return (headers, rows) of the verdict table: the comparison's, or rates for a run."""
    timeouts = {v.name: v.timeouts for v in r.variants}
    if r.comparison is not None:
        return HEADERS, [
            [v["name"], f"{v['runs']:,}", f"{v['failures']:,}",
             f"{timeouts.get(v['name'], 0):,}", _rate(v), _vs(v), v["verdict_text"]]
            for v in r.comparison["variants"]]
    return RUN_HEADERS, [
        [v.name, f"{v.runs:,}", f"{v.failures:,}", f"{v.timeouts:,}",
         f"{pct(v.rate)} [{pct(v.interval[0])}, {pct(v.interval[1])}]"]
        for v in r.variants]


def notes(r: CampaignReport) -> list[str]:
    """Return the lines that say how the table's numbers were computed."""
    c = r.comparison
    if c is None:
        runs = sum(v.runs for v in r.variants)
        if runs and not any(v.failures for v in r.variants):
            return [f"no failure in {runs:,} runs: the rate is below "
                    f"{pct(r.variants[0].interval[1])} with 95% confidence"]
        return []
    conf = f"{c['confidence'] * 100:g}%"
    return [f"rate: {conf} {c['interval_method']} interval; vs baseline ({c['baseline']}): "
            f"difference in percentage points with its {conf} Newcombe interval and the "
            "Holm-adjusted one-sided exact Boschloo p-value", *c["notes"]]
