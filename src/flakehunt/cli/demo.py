"""``flakehunt demo``: the story, reproduced on this machine in about a minute."""

from __future__ import annotations

import os
import sys

import click

from flakehunt.cli.options import write_reports
from flakehunt.errors import UsageError
from flakehunt.status import ExitStatus


@click.command()
@click.option("--quick", is_flag=True, help="About 20 seconds instead of 90.")
@click.option("--runs", type=int, default=None, help="Runs per variant instead of a time bound.")
@click.option("-j", "--jobs", type=int, default=None, help="Parallel slots (default: CPUs).")
@click.option("--seed", type=int, default=None, help="Seed of the blocked random order.")
@click.option("--db", "db", metavar="PATH", help="Database (default ./.flakehunt/flakehunt.db).")
@click.option("-q", "--quiet", is_flag=True, help="No live progress.")
def demo(quick: bool, runs: int | None, jobs: int | None, seed: int | None, db: str | None,
         quiet: bool) -> int:
    """Reproduce the story: a linker race, three mitigations, an honest verdict."""
    import time

    from flakehunt.campaign.experiment import analyse_campaign
    from flakehunt.campaign.hunt import evidence_root_for, hunt
    from flakehunt.demo.story import INTRO, OUTRO, kept_outputs, plan_demo
    from flakehunt.execute.local import LocalExecutor
    from flakehunt.record.store import Store, default_db_path
    from flakehunt.report.compare_table import render_terminal
    from flakehunt.report.progress import choose_progress
    from flakehunt.report.summary import render_experiment

    if os.name != "posix":
        raise UsageError("the demo's toolchain needs POSIX fork and flock",
                         "run it on Linux or macOS")
    if runs is not None and runs < 1:
        raise UsageError(f"--runs {runs} runs nothing", "give --runs 1 or more")
    db_path = default_db_path(db)
    # Kept under .flakehunt, not /tmp: the images of failed runs are evidence.
    workspace = evidence_root_for(db_path) / f"demo-{time.strftime('%Y%m%d-%H%M%S')}"
    workspace.mkdir(parents=True, exist_ok=True)
    plan = plan_demo(workspace.resolve(), quick=quick, runs=runs, jobs=jobs or os.cpu_count() or 2,
                     seed=seed if seed is not None else int.from_bytes(os.urandom(4), "big"))
    click.echo(INTRO)
    store = Store.open(db_path)
    progress = choose_progress(sys.stderr, quiet=quiet, every=5.0)
    try:
        summary = hunt(plan.spec, store, LocalExecutor(), progress)
        result = analyse_campaign(store, summary.campaign_id)
        failed = next(iter(store.runs(summary.campaign_id, outcomes=("fail", "timeout"))), None)
        reports = write_reports(store, summary.campaign_id, None, html_by_default=True)
    finally:
        store.close()
    click.echo(render_experiment(summary, plan.spec.seed, render_terminal(result)))
    if failed is not None:
        kept = kept_outputs(plan.workspace, failed.pid)
        for path in kept:
            click.echo(f"kept for that run: {path}")
        if kept:
            click.echo("  (compare the image with what the run step saw: "
                       f"cmp {' '.join(str(p) for p in kept)})")
    for line in reports:
        click.echo(line)
    click.echo("")
    click.echo(OUTRO)
    click.echo(f"Look again with: flakehunt show {summary.campaign_id}")
    if summary.stop_reason == "interrupted":
        return int(ExitStatus.INTERRUPTED)
    return int(ExitStatus.OK)


