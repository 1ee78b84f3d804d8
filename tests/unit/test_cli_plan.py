"""flakehunt plan, end to end through the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from flakehunt.cli import cli
from flakehunt.cli.main import run_cli


def test_below_half_a_percent_needs_598(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(cli, ["plan", "--below", "0.5%"]) == 0
    assert "598 runs in a row" in capsys.readouterr().out


def test_below_after_k(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(cli, ["plan", "--below", "0.5%", "--after", "700"]) == 0
    out = capsys.readouterr().out
    assert "After 700 clean runs" in out and "0.43%" in out and "reached" in out


def test_difference_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(cli, ["plan", "--baseline", "3.5%", "--target", "0.5%", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["question"] == "difference" and data["alpha"] == 0.025
    assert data["runs_per_arm"] == 347 and data["normal_approximation"] == 341


@pytest.mark.parametrize(
    "argv",
    [
        ["plan"],
        ["plan", "--baseline", "3.5%"],
        ["plan", "--baseline", "3.5", "--target", "1%"],
        ["plan", "--baseline", "3.5%", "--target", "3.5%"],
        ["plan", "--below", "0.5%", "--target", "1%"],
        ["plan", "--below", "abc"],
        ["plan", "--baseline", "3.5%", "--target", "1%", "--after", "3"],
    ],
)
def test_usage_errors_exit_2_with_a_message(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(cli, argv) == 2
    assert capsys.readouterr().err.startswith("flakehunt: error: ")


def test_subprocess_and_help_stays_light() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "flakehunt", "plan", "--below", "1%"], capture_output=True, text=True
    )
    assert out.returncode == 0 and "299 runs" in out.stdout
    probe = "import sys, flakehunt.cli.plan; print('scipy' in sys.modules, 'numpy' in sys.modules)"
    assert subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True
    ).stdout.split() == [
        "False",
        "False",
    ]
