"""The single-file HTML report: verdict first, then charts, signatures, evidence.

One file that works offline and from a CI artifact store: CSS inline, charts
as inline SVG (report/charts.py), no script at all, and a Content-Security-
Policy that forbids scripts, so even a mistake in escaping cannot run one.
Everything that came from a run (output, signature titles, statuses, names,
paths) is untrusted text and goes through ``esc``: nothing is marked safe.
"""

from __future__ import annotations

import datetime as dt
import json
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flakehunt.report import charts, verdict
from flakehunt.report.model import CampaignReport, SignatureReport, relative_link

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

_STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1100px;
padding:0 20px 40px;color:#1d232a;background:#fff}
h1{font-size:1.6em;margin:.8em 0 .2em}h2{border-bottom:2px solid #d7dde3;padding-bottom:.2em;
margin-top:1.8em}h3{margin-bottom:.3em}
table{border-collapse:collapse;margin:.6em 0}th,td{border:1px solid #d7dde3;padding:4px 8px;
text-align:left;vertical-align:top}th{background:#f1f4f7}td.n{text-align:right;
font-variant-numeric:tabular-nums}
pre{background:#f6f8fa;border:1px solid #d7dde3;padding:8px;overflow:auto;max-height:420px;
white-space:pre-wrap;word-break:break-all;font-size:13px}
code{background:#f1f4f7;padding:0 3px}.meta{color:#56606b}.note{color:#56606b;font-size:.92em}
.verdict-better{color:#14753a;font-weight:600}.verdict-worse{color:#b3261e;font-weight:600}
.verdict-underpowered,.verdict-no{color:#8a5a00}
nav a{margin-right:1em}svg{max-width:100%;height:auto}
.sig{border-left:4px solid #d7dde3;padding-left:12px;margin:1.2em 0}
"""


def esc(value: Any) -> str:
    """Escape any value for HTML text or a quoted attribute."""
    return escape(str(value), quote=True)


def _when(epoch: float | None) -> str:
    if epoch is None:
        return "-"
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _table(headers: list[str], rows: list[list[str]], numeric: set[int] | None = None) -> str:
    """Build a table; *rows* cells are already-escaped HTML."""
    numeric = numeric or set()
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td class="n">{c}</td>' if i in numeric else f"<td>{c}</td>"
                         for i, c in enumerate(row)) + "</tr>"
        for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _link(target: str, report_path: Path, root: str, text: str | None = None) -> str:
    href = quote(relative_link(target, report_path, root), safe="/.-_~")
    return f'<a href="{esc(href)}">{esc(text or target)}</a>'


def _verdict_class(verdict: str) -> str:
    return "verdict-" + (verdict.split()[0].rstrip(":") if verdict else "none")


def _verdict(r: CampaignReport) -> str:
    headers, rows = verdict.rows(r)
    cells = [[esc(c) for c in row] for row in rows]
    if r.comparison is not None:
        for row, v in zip(cells, r.comparison["variants"], strict=True):
            row[-1] = f'<span class="{esc(_verdict_class(v["verdict"]))}">{row[-1]}</span>'
    out = [f'<h2 id="c{r.id}-verdict">Verdict</h2>', _table(headers, cells, {1, 2, 3})]
    total = sum(v.failures for v in r.variants)
    if r.comparison is None and total:
        runs = sum(v.runs for v in r.variants)
        out.append(f"<p><strong>{total:,} of {runs:,} runs failed.</strong></p>")
    out += [f'<p class="note">{esc(n)}</p>' for n in verdict.notes(r)]
    return "\n".join(out)


def _signature(r: CampaignReport, s: SignatureReport, report_path: Path) -> str:
    names = [v.name for v in r.variants]
    per = ", ".join(f"{esc(n)}: {s.per_variant.get(n, 0):,}" for n in names)
    out = [f'<div class="sig"><h3>{esc(s.title)}</h3>',
           f'<p class="meta">signature <code>{esc(s.id or "(none)")}</code> &middot; '
           f"{s.total:,} failures &middot; {per}</p>"]
    ex = s.example
    if ex is not None:
        code = "-" if ex.returncode is None else str(ex.returncode)
        ev = ""
        if ex.evidence:
            ev = " &middot; evidence " + _link(ex.evidence, report_path, r.evidence_root)
        out.append(f"<p>example: run #{ex.seq} ({esc(ex.variant)}), {esc(ex.outcome)}, "
                   f"status <code>{esc(ex.status)}</code> (raw {esc(code)}), "
                   f"{ex.duration:.3f} s{ev}</p>")
        out.append(f"<pre>{esc(ex.tail) if ex.tail else '(no output recorded)'}</pre>")
    out.append("</div>")
    return "\n".join(out)


def _durations(r: CampaignReport) -> str:
    out = [f'<h2 id="c{r.id}-durations">Durations: passing vs failing runs</h2>']
    if r.durations is None:
        return out[0] + "<p>No counted run.</p>"
    out.append(charts.durations(r.durations))
    if r.durations.pass_sample > 1:
        out.append(f'<p class="note">passing runs drawn from every {r.durations.pass_sample:,}'
                   "th run (a systematic sample); failures and the table below: all runs</p>")
    rows = [[esc(s.outcome), esc(f"{s.runs:,}"), f"{s.minimum:.3f}", f"{s.mean:.3f}",
             f"{s.maximum:.3f}"] for s in r.durations.stats]
    out.append(_table(["outcome", "runs", "min s", "mean s", "max s"], rows, {1, 2, 3, 4}))
    return "\n".join(out)


def _telemetry(r: CampaignReport) -> str:
    out = [f'<h2 id="c{r.id}-telemetry">Flight recorder: what the machine did around a '
           "failure</h2>"]
    if not r.timelines:
        out.append("<p>No telemetry recorded for the listed failures (the flight recorder "
                   "keeps <code>telemetry.jsonl.gz</code> in a failure's evidence directory "
                   "when it runs).</p>")
        return "\n".join(out)
    for t in r.timelines:
        out.append(f"<h3>Run #{t.seq}</h3>")
        out.append(charts.timeline_system(t))
        if t.run_cpu or t.neighbours:
            out.append(charts.timeline_run(t))
        if t.top:
            out.append(_table(["busiest processes in the window", "peak CPU, cores"],
                              [[esc(n), f"{c:.2f}"] for n, c in t.top], {1}))
    return "\n".join(out)


def _failures(r: CampaignReport, report_path: Path) -> str:
    out = [f'<h2 id="c{r.id}-failures">Failed runs and their evidence</h2>']
    if not r.failures:
        return out[0] + "<p>No failed run.</p>"
    rows = []
    for f in r.failures:
        ev = "-"
        if f.evidence:
            ev = (_link(f.evidence, report_path, r.evidence_root) + " &middot; " +
                  _link(f.evidence + "/output.log", report_path, r.evidence_root, "output.log"))
        rows.append([str(f.seq), esc(f.variant), esc(f.outcome), f"<code>{esc(f.status)}</code>",
                     f"<code>{esc(f.signature[:12])}</code>", esc(_when(f.started)),
                     f"{f.duration:.3f}", ev])
    out.append(_table(["run", "variant", "outcome", "status", "signature", "started",
                       "seconds", "evidence"], rows, {0, 6}))
    if r.failures_total > len(r.failures):
        out.append(f'<p class="note">The first {len(r.failures):,} of {r.failures_total:,} '
                   "failed runs; <code>flakehunt failures</code> lists them all.</p>")
    out.append(f'<p class="note">Evidence links are relative to this file; the evidence '
               f"root is <code>{esc(r.evidence_root)}</code>.</p>")
    return "\n".join(out)


def _rerun(r: CampaignReport) -> str:
    x = r.rerun
    host_rows = [[esc(h), esc(p), esc(f"{n:,}"), esc(f"{lo}" if lo == hi else f"{lo}-{hi}")]
                 for h, p, n, lo, hi in x.hosts]
    settings = [[esc(k), f"<code>{esc(json.dumps(v))}</code>"] for k, v in x.settings.items()]
    return "\n".join([
        f'<h2 id="c{r.id}-rerun">Run it again</h2>',
        f"<pre>cd {esc(x.cwd)}\n{esc(x.command)}</pre>",
        f'<p class="meta">recorded with flakehunt {esc(x.created_with)}; this report by '
        f"flakehunt {esc(x.reported_with)}</p>",
        _table(["host", "platform", "runs", "concurrency"], host_rows, {2}),
        "<details><summary>all settings</summary>",
        _table(["setting", "value"], settings), "</details>",
    ])


def _campaign(r: CampaignReport, report_path: Path) -> str:
    runs = sum(v.runs for v in r.variants)
    fails = sum(v.failures for v in r.variants)
    span = "-"
    if r.span:
        span = f"{_when(r.span[0])} to {_when(r.span[1])} ({r.span[1] - r.span[0]:,.1f} s)"
    sections = ["verdict", "cumulative", "rates", "signatures", "durations", "telemetry",
                "leaks", "failures", "rerun"]
    nav = "".join(f'<a href="#c{r.id}-{s}">{s}</a>' for s in sections)
    parts = [
        f'<article id="c{r.id}"><h1>Campaign {r.id}: {esc(r.title)}</h1>',
        f'<p class="meta">{esc(r.kind)} &middot; {esc(r.state)} &middot; {runs:,} runs, '
        f"{fails:,} failures &middot; {esc(span)} &middot; id <code>{esc(r.uuid)}</code></p>",
        f"<nav>{nav}</nav>",
        _verdict(r),
        f'<h2 id="c{r.id}-cumulative">Cumulative failures</h2>',
    ]
    if r.curves:
        parts += ["<h3>over each variant's runs</h3>", charts.cumulative(r.curves, "run"),
                  "<h3>over time</h3>", charts.cumulative(r.curves, "time")]
    else:
        parts.append("<p>No counted run.</p>")
    parts += [f'<h2 id="c{r.id}-rates">Failure rate per variant</h2>',
              '<p class="note">bars: the observed rate; whiskers: its interval</p>',
              charts.rates(r) if r.variants else "",
              f'<h2 id="c{r.id}-signatures">Failure signatures</h2>']
    if r.signatures:
        parts.append(charts.signatures(r))
        parts += [_signature(r, s, report_path) for s in r.signatures]
    else:
        parts.append("<p>No failure.</p>")
    parts += [_durations(r), _telemetry(r),
              f'<h2 id="c{r.id}-leaks">Orphans and leaking processes</h2>',
              "<p>Not recorded: this version of flakehunt does not yet track orphaned or "
              "leaking processes per run.</p>",
              _failures(r, report_path), _rerun(r), "</article>"]
    return "\n".join(parts)


def render_html(reports: list[CampaignReport], report_path: Path) -> str:
    """Return the whole HTML document for *reports*, links relative to *report_path*."""
    from flakehunt import __version__

    title = ", ".join(f"c{r.id} {r.title}" for r in reports) or "no campaign"
    body = "\n<hr>\n".join(_campaign(r, report_path) for r in reports)
    stamp = _when(dt.datetime.now(dt.timezone.utc).timestamp())
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>flakehunt report: {esc(title)}</title>\n<style>{_STYLE}</style></head>\n"
        f"<body>\n{body}\n<footer class=\"note\"><p>flakehunt {esc(__version__)} &middot; "
        f"generated {esc(stamp)}</p></footer>\n</body></html>\n"
    )
