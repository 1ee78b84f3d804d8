"""``flakehunt decode``: text and JSON, negative numbers, bad input exits 2 with the forms."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from flakehunt.cli import cli
from flakehunt.cli.main import run_cli


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = run_cli(cli, args)
    out, err = capsys.readouterr()
    return status, out, err


def test_story_codes_in_text(capsys):
    status, out, _ = _run(["decode", "3221225477", "-1073741819", "-1073740791"], capsys)
    assert status == 0
    blocks = out.strip().split("\n\n")
    assert len(blocks) == 3
    assert "1. ntstatus     0xC0000005 STATUS_ACCESS_VIOLATION" in blocks[0]
    assert "1. ntstatus     0xC0000005 STATUS_ACCESS_VIOLATION" in blocks[1]
    assert "0xC0000409 STATUS_STACK_BUFFER_OVERRUN" in blocks[2]
    assert "__fastfail" in blocks[2]
    assert blocks[1].startswith("-1073741819  =  0xC0000005  =  3221225477 unsigned")


def test_json(capsys):
    status, out, _ = _run(["decode", "--json", "-11", "139", "0x80070005"], capsys)
    assert status == 0
    data = json.loads(out)
    assert [d["input"] for d in data] == ["-11", "139", "0x80070005"]
    assert data[0]["readings"][0]["label"] == "SIGSEGV (-11)"
    assert data[1]["readings"][0]["kind"] == "shell-signal"
    assert data[2]["readings"][0]["name"] == "E_ACCESSDENIED"
    assert data[2]["readings"][1]["name"] == "ERROR_ACCESS_DENIED"


def test_platform_option(capsys):
    _, out, _ = _run(["decode", "--platform", "macos", "--json", "-10"], capsys)
    assert json.loads(out)[0]["readings"][0]["name"] == "SIGBUS"


def test_bad_value_exits_2_naming_accepted_forms_and_prints_nothing_else(capsys):
    status, out, err = _run(["decode", "0xC0000005", "not-a-status"], capsys)
    assert status == 2
    assert out == ""
    assert err.startswith("flakehunt: error: cannot read 'not-a-status' as an exit status")
    assert "hex with or without 0x" in err


def test_as_a_real_process():
    proc = subprocess.run(
        [sys.executable, "-m", "flakehunt", "decode", "-1073741819", "134"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "0xC0000005 STATUS_ACCESS_VIOLATION" in proc.stdout
    assert "exit 134 (SIGABRT by shell convention?)" in proc.stdout
