"""Options shared by ``run`` and ``compare``, and their translation into a spec."""

from __future__ import annotations

import os
import re
import shlex
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from flakehunt.campaign.spec import Hooks, Limits
from flakehunt.cli.watch_options import watch_settings
from flakehunt.errors import InputError, UsageError
from flakehunt.units import parse_duration, parse_size

F = TypeVar("F", bound=Callable[..., Any])


def hunt_options(f: F) -> F:
    """Decorate a command with the options every hunt takes."""
    opts = [
        click.option(
            "--db",
            "db",
            metavar="PATH",
            help="Database (default ./.flakehunt/flakehunt.db, or $FLAKEHUNT_DB).",
        ),
        click.option("-n", "--runs", type=int, help="Stop after N runs (per variant)."),
        click.option("--duration", metavar="DURATION", help="Stop launching after e.g. 30m, 12h."),
        click.option(
            "--max-failures",
            type=int,
            default=None,
            help="Stop after K failures (0: never). Default 1 for run, 0 for compare.",
        ),
        click.option(
            "-j", "--jobs", type=int, default=None, help="Parallel slots (default: CPUs)."
        ),
        click.option("--timeout", metavar="DURATION", help="Per-run timeout, e.g. 10m."),
        click.option(
            "--kill-after",
            metavar="DURATION",
            default="10s",
            show_default=True,
            help="After the timeout's SIGTERM, SIGKILL this much later.",
        ),
        click.option(
            "--no-kill",
            is_flag=True,
            help="On timeout, leave the hung run alive for a debugger and carry on.",
        ),
        click.option(
            "--expect-exit",
            metavar="CODES",
            default="0",
            show_default=True,
            help="Exit statuses that pass, e.g. 0,3.",
        ),
        click.option("--fail-regex", metavar="RE", help="Fail a run whose output matches."),
        click.option(
            "--ignore-regex",
            metavar="RE",
            help="Record a failure whose output matches as ignored (not counted).",
        ),
        click.option(
            "--signature-regex",
            metavar="RE",
            help="Fingerprint failures by this regex's first group.",
        ),
        click.option(
            "--junit",
            "junit",
            metavar="PATH",
            help="A JUnit XML file each run writes; failing test ids join the signature.",
        ),
        click.option(
            "--keep-passing",
            type=int,
            default=2,
            show_default=True,
            help="Keep the logs of the last N passing runs.",
        ),
        click.option(
            "--max-evidence",
            metavar="SIZE",
            default="2GiB",
            show_default=True,
            help="Disk cap for kept logs and evidence.",
        ),
        click.option(
            "--fresh-dir", is_flag=True, help="Run each attempt in a new empty directory."
        ),
        click.option("--setup", metavar="CMD", help="Shell command run once before the first run."),
        click.option("--prepare", metavar="CMD", help="Shell command run before each run."),
        click.option("--cleanup", metavar="CMD", help="Shell command run after each run."),
        click.option("--conclude", metavar="CMD", help="Shell command run once at the end."),
        click.option(
            "--status-every",
            metavar="DURATION",
            default="5s",
            show_default=True,
            help="Plain status line interval when not on a terminal.",
        ),
        click.option("--report", "report", metavar="PATH",
                     help="Write the HTML report here (compare and demo write one anyway)."),
        click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON."),
        click.option("-q", "--quiet", is_flag=True, help="No live progress."),
    ]
    for opt in reversed(opts):
        f = opt(f)
    from flakehunt.cli.evidence_options import evidence_options
    from flakehunt.cli.watch_options import watch_options

    return watch_options(evidence_options(f))


def parse_exit_codes(text: str) -> tuple[int, ...]:
    """Parse ``0,3`` into (0, 3); hex like 0x10 is accepted."""
    try:
        codes = tuple(int(part, 0) for part in text.split(",") if part.strip())
    except ValueError:
        raise InputError(
            f"cannot read --expect-exit {text!r}",
            "give exit statuses separated by commas, e.g. 0,3",
        ) from None
    if not codes:
        raise InputError("--expect-exit is empty", "give at least one status, e.g. 0")
    return codes


def check_regex(text: str | None, option: str) -> str | None:
    """Validate a user regex now, with a one-line error, not at the first failure."""
    if text is None:
        return None
    try:
        re.compile(text.encode())
    except re.error as exc:
        raise InputError(f"bad {option} {text!r}: {exc}", "use Python regex syntax") from None
    return text


