"""``flakehunt run``: hunt a flaky command."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

from flakehunt.cli.cluster_options import cluster_options, shard_option
from flakehunt.cli.options import (
    common_settings,
    hunt_options,
    shell_argv,
    title_for,
    write_reports,
)
from flakehunt.cli.watch_options import campaign_load_text
from flakehunt.errors import CouldNotStart, UsageError
from flakehunt.status import ExitStatus


@click.command(context_settings={"ignore_unknown_options": False})
@click.option(
    "-c",
    "--shell",
    "shell",
    metavar="STRING",
    help="Run STRING through $SHELL (or /bin/sh, which is dash on Debian: no $RANDOM).",
)
@click.option(
    "--resume",
    metavar="[CAMPAIGN]",
    is_flag=False,
    flag_value="",
    default=None,
    help="Continue a campaign (default: the latest) with its settings.",
)
@hunt_options
@cluster_options
@shard_option
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def run(command: tuple[str, ...], shell: str | None, resume: str | None, **opts: Any) -> int:
    """Run a command repeatedly until a stop rule; record every run.

    \b
    Examples:
      flakehunt run -j 8 --timeout 10m -- ninja -C out protoc
      flakehunt run -n 1000 --max-failures 0 -c 'make test'
      flakehunt run --resume            # continue the latest campaign
    """
    from flakehunt.campaign.hunt import hunt
    from flakehunt.campaign.preflight import check_startable
    from flakehunt.campaign.spec import CampaignSpec, Limits, Variant
    from flakehunt.cli.cluster_options import executor_notes, make_executor, sharded_limits
    from flakehunt.record.store import Store, default_db_path
    from flakehunt.report.progress import choose_progress
    from flakehunt.report.summary import render_summary, summary_to_dict
    from flakehunt.units import parse_duration

    settings = common_settings(opts, default_max_failures=1)
    limits: Limits | None = None
    if resume is not None:
        if command or shell:
            raise UsageError(
                "--resume takes the command from the campaign",
                "drop the command, or start a new campaign without --resume",
            )
        # A resumed shard takes -n as the campaign's total again (give --shard with it).
        if _limits_given(opts):
            limits = sharded_limits(opts["shard"], settings["limits"], 0)[1]
        spec = None
    else:
        if shell is not None and command:
            raise UsageError(
                "give either -c STRING or a command after --, not both",
                "e.g. flakehunt run -c 'make test'",
            )
        if shell is None and not command:
            raise UsageError("no command to run", "e.g. flakehunt run -- make test")
        argv = shell_argv(shell) if shell is not None else tuple(command)
        # One variant: every block is the same, the seed is moot.
        shard, settings["limits"] = sharded_limits(opts["shard"], settings["limits"], 0)
        load = campaign_load_text(settings["evidence"]["watch"])
        spec = CampaignSpec(
            shard=shard,
            kind="run",
            variants=(Variant("default", argv, load_profile=load),),
            title=title_for(argv, shell),
            cwd=os.getcwd(),
            **settings,
        )
    if spec is not None:
        check_startable(spec)  # before creating a database for nothing
    store = Store.open(default_db_path(opts["db"]))
    progress = choose_progress(
        sys.stderr,
        quiet=opts["quiet"] or opts["as_json"],
        every=parse_duration(opts["status_every"]),
    )
    executor = make_executor(opts, settings["jobs"])
    try:
        summary = hunt(
            spec if spec is not None else _placeholder(),
            store,
            executor,
            progress,
            resume=resume,
            limits=limits,
        )
        reports = write_reports(store, summary.campaign_id, opts["report"],
                                html_by_default=False)
    finally:
        store.close()
    if opts["as_json"]:
        click.echo(json.dumps(summary_to_dict(summary), indent=2))
    else:
        click.echo(render_summary(summary))
        for line in reports:
            click.echo(f"  {line}")
        if notes := executor_notes(executor):
            click.echo(notes)
    if summary.start_error and summary.runs == 0:
        raise CouldNotStart(summary.start_error, "check the command, its PATH and the directory")
    if summary.stop_reason == "interrupted":
        return int(ExitStatus.INTERRUPTED)
    return int(ExitStatus.FAILURES if summary.failures else ExitStatus.OK)


def _limits_given(opts: dict[str, Any]) -> bool:
    return any(opts[k] is not None for k in ("runs", "duration", "max_failures"))


def _placeholder() -> Any:
    # hunt() takes the spec from the database when resuming; this is never run.
    from flakehunt.campaign.spec import CampaignSpec

    return CampaignSpec(kind="run", variants=(), title="", cwd=os.getcwd())
