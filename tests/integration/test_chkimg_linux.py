"""chkimg on real Linux cores and a live process of a program compiled here."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flakehunt.images import check_target, summary_line
from flakehunt.images.report import NOT_CAPTURED, ZERO_FILLED

SRC = Path(__file__).resolve().parents[1] / "data" / "src" / "chkimg_linux_victim.c"

pytestmark = [
    pytest.mark.skipif(sys.platform != "linux", reason="Linux cores and /proc"),
    pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc"),
]


def core_pattern() -> str:
    try:
        return Path("/proc/sys/kernel/core_pattern").read_text().strip()
    except OSError:
        return ""


def require_cores_in_cwd() -> None:
    pattern = core_pattern()
    if pattern.startswith("|"):
        helper = pattern.split()[0][1:]
        pytest.skip(f"cores are piped to {helper!r} (core_pattern), not written here")
    if pattern.startswith("/") and not os.access(Path(pattern).parent, os.W_OK):
        pytest.skip(f"cores go to {pattern!r}, which this test cannot read back")
    if "/" in pattern:
        pytest.skip(f"core_pattern {pattern!r} is not a file name in the working directory")


@pytest.fixture(scope="module")
def victim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("victim")
    exe = d / "victim"
    subprocess.run(["gcc", "-O1", "-o", str(exe), str(SRC)], check=True)
    return exe


def make_core(victim: Path, tmp_path: Path, mode: str, filt: str) -> tuple[Path, int]:
    """Run the victim in *tmp_path* until it aborts; return its core and page address."""
    require_cores_in_cwd()
    proc = subprocess.run([str(victim), mode, filt], cwd=tmp_path, capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == -6, proc.stderr  # SIGABRT
    page = int(proc.stdout.split("page=")[1].split()[0], 16)
    cores = [p for p in tmp_path.iterdir() if p.name.startswith("core")]
    if not cores:
        pytest.skip(f"no core was written (core_pattern {core_pattern()!r}; "
                    "RLIMIT_CORE hard limit?)")
    return cores[0], page


def victim_module(report, victim):  # type: ignore[no-untyped-def]
    return next(m for m in report.modules if m.name == str(victim))


def test_zeroed_page_in_core_is_exactly_that_page(victim: Path, tmp_path: Path) -> None:
    core, page = make_core(victim, tmp_path, "zero", "0x37")
    r = check_target(core)
    m = victim_module(r, victim)
    assert m.status == "compared" and m.identity.startswith("build-id ")
    assert m.differing == 4096 and m.zero_filled
    assert [(x.start, x.end, x.section) for x in m.ranges] == [(page, page + 4096, ".text")]
    assert [(p.start, p.verdict) for p in m.pages if p.verdict != "match"] == [
        (page, ZERO_FILLED)]
    others = [x for x in r.modules if x is not m]
    assert others and all(x.differing == 0 and x.compared > 0 for x in others)  # libc, ld.so
    assert summary_line(r) == "chkimg: ZERO-FILLED 4,096 bytes in .text of victim"
    assert r.exit_status() == 1


def test_unmodified_core_has_no_differences(victim: Path, tmp_path: Path) -> None:
    core, _ = make_core(victim, tmp_path, "clean", "0x37")
    r = check_target(core)
    assert r.differing == 0 and r.compared > 0
    assert victim_module(r, victim).compared == victim_module(r, victim).code_bytes
    assert r.exception is not None and r.exception.name == "SIGABRT"
    assert r.exit_status() == 0


def test_default_filter_core_says_code_not_captured(victim: Path, tmp_path: Path) -> None:
    core, _ = make_core(victim, tmp_path, "clean", "0x33")
    proc = subprocess.run([sys.executable, "-m", "flakehunt", "chkimg", str(core)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "code not captured" in proc.stdout
    assert "coredump_filter" in proc.stdout and "0x37" in proc.stdout
    assert "0 differences" not in proc.stdout
    r = check_target(core)
    assert victim_module(r, victim).status == NOT_CAPTURED
    assert summary_line(r) == "chkimg: code not captured: nothing compared"


def test_live_process_has_no_differences(victim: Path) -> None:
    proc = subprocess.Popen([str(victim), "wait", "0x33"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        proc.stdout.readline()
        out = subprocess.run([sys.executable, "-m", "flakehunt", "chkimg", f"pid:{proc.pid}",
                              "--json"], capture_output=True, text=True, timeout=60)
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=10)
    assert out.returncode == 0, out.stdout + out.stderr
    data = json.loads(out.stdout)
    assert data["kind"] == "live" and data["differing"] == 0
    mine = next(m for m in data["modules"] if m["name"] == str(victim))
    assert mine["compared"] == mine["code_bytes"] > 0
    assert any("page cache" in n for n in data["notes"])


def _one_clear_error(capsys: pytest.CaptureFixture[str], *args: str) -> None:
    from flakehunt.cli import cli
    from flakehunt.cli.main import run_cli

    status = run_cli(cli, ["chkimg", *args])
    out, err = capsys.readouterr()
    assert status == 2, (args, out, err)
    assert "Traceback" not in out + err
    assert len(err.splitlines()) == 1 and err.startswith("flakehunt: error: "), err


def cuts(size: int) -> list[int]:
    return sorted({0, 4, 16, 40, 63, 64, 100, 500, 1000, 4000, 8192,
                   *range(10_000, size, max(1, size // 40))})


def test_truncated_core_is_one_clear_error(victim: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    core, _ = make_core(victim, tmp_path, "clean", "0x37")
    data = core.read_bytes()
    cut = tmp_path / "cut-core"
    for length in cuts(len(data)):
        cut.write_bytes(data[:length])
        _one_clear_error(capsys, str(cut))
    proc = subprocess.run([sys.executable, "-m", "flakehunt", "chkimg", str(cut)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stderr.startswith("flakehunt: error: ")
    assert "Traceback" not in proc.stderr


def test_truncated_elf_image_is_one_clear_error(victim: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    core, _ = make_core(victim, tmp_path, "clean", "0x37")
    data = victim.read_bytes()
    cut = tmp_path / "victim"
    for length in cuts(len(data)):
        cut.write_bytes(data[:length])
        _one_clear_error(capsys, str(core), "--image", str(cut))


def test_core_mappings_agree_with_pyelftools(victim: Path, tmp_path: Path) -> None:
    from elftools.elf.elffile import ELFFile

    from flakehunt.images.elfcore import open_core

    core, _ = make_core(victim, tmp_path, "clean", "0x37")
    ours = sorted((m.start, m.end, m.file_offset, mod.name)
                  for mod in open_core(core).modules for m in mod.mappings)
    with open(core, "rb") as f:
        elf = ELFFile(f)
        theirs = []
        for seg in elf.iter_segments():
            if seg["p_type"] != "PT_NOTE":
                continue
            for note in seg.iter_notes():
                if note["n_type"] == "NT_FILE":
                    d = note["n_desc"]
                    page = d["page_size"]
                    theirs = sorted(
                        (e["vm_start"], e["vm_end"], e["page_offset"] * page, name.decode())
                        for e, name in zip(d["Elf_Nt_File_Entry"], d["filename"], strict=True))
    assert ours == theirs and any(name == str(victim) for *_, name in ours)
