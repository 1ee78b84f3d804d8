"""chkimg end to end on the committed PE + minidump fixtures and the real dump."""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import pytest
from chkimg_paths import NORETURN, X64, needs_noreturn

from flakehunt.cli import cli
from flakehunt.cli.main import run_cli
from flakehunt.images import check_target, evidence, render_text, report_to_dict, summary_line
from flakehunt.images.report import DIFFERENT_BUILD, MISSING, ZERO_FILLED

# The fixture program printed where it zeroed the page (tools/make_pe_fixtures.sh).
ZEROED_PAGE = int((X64 / "zero.txt").read_text().split("page=")[1].split()[0], 16)


def chkimg(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = run_cli(cli, ["chkimg", *args])
    out, err = capsys.readouterr()
    return status, out, err


def module(report, name):  # type: ignore[no-untyped-def]
    return next(m for m in report.modules if m.basename == name)


def test_unmodified_process_has_no_differences_in_rebased_dll() -> None:
    r = check_target(X64 / "clean.dmp")
    for name in ("chkimg_victim.exe", "chkimg_victim_dll.dll"):
        m = module(r, name)
        assert m.compared == m.code_bytes > 0
        assert m.differing == 0
    assert r.exit_status() == 0
    assert summary_line(r).startswith("chkimg: 0 differences in ")


def test_zeroed_page_is_reported_exactly() -> None:
    r = check_target(X64 / "zero.dmp")
    dll = module(r, "chkimg_victim_dll.dll")
    assert dll.differing == 4096 and dll.zero_filled
    [rng] = dll.ranges
    assert (rng.start, rng.end, rng.section) == (ZEROED_PAGE, ZEROED_PAGE + 4096, ".text")
    assert rng.section_offset == ZEROED_PAGE - (dll.base + 0x1000)
    bad_pages = [p for p in dll.pages if p.verdict != "match"]
    assert [(p.start, p.end, p.verdict) for p in bad_pages] == [
        (ZEROED_PAGE, ZEROED_PAGE + 4096, ZERO_FILLED)]
    assert module(r, "chkimg_victim.exe").differing == 0
    assert r.exit_status() == 1
    assert summary_line(r) == "chkimg: ZERO-FILLED 4,096 bytes in .text of chkimg_victim_dll.dll"


def test_text_report_and_detail(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = chkimg(capsys, str(X64 / "zero.dmp"), "-d")
    assert status == 1
    assert "ZERO-FILLED: 4,096 bytes in .text read as zeros" in out
    span = f"{ZEROED_PAGE:#x}-{ZEROED_PAGE + 4095:#x}"
    assert f"{span}  4,096 bytes  .text+0x1000  [90 90" in out
    assert ":00 00 00" in out
    assert f"{span}  zero-filled" in out


def test_json_report(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = chkimg(capsys, str(X64 / "zero.dmp"), "--json")
    data = json.loads(out)
    assert status == data["exit_status"] == 1
    dll = next(m for m in data["modules"] if m["name"].endswith("chkimg_victim_dll.dll"))
    assert dll["ranges"][0]["start"] == ZEROED_PAGE
    assert dll["ranges"][0]["expected"].startswith("9090")
    assert dll["zero_filled"] is True
    assert data == json.loads(json.dumps(report_to_dict(check_target(X64 / "zero.dmp"))))


def test_only_found_images_are_compared(tmp_path: Path) -> None:
    # A copy of the dump in a directory without images: --image with the exe only.
    shutil.copy(X64 / "clean.dmp", tmp_path / "clean.dmp")
    r = check_target(tmp_path / "clean.dmp", images=[X64 / "chkimg_victim.exe"])
    assert module(r, "chkimg_victim_dll.dll").status == MISSING
    assert module(r, "chkimg_victim.exe").differing == 0


def test_different_build_is_reported_not_compared(tmp_path: Path) -> None:
    shutil.copy(X64 / "clean.dmp", tmp_path / "clean.dmp")
    other = bytearray((X64 / "chkimg_victim_dll.dll").read_bytes())
    lfanew = struct.unpack_from("<I", other, 0x3C)[0]
    struct.pack_into("<I", other, lfanew + 8, 0x12345678)  # another link time
    (tmp_path / "chkimg_victim_dll.dll").write_bytes(other)
    r = check_target(tmp_path / "clean.dmp", search=[X64])
    dll = module(r, "chkimg_victim_dll.dll")
    # The dump's own directory holds a different build; --search finds the right one.
    assert dll.status == "compared" and dll.image == str(X64 / "chkimg_victim_dll.dll")
    r = check_target(tmp_path / "clean.dmp")
    dll = module(r, "chkimg_victim_dll.dll")
    assert dll.status == DIFFERENT_BUILD
    assert "different build" in dll.message and "0x12345678" in dll.message
    assert dll.compared == 0


def test_image_under_another_name_is_matched_by_identity(tmp_path: Path) -> None:
    shutil.copy(X64 / "zero.dmp", tmp_path / "zero.dmp")
    kept = tmp_path / "kept-build-output.bin"
    shutil.copy(X64 / "chkimg_victim_dll.dll", kept)
    r = check_target(tmp_path / "zero.dmp", images=[kept])
    assert module(r, "chkimg_victim_dll.dll").image == str(kept)
    assert module(r, "chkimg_victim_dll.dll").differing == 4096


@needs_noreturn
def test_noreturn_says_the_exe_is_missing_and_how_to_supply_it(
        capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = chkimg(capsys, str(NORETURN))
    assert status == 2 and err == ""
    assert "exception 0x80000003 EXCEPTION_BREAKPOINT at 0x6f6bc3" in out
    assert "noreturn.exe at 0x6f0000" in out
    assert "MISSING: image noreturn.exe not found" in out
    assert "--image PATH/noreturn.exe" in out and "--search DIR" in out
    assert "memory held: 2 range(s), 1,516 bytes" in out
    r = check_target(NORETURN)
    assert render_text(r) == out
    assert summary_line(r).startswith("chkimg: no matching image found")


def test_evidence_for_the_hunt_loop(tmp_path: Path) -> None:
    line, data = evidence(X64 / "zero.dmp")
    assert line == "chkimg: ZERO-FILLED 4,096 bytes in .text of chkimg_victim_dll.dll"
    assert data is not None and data["differing"] == 4096
    bad = tmp_path / "core"
    bad.write_bytes(b"\x7fELF" + bytes(10))
    line, data = evidence(bad)
    assert data is None
    assert line.startswith(f"chkimg: cannot check {bad}: ") and "ELF" in line
