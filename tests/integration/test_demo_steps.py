"""The demo's link and run steps as processes, on images in known states."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from flakehunt.demo.image import PAGE, Layout, encode_header, make_page

PY = sys.executable


def runstep(image: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PY, "-m", "flakehunt.demo.runstep", str(image), *extra],
                          capture_output=True, text=True, timeout=60)


def image_with_zero_pages(path: Path, zero: set[int]) -> Path:
    layout = Layout(code_pages=4, guard_pages=2, seed=1)
    data = bytearray(encode_header(layout))
    for p in range(1, layout.pages):
        data += bytes(PAGE) if p in zero else make_page(layout, p)
    path.write_bytes(data)
    return path


def test_a_correct_link_runs_clean_and_is_removed(tmp_path: Path) -> None:
    out = tmp_path / "a.bin"
    link = subprocess.run([PY, "-m", "flakehunt.demo.link", str(out), "--no-handoff",
                           "--rounds", "1"], capture_output=True, text=True, timeout=60)
    assert link.returncode == 0, link.stderr
    r = runstep(out, "--remove")
    assert r.returncode == 0, r.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("zero", "sig", "text"),
    [({2, 3, 4, 5, 6}, signal.SIGSEGV, "0xC0000005"), ({6}, signal.SIGABRT, "0xC0000409")],
)
def test_the_two_signatures(tmp_path: Path, zero: set[int], sig: int, text: str) -> None:
    img = image_with_zero_pages(tmp_path / "x.bin", zero)
    r = runstep(img, "--dump", str(tmp_path / "seen"))
    assert r.returncode == -sig
    assert text in r.stderr
    assert (tmp_path / "seen" / "x.bin.seen").read_bytes() == img.read_bytes()
    assert img.exists()  # a crashed image is kept as evidence


def test_not_an_image_exits_2(tmp_path: Path) -> None:
    junk = tmp_path / "junk"
    junk.write_bytes(b"\x7fELF" + bytes(PAGE))
    r = runstep(junk)
    assert r.returncode == 2 and "not an image" in r.stderr
    assert runstep(tmp_path / "missing").returncode == 2


def link_handing_off(out: Path, rounds: int) -> None:
    r = subprocess.run([PY, "-m", "flakehunt.demo.link", str(out), "--rounds", str(rounds)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def test_flush_returns_only_after_the_late_writer_finished(tmp_path: Path) -> None:
    from flakehunt.demo.image import Finding, decode_header, inspect
    from flakehunt.durable import flush

    out = tmp_path / "linked.bin"
    link_handing_off(out, rounds=4000)
    report = flush([out])
    data = out.read_bytes()
    assert inspect(data, decode_header(data[:PAGE])).finding is Finding.OK
    assert report.files[0].size == len(data)


def test_without_waiting_the_next_step_can_see_zero_pages(tmp_path: Path) -> None:
    # Control for the test above: right after the linker exits, pages are still zero.
    from flakehunt.demo.image import Finding, decode_header, inspect

    findings = []
    for i in range(3):
        out = tmp_path / f"linked{i}.bin"
        link_handing_off(out, rounds=4000)
        data = out.read_bytes()
        findings.append(inspect(data, decode_header(data[:PAGE])).finding)
    assert any(f is not Finding.OK for f in findings), findings
