"""Aggregate queries for reports: GROUP BY in SQLite, small results out.

A report over a million runs must not build a million Python objects: every
function here returns one row per variant, signature, bucket or failure (the
failures capped by *limit*). ``analysis_rows`` is the one exception, because
the statistics need each run's block; it yields plain tuples.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flakehunt.record.store import _RUN_COLUMNS, RunRow, Store, _run

FAILED = "('fail', 'timeout')"
COUNTED = "('pass', 'fail', 'timeout')"


def _conn(store: Store) -> sqlite3.Connection:
    # The store keeps its connection private; this module is its SQL-speaking sibling.
    return store._conn


@dataclass(frozen=True)
class Bucket:
    """Counted runs of one variant within one slice of the campaign's sequence."""

    variant: str
    runs: int
    failures: int
    last_seq: int
    last_end: float  # epoch seconds the slice's last run ended


@dataclass(frozen=True)
class DurationStats:
    """Duration summary of one outcome."""

    outcome: str
    runs: int
    minimum: float
    mean: float
    maximum: float


def outcome_counts(store: Store, campaign_id: int) -> dict[str, dict[str, int]]:
    """Return variant -> outcome -> runs."""
    rows = _conn(store).execute(
        # Covered by the runs_campaign index: no table row is read.
        "SELECT variant, outcome, COUNT(*) FROM runs WHERE campaign_id = ?"
        " GROUP BY variant, outcome",
        (campaign_id,),
    )
    out: dict[str, dict[str, int]] = {}
    for variant, outcome, n in rows:
        out.setdefault(variant, {})[outcome] = n
    return out


def time_span(store: Store, campaign_id: int) -> tuple[float, float] | None:
    """Return (first start, last end) of a campaign's runs, or None without runs."""
    row = _conn(store).execute(
        "SELECT MIN(started), MAX(started + duration) FROM runs WHERE campaign_id = ?",
        (campaign_id,),
    ).fetchone()
    return None if row[0] is None else (float(row[0]), float(row[1]))


def hosts(store: Store, campaign_id: int) -> list[tuple[str, str, int, int, int]]:
    """Return (host, platform, runs, min concurrency, max concurrency) per host."""
    rows = _conn(store).execute(
        "SELECT host, platform, COUNT(*), MIN(concurrency), MAX(concurrency) FROM runs"
        " WHERE +campaign_id = ? GROUP BY host, platform ORDER BY COUNT(*) DESC",
        (campaign_id,),
    )
    return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]


def signature_variant_counts(store: Store, campaign_id: int) -> list[tuple[str, str, str, int]]:
    """Return (signature, title, variant, failures), most frequent signature first."""
    rows = _conn(store).execute(
        "SELECT COALESCE(r.signature, ''), COALESCE(s.title, MIN(r.status_label)), r.variant,"
        " COUNT(*) FROM runs r LEFT JOIN signatures s"
        " ON s.campaign_id = r.campaign_id AND s.id = r.signature"
        f" WHERE r.campaign_id = ? AND r.outcome IN {FAILED}"
        " GROUP BY r.signature, r.variant",
        (campaign_id,),
    )
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def signature_examples(store: Store, campaign_id: int) -> dict[str, RunRow]:
    """Return the first failing run of each signature, output tail included."""
    # SQLite takes bare columns of a MIN() aggregate from the row holding the minimum.
    ids = [
        r[0]
        for r in _conn(store).execute(
            "SELECT id, MIN(seq) FROM runs"
            f" WHERE campaign_id = ? AND outcome IN {FAILED} GROUP BY signature",
            (campaign_id,),
        )
    ]
    if not ids:
        return {}
    rows = _conn(store).execute(
        f"SELECT {', '.join(_RUN_COLUMNS)} FROM runs WHERE id IN"
        f" ({', '.join('?' for _ in ids)})",
        ids,
    )
    out = {}
    for row in rows:
        run = _run(row)
        out[run.signature or ""] = run
    return out


CHUNK = 50_000  # rows per GROUP BY: SQLite sorts each group-by; small sorts stay in cache


def _chunks(store: Store, campaign_id: int) -> Iterator[tuple[int, int]]:
    """Yield rowid ranges covering a campaign's runs (rows are appended as runs end)."""
    lo, hi = _conn(store).execute(
        "SELECT MIN(id), MAX(id) FROM runs WHERE campaign_id = ?", (campaign_id,)
    ).fetchone()
    if lo is None:
        return
    for start in range(int(lo), int(hi) + 1, CHUNK):
        yield start, start + CHUNK - 1


