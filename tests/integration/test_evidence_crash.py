"""A real C program crashes by SIGSEGV: its core, artifact and telemetry end up in evidence."""

from __future__ import annotations

import hashlib
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from flakehunt.campaign.model import Attempt, AttemptResult
from flakehunt.evidence import coredump_linux as lx
from flakehunt.evidence.budget import EvidenceBudget
from flakehunt.evidence.cores import CoreCollector, prepare_core_dumps
from flakehunt.evidence.recorder import read_window_file
from flakehunt.evidence.session import EvidenceOptions, EvidenceSession

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux cores"),
    pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc"),
]

CRASH_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
int main(int argc, char **argv) {
    mkdir("out", 0755);
    FILE *f = fopen("out/artifact.bin", "wb");
    for (int i = 0; i < 4096; i++) fputc(i * 7 & 0xff, f);
    fclose(f);
    if (argc > 1) usleep(atoi(argv[1]) * 1000);
    volatile int *p = (int *)0;
    *p = 42;
    return 0;
}
"""


@pytest.fixture()
def crash(tmp_path: Path) -> Path:
    src = tmp_path / "crash.c"
    src.write_text(CRASH_C)
    exe = tmp_path / "crash"
    subprocess.run(["gcc", "-O0", "-o", str(exe), str(src)], check=True)
    return exe


@pytest.fixture(autouse=True)
def restore_core_settings() -> Iterator[None]:
    """prepare_core_dumps changes this process; put pytest's own settings back after."""
    limits = resource.getrlimit(resource.RLIMIT_CORE)
    with open("/proc/self/coredump_filter") as f:
        filt = f.read().strip()
    yield
    resource.setrlimit(resource.RLIMIT_CORE, limits)
    with open("/proc/self/coredump_filter", "w") as f:
        f.write("0x" + filt)


def _machine_pattern() -> lx.CorePattern:
    with open("/proc/sys/kernel/core_pattern") as f:
        raw = f.read()
    with open("/proc/sys/kernel/core_uses_pid") as f:
        uses_pid = f.read().strip() != "0"
    p = lx.parse_core_pattern(raw, uses_pid)
    if p.kind == "pipe" and p.handler != "systemd-coredump":
        pytest.skip(f"core_pattern pipes to {p.program}: cores cannot be collected here")
    return p


def _run(argv: list[str], cwd: Path) -> tuple[int, int, float, float]:
    started = time.time()
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, cwd=cwd)
    proc.wait()
    return proc.pid, proc.returncode, started, time.monotonic() - t0


def _text_in_core(core: str, exe: Path) -> tuple[bytes, bytes]:
    """Return (.text of the binary, the same addresses read from the core's PT_LOADs)."""
    with open(exe, "rb") as f:
        elf = ELFFile(f)
        text = elf.get_section_by_name(".text")
        text_off, text_bytes = text["sh_offset"], text.data()
    with open(core, "rb") as f:
        cf = ELFFile(f)
        assert cf["e_type"] == "ET_CORE"
        entries = None
        for seg in cf.iter_segments():
            if seg["p_type"] == "PT_NOTE":
                for note in seg.iter_notes():
                    if note["n_type"] == "NT_FILE":
                        d = note["n_desc"]
                        entries = list(zip(d["Elf_Nt_File_Entry"], d["filename"], strict=True))
                        page = d["page_size"]
        assert entries, "the core has no NT_FILE note"
        addr = None
        for e, name in entries:  # the executable mapping holding .text's file offset
            lo = e["page_offset"] * page
            if os.path.samefile(name.decode(), exe) and lo <= text_off < lo + (
                    e["vm_end"] - e["vm_start"]):
                addr = e["vm_start"] + text_off - lo
        assert addr is not None, "the binary's code mapping is not in the core"
        for seg in cf.iter_segments():
            lo = seg["p_vaddr"]
            if seg["p_type"] == "PT_LOAD" and lo <= addr < lo + seg["p_memsz"]:
                if seg["p_filesz"] == 0:
                    return text_bytes, b""  # mapped, but its pages were left out of the core
                f.seek(seg["p_offset"] + addr - seg["p_vaddr"])
                return text_bytes, f.read(len(text_bytes))
    raise AssertionError("no PT_LOAD covers the code")


def test_core_is_found_moved_and_holds_the_code(crash: Path, tmp_path: Path) -> None:
    pattern = _machine_pattern()
    setup = prepare_core_dumps()
    assert setup.code_pages and setup.cores_possible, setup
    pid, rc, started, _ = _run([str(crash)], tmp_path)
    assert rc == -11
    ev = tmp_path / "evidence"
    col = CoreCollector("linux", setup, pattern)
    res = col.collect(pid=pid, returncode=rc, cwd=str(tmp_path), started=started,
                      dest_dir=str(ev), budget=EvidenceBudget(None), exe=str(crash))
    assert res.captured, res.reason
    assert res.path is not None and Path(res.path).parent == ev
    text, in_core = _text_in_core(res.path, crash)
    assert len(text) > 64 and in_core == text


