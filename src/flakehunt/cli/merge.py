"""``flakehunt merge``: combine campaigns recorded on several machines."""

from __future__ import annotations

from pathlib import Path

import click

from flakehunt.status import ExitStatus


@click.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--into", "into", required=True, type=click.Path(path_type=Path),
              metavar="DB", help="The database to merge into (created if missing).")
@click.option("--force", is_flag=True, help="Merge campaigns even if their commands differ.")
def merge(sources: tuple[Path, ...], into: Path, force: bool) -> int:
    """Merge the campaigns of DB... into one campaign of --into.

    \b
    Runs keep their host and worker; a run already present (same run id) is
    skipped, so merging twice adds nothing. Campaigns must have run the same
    commands (e.g. the shards of 'flakehunt run --shard I/N') unless --force.
    \b
    Example:
      flakehunt merge shard1.db shard2.db --into all.db
    """
    from flakehunt.record.merge import merge_databases
    from flakehunt.record.store import Store

    report = merge_databases(list(sources), into, force=force)
    store = Store.open(into)
    try:
        tally = store.tally(report.campaign_id)
    finally:
        store.close()
    click.echo(
        f"merged {report.campaigns} campaign(s) into campaign {report.campaign_id} of {into}: "
        f"{report.added} runs added, {report.duplicates} already there (same run id)"
    )
    click.echo(f"  now {tally.runs} counted runs, {tally.failures} failed; "
               f"hosts: {', '.join(report.hosts) or '-'}")
    for note in report.forced:
        click.echo(f"  forced: {note}")
    return int(ExitStatus.OK)
