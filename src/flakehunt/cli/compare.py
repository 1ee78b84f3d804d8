"""``flakehunt compare``: an interleaved mitigation experiment with honest statistics."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from flakehunt.cli.cluster_options import cluster_options, shard_option
from flakehunt.cli.options import common_settings, hunt_options, shell_argv, write_reports
from flakehunt.errors import UsageError
from flakehunt.status import ExitStatus


@click.command()
@click.option("-V", "--variant", "variant_specs", multiple=True, metavar="NAME[=CMD]",
              help="A variant: NAME=COMMAND (through the shell), or NAME for the shared command.")
@click.option("-P", "--parameter-list", "params", nargs=2, multiple=True,
              metavar="NAME V1,V2,...", help="One variant per value of {NAME} in the command.")
@click.option("-e", "--variant-env", "variant_env", multiple=True, metavar="NAME:KEY=VALUE",
              help="Environment for one variant.")
@click.option("--variant-load", "variant_load", multiple=True, metavar="NAME=PROFILE",
              help="Stressors while variant NAME runs, e.g. loaded=io=4 (see docs/load.md).")
@click.option("--baseline", metavar="NAME", help="The variant others are compared with "
              "(default: the first).")
@click.option("--seed", type=int, default=None, help="Seed of the blocked random order.")
@click.option("--until-decided", is_flag=True,
              help="Stop once every variant is decided, by an always-valid sequential rule.")
@click.option("--max-runs", type=int, default=10_000, show_default=True,
              help="Bound of --until-decided, runs per variant.")
@click.option("--confidence", type=float, default=0.95, show_default=True)
@click.option("--interval", "method", type=click.Choice(["exact", "wilson", "jeffreys"]),
              default="exact", show_default=True,
              help="Interval method (exact: Clopper-Pearson, never undercovers).")
@click.option("--file", "campaign_file", type=click.Path(path_type=Path), default=None,
              help="Campaign file (default: flakehunt.toml, or [tool.flakehunt] in pyproject).")
@click.option("--export-markdown", metavar="PATH",
              help="Write the table as Markdown ('-': stdout).")
@click.option("--export-json", metavar="PATH", help="Write the result as JSON ('-': stdout).")
@hunt_options
@cluster_options
@shard_option
@click.argument("shared", nargs=-1, type=click.UNPROCESSED)
def compare(variant_specs: tuple[str, ...], params: tuple[tuple[str, str], ...],
            variant_env: tuple[str, ...], variant_load: tuple[str, ...],
            baseline: str | None, seed: int | None,
            until_decided: bool, max_runs: int, confidence: float, method: str,
            campaign_file: Path | None, export_markdown: str | None, export_json: str | None,
            shared: tuple[str, ...], **opts: Any) -> int:
    """Run variants interleaved in random blocks; compare failure rates with a baseline.

    \b
    Examples:
      flakehunt compare -n 333 -V normal='ninja -C out protoc' \\
                               -V sync='ninja -C out protoc && sync'
      flakehunt compare -n 200 -P threads 1,4,16 -- ./test --threads {threads}
      flakehunt compare --until-decided -V plain -V checked \\
                        -e checked:MALLOC_CHECK_=3 -- ./test
    """
    from flakehunt.campaign.experiment import UntilDecided, analyse_campaign
    from flakehunt.campaign.hunt import hunt
    from flakehunt.campaign.preflight import check_startable
    from flakehunt.campaign.spec import CampaignSpec, Limits
    from flakehunt.campaign.variants import (
        build_variants,
        load_campaign_file,
        variants_from_file,
    )
    from flakehunt.cli.cluster_options import executor_notes, make_executor, sharded_limits
    from flakehunt.record.store import Store, default_db_path
    from flakehunt.report.compare_table import render_markdown, render_terminal, to_dict
    from flakehunt.report.progress import choose_progress
    from flakehunt.report.summary import render_experiment
    from flakehunt.units import parse_duration

    if not 0.5 < confidence < 1:
        raise UsageError(f"--confidence {confidence} is not a confidence", "e.g. 0.95")
    section = load_campaign_file(campaign_file)
    if variant_specs or params:
        variants = build_variants(variant_specs, params, shared, variant_env, shell_argv)
    else:
        variants = variants_from_file(section, shell_argv)
        if len(variants) < 2:
            raise UsageError("an experiment needs at least two variants",
                             "give -V NAME=CMD twice, or [[compare.variants]] in flakehunt.toml")
    for key in ("runs", "jobs", "timeout", "duration"):
        if opts.get(key) is None and key in section:
            opts[key] = section[key]
    baseline = baseline or section.get("baseline") or variants[0].name
    if baseline not in {v.name for v in variants}:
        raise UsageError(f"--baseline {baseline!r} is not a variant",
                         "choose one of " + ", ".join(v.name for v in variants))
    settings = common_settings(opts, default_max_failures=0)
    limits: Limits = settings["limits"]
    if until_decided:
        limits = Limits(runs=limits.runs or max_runs, duration=limits.duration,
                        max_failures=limits.max_failures)
        settings["limits"] = limits
    if limits.runs is None and limits.duration is None:
        raise UsageError("an experiment needs a bound",
                         "give -n RUNS per variant ('flakehunt plan' says how many), "
                         "--duration, or --until-decided")
    shard, settings["limits"] = sharded_limits(opts["shard"], settings["limits"], seed,
                                               until_decided)
    variants = _with_load(variants, variant_load, settings["evidence"]["watch"])
    spec = CampaignSpec(kind="compare", variants=variants, shard=shard,
                        title=" vs ".join(v.name for v in variants), cwd=os.getcwd(),
                        seed=seed if seed is not None else int.from_bytes(os.urandom(4), "big"),
                        baseline=baseline, **settings)
    check_startable(spec)
    observer = None
    if until_decided:
        observer = UntilDecided(baseline, [v.name for v in variants], alpha=1 - confidence,
                                max_runs=limits.runs)
    store = Store.open(default_db_path(opts["db"]))
    progress = choose_progress(sys.stderr, quiet=opts["quiet"] or opts["as_json"],
                               every=parse_duration(opts["status_every"]))
    executor = make_executor(opts, settings["jobs"])
    try:
        summary = hunt(spec, store, executor, progress, observer=observer)
        result = analyse_campaign(store, summary.campaign_id, baseline=baseline,
                                  confidence=confidence, method=method,
                                  sequential=until_decided)
        reports = write_reports(store, summary.campaign_id, opts["report"],
                                html_by_default=True)
    finally:
        store.close()
    doc = to_dict(result) | {"campaign": summary.campaign_id, "seed": spec.seed,
                             "stop_reason": summary.stop_reason,
                             "watch": summary.watch.to_dict() if summary.watch else None}
    if opts["as_json"]:
        click.echo(json.dumps(doc, indent=2))
    else:
        click.echo(render_experiment(summary, spec.seed, render_terminal(result)))
        for line in reports:
            click.echo(line)
        if notes := executor_notes(executor):
            click.echo(notes)
    _export(export_markdown, render_markdown(result))
    _export(export_json, json.dumps(doc, indent=2))
    if summary.stop_reason == "interrupted":
        return int(ExitStatus.INTERRUPTED)
    return int(ExitStatus.FAILURES if summary.failures else ExitStatus.OK)


def _with_load(variants: Any, items: tuple[str, ...], watch: dict[str, Any]) -> Any:
    """Give each variant its recorded load profile; store --variant-load for the watch."""
    from dataclasses import replace

    from flakehunt.cli.watch_options import campaign_profile
    from flakehunt.load.profile import parse_variant_loads

    per = parse_variant_loads(items, {v.name for v in variants})
    watch["variant_load"] = {k: p.text() for k, p in per.items()}
    base = campaign_profile(watch)
    return tuple(replace(v, load_profile=(base.plus(per[v.name]) if v.name in per else base)
                         .text()) for v in variants)


def _export(path: str | None, text: str) -> None:
    if path is None:
        return
    if path == "-":
        click.echo(text)
        return
    from flakehunt.durable import atomic_write

    atomic_write(path, text.encode())
