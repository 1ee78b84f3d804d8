"""The run/compare evidence options translate into EvidenceOptions or a usage error."""

from __future__ import annotations

from typing import Any

import click
import pytest
from click.testing import CliRunner

from flakehunt.cli.evidence_options import evidence_options, evidence_spec
from flakehunt.errors import UsageError


def _parse(args: list[str]) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    @click.command()
    @evidence_options
    def cmd(**p: Any) -> None:
        seen.update(p)

    result = CliRunner().invoke(cmd, args, standalone_mode=False)
    assert result.exception is None, result.output
    return seen


def test_options_become_a_spec() -> None:
    p = _parse(["--keep", "build/*.exe", "--keep", "*.log", "--hash", "build/*.exe",
                "--telemetry-hz", "5", "--telemetry-before", "1m", "--on-failure",
                "gdb -batch -c {core} ./app"])
    o = evidence_spec(p, root="/ev", cap=100, jobs=4)
    assert o.keep == ("build/*.exe", "*.log") and o.hash == ("build/*.exe",)
    assert (o.telemetry_hz, o.telemetry_before, o.concurrency, o.cap) == (5.0, 60.0, 4, 100)
    assert o.cores and o.on_failure == "gdb -batch -c {core} ./app"


@pytest.mark.parametrize("args", [["--keep", "../etc/*"], ["--telemetry-hz", "-1"],
                                  ["--on-failure", "x {nope}"], ["--tracer-snapshot", "USR2"]])
def test_bad_options(args: list[str]) -> None:
    with pytest.raises(UsageError):
        evidence_spec(_parse(args), root="/ev", cap=None, jobs=1)
