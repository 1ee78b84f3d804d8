"""Cluster path vs local executor, side by side: runs/s of a 50 ms command, overhead on true.

Run: PYTHONPATH=src python bench/cluster_throughput.py [RUNS]
Both executors run the same campaign through ``hunt()`` (the real scheduler,
store and run files) at the same concurrency, -j 2: the local executor, and
``--cluster local:2`` (two Dask worker processes on 127.0.0.1). The cluster's
start-up (worker processes importing Dask) is timed separately; the ratios
are steady state. Goal: cluster/local >= 0.9 on the 50 ms command.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from flakehunt.campaign.events import NullProgress
from flakehunt.campaign.hunt import hunt
from flakehunt.campaign.spec import CampaignSpec, Limits, Variant
from flakehunt.execute.cluster import ClusterExecutor, ClusterTarget
from flakehunt.execute.local import LocalExecutor
from flakehunt.record.store import Store


def campaign(argv: tuple[str, ...], runs: int, jobs: int, cwd: str) -> CampaignSpec:
    return CampaignSpec(kind="run", variants=(Variant("default", argv),), title=argv[0],
                        cwd=cwd, jobs=jobs, limits=Limits(runs=runs, max_failures=0),
                        keep_passing=0)


def timed(executor: Any, spec: CampaignSpec, root: Path, name: str) -> float:
    """Seconds per run of *spec* on *executor*."""
    store = Store.open(root / name / "flakehunt.db")
    try:
        t0 = time.perf_counter()
        summary = hunt(spec, store, executor, NullProgress())  # type: ignore[arg-type]
        elapsed = time.perf_counter() - t0
    finally:
        store.close()
    assert summary.runs == spec.limits.runs, summary
    return elapsed / summary.runs


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    root = Path(tempfile.mkdtemp(prefix="flakehunt-bench-"))
    cwd = str(root)
    t0 = time.perf_counter()
    cluster = ClusterExecutor(ClusterTarget("", 2), jobs=2)
    cluster.start()
    print(f"cluster start-up (2 local worker processes): {time.perf_counter() - t0:.2f}s")
    # hunt() closes its executor; keep the cluster open across rounds by closing it here only.
    close, cluster.close = cluster.close, lambda: None  # type: ignore[method-assign]
    try:
        for label, argv, jobs in (("sleep 0.05, -j 2", ("sleep", "0.05"), 2),
                                  ("/bin/true, -j 1", ("/bin/true",), 1)):
            spec = campaign(argv, runs, jobs, cwd)
            loc: list[float] = []
            clu: list[float] = []
            for k in range(2):  # interleaved rounds; the best of each side
                loc.append(timed(LocalExecutor(), spec, root, f"local-{label}-{k}"))
                clu.append(timed(cluster, spec, root, f"cluster-{label}-{k}"))
            lo, cl = min(loc), min(clu)
            print(f"{label}: local {1 / lo:7.1f} runs/s | cluster local:2 {1 / cl:7.1f} runs/s"
                  f" | cluster/local = {lo / cl:.2f}x | per-attempt overhead "
                  f"{(cl - lo) * 1000:+.1f} ms")
    finally:
        close()


if __name__ == "__main__":
    main()