def test_without_the_filter_the_code_is_missing(crash: Path, tmp_path: Path) -> None:
    """The control: the kernel default 0x33 leaves code pages out, which is why 0x37 matters."""
    pattern = _machine_pattern()
    setup = prepare_core_dumps()
    script = f"echo 0x33 > /proc/self/coredump_filter && exec {crash}"
    pid, rc, started, _dur = _run(["/bin/sh", "-c", script], tmp_path)
    res = CoreCollector("linux", setup, pattern).collect(
        pid=pid, returncode=rc, cwd=str(tmp_path), started=started, dest_dir=str(tmp_path / "e"),
        budget=EvidenceBudget(None), exe=str(crash))
    assert res.captured and res.path, res.reason
    text, in_core = _text_in_core(res.path, crash)
    assert in_core != text


def _attempt(seq: int, argv: list[str], cwd: Path) -> Attempt:
    run_dir = cwd / f"run{seq}"
    run_dir.mkdir(exist_ok=True)
    return Attempt(run_id=f"r{seq:04d}", campaign_id=1, seq=seq, variant="", block=0, slot=0,
                   argv=tuple(argv), cwd=str(cwd), env=dict(os.environ), run_dir=str(run_dir),
                   log_path=str(run_dir / "log"))


def _drive(session: EvidenceSession, seq: int, argv: list[str], cwd: Path,
           ) -> tuple[AttemptResult, object]:
    """What the hunt loop does around one attempt."""
    attempt = _attempt(seq, argv, cwd)
    started = time.time()
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, cwd=cwd)
    session.attempt_started(attempt, proc.pid)
    proc.wait()
    result = AttemptResult(attempt, started, time.monotonic() - t0, proc.returncode, "host",
                           "posix", pid=proc.pid)
    return result, session.attempt_ended(result, failed=proc.returncode != 0)


def test_failing_run_keeps_artifact_core_and_telemetry(crash: Path, tmp_path: Path) -> None:
    _machine_pattern()
    root = tmp_path / "ev"
    session = EvidenceSession(EvidenceOptions(
        root=str(root), keep=("out/*.bin",), hash=("out/*.bin",), telemetry_hz=20,
        telemetry_before=1.0, telemetry_retention=60))
    session.start()
    try:
        time.sleep(0.3)
        _, passed = _drive(session, 1, ["sleep", "0.3"], tmp_path)
        result, ev = _drive(session, 2, [str(crash), "700"], tmp_path)
    finally:
        session.close()
    assert passed.evidence_dir is None and passed.telemetry["samples"] > 0  # type: ignore[attr-defined]
    rec = ev.to_record()  # type: ignore[attr-defined]
    data = (tmp_path / "out" / "artifact.bin").read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    assert rec["artifact_hashes"] == [{"path": "out/artifact.bin", "size": 4096, "sha256": digest}]
    (kept,) = rec["kept"]
    assert kept["sha256"] == digest and Path(kept["kept_as"]).read_bytes() == data
    assert kept["kept_as"].startswith(rec["evidence_path"])
    assert rec["core_captured"], rec["core_reason"]
    assert Path(rec["core_path"]).parent == Path(rec["evidence_path"])
    _header, records = read_window_file(rec["telemetry_path"])
    end = result.started + result.duration
    ts = [r["t"] for r in records if r["kind"] == "system"]
    assert min(ts) <= result.started and max(ts) >= end - 0.25, (min(ts), max(ts), result)
    mine = [r for r in records if r["kind"] == "run" and r["run"] == "r0002"]
    assert len(mine) >= 5 and all(r["rss"] and r["rss"] > 0 for r in mine)
    assert any(r["kind"] == "proc" for r in records)
    assert rec["telemetry"]["run_rss_max"] > 0
    neighbours = list((Path(rec["evidence_path"]) / "passing-neighbours").iterdir())
    assert [p.name for p in neighbours] == ["r0001.telemetry.jsonl.gz"]


def test_the_evidence_cap_is_respected(crash: Path, tmp_path: Path) -> None:
    _machine_pattern()
    root = tmp_path / "ev"
    cap = 4096 + 64 * 1024  # room for the artifact and a telemetry window, not a 2 MB core
    session = EvidenceSession(EvidenceOptions(root=str(root), cap=cap, keep=("out/*.bin",),
                                              telemetry_hz=20, telemetry_retention=30))
    session.start()
    try:
        _, ev = _drive(session, 1, [str(crash)], tmp_path)
    finally:
        session.close()
    rec = ev.to_record()  # type: ignore[attr-defined]
    assert rec["core_captured"] is False
    assert "does not fit in the evidence cap" in rec["core_reason"]
    assert rec["core_size"] > cap
    assert rec["kept"][0]["how"] in ("link", "copy")
    assert ev.notices and "evidence cap" in ev.notices[0]  # type: ignore[attr-defined]
    used = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    assert used <= cap
    assert session._budget.used <= cap
