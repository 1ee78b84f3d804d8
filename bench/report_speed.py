"""Report generation time and file size for a 1,000,000-run campaign (goal: under 5 s).

Usage: python bench/report_speed.py [--runs 1000000] [--compare-runs 3000]

Rows are inserted directly with ``Store.add_runs`` in batches (not timed).
Then it times, side by side in one process:

* the report model (SQL GROUP BY aggregation, record/queries.py) and the HTML,
  Markdown, JUnit and JSON renderers, for a ``run`` campaign of --runs runs;
* the same for a 3-variant ``compare`` campaign of --compare-runs runs per
  variant, whose exact Boschloo tests dominate (their cost grows with the
  runs per arm, so the compare size is kept small);
* the peer: loading every run as a ``RunRow`` with ``Store.runs`` (what a
  report that did not aggregate in SQL would have to do first).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from flakehunt.campaign.spec import CampaignSpec, Limits, Variant
from flakehunt.record.store import Store

RATES = {"normal": 0.035, "sleep": 0.02, "flush": 0.0}


def populate(store: Store, kind: str, variants: tuple[str, ...], runs: int) -> int:
    """Create a campaign of *runs* runs spread over *variants*; return its id."""
    spec = CampaignSpec(kind=kind, variants=tuple(Variant(v, ("/bin/sh", "-c", f"build --{v}"))
                                                  for v in variants),
                        title=" vs ".join(variants), cwd="/tmp", jobs=2,
                        limits=Limits(runs=runs // len(variants)), baseline=variants[0], seed=1)
    cid = store.create_campaign(uuid=f"{kind}{runs:028x}", kind=kind, host="bench",
                                version="bench", spec=spec.to_dict(), title=spec.title)
    rng = random.Random(cid)
    rates = [RATES.get(v, 0.035) for v in variants]
    batch = []
    for i in range(runs):
        k = i % len(variants)
        failed = rng.random() < rates[k]
        timeout = failed and rng.random() < 0.1
        sig = None if not failed else ("a1b2c3d4e5f6" if rng.random() < 0.7 else "0badc0de0bad")
        batch.append({
            "run_id": f"{cid:08x}{i:024x}", "campaign_id": cid, "variant": variants[k],
            "seq": i + 1, "block": i // len(variants) + 1, "slot": i % 2, "host": "bench",
            "worker": "", "platform": "posix", "concurrency": 2, "load_profile": "",
            "started": 1.7e9 + i * 0.05, "duration": 0.5 + rng.random() * (3 if failed else 1),
            "returncode": (None if timeout else -11) if failed else 0,
            "status_label": "timeout" if timeout else ("SIGSEGV (-11)" if failed else "0"),
            "outcome": "timeout" if timeout else ("fail" if failed else "pass"),
            "signature": sig, "pid": None, "max_rss_kb": None, "user_cpu": None,
            "sys_cpu": None, "core_dumped": False,
            "evidence_path": f"c{cid}/r{i + 1:06d}" if failed else None,
            "output_tail": b"Segmentation fault\n" if failed else None, "note": None,
        })
        if len(batch) == 50_000:
            store.add_runs(batch)
            batch = []
    store.add_runs(batch)
    store.set_campaign_state(cid, "finished")
    return cid


def time_report(store: Store, cid: int, out: Path) -> dict[str, float]:
    """Time model + each renderer; return seconds and the HTML size."""
    from flakehunt.report.html import render_html
    from flakehunt.report.json_export import render_json
    from flakehunt.report.junit import render_junit
    from flakehunt.report.markdown import render_markdown
    from flakehunt.report.model import build_report

    c0 = time.process_time()
    t0 = time.perf_counter()
    model = build_report(store, cid)
    t1 = time.perf_counter()
    html = render_html([model], out)
    out.write_text(html, encoding="utf-8")
    t2 = time.perf_counter()
    render_markdown([model])
    render_junit([model])
    render_json([model])
    t3 = time.perf_counter()
    return {"model": t1 - t0, "html": t2 - t1, "others": t3 - t2, "total": t3 - t0,
            "cpu": time.process_time() - c0, "size": out.stat().st_size}


def main() -> None:
    """Populate, time, print."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=1_000_000)
    ap.add_argument("--compare-runs", type=int, default=3_000, help="per variant")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "flakehunt.db")
        t = time.perf_counter()
        big = populate(store, "run", ("default",), args.runs)
        cmp_ = populate(store, "compare", tuple(RATES), 3 * args.compare_runs)
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (wall time "
              "suffers from other processes; CPU time less so)")
        print(f"inserted {args.runs:,} + {3 * args.compare_runs:,} runs in "
              f"{time.perf_counter() - t:.1f} s (not part of the timing)")
        for label, cid in ((f"run campaign, {args.runs:,} runs", big),
                           (f"compare campaign, 3 x {args.compare_runs:,} runs", cmp_)):
            r = time_report(store, cid, Path(tmp) / f"c{cid}.html")
            print(f"{label}: report {r['total']:.2f} s (model {r['model']:.2f} s, html "
                  f"{r['html']:.2f} s, md+junit+json {r['others']:.2f} s; CPU {r['cpu']:.2f} s); "
                  f"HTML {r['size'] / 1024:.0f} KiB")
        t = time.perf_counter()
        n = sum(1 for _ in store.runs(big))
        peer = time.perf_counter() - t
        r = time_report(store, big, Path(tmp) / "again.html")
        print(f"peer: loading the {n:,} runs as RunRow objects alone takes {peer:.2f} s; "
              f"the whole report takes {r['total']:.2f} s: ratio {peer / r['total']:.1f}x")
        store.close()


if __name__ == "__main__":
    main()
