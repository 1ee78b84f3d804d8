"""The CLI boundary: every error is one line with a documented exit status."""

from __future__ import annotations

import click

from flakehunt.cli.main import run_cli
from flakehunt.errors import InputError
from flakehunt.status import ExitStatus


@click.group()
def grp() -> None:
    """Commands that fail in the ways the boundary must handle."""


@grp.command()
def bug() -> None:
    """Fail like a bug would."""
    raise AttributeError("'X' object has no attribute 'y'")


@grp.command()
def bad() -> None:
    """Fail like bad input does."""
    raise InputError("cannot read 'zz'", "write a number")


def test_a_bug_is_one_line_and_exit_70(capsys) -> None:  # type: ignore[no-untyped-def]
    assert run_cli(grp, ["bug"]) == ExitStatus.INTERNAL == 70
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("flakehunt: error: internal error: AttributeError:")
    assert "--traceback" in err


def test_bad_input_is_one_line_with_its_hint(capsys) -> None:  # type: ignore[no-untyped-def]
    assert run_cli(grp, ["bad"]) == ExitStatus.USAGE
    assert capsys.readouterr().err == "flakehunt: error: cannot read 'zz' (write a number)\n"


def test_unknown_command_is_a_usage_error(capsys) -> None:  # type: ignore[no-untyped-def]
    assert run_cli(grp, ["nope"]) == ExitStatus.USAGE
    assert capsys.readouterr().err.startswith("flakehunt: error: No such command 'nope'.")
