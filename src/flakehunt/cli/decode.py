"""``flakehunt decode VALUE...``: every reading of an exit status."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import click

from flakehunt.status import ExitStatus

PLATFORMS = ("windows", "linux", "macos", "posix")


@dataclass(frozen=True)
class DecodeSpec:
    """What the user asked: the values, the platform they came from, the format."""

    values: tuple[str, ...]
    platform: str | None
    as_json: bool


def _numbers_line(value: str, readings: Sequence[Any]) -> str:
    for r in readings:
        d = r.details
        if "hex" in d:
            return f"{value}  =  {d['hex']}  =  {d['unsigned']} unsigned  =  {d['signed']} signed"
    return value


def render_text(results: Sequence[tuple[str, Sequence[Any]]]) -> str:
    """Return the readings of each value as indented text, most likely first."""
    blocks = []
    for value, readings in results:
        lines = [_numbers_line(value, readings)]
        for i, r in enumerate(readings, 1):
            where = f" [{r.platform}]" if r.platform else ""
            lines.append(f"  {i}. {r.kind.value:<12} {r.label}{where}")
            lines.extend(
                textwrap.wrap(r.description, 96, initial_indent="     ", subsequent_indent="     ")
            )
            extra = {k: v for k, v in r.details.items() if k not in ("hex", "unsigned", "signed")}
            if extra:
                lines.append("     " + " · ".join(f"{k}: {v}" for k, v in extra.items()))
            if r.aliases:
                lines.append("     also named " + ", ".join(r.aliases))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def render_json(results: Sequence[tuple[str, Sequence[Any]]]) -> str:
    """Return the readings as a JSON list, one object per value."""
    out = []
    for value, readings in results:
        out.append(
            {
                "input": value,
                "readings": [
                    {
                        "kind": r.kind.value,
                        "value": r.value,
                        "name": r.name,
                        "label": r.label,
                        "description": r.description,
                        "platform": r.platform,
                        "aliases": list(r.aliases),
                        "details": dict(r.details),
                    }
                    for r in readings
                ],
            }
        )
    return json.dumps(out, indent=2) + "\n"


def run_decode(spec: DecodeSpec) -> str:
    """Decode every value of *spec*; raise InputError before printing anything."""
    from flakehunt.triage.decode import decode

    results = [(v, decode(v, platform=spec.platform)) for v in spec.values]
    return render_json(results) if spec.as_json else render_text(results)


# Negative statuses (-11, -1073741819) must reach us as values, not options.
@click.command("decode", context_settings={"ignore_unknown_options": True})
@click.argument("values", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the readings as JSON.")
@click.option(
    "--platform",
    type=click.Choice(PLATFORMS),
    default=None,
    help="Where the status came from; its readings are listed first.",
)
def decode_cmd(values: tuple[str, ...], as_json: bool, platform: str | None) -> int:
    """Print every plausible reading of exit statuses, most likely first.

    VALUE is decimal (3221225477, -1073741819, 139, -11), hex (0xC0000005,
    C0000005) or a name (STATUS_ACCESS_VIOLATION, SIGSEGV, ERROR_ACCESS_DENIED,
    E_FAIL, FAST_FAIL_GUARD_ICALL_CHECK_FAILURE). Negative numbers may be
    given as they are: flakehunt decode -1073741819. Exits 2 if a value cannot
    be read, before printing anything.
    """
    from flakehunt.errors import UsageError

    for v in values:
        if v.startswith("--"):
            raise UsageError(f"no such option: {v}", "see 'flakehunt decode --help'")
    click.echo(run_decode(DecodeSpec(values, platform, as_json)), nl=False)
    return int(ExitStatus.OK)
