"""``flakehunt history``, ``show`` and ``failures``: look into what was recorded."""

from __future__ import annotations

import json
import re

import click

from flakehunt.record.store import Store, default_db_path

_DB = click.option(
    "--db", "db", metavar="PATH", help="Database (default ./.flakehunt/flakehunt.db)."
)
_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
_RUN_REF = re.compile(r"^\d+:\d+$|^[0-9a-f]{12,}$")


def _open(db: str | None) -> Store:
    return Store.open(default_db_path(db), create=False)


@click.command()
@_DB
@_JSON
@click.option("--limit", type=int, default=50, show_default=True, help="Newest N campaigns.")
def history(db: str | None, as_json: bool, limit: int) -> None:
    """List recorded campaigns: id, when, command, runs, failures, rate."""
    from flakehunt.report.listing import history_to_list, render_history

    store = _open(db)
    rows = [(c, store.tally(c.id)) for c in store.campaigns(limit)]
    click.echo(json.dumps(history_to_list(rows), indent=2) if as_json else render_history(rows))


@click.command()
@_DB
@_JSON
@click.argument("ref", required=False)
def show(db: str | None, as_json: bool, ref: str | None) -> None:
    """Show a campaign (default: the latest) or one run (CAMPAIGN:SEQ or run id)."""
    from flakehunt.campaign.hunt import evidence_root_for
    from flakehunt.report.listing import (
        history_to_list,
        render_campaign,
        render_run,
        run_to_dict,
    )

    store = _open(db)
    if ref is not None and _RUN_REF.match(ref):
        run = store.run(ref)
        if as_json:
            click.echo(json.dumps(run_to_dict(run), indent=2))
        else:
            click.echo(render_run(run, str(evidence_root_for(store.path))))
        return
    c = store.campaign(ref)
    failed = list(store.runs(c.id, outcomes=("fail", "timeout")))
    if as_json:
        d = history_to_list([(c, store.tally(c.id))])[0]
        d["variants"] = {n: vars(t) for n, t in store.tallies_by_variant(c.id).items()}
        d["signatures"] = [vars(x) for x in store.signature_details(c.id)]
        d["failed_runs"] = [run_to_dict(r) for r in failed]
        d["spec"] = c.spec
        if c.kind == "compare":
            from flakehunt.campaign.experiment import analyse_campaign
            from flakehunt.report.compare_table import to_dict

            d["comparison"] = to_dict(analyse_campaign(store, c.id))
        click.echo(json.dumps(d, indent=2))
        return
    text = render_campaign(c, store.tallies_by_variant(c.id), store.signature_details(c.id),
                           failed)
    if c.kind == "compare":
        from flakehunt.campaign.experiment import analyse_campaign
        from flakehunt.report.compare_table import render_terminal

        result = analyse_campaign(store, c.id)
        text += "\n\n" + render_terminal(result)
    click.echo(text)


@click.command()
@_DB
@_JSON
@click.option("--signature", "signature", metavar="ID", help="Only failures with this signature.")
@click.argument("campaign", required=False)
def failures(db: str | None, as_json: bool, signature: str | None, campaign: str | None) -> None:
    """List failed runs of a campaign (default: the latest)."""
    from flakehunt.report.listing import render_run_line, run_to_dict

    store = _open(db)
    c = store.campaign(campaign)
    runs = list(store.runs(c.id, outcomes=("fail", "timeout"), signature=signature))
    if as_json:
        click.echo(json.dumps([run_to_dict(r) for r in runs], indent=2))
    elif not runs:
        click.echo(
            f"no failed run in campaign {c.id}"
            + (f" with signature {signature}" if signature else "")
        )
    else:
        click.echo("\n".join(render_run_line(r) for r in runs))
