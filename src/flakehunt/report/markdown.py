"""Markdown for a pull-request comment or ``$GITHUB_STEP_SUMMARY``: verdict and signatures.

Sized to fit: GitHub keeps at most 65,536 characters of a comment and 1 MiB
of a step summary, so the signature list is capped at ``MAX_SIGNATURES`` and
every untrusted string (titles from run output) is put in a code span, where
Markdown and HTML are not interpreted.
"""

from __future__ import annotations

import os
import re

from flakehunt.report import verdict
from flakehunt.report.model import CampaignReport

MAX_SIGNATURES = 20
MAX_TEXT = 120


def code(text: str, limit: int = MAX_TEXT) -> str:
    """Return *text* as one inline code span (one line, at most *limit* characters)."""
    one = " ".join(text.split())
    if len(one) > limit:
        one = one[: limit - 1] + "…"
    if not one:
        return "` `"
    fence = "`" * (max((len(m) for m in re.findall(r"`+", one)), default=0) + 1)
    pad = " " if one.startswith("`") or one.endswith("`") else ""
    return f"{fence}{pad}{one}{pad}{fence}"


def _cell(text: str) -> str:
    # GFM splits table cells on "|" even inside code spans.
    return text.replace("|", "\\|")


def _verdict_table(r: CampaignReport) -> list[str]:
    headers, rows = verdict.rows(r)
    align = ["---", "---:", "---:", "---:", "---", "---", "---"][: len(headers)]
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join(align) + "|"]
    for row in rows:
        cells = [code(row[0], 40), *row[1:]]
        out.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    out += [""] + [f"_{_cell(n)}_  " for n in verdict.notes(r)]
    return out


def render_campaign(r: CampaignReport) -> str:
    """Return one campaign's verdict table and signature list."""
    runs = sum(v.runs for v in r.variants)
    fails = sum(v.failures for v in r.variants)
    out = [f"### flakehunt campaign {r.id}: {code(r.title, 80)}", "",
           f"{r.kind}, {r.state}: **{fails:,} of {runs:,} runs failed**", ""]
    out += _verdict_table(r)
    if r.signatures:
        out += ["", f"**Failure signatures** ({len(r.signatures)}):", ""]
        for s in r.signatures[:MAX_SIGNATURES]:
            per = ", ".join(f"{code(v, 40)}: {n:,}" for v, n in s.per_variant.items())
            ex = s.example
            example = "" if ex is None else f"; e.g. run #{ex.seq}, status {code(ex.status, 40)}"
            out.append(f"- {code(s.title)} `{s.id[:12] or '-'}`: {s.total:,} ({per}){example}")
        if len(r.signatures) > MAX_SIGNATURES:
            out.append(f"- and {len(r.signatures) - MAX_SIGNATURES} more "
                       "(see the HTML report or `flakehunt failures`)")
    out += ["", f"Rerun: {code(r.rerun.command, 400)}"]
    return "\n".join(out) + "\n"


def render_markdown(reports: list[CampaignReport]) -> str:
    """Return the Markdown of every campaign, separated by rules."""
    return "\n---\n\n".join(render_campaign(r) for r in reports)


def append_step_summary(text: str, env: dict[str, str] | None = None) -> str | None:
    """Append *text* to ``$GITHUB_STEP_SUMMARY`` if set; return the file written or None."""
    path = (os.environ if env is None else env).get("GITHUB_STEP_SUMMARY")
    if not path:
        return None
    with open(path, "a", encoding="utf-8") as f:
        f.write(text + "\n")
    return path
