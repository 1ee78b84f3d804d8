"""``flakehunt bisect``: find the commit that made a test flaky, with a stated confidence."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from flakehunt.errors import UsageError
from flakehunt.status import ExitStatus


@click.command()
@click.option("--good", metavar="REV", help="A commit where the failure does not happen.")
@click.option("--bad", metavar="REV", help="A commit where it happens (with --fixed: the older).")
@click.option("--build", metavar="CMD", help="Shell command run in each checked-out commit first.")
@click.option("--signature", metavar="ID", help="Count only failures with this signature id.")
@click.option(
    "--confidence",
    type=float,
    default=0.95,
    show_default=True,
    help="Stop when one commit holds this much of the posterior.",
)
@click.option(
    "--max-runs",
    type=int,
    help="Stop after this many runs in all, calibration too (with --resume: 0 lifts it).",
)
@click.option(
    "--calibrate-runs",
    type=int,
    default=300,
    show_default=True,
    help="Give up if the failure does not reproduce at the bad end in this many runs.",
)
@click.option("--fixed", is_flag=True, help="Search for the commit that made the failure go away.")
@click.option(
    "--resume",
    metavar="[CAMPAIGN]",
    is_flag=False,
    flag_value="",
    default=None,
    help="Continue a bisect campaign (default: the latest) from its probes.",
)
@click.option("-j", "--jobs", type=int, default=None, help="Parallel runs (default: CPUs).")
@click.option("--timeout", metavar="DURATION", help="Per-run timeout, e.g. 10m.")
@click.option("--db", metavar="PATH", help="Database (default ./.flakehunt/flakehunt.db).")
@click.option("-q", "--quiet", is_flag=True, help="No line per probe.")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def bisect(command: tuple[str, ...], **o: Any) -> int:
    """Search the commits between --good and --bad for the one that made a test flaky.

    \b
    Examples:
      flakehunt bisect --good v1.2 --bad main -- ./run-test.sh
      flakehunt bisect --good v1.2 --bad main --build 'make -j8' -- make check
      flakehunt bisect --fixed --bad v1.0 --good v2.0 -- ./repro.sh
      flakehunt bisect --resume
    """
    from flakehunt.bisect import git, session
    from flakehunt.bisect.render import verdict_text
    from flakehunt.record.store import Store, default_db_path
    from flakehunt.units import parse_duration

    store = Store.open(default_db_path(o["db"]))
    try:
        if o["resume"] is not None:
            if command or o["good"] or o["bad"]:
                raise UsageError(
                    "--resume takes the command and commits from the campaign",
                    "drop them, or start a new bisection without --resume",
                )
            bisect_id, spec = session.load(store, o["resume"])
            # A new budget may be given (the old one was spent); "0" lifts it.
            if o["max_runs"] is not None:
                spec = replace(spec, max_runs=o["max_runs"] or None)
        else:
            spec = _new_spec(command, o, git, parse_duration)
            bisect_id = session.create(store, spec)
        repo = Path(spec.repo)
        labels = git.subjects(repo, list(spec.commits))
        sink = _Lines(labels, quiet=o["quiet"])
        click.echo(
            f"bisect campaign {bisect_id}: {len(spec.commits) - 1} commits after"
            f" {labels.get(spec.commits[0], spec.commits[0][:12])}",
            err=True,
        )
        verdict = session.execute(store, bisect_id, spec, sink)
        stat = (
            git.show_stat(repo, spec.commits[verdict.position])
            if verdict.status in ("found", "trivial")
            else None
        )
        click.echo(verdict_text(verdict, labels, fixed=spec.fixed, stat=stat))
    finally:
        store.close()
    return int(
        {
            "found": ExitStatus.OK,
            "trivial": ExitStatus.OK,
            "interrupted": ExitStatus.INTERRUPTED,
        }.get(verdict.status, ExitStatus.FAILURES)
    )


def _new_spec(command: tuple[str, ...], o: dict[str, Any], git: Any, parse_duration: Any) -> Any:
    from flakehunt.bisect.session import BisectSpec
    from flakehunt.cli.options import title_for

    if not command:
        raise UsageError(
            "no test command", "e.g. flakehunt bisect --good v1 --bad HEAD -- make test"
        )
    if not o["good"] or not o["bad"]:
        raise UsageError("give both --good REV and --bad REV", "e.g. --good v1.2 --bad HEAD")
    if not 0.5 <= o["confidence"] < 1:
        raise UsageError("--confidence must lie in [0.5, 1)", "e.g. --confidence 0.95")
    if o["max_runs"] is not None and o["max_runs"] < 1:
        raise UsageError("--max-runs must be at least 1", "or leave it out")
    if o["calibrate_runs"] < 1:
        raise UsageError("--calibrate-runs must be at least 1", "e.g. --calibrate-runs 300")
    jobs = o["jobs"] if o["jobs"] is not None else (os.cpu_count() or 1)
    if jobs < 1:
        raise UsageError(f"--jobs {jobs} is not a number of slots", "give -j 1 or more")
    timeout = parse_duration(o["timeout"]) if o["timeout"] else None
    repo = git.repo_root(Path.cwd())
    # The older end comes first: the good commit, or with --fixed the bad one.
    old, new = (o["bad"], o["good"]) if o["fixed"] else (o["good"], o["bad"])
    commits = git.commits_between(repo, old, new)
    return BisectSpec(
        repo=str(repo),
        good=o["good"],
        bad=o["bad"],
        commits=tuple(commits),
        argv=tuple(command),
        title=title_for(tuple(command), None),
        build=o["build"],
        signature=o["signature"],
        confidence=o["confidence"],
        max_runs=o["max_runs"],
        calibrate_runs=o["calibrate_runs"],
        fixed=o["fixed"],
        jobs=jobs,
        timeout=timeout,
    )


class _Lines:
    """One line per probe on stderr: the live posterior."""

    def __init__(self, labels: dict[str, str], *, quiet: bool) -> None:
        self.labels = labels
        self.quiet = quiet

    def probe_done(self, state: Any, post: Any, probe: Any) -> None:
        from flakehunt.bisect.render import probe_line

        if not self.quiet:
            print(probe_line(state, post, probe, self.labels), file=sys.stderr, flush=True)

    def notice(self, text: str) -> None:
        print(f"flakehunt: {text}", file=sys.stderr, flush=True)
