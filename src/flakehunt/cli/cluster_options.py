"""The ``--cluster`` and ``--shard`` options of ``run``/``compare`` and the executor chosen."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from flakehunt.campaign.spec import Limits
from flakehunt.errors import UsageError

F = TypeVar("F", bound=Callable[..., Any])


def cluster_options(f: F) -> F:
    """Decorate a hunt command with --cluster, --evidence-dir and --ship-evidence."""
    opts = [
        click.option("--cluster", "cluster", metavar="ADDRESS",
                     help="Run attempts on a Dask cluster: tcp://HOST:8786, tls://HOST:8786, "
                          "or local:N (N worker processes here, on 127.0.0.1)."),
        click.option("--evidence-dir", "evidence_dir", metavar="DIR",
                     help="With --cluster: a path mounted alike on every worker; run logs "
                          "and directories stay there instead of being shipped back."),
        click.option("--ship-evidence", "ship_evidence", metavar="SIZE", default="50M",
                     show_default=True,
                     help="With --cluster: cap on each run's log + directory sent back."),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def shard_option(f: F) -> F:
    """Decorate a hunt command with --shard I/N."""
    return click.option(
        "--shard", "shard", metavar="I/N",
        help="Run only the I-th of N shares (blocks I, I+N, ...); merge the shards' "
             "databases with 'flakehunt merge'.",
    )(f)


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """Read ``2/4`` as (2, 4); None when no shard was asked for."""
    if text is None:
        return None
    try:
        i, n = (int(part) for part in text.split("/"))
    except ValueError:
        i = n = 0
    if not 1 <= i <= n:
        raise UsageError(f"--shard {text}: not a share", "give I/N with 1 <= I <= N, e.g. 1/4")
    return i, n


def shard_runs(runs: int | None, shard: tuple[int, int] | None) -> int | None:
    """How many of blocks 1..*runs* fall in *shard* (the shard's own -n)."""
    if runs is None or shard is None:
        return runs
    i, n = shard
    return len(range(i, runs + 1, n))


def sharded_limits(
    text: str | None, limits: Limits, seed: int | None, until_decided: bool = False
) -> tuple[tuple[int, int] | None, Limits]:
    """Return the shard asked for and this shard's own limits (its share of -n)."""
    shard = parse_shard(text)
    if shard is None:
        return None, limits
    if until_decided:
        raise UsageError(
            "--shard and --until-decided do not mix",
            "each shard would decide alone; merge the shards, then analyse the whole",
        )
    if seed is None:
        raise UsageError(
            "--shard needs --seed", "every shard must draw the same block order, e.g. --seed 7"
        )
    return shard, Limits(shard_runs(limits.runs, shard), limits.duration, limits.max_failures)


def make_executor(opts: dict[str, Any], jobs: int) -> Any:
    """Return the executor the options ask for: local processes, or a Dask cluster."""
    from flakehunt.units import parse_size

    address = opts.get("cluster")
    if not address:
        if opts.get("evidence_dir"):
            raise UsageError("--evidence-dir needs --cluster", "drop it for local runs")
        from flakehunt.execute.local import LocalExecutor

        return LocalExecutor()
    from flakehunt.execute.cluster import ClusterExecutor, ClusterTarget

    return ClusterExecutor(
        ClusterTarget.parse(address),
        jobs=jobs,
        evidence_dir=opts.get("evidence_dir"),
        ship_cap=parse_size(opts.get("ship_evidence") or "50M"),
    )


def executor_notes(executor: Any) -> str:
    """Lines to print after the summary: the cluster's losses and re-runs, if any."""
    line = getattr(executor, "summary_line", None)
    if line is None:
        return ""
    return "\n".join([line(), *(f"  note: {n}" for n in executor.notices)])
