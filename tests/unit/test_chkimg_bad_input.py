"""Truncated, corrupt and random inputs: one clear error, exit status 2, no traceback."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
from chkimg_paths import DATA, X64

from flakehunt.cli import cli
from flakehunt.cli.main import run_cli

DUMP = X64 / "zero.dmp"
IMAGES = [X64 / "chkimg_victim_dll.dll", DATA / "pe-x86" / "chkimg_victim.exe"]


def cut_lengths(size: int, n: int = 40) -> list[int]:
    """Lengths that cut a file inside its headers, directories and data."""
    rng = random.Random(size)
    small = [0, 1, 3, 4, 8, 16, 31, 32, 33, 64, 100, 200, 400, 1000, 2000, 4000]
    return sorted({x for x in small if x < size} | {rng.randrange(1, size) for _ in range(n)})


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = run_cli(cli, ["chkimg", *args])
    out, err = capsys.readouterr()
    return status, out, err


def assert_one_clear_error(status: int, out: str, err: str) -> None:
    assert status == 2, (status, out, err)
    assert "Traceback" not in out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("flakehunt: error: "), err


@pytest.mark.parametrize("length", cut_lengths(DUMP.stat().st_size))
def test_truncated_minidump(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                            length: int) -> None:
    cut = tmp_path / "cut.dmp"
    cut.write_bytes(DUMP.read_bytes()[:length])
    status, out, err = run(capsys, str(cut))
    if length < 4:
        assert "neither a Windows minidump nor an ELF core" in err
    assert_one_clear_error(status, out, err)


@pytest.mark.parametrize("image", IMAGES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_truncated_pe_image(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                            image: Path) -> None:
    shutil.copy(DUMP, tmp_path / "zero.dmp")
    data = image.read_bytes()
    for length in cut_lengths(len(data), 25):
        cut = tmp_path / image.name
        cut.write_bytes(data[:length])
        status, out, err = run(capsys, str(tmp_path / "zero.dmp"), "--image", str(cut))
        assert_one_clear_error(status, out, err)


@pytest.mark.parametrize("magic", [b"MDMP", b"\x7fELF", b"MZ", b""])
def test_random_bytes(tmp_path: Path, capsys: pytest.CaptureFixture[str], magic: bytes) -> None:
    rng = random.Random(magic)
    for i in range(30):
        junk = tmp_path / f"junk{i}"
        junk.write_bytes(magic + rng.randbytes(rng.choice([10, 100, 5000])))
        status, out, err = run(capsys, str(junk))
        assert_one_clear_error(status, out, err)


def test_corrupt_minidump_counts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = bytearray(DUMP.read_bytes())
    data[8:12] = (0xFFFFFFFF).to_bytes(4, "little")  # NumberOfStreams
    bad = tmp_path / "bad.dmp"
    bad.write_bytes(bytes(data))
    status, out, err = run(capsys, str(bad))
    assert_one_clear_error(status, out, err)


@pytest.mark.parametrize(("target", "message"), [
    ("pid:notanumber", "cannot read 'pid:notanumber' as a process"),
    ("pid:999999999", "no process 999999999"),
    ("/nonexistent/core", "does not exist"),
])
def test_bad_targets(capsys: pytest.CaptureFixture[str], target: str, message: str) -> None:
    status, out, err = run(capsys, target)
    assert_one_clear_error(status, out, err)
    assert message in err
