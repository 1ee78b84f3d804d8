"""The report model: everything a report shows about one campaign, as plain data.

Built once from the Store by ``build_report``; the HTML, Markdown, JUnit and
JSON renderers only read it. Aggregation happens in SQL (record/queries.py),
so a campaign of a million runs yields a model of a few hundred rows.
"""

from __future__ import annotations

import os
import re
import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flakehunt.record import queries
from flakehunt.record.store import CampaignRow, RunRow, Store
from flakehunt.report.telemetry import Timeline, load_timeline

TAIL_LINES = 40  # lines of output shown per example run
TAIL_BYTES = 4096
FAILURE_LIMIT = 200  # failed runs listed (and given evidence links) per campaign
TIMELINE_LIMIT = 3  # failures whose flight-recorder timeline is drawn
HIST_BINS = 30
HIST_PASS_SAMPLE = 100_000  # passing runs in the duration histogram: a sample beyond this


@dataclass(frozen=True)
class VariantReport:
    """One variant: its command, counts by outcome, rate and interval."""

    name: str
    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    outcomes: dict[str, int]
    runs: int  # counted: pass + fail + timeout
    failures: int  # fail + timeout
    timeouts: int
    rate: float
    interval: tuple[float, float]
    verdict: str  # from the comparison; "" for a plain run campaign


@dataclass(frozen=True)
class ExampleRun:
    """One failing run shown as the example of its signature."""

    seq: int
    variant: str
    outcome: str
    status: str  # decoded, e.g. "SIGSEGV (-11)"
    returncode: int | None
    duration: float
    evidence: str | None  # relative to the evidence root
    tail: str  # the last TAIL_LINES lines of output (untrusted text)


@dataclass(frozen=True)
class SignatureReport:
    """One failure mode: how often per variant, and a run that shows it."""

    id: str
    title: str
    total: int
    per_variant: dict[str, int]
    example: ExampleRun | None


@dataclass(frozen=True)
class Curve:
    """Cumulative failures of one variant: (runs so far, failures) and (seconds, failures)."""

    variant: str
    by_run: list[tuple[int, int]]
    by_time: list[tuple[float, int]]


@dataclass(frozen=True)
class Durations:
    """Histogram of durations by outcome over shared bins."""

    edges: list[float]  # HIST_BINS + 1 bin edges, seconds
    counts: dict[str, list[int]]  # outcome -> runs per bin
    stats: list[queries.DurationStats]
    pass_sample: int = 1  # passing runs counted: every pass_sample-th (failures: all)


@dataclass(frozen=True)
class FailedRun:
    """One failure in the evidence list."""

    seq: int
    variant: str
    outcome: str
    status: str
    signature: str
    started: float
    duration: float
    evidence: str | None  # relative to the evidence root


@dataclass(frozen=True)
class Rerun:
    """What is needed to run the campaign again."""

    command: str
    cwd: str
    settings: dict[str, Any]
    hosts: list[tuple[str, str, int, int, int]]
    created_with: str  # flakehunt version that recorded the campaign
    reported_with: str


@dataclass(frozen=True)
class CampaignReport:
    """The whole report of one campaign."""

    id: int
    uuid: str
    kind: str
    title: str
    state: str
    created: float
    finished: float | None
    span: tuple[float, float] | None
    variants: list[VariantReport]
    comparison: dict[str, Any] | None  # compare_table.to_dict of the analysis
    signatures: list[SignatureReport]
    curves: list[Curve]
    durations: Durations | None
    failures: list[FailedRun]
    failures_total: int
    timelines: list[Timeline]
    rerun: Rerun
    evidence_root: str  # absolute
    spec: dict[str, Any] = field(default_factory=dict)


def build_report(store: Store, ref: str | int | None = None,
                 evidence_root: Path | None = None) -> CampaignReport:
    """Return the report model of campaign *ref* (default: the latest)."""
    from flakehunt import __version__
    from flakehunt.campaign.hunt import evidence_root_for

    c = store.campaign(ref)
    root = (evidence_root or evidence_root_for(store.path)).resolve()
    counts = queries.outcome_counts(store, c.id)
    comparison = None
    if c.kind == "compare":
        from flakehunt.report.compare_table import to_dict

        comparison = to_dict(analyse(store, c))
    spec_variants = {v["name"]: v for v in c.spec.get("variants", [])}
    names = list(spec_variants) + [v for v in counts if v not in spec_variants]
    verdicts = {v["name"]: v for v in (comparison or {}).get("variants", [])}
    variants = [_variant(n, spec_variants.get(n, {}), counts.get(n, {}), verdicts.get(n))
                for n in names]
    failed, total = queries.failed_runs(store, c.id, FAILURE_LIMIT)
    scan = queries.scan(store, c.id)
    return CampaignReport(
        id=c.id, uuid=c.uuid, kind=c.kind, title=c.title, state=c.state, created=c.created,
        finished=c.finished, span=scan.span, variants=variants,
        comparison=comparison,
        signatures=_signatures(store, c.id, names), curves=_curves(scan, names),
        durations=_durations(store, c.id, scan.durations, scan.ids),
        failures=[_failed(r) for r in failed], failures_total=total,
        timelines=_timelines(root, failed),
        rerun=Rerun(rerun_command(c), c.spec.get("cwd", ""), _settings(c.spec),
                    scan.hosts, c.version, __version__),
        evidence_root=str(root), spec=c.spec,
    )


