"""doctor: findings and fixes from injected facts; the command on this machine."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from flakehunt.evidence.doctor import PROBLEM, WARN, Facts, diagnose, render_text

GOOD = dict(platform="linux", core_soft=0, core_hard=-1, core_pattern="core.%p",
            core_uses_pid=False, filter_writable=True, ptrace_scope=0, procs_total=80,
            evidence_free=50 << 30, evidence_cap=2 << 30)


def _find(facts: Facts, topic: str) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(f.level, f.message, f.fix) for f in diagnose(facts) if f.topic == topic]


def test_good_linux_machine_has_no_problem() -> None:
    findings = diagnose(Facts(**GOOD))  # type: ignore[arg-type]
    assert all(f.level == "ok" for f in findings), render_text(findings)


@pytest.mark.parametrize(
    ("change", "topic", "level", "says", "fix"),
    [
        ({"core_hard": 0}, "core limit", PROBLEM, "hard RLIMIT_CORE is 0", "ulimit -Hc unlimited"),
        ({"core_pattern": "core"}, "core_pattern", WARN, "overwrite each other's core",
         "sudo sysctl -w kernel.core_uses_pid=1"),
        ({"core_pattern": "|/usr/share/apport/apport -p%p -s%s -c%c -d%d -P%P -u%u -g%g -- %E"},
         "core_pattern", PROBLEM, "apport, which ignores programs that are not from a package",
         "sudo sysctl -w kernel.core_pattern=core.%p"),
        ({"core_pattern": "|/lib/systemd/systemd-coredump %P %u %g %s %t %c %h",
          "coredumpctl": False}, "core_pattern", PROBLEM, "coredumpctl is missing",
         "sudo apt-get install systemd-coredump"),
        ({"core_pattern": "|/lib/systemd/systemd-coredump %P", "coredumpctl": True,
          "coredump_storage": "none"}, "core_pattern", PROBLEM, "Storage=none", "Storage=external"),
        ({"core_pattern": "/var/cores/core.%e.%p", "core_dir_writable": False}, "core_pattern",
         PROBLEM, "/var/cores is missing or not writable", "sudo mkdir -p /var/cores"),
        ({"core_pattern": "|/usr/bin/mystery %p"}, "core_pattern", WARN,
         "pipes to /usr/bin/mystery", "sudo sysctl -w kernel.core_pattern=core.%p"),
        ({"ptrace_scope": 1}, "ptrace", WARN, "only to its own descendants",
         "sudo sysctl -w kernel.yama.ptrace_scope=0"),
        ({"filter_writable": False}, "coredump_filter", WARN, "lack code pages", None),
        ({"hidepid": "2"}, "telemetry", WARN, "hidepid=2", "sudo mount -o remount,hidepid=0 /proc"),
        ({"procs_other_users": 40, "procs_other_unreadable": 30}, "telemetry", WARN,
         "30 of 40 other users' processes", None),
        ({"evidence_free": 100 << 20}, "disk", PROBLEM, "only 100.0 MiB free", "--max-evidence"),
        ({"evidence_free": 1 << 30 | 1}, "disk", WARN, "less than the evidence cap",
         "--max-evidence"),
    ],
)
def test_linux_findings(change: dict[str, object], topic: str, level: str, says: str,
                        fix: str | None) -> None:
    found = _find(Facts(**(GOOD | change)), topic)  # type: ignore[arg-type]
    hits = [f for f in found if f[0] == level and says in f[1]]
    assert hits, found
    if fix is not None:
        assert any(fix in cmd for cmd in hits[0][2])


def test_problems_come_first_and_are_counted() -> None:
    findings = diagnose(Facts(**(GOOD | {"core_hard": 0, "evidence_free": 1})))  # type: ignore[arg-type]
    assert [f.level for f in findings[:2]] == [PROBLEM, PROBLEM]
    assert render_text(findings).endswith("2 problem(s), 0 warning(s)")


def test_windows_localdumps() -> None:
    off = diagnose(Facts("win32", wer={"enabled": False, "reason": "WER LocalDumps is not "
                                       "configured"}, evidence_free=50 << 30))
    assert off[0].level == PROBLEM and any("reg add" in c for c in off[0].fix)
    mini = diagnose(Facts("win32", wer={"enabled": True, "dump_type": 1, "type_name": "mini",
                                        "folder": r"C:\d"}, evidence_free=50 << 30))
    assert mini[0].level == WARN and "DumpType /t REG_DWORD /d 2" in mini[0].fix[0]


def test_macos() -> None:
    bad = diagnose(Facts("darwin", core_soft=0, core_hard=-1, macos_coredump=False,
                         macos_cores_writable=False, evidence_free=50 << 30))
    fixes = [c for f in bad for c in f.fix]
    assert "sudo sysctl kern.coredump=1" in fixes and "sudo chmod 1777 /cores" in fixes


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads Linux /proc")
def test_doctor_command_on_this_machine() -> None:
    proc = subprocess.run([sys.executable, "-m", "flakehunt", "doctor", "--json"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode in (0, 4), proc.stderr
    data = json.loads(proc.stdout)
    topics = {f["topic"] for f in data["findings"]}
    assert {"core limit", "core_pattern", "telemetry", "disk"} <= topics
    with open("/proc/sys/kernel/core_pattern") as f:
        assert data["facts"]["core_pattern"] == f.read().strip()
    text = subprocess.run([sys.executable, "-m", "flakehunt", "doctor"], capture_output=True,
                          text=True, timeout=60, check=False)
    assert text.stdout.strip().splitlines()[-1].endswith("warning(s)")
