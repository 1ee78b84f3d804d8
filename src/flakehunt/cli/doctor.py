"""``flakehunt doctor``: will crash dumps, telemetry and evidence be captured on this machine?"""

from __future__ import annotations

import json
import os
from dataclasses import asdict

import click

from flakehunt.status import ExitStatus


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print findings and facts as JSON.")
@click.option("--evidence-dir", default=os.path.join(".flakehunt", "evidence"),
              show_default=True, help="Where evidence will be kept (free space is checked).")
@click.option("--max-evidence", default="2GiB", show_default=True,
              help="The evidence cap you plan to give 'flakehunt run'.")
def doctor(as_json: bool, evidence_dir: str, max_evidence: str) -> int:
    """Say whether crash dumps, telemetry and evidence will be captured here, and how to fix it."""
    from flakehunt.evidence.doctor import PROBLEM, diagnose, render_text
    from flakehunt.evidence.doctor_facts import gather
    from flakehunt.units import parse_size

    facts = gather(evidence_dir, parse_size(max_evidence))
    findings = diagnose(facts)
    if as_json:
        click.echo(json.dumps({"findings": [asdict(f) for f in findings],
                               "facts": asdict(facts)}, indent=2, default=str))
    else:
        click.echo(render_text(findings))
    bad = any(f.level == PROBLEM for f in findings)
    return int(ExitStatus.ENVIRONMENT if bad else ExitStatus.OK)