def analyse(store: Store, c: CampaignRow) -> Any:
    """Analyse a compare campaign as ``analyse_campaign`` does, reading only five columns.

    Equal records share one object: a million runs of three variants make a
    few dozen distinct records, so the statistics' input costs a list of
    references rather than a million dataclasses (tests check the result
    equals ``flakehunt.campaign.experiment.analyse_campaign``).
    """
    from flakehunt.campaign.experiment import record_of
    from flakehunt.campaign.spec import CampaignSpec
    from flakehunt.stats.compare import analyse as analyse_records

    spec = CampaignSpec.from_dict(c.spec)
    names = [v.name for v in spec.variants]
    titles = store.signature_titles(c.id)
    seen: dict[tuple[Any, ...], Any] = {}
    records = []
    for row in queries.analysis_rows(store, c.id):
        rec = seen.get(row)
        if rec is None:
            v, block, outcome, sig, conc = row
            label = f"{titles[sig]} [{sig}]" if sig is not None and sig in titles else sig
            rec = seen[row] = record_of(v, block, outcome, label, conc)
        records.append(rec)
    base = spec.baseline or names[0]
    return analyse_records(records, base, variants=names, method="exact")


def _variant(name: str, spec: dict[str, Any], counts: dict[str, int],
             verdict: dict[str, Any] | None) -> VariantReport:
    from flakehunt.stats.intervals import interval

    fails = counts.get("fail", 0) + counts.get("timeout", 0)
    runs = counts.get("pass", 0) + fails
    if verdict is not None:
        ci = (verdict["interval"][0], verdict["interval"][1])
    else:
        ci = interval(fails, runs, 0.95, "exact") if runs else (0.0, 1.0)
    return VariantReport(
        name=name, argv=tuple(spec.get("argv", ())),
        env=tuple((k, v) for k, v in spec.get("env", ())), outcomes=dict(counts), runs=runs,
        failures=fails, timeouts=counts.get("timeout", 0), rate=fails / runs if runs else 0.0,
        interval=ci, verdict="" if verdict is None else verdict["verdict_text"],
    )


_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]")
# Characters XML 1.0 cannot hold (and HTML treats as parse errors): C0 controls but
# tab/newline/CR, lone surrogates, U+FFFE/U+FFFF (XML 1.0 section 2.2, "Char").
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean_text(text: str) -> str:
    """Drop terminal colour codes and replace characters no XML or HTML file may hold."""
    return _NOT_XML.sub("\ufffd", _ANSI.sub("", text))


def decode_tail(tail: bytes | None) -> str:
    """Return the last lines of a stored output tail as clean text (bad bytes replaced)."""
    if not tail:
        return ""
    text = tail[-TAIL_BYTES:].decode("utf-8", "replace")
    return clean_text("\n".join(text.splitlines()[-TAIL_LINES:]))


def _signatures(store: Store, cid: int, names: list[str]) -> list[SignatureReport]:
    per: dict[str, dict[str, int]] = {}
    titles: dict[str, str] = {}
    for sig, title, variant, n in queries.signature_variant_counts(store, cid):
        per.setdefault(sig, {})[variant] = n
        titles.setdefault(sig, clean_text(title))
    examples = queries.signature_examples(store, cid)
    out = []
    for sig, counts in per.items():
        ex = examples.get(sig)
        example = None if ex is None else ExampleRun(
            ex.seq, ex.variant, ex.outcome, clean_text(ex.status_label), ex.returncode, ex.duration,
            ex.evidence_path, decode_tail(ex.output_tail))
        ordered = {v: counts[v] for v in names if v in counts}
        out.append(SignatureReport(sig, titles[sig], sum(counts.values()), ordered, example))
    out.sort(key=lambda s: (-s.total, s.id))
    return out