def shell_argv(command: str) -> tuple[str, ...]:
    """Return the argv that runs *command* through the user's shell."""
    if sys.platform == "win32":
        from flakehunt.execute.windows import cmd_argv

        return cmd_argv(command)
    # $SHELL, else /bin/sh. Note: /bin/sh is dash on Debian: it has no $RANDOM.
    return (os.environ.get("SHELL") or "/bin/sh", "-c", command)


def evidence_settings(p: dict[str, Any], jobs: int, cap: int) -> dict[str, Any]:
    """Validate the evidence options now (one-line errors) and return them for the spec."""
    from flakehunt.cli.evidence_options import evidence_spec

    opts = evidence_spec(p, root=".", cap=cap, jobs=jobs)  # raises UsageError on bad input
    return {"keep": list(opts.keep), "hash": list(opts.hash), "cores": opts.cores,
            "telemetry_hz": opts.telemetry_hz, "telemetry_before": opts.telemetry_before,
            "tracer": opts.tracer, "tracer_snapshot": opts.tracer_snapshot,
            "on_failure": opts.on_failure, "on_failure_shell": opts.on_failure_shell}


def common_settings(p: dict[str, Any], *, default_max_failures: int) -> dict[str, Any]:
    """Translate parsed hunt options into CampaignSpec keyword arguments."""
    jobs = p["jobs"] if p["jobs"] is not None else (os.cpu_count() or 1)
    if jobs < 1:
        raise UsageError(f"--jobs {jobs} is not a number of slots", "give -j 1 or more")
    if p["runs"] is not None and p["runs"] < 1:
        raise UsageError(f"--runs {p['runs']} runs nothing", "give -n 1 or more")
    mf = p["max_failures"] if p["max_failures"] is not None else default_max_failures
    if mf < 0:
        raise UsageError("--max-failures cannot be negative", "0 means never stop for failures")
    timeout = parse_duration(p["timeout"]) if p["timeout"] else None
    if timeout is not None and timeout <= 0:
        raise UsageError("--timeout must be positive", "e.g. --timeout 10m")
    if p["no_kill"] and timeout is None:
        raise UsageError("--no-kill needs --timeout", "e.g. --timeout 10m --no-kill")
    cap = parse_size(p["max_evidence"])
    return dict(
        jobs=jobs,
        limits=Limits(
            runs=p["runs"],
            duration=parse_duration(p["duration"]) if p["duration"] else None,
            max_failures=mf,
        ),
        timeout=timeout,
        kill_after=parse_duration(p["kill_after"]),
        no_kill=p["no_kill"],
        expect_exit=parse_exit_codes(p["expect_exit"]),
        fail_regex=check_regex(p["fail_regex"], "--fail-regex"),
        ignore_regex=check_regex(p["ignore_regex"], "--ignore-regex"),
        signature_regex=check_regex(p["signature_regex"], "--signature-regex"),
        junit=p["junit"],
        keep_passing=max(0, p["keep_passing"]),
        max_evidence=cap,
        fresh_dir=p["fresh_dir"],
        hooks=Hooks(p["setup"], p["prepare"], p["cleanup"], p["conclude"]),
        # The watch settings ride in the evidence dict (stored with the spec, so
        # --resume keeps them; the evidence session ignores keys it does not know).
        evidence={**evidence_settings(p, jobs, cap), "watch": watch_settings(p)},
    )


def title_for(argv: tuple[str, ...], shell: str | None) -> str:
    """The command as people would type it."""
    return shell if shell is not None else shlex.join(argv)


def write_reports(store: Any, campaign_id: int, html: str | None, *,
                  html_by_default: bool) -> list[str]:
    """Append Markdown to $GITHUB_STEP_SUMMARY when set; write the HTML report if asked.

    Returns lines to print ("report: PATH"). Runs after every run is recorded, so a
    report that cannot be written loses nothing.
    """
    if not (html or html_by_default or os.environ.get("GITHUB_STEP_SUMMARY")):
        return []  # the common case: nothing to write, nothing to import (~20 ms)
    from flakehunt.report.write import write_html_report, write_step_summary

    lines = []
    step = write_step_summary(store, campaign_id)
    if step:
        lines.append(f"summary appended to {step}")
    if html or html_by_default:
        lines.append(f"report: {write_html_report(store, campaign_id, html)}")
    return lines
