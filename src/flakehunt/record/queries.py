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


def hosts(store: Store, campaign_id: int) -> list[tuple[str, str, int, int, int]]:
    """Return (host, platform, runs, min concurrency, max concurrency) per host."""
    return scan(store, campaign_id, 1).hosts


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


def _id_range(store: Store, campaign_id: int) -> tuple[int, int] | None:
    lo, hi = _conn(store).execute(
        "SELECT MIN(id), MAX(id) FROM runs WHERE campaign_id = ?", (campaign_id,)
    ).fetchone()
    return None if lo is None else (int(lo), int(hi))


def _chunked(store: Store, campaign_id: int, select: str, group: str,
             params: tuple[Any, ...], ids: tuple[int, int] | None,
             where: str = "") -> Iterator[tuple[Any, ...]]:
    """Run a GROUP BY over rowid ranges of CHUNK rows (rows are appended as runs end)."""
    # "+campaign_id" keeps SQLite on the rowid range instead of the campaign index,
    # which would visit every row of the campaign for each chunk.
    sql = (f"SELECT {select} FROM runs WHERE id BETWEEN ? AND ? AND +campaign_id = ?"
           f" {where} GROUP BY {group}")
    if ids is None:
        return
    for lo in range(ids[0], ids[1] + 1, CHUNK):
        yield from _conn(store).execute(sql, (*params, lo, lo + CHUNK - 1, campaign_id))


@dataclass
class Scan:
    """One pass over a campaign: progress buckets, span, durations, hosts."""

    buckets: list[Bucket]
    span: tuple[float, float] | None
    durations: list[DurationStats]
    hosts: list[tuple[str, str, int, int, int]]  # host, platform, runs, min/max concurrency
    ids: tuple[int, int] | None  # the campaign's rowid range


def scan(store: Store, campaign_id: int, buckets: int = 300) -> Scan:
    """Aggregate a campaign in one pass (chunked GROUP BY variant, slice, outcome, host).

    Slices follow the order runs were recorded (the rowid), which is the order
    they ended: about *buckets* slices per campaign.
    """
    ids = _id_range(store, campaign_id)
    lo = ids[0] if ids else 0
    width = 1 if ids is None else max(1, -(-(ids[1] - ids[0] + 1) // max(1, buckets)))
    per: dict[tuple[str, int], list[Any]] = {}
    dur: dict[str, list[float]] = {}
    host: dict[tuple[str, str], list[int]] = {}
    first, last = float("inf"), float("-inf")
    rows = _chunked(
        store, campaign_id,
        "variant, (id - ?) / ?, outcome, host, platform, COUNT(*), MAX(seq),"
        " MAX(started + duration), MIN(started), MIN(duration), MAX(duration), TOTAL(duration),"
        " MIN(concurrency), MAX(concurrency)",
        "1, 2, 3, 4, 5", (lo, width), ids)
    for (variant, b, outcome, h, plat, n, mseq, mend, mstart, dmin, dmax, dsum,
         cmin, cmax) in rows:
        first, last = min(first, mstart), max(last, mend)
        hc = host.setdefault((h, plat), [0, cmin, cmax])
        hc[0], hc[1], hc[2] = hc[0] + n, min(hc[1], cmin), max(hc[2], cmax)
        if outcome not in ("pass", "fail", "timeout"):
            continue
        acc = per.setdefault((variant, b), [0, 0, 0, float("-inf")])
        acc[0] += n
        acc[1] += n if outcome != "pass" else 0
        acc[2], acc[3] = max(acc[2], mseq), max(acc[3], mend)
        d = dur.setdefault(outcome, [0, float("inf"), float("-inf"), 0.0])
        d[0] += n
        d[1], d[2], d[3] = min(d[1], dmin), max(d[2], dmax), d[3] + dsum
    order = sorted(per, key=lambda k: (k[1], per[k][3]))
    return Scan(
        buckets=[Bucket(k[0], per[k][0], per[k][1], per[k][2], per[k][3]) for k in order],
        span=None if first == float("inf") else (first, last),
        durations=[DurationStats(o, int(d[0]), d[1], d[3] / d[0], d[2])
                   for o, d in sorted(dur.items())],
        hosts=sorted(((h, p, c[0], c[1], c[2]) for (h, p), c in host.items()),
                     key=lambda x: -x[2]),
        ids=ids,
    )


def progress_buckets(store: Store, campaign_id: int, buckets: int = 300) -> list[Bucket]:
    """Return counted runs and failures per variant in about *buckets* slices of the sequence."""
    return scan(store, campaign_id, buckets).buckets


def duration_stats(store: Store, campaign_id: int) -> list[DurationStats]:
    """Return min/mean/max duration per counted outcome (pass, fail, timeout)."""
    return scan(store, campaign_id, 1).durations


def duration_histogram(
    store: Store, campaign_id: int, low: float, width: float, bins: int,
    ids: tuple[int, int] | None = None, pass_sample: int = 1,
) -> dict[str, list[int]]:
    """Return outcome -> runs per bin of ``[low + i*width, low + (i+1)*width)``.

    Passing runs are counted on every *pass_sample*-th row only (a systematic
    sample: their shape, at a fraction of the sorting); failures all count.
    """
    rows = _chunked(
        store, campaign_id,
        "outcome, MIN(MAX(CAST((duration - ?) / ? AS INTEGER), 0), ?), COUNT(*)",
        "1, 2", (low, width, bins - 1), ids or _id_range(store, campaign_id),
        where=f"AND (outcome != 'pass' OR id % {int(pass_sample)} = 0)")
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
