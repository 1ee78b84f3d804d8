"""core_pattern parsing and matching, systemd-coredump and apport, prepare_core_dumps."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flakehunt.evidence import coredump_linux as lx
from flakehunt.evidence.budget import EvidenceBudget
from flakehunt.evidence.cores import CoreCollector, CoreSetup, is_core_signal, prepare_core_dumps

INFO = lx.CrashInfo(pid=4242, signal=11, cwd="/w", started=0.0, exe="/opt/bin/my-long-program-name",
                    uid=1000, gid=100, hostname="box")


@pytest.mark.parametrize(
    ("raw", "uses_pid", "kind", "template", "handler"),
    [
        ("core", False, "file", "core", ""),
        ("core", True, "file", "core.%p", ""),
        ("core.%p", True, "file", "core.%p", ""),
        ("core.%%p", True, "file", "core.%%p.%p", ""),  # %%p is a literal 'p', not the PID
        ("", False, "file", "core", ""),
        ("/var/cores/%e.%p.%t", False, "file", "/var/cores/%e.%p.%t", ""),
        ("|/lib/systemd/systemd-coredump %P %u %g %s %t 9223372036854775808 %h", False, "pipe",
         "", "systemd-coredump"),
        ("|/usr/share/apport/apport -p%p -s%s -c%c -d%d -P%P -u%u -g%g -- %E", False, "pipe", "",
         "apport"),
        ("|/usr/libexec/abrt-hook-ccpp %s %c %p %u %g %t e %P %I %h", False, "pipe", "", "abrt"),
        ("|/usr/bin/mycollector %p", True, "pipe", "", ""),
    ],
)
def test_parse(raw: str, uses_pid: bool, kind: str, template: str, handler: str) -> None:
    p = lx.parse_core_pattern(raw + "\n", uses_pid)
    assert (p.kind, p.template, p.handler) == (kind, template, handler)


@pytest.mark.parametrize(
    ("template", "name", "exact", "matches"),
    [
        ("core", "core", True, True),
        ("core.%p", "core.4242", True, True),
        ("core.%p", "core.4243", True, False),
        ("core.%p", "core.4243", False, True),  # a grandchild's core
        ("core.%e.%p", "core.my-long-program.4242", True, True),  # comm: 15 chars
        ("core.%f", "core.my-long-program-name", True, True),
        ("%E.core", "!opt!bin!my-long-program-name.core", True, True),
        ("core-%u-%g-%s-%h", "core-1000-100-11-box", True, True),
        ("core-%s", "core-6", True, False),
        ("core.%t", "core.1733300000", True, True),
        ("core.%d.%c", "core.1.18446744073709551615", True, True),
        ("core%%%p", "core%4242", True, True),
        ("core.%z%p", "core.4242", True, True),  # unknown specifier: dropped
        ("core.%", "core.", True, True),  # trailing '%': dropped
    ],
)
def test_pattern_regex(template: str, name: str, exact: bool, matches: bool) -> None:
    rx = re.compile(lx.pattern_regex(template, INFO, exact) + r"\Z")
    assert bool(rx.match(name)) is matches


def _touch(path: Path, age: float = 0.0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x7fELF core")
    t = time.time() - age
    os.utime(path, (t, t))


def test_find_relative_core_of_this_run(tmp_path: Path) -> None:
    _touch(tmp_path / "core.99")  # another PID, fresh
    _touch(tmp_path / "core.4242")
    info = lx.CrashInfo(4242, 11, str(tmp_path), time.time() - 5, "prog")
    assert lx.find_core_file(lx.parse_core_pattern("core.%p"), info) == str(tmp_path / "core.4242")


def test_stale_cores_are_not_this_runs(tmp_path: Path) -> None:
    _touch(tmp_path / "core", age=3600)
    info = lx.CrashInfo(4242, 11, str(tmp_path), time.time() - 5, "prog")
    assert lx.find_core_file(lx.parse_core_pattern("core"), info) is None


def test_grandchild_core_found_by_pattern(tmp_path: Path) -> None:
    _touch(tmp_path / "cores" / "crashy" / "core.777")
    pattern = lx.parse_core_pattern(f"{tmp_path}/cores/%e/core.%p")
    info = lx.CrashInfo(4242, 11, "/elsewhere", time.time() - 5, "/bin/sh")
    assert lx.find_core_file(pattern, info) == str(tmp_path / "cores" / "crashy" / "core.777")


def test_systemd_coredump_fetch_polls_until_stored(tmp_path: Path) -> None:
    calls: list[list[str]] = []
    dest = tmp_path / "core.5"

    def runner(argv: list[str], timeout: float) -> tuple[int, str]:
        calls.append(argv)
        if len(calls) < 3:
            return 1, "No coredumps found."
        dest.write_bytes(b"core")
        return 0, ""

    ok, why = lx.fetch_from_systemd(5, str(dest), runner, wait=5, sleep=lambda s: None)
    assert ok and "coredumpctl" in why
    assert calls[-1] == ["coredumpctl", "--no-pager", "-q", "-o", str(dest), "dump", "5"]


def test_systemd_coredump_missing_tool() -> None:
    ok, why = lx.fetch_from_systemd(5, "/nonexistent/x", lambda a, t: (127, "not found"),
                                    sleep=lambda s: None)
    assert not ok and "coredumpctl is not installed" in why


def test_apport_core_and_report(tmp_path: Path) -> None:
    info = lx.CrashInfo(31337, 11, "/w", time.time() - 5, "/tmp/crashy", uid=1000)
    none, why = lx.find_apport_core(info, str(tmp_path / "crash"), str(tmp_path / "cd"))
    assert none is None and "apport, which ignores non-packaged programs" in why
    boot_id = "0b5d2e7c-1a2b-4c3d-9e8f-001122334455"
    _touch(tmp_path / "cd" / f"core._tmp_crashy.1000.{boot_id}.31337.1733300000")
    found, _ = lx.find_apport_core(info, str(tmp_path / "crash"), str(tmp_path / "cd"))
    assert found is not None and found.endswith(".31337.1733300000")
    _touch(tmp_path / "crash" / "_tmp_crashy.1000.crash")
    other = lx.CrashInfo(1, 11, "/w", time.time() - 5, "/tmp/crashy", uid=1000)
    report, how = lx.find_apport_core(other, str(tmp_path / "crash"), str(tmp_path / "cd"))
    assert report == str(tmp_path / "crash" / "_tmp_crashy.1000.crash") and "CoreDump" in how


class FakeResource:
    RLIMIT_CORE = 4

    def __init__(self, soft: int, hard: int, fail: bool = False) -> None:
        self.limits = (soft, hard)
        self.fail = fail

    def getrlimit(self, which: int) -> tuple[int, int]:
        return self.limits

    def setrlimit(self, which: int, limits: tuple[int, int]) -> None:
        if self.fail:
            raise ValueError("not allowed")
        self.limits = limits


def test_prepare_raises_soft_limit_and_writes_hex_filter(tmp_path: Path) -> None:
    filt = tmp_path / "coredump_filter"
    filt.write_text("00000033\n")
    res = FakeResource(0, -1)
    setup = prepare_core_dumps(res, str(filt), "linux")
    assert res.limits == (-1, -1)
    assert filt.read_text() == "0x37"  # the 0x matters: the kernel parses with base 0
    assert setup.soft_before == 0 and setup.soft == -1 and not setup.problems
    assert setup.filter_before == "00000033"


def test_prepare_reports_a_zero_hard_limit(tmp_path: Path) -> None:
    filt = tmp_path / "f"
    filt.write_text("33")
    setup = prepare_core_dumps(FakeResource(0, 0), str(filt), "linux")
    assert not setup.cores_possible
    assert any("hard RLIMIT_CORE is 0" in p for p in setup.problems)


def test_prepare_reports_an_unwritable_filter(tmp_path: Path) -> None:
    setup = prepare_core_dumps(FakeResource(0, -1), str(tmp_path / "missing" / "f"), "linux")
    assert any("cores will lack code pages" in p for p in setup.problems)
    assert not setup.code_pages


@pytest.mark.parametrize(("rc", "core"), [(-11, True), (-6, True), (-9, False), (-15, False),
                                          (1, False), (139, False), (None, False)])
def test_core_signals(rc: int | None, core: bool) -> None:
    assert is_core_signal(rc) is core


def test_collector_moves_the_core_and_names_it(tmp_path: Path) -> None:
    _touch(tmp_path / "core")
    col = CoreCollector("linux", CoreSetup("linux", 0, -1, -1),
                        lx.parse_core_pattern("core"))
    res = col.collect(pid=12, returncode=-11, cwd=str(tmp_path), started=time.time() - 5,
                      dest_dir=str(tmp_path / "ev"), budget=EvidenceBudget(None))
    assert res.captured and res.path == str(tmp_path / "ev" / "core.12")
    assert not (tmp_path / "core").exists()


def test_collector_over_budget_leaves_core_and_says_why(tmp_path: Path) -> None:
    _touch(tmp_path / "core.12")
    col = CoreCollector("linux", None, lx.parse_core_pattern("core.%p"))
    res = col.collect(pid=12, returncode=-11, cwd=str(tmp_path), started=time.time() - 5,
                      dest_dir=str(tmp_path / "ev"), budget=EvidenceBudget(3))
    assert not res.captured and "does not fit in the evidence cap" in res.reason
    assert (tmp_path / "core.12").exists()


@pytest.mark.parametrize(
    ("pattern", "setup", "rc", "says"),
    [
        ("core", None, 1, "did not die by a core-dumping signal"),
        ("core", CoreSetup("linux", 0, 0, 0), -11, "RLIMIT_CORE is 0"),
        ("core", None, -11, "no core matching core_pattern 'core'"),
        ("|/usr/share/apport/apport %p", None, -11, "apport, which ignores non-packaged"),
        ("|/usr/bin/mycollector %p", None, -11, "pipes to mycollector, which flakehunt cannot"),
    ],
)
def test_collector_reasons(tmp_path: Path, pattern: str, setup: CoreSetup | None, rc: int,
                           says: str) -> None:
    col = CoreCollector("linux", setup, lx.parse_core_pattern(pattern))
    res = col.collect(pid=12, returncode=rc, cwd=str(tmp_path), started=time.time(),
                      dest_dir=str(tmp_path / "ev"), budget=EvidenceBudget(None), exe="/x/prog")
    assert not res.captured and says in res.reason


def test_collector_systemd_respects_budget(tmp_path: Path) -> None:
    def runner(argv: list[str], timeout: float) -> tuple[int, str]:
        Path(argv[argv.index("-o") + 1]).write_bytes(b"x" * 100)
        return 0, ""

    col = CoreCollector("linux", None, lx.parse_core_pattern("|/lib/systemd/systemd-coredump"),
                        runner=runner)
    ok = col.collect(pid=7, returncode=-6, cwd="/", started=0, dest_dir=str(tmp_path / "a"),
                     budget=EvidenceBudget(1000))
    assert ok.captured and ok.size == 100
    no = col.collect(pid=7, returncode=-6, cwd="/", started=0, dest_dir=str(tmp_path / "b"),
                     budget=EvidenceBudget(50))
    assert not no.captured and "evidence cap" in no.reason
    assert not (tmp_path / "b" / "core.7").exists()


def test_a_descendants_core_wins_over_another_runs(tmp_path: Path) -> None:
    _touch(tmp_path / "core.500")  # another run's crash, newer
    _touch(tmp_path / "core.4300", age=2)  # our grandchild's
    info = lx.CrashInfo(4242, 11, str(tmp_path), time.time() - 5, "/bin/sh",
                        descendants=frozenset({4299, 4300}))
    assert lx.find_core_file(lx.parse_core_pattern("core.%p"), info) == str(tmp_path / "core.4300")


def test_recorder_reports_the_pids_of_a_run_tree() -> None:
    from flakehunt.evidence.recorder import FlightRecorder
    from flakehunt.evidence.sampler import FakeSource, ProcRow

    src = FakeSource(procs=[ProcRow(10, 1, "sh", 0.0, 1), ProcRow(11, 10, "make", 0.0, 1),
                            ProcRow(12, 11, "cc", 0.0, 1), ProcRow(13, 1, "x", 0.0, 1)])
    rec = FlightRecorder(src, clock=lambda: 0.0)
    rec.register("r", 10)
    rec.sample_once()
    src.procs = src.procs[:1]  # the children exited
    assert rec.unregister("r") == {10, 11, 12}


@given(st.text(alphabet="%pPeEfhistucdgz./-_ab|", max_size=40), st.booleans())
def test_any_pattern_parses_and_compiles(raw: str, uses_pid: bool) -> None:
    p = lx.parse_core_pattern(raw, uses_pid)
    if p.kind == "file":
        directory, rest = lx.split_template(p.template, "/w")
        assert directory
        re.compile(lx.pattern_regex(rest, INFO, exact=True))
        re.compile(lx.pattern_regex(rest, INFO, exact=False))