def _chunked(store: Store, campaign_id: int, select: str, group: str,
             params: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
    # "+campaign_id" keeps SQLite on the rowid range instead of the campaign index,
    # which would visit every row of the campaign for each chunk.
    sql = (f"SELECT {select} FROM runs WHERE id BETWEEN ? AND ? AND +campaign_id = ?"
           f" GROUP BY {group}")
    for lo, hi in _chunks(store, campaign_id):
        yield from _conn(store).execute(sql, (*params, lo, hi, campaign_id))


@dataclass
class Scan:
    """One pass over a campaign: progress buckets, outcome counts, span, durations."""

    buckets: list[Bucket]
    span: tuple[float, float] | None
    durations: list[DurationStats]


def scan(store: Store, campaign_id: int, buckets: int = 300) -> Scan:
    """Aggregate a campaign in one pass (chunked GROUP BY variant, slice, outcome)."""
    top = store.max_seq(campaign_id)
    width = max(1, -(-int(top) // max(1, buckets)))
    per: dict[tuple[str, int], list[Any]] = {}
    dur: dict[str, list[float]] = {}
    first, last = float("inf"), float("-inf")
    rows = _chunked(
        store, campaign_id,
        "variant, (seq - 1) / ?, outcome, COUNT(*), MAX(seq), MAX(started + duration),"
        " MIN(started), MIN(duration), MAX(duration), TOTAL(duration)",
        "1, 2, 3", (width,))
    for variant, b, outcome, n, mseq, mend, mstart, dmin, dmax, dsum in rows:
        first, last = min(first, mstart), max(last, mend)
        if outcome not in ("pass", "fail", "timeout"):
            continue
        acc = per.setdefault((variant, b), [0, 0, 0, float("-inf")])
        acc[0] += n
        acc[1] += n if outcome != "pass" else 0
        acc[2], acc[3] = max(acc[2], mseq), max(acc[3], mend)
        d = dur.setdefault(outcome, [0, float("inf"), float("-inf"), 0.0])
        d[0] += n
        d[1], d[2], d[3] = min(d[1], dmin), max(d[2], dmax), d[3] + dsum
    order = sorted(per, key=lambda k: (k[1], per[k][2]))
    return Scan(
        buckets=[Bucket(k[0], per[k][0], per[k][1], per[k][2], per[k][3]) for k in order],
        span=None if first == float("inf") else (first, last),
        durations=[DurationStats(o, int(d[0]), d[1], d[3] / d[0], d[2])
                   for o, d in sorted(dur.items())],
    )


def progress_buckets(store: Store, campaign_id: int, buckets: int = 300) -> list[Bucket]:
    """Return counted runs and failures per variant in about *buckets* slices of the sequence."""
    return scan(store, campaign_id, buckets).buckets


def duration_stats(store: Store, campaign_id: int) -> list[DurationStats]:
    """Return min/mean/max duration per counted outcome (pass, fail, timeout)."""
    return scan(store, campaign_id, 1).durations


def duration_histogram(
    store: Store, campaign_id: int, low: float, width: float, bins: int
) -> dict[str, list[int]]:
    """Return outcome -> runs per bin of ``[low + i*width, low + (i+1)*width)``."""
    rows = _chunked(
        store, campaign_id,
        "outcome, MIN(MAX(CAST((duration - ?) / ? AS INTEGER), 0), ?), COUNT(*)",
        "1, 2", (low, width, bins - 1))
    out: dict[str, list[int]] = {}
    for outcome, b, n in rows:
        if outcome in ("pass", "fail", "timeout"):
            out.setdefault(outcome, [0] * bins)[b] += n
    return out


def failed_runs(store: Store, campaign_id: int, limit: int) -> tuple[list[RunRow], int]:
    """Return the first *limit* failed runs (without output tails) and how many failed."""
    conn = _conn(store)
    (total,) = conn.execute(
        f"SELECT COUNT(*) FROM runs WHERE campaign_id = ? AND outcome IN {FAILED}",
        (campaign_id,),
    ).fetchone()
    cols = ", ".join("NULL" if c == "output_tail" else c for c in _RUN_COLUMNS)
    rows = conn.execute(
        f"SELECT {cols} FROM runs WHERE campaign_id = ? AND outcome IN {FAILED}"
        " ORDER BY seq LIMIT ?",
        (campaign_id, limit),
    )
    return [_run(r) for r in rows], int(total)


def analysis_rows(
    store: Store, campaign_id: int
) -> Iterator[tuple[str, int, str, str | None, int]]:
    """Yield (variant, block, outcome, signature, concurrency) of every run, in sequence order."""
    yield from _conn(store).execute(
        "SELECT variant, block, outcome, signature, concurrency FROM runs"
        " WHERE campaign_id = ? ORDER BY seq",
        (campaign_id,),
    )