def _curves(scan: queries.Scan, names: list[str]) -> list[Curve]:
    t0 = scan.span[0] if scan.span else 0.0
    acc: dict[str, tuple[list[tuple[int, int]], list[tuple[float, int]]]] = {
        n: ([(0, 0)], [(0.0, 0)]) for n in names}
    totals: dict[str, list[int]] = {n: [0, 0] for n in names}
    for b in scan.buckets:
        by_run, by_time = acc.setdefault(b.variant, ([(0, 0)], [(0.0, 0)]))
        t = totals.setdefault(b.variant, [0, 0])
        t[0] += b.runs
        t[1] += b.failures
        by_run.append((t[0], t[1]))
        # Buckets follow the sequence; with -j N a later run may end first: keep time monotonic.
        by_time.append((max(by_time[-1][0], round(b.last_end - t0, 3)), t[1]))
    return [Curve(n, *acc[n]) for n in acc if totals[n][0]]


def _durations(store: Store, cid: int, stats: list[queries.DurationStats],
               ids: tuple[int, int] | None) -> Durations | None:
    if not stats:
        return None
    low = min(s.minimum for s in stats)
    high = max(s.maximum for s in stats)
    width = (high - low) / HIST_BINS or 1e-3
    passes = sum(s.runs for s in stats if s.outcome == "pass")
    sample = max(1, passes // HIST_PASS_SAMPLE)
    counts = queries.duration_histogram(store, cid, low, width, HIST_BINS, ids, sample)
    edges = [low + i * width for i in range(HIST_BINS + 1)]
    return Durations(edges, counts, stats, sample)


def _failed(r: RunRow) -> FailedRun:
    return FailedRun(r.seq, r.variant, r.outcome, r.status_label, r.signature or "",
                     r.started, r.duration, r.evidence_path)


def _timelines(root: Path, failed: list[RunRow]) -> list[Timeline]:
    out: list[Timeline] = []
    for r in failed:
        if len(out) >= TIMELINE_LIMIT:
            break
        if r.evidence_path is None:
            continue
        tl = load_timeline(root / r.evidence_path, r.seq, r.run_id, r.started, r.duration)
        if tl is not None:
            out.append(tl)
    return out


def _variant_command(argv: list[str] | tuple[str, ...]) -> str:
    # A -V NAME=CMD variant runs as (shell, "-c", CMD): give the user CMD back.
    if len(argv) == 3 and argv[1] == "-c":
        return argv[2]
    return shlex.join(argv)


def rerun_command(c: CampaignRow) -> str:
    """Return a ``flakehunt`` command line that runs the campaign again with its settings."""
    spec = c.spec
    words = ["flakehunt", c.kind if c.kind in ("run", "compare") else "run"]
    limits = spec.get("limits", {})
    if spec.get("jobs"):
        words += ["-j", str(spec["jobs"])]
    if limits.get("runs") is not None:
        words += ["-n", str(limits["runs"])]
    if limits.get("duration") is not None:
        words += ["--duration", f"{limits['duration']:g}s"]
    if c.kind == "run" and limits.get("max_failures", 1) != 1:
        words += ["--max-failures", str(limits["max_failures"])]
    if spec.get("timeout") is not None:
        words += ["--timeout", f"{spec['timeout']:g}s"]
    for opt, key in (("--fail-regex", "fail_regex"), ("--ignore-regex", "ignore_regex")):
        if spec.get(key):
            words += [opt, spec[key]]
    variants = spec.get("variants", [])
    if c.kind == "compare":
        if spec.get("seed") is not None:
            words += ["--seed", str(spec["seed"])]
        if spec.get("baseline"):
            words += ["--baseline", spec["baseline"]]
        for v in variants:
            words += ["-V", f"{v['name']}={_variant_command(v['argv'])}"]
            for k, val in v.get("env", ()):
                words += ["-e", f"{v['name']}:{k}={val}"]
        return shlex.join(words)
    argv = variants[0]["argv"] if variants else []
    if len(argv) == 3 and argv[1] == "-c":
        return shlex.join([*words, "-c", argv[2]])
    return shlex.join([*words, "--", *argv])


def _settings(spec: dict[str, Any]) -> dict[str, Any]:
    skip = {"variants", "title", "cwd", "kind"}
    return {k: v for k, v in spec.items() if k not in skip}


def relative_link(target: str, report_path: Path, root: str) -> str:
    """Return the evidence path *target* (relative to *root*) relative to the report's folder."""
    return Path(os.path.relpath(Path(root) / target, report_path.resolve().parent)).as_posix()


def generated_at() -> float:
    """Return now (one place, so tests may freeze it)."""
    return time.time()
