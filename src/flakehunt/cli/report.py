"""``flakehunt report``: HTML, Markdown, JUnit and JSON reports of recorded campaigns."""

from __future__ import annotations

import click

from flakehunt.errors import InputError
from flakehunt.status import ExitStatus


@click.command()
@click.option("--db", "db", metavar="PATH", help="Database (default ./.flakehunt/flakehunt.db).")
@click.option("--html", "html_path", metavar="PATH",
              help="Write the single-file HTML report here.")
@click.option("--markdown", "md_path", metavar="PATH|-",
              help="Write Markdown (verdict and signatures) here; '-': stdout.")
@click.option("--junit", "junit_path", metavar="PATH", help="Write JUnit XML here.")
@click.option("--json", "json_path", metavar="PATH|-",
              help="Write JSON (schema flakehunt.report/1) here; '-': stdout.")
@click.argument("campaigns", nargs=-1)
def report(db: str | None, html_path: str | None, md_path: str | None,
           junit_path: str | None, json_path: str | None, campaigns: tuple[str, ...]) -> int:
    """Write reports of CAMPAIGNS (default: the latest).

    Without an option, writes the HTML report to .flakehunt/reports/c<ID>.html
    and prints its path.

    \b
    Examples:
      flakehunt report                       # latest campaign, HTML
      flakehunt report 3 4 --html nightly.html
      flakehunt report --markdown - >> "$GITHUB_STEP_SUMMARY"
      flakehunt report --junit flaky.xml --json result.json
    """
    from flakehunt.record.store import Store, default_db_path
    from flakehunt.report.write import Outputs, write_reports

    store = Store.open(default_db_path(db), create=False)
    try:
        written = write_reports(store, list(campaigns) or [None],
                                Outputs(html_path, md_path, junit_path, json_path))
    except OSError as exc:
        raise InputError(f"cannot write the report: {exc}", "choose a writable path") from exc
    finally:
        store.close()
    for kind, where in written:
        if where == "-":
            click.echo(kind, nl=False)  # the document itself, for '-'
        else:
            click.echo(where)
    return int(ExitStatus.OK)
