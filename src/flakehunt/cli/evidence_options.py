"""The evidence options of ``flakehunt run``/``compare`` and their translation into a spec."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def evidence_options(f: F) -> F:
    """Decorate a hunt command with --keep, --hash, telemetry, tracer and hook options."""
    opts = [
        click.option("--keep", "keep", multiple=True, metavar="GLOB",
                     help="On failure keep matching files (relative to the run's directory) "
                          "with their sha256. Repeatable."),
        click.option("--hash", "hash_", multiple=True, metavar="GLOB",
                     help="Record the sha256 of matching files for every run. Repeatable."),
        click.option("--no-cores", is_flag=True,
                     help="Do not raise RLIMIT_CORE or collect core dumps."),
        click.option("--telemetry-hz", type=float, default=10.0, show_default=True,
                     help="Flight recorder sampling rate (0: off)."),
        click.option("--telemetry-before", metavar="DURATION", default="30s",
                     show_default=True,
                     help="Telemetry kept from before a failing run's start."),
        click.option("--tracer", metavar="CMD",
                     help="Start CMD (e.g. 'perf record --overwrite ...') for the campaign."),
        click.option("--tracer-snapshot", metavar="SIGNAL|CMD",
                     help="On each failure send SIGNAL to the tracer or run CMD."),
        click.option("--on-failure", metavar="CMD",
                     help="Run CMD on each failure; {run_dir} {pid} {exit} {core} become "
                          "separate arguments."),
        click.option("--on-failure-shell", is_flag=True,
                     help="Run --on-failure through /bin/sh (placeholders quoted)."),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def evidence_spec(p: dict[str, Any], *, root: str, cap: int | None, jobs: int) -> Any:
    """Build ``EvidenceOptions`` from the parsed options *p*; UsageError for bad values."""
    from flakehunt.errors import UsageError
    from flakehunt.evidence.session import EvidenceOptions
    from flakehunt.units import parse_duration

    hz = float(p.get("telemetry_hz") or 0.0)
    if hz < 0 or hz > 100:
        raise UsageError(f"--telemetry-hz {hz:g} is out of range", "use 0 (off) to 100")
    opts = EvidenceOptions(
        root=root, cap=cap, keep=tuple(p.get("keep") or ()), hash=tuple(p.get("hash_") or ()),
        cores=not p.get("no_cores"), telemetry_hz=hz,
        telemetry_before=parse_duration(p.get("telemetry_before") or "30s"),
        concurrency=max(1, jobs), tracer=p.get("tracer"),
        tracer_snapshot=p.get("tracer_snapshot"), on_failure=p.get("on_failure"),
        on_failure_shell=bool(p.get("on_failure_shell")),
    )
    opts.validate()
    return opts
