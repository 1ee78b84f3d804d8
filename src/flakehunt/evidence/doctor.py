"""``flakehunt doctor``: will crash dumps, telemetry and evidence be captured here?

``diagnose`` is pure: it reads a ``Facts`` value (gathered by
``doctor_facts.gather``) and returns findings, each with the exact commands
that fix it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flakehunt.evidence.coredump_linux import parse_core_pattern
from flakehunt.units import format_size

OK, WARN, PROBLEM = "ok", "warn", "problem"
UNLIMITED = -1
LOW_DISK = 1024**3


@dataclass(frozen=True)
class Facts:
    """What was found on this machine; None means "could not tell"."""

    platform: str
    is_root: bool = False
    core_soft: int | None = None  # -1: unlimited
    core_hard: int | None = None
    core_pattern: str | None = None
    core_uses_pid: bool | None = None
    core_dir_writable: bool | None = None  # absolute pattern: its directory
    filter_writable: bool | None = None
    coredumpctl: bool | None = None
    coredump_storage: str | None = None  # Storage= of systemd-coredump
    ptrace_scope: int | None = None  # None: Yama absent
    in_container: bool = False
    hidepid: str | None = None  # /proc mount option
    procs_total: int | None = None
    procs_other_users: int = 0
    procs_other_unreadable: int = 0  # AccessDenied on I/O or fds
    evidence_dir: str = os.path.join(".flakehunt", "evidence")
    evidence_free: int | None = None
    evidence_cap: int | None = None
    macos_coredump: bool | None = None  # kern.coredump
    macos_corefile: str | None = None
    macos_cores_writable: bool | None = None
    wer: Mapping[str, Any] | None = None  # Windows: WerSettings as a dict


@dataclass(frozen=True)
class Finding:
    """One verdict: its level, topic, what it means, and the commands that fix it."""

    level: str  # ok, warn, problem
    topic: str
    message: str
    fix: tuple[str, ...] = field(default=())


def _limit(v: int) -> str:
    return "unlimited" if v == UNLIMITED else str(v)


def _rlimit(f: Facts) -> list[Finding]:
    if f.core_hard is None:
        return []
    if f.core_hard == 0:
        return [Finding(PROBLEM, "core limit", "the hard RLIMIT_CORE is 0 (ulimit -Hc), so no "
                        "core file can be written and flakehunt cannot raise it", (
                            "ulimit -Hc unlimited   # as root, in the shell that starts flakehunt",
                            "echo '* hard core unlimited' | sudo tee /etc/security/limits.d/"
                            "core.conf   # then log in again",
                            "LimitCORE=infinity   # in the [Service] of a systemd unit"))]
    soft = _limit(f.core_soft if f.core_soft is not None else 0)
    return [Finding(OK, "core limit", f"ulimit -c is {soft} (hard {_limit(f.core_hard)}); "
                    "flakehunt raises it to the hard limit for its runs")]


def _pattern(f: Facts) -> list[Finding]:
    if f.core_pattern is None:
        return []
    p = parse_core_pattern(f.core_pattern, bool(f.core_uses_pid))
    out: list[Finding] = []
    if f.in_container and p.kind == "pipe":
        out.append(Finding(WARN, "core_pattern", "this looks like a container: core_pattern "
                           "belongs to the host kernel, and its pipe program runs on the host, "
                           "where flakehunt cannot fetch the core"))
    if p.kind == "file":
        where = "the run's working directory" if p.relative else os.path.dirname(p.template)
        has_pid = "%p" in p.template
        if not has_pid:
            out.append(Finding(WARN, "core_pattern", f"core_pattern {p.raw!r} writes every core "
                               f"to the same name in {where}: parallel runs sharing a directory "
                               "overwrite each other's core", (
                                   "sudo sysctl -w kernel.core_uses_pid=1",
                                   "echo 'kernel.core_uses_pid = 1' | sudo tee "
                                   "/etc/sysctl.d/50-flakehunt-core.conf")))
        else:
            out.append(Finding(OK, "core_pattern", f"cores are written as {p.template!r} in "
                               f"{where}; flakehunt moves them into the evidence directory"))
        if not p.relative and f.core_dir_writable is False:
            d = os.path.dirname(p.template.split("%", 1)[0]) or "/"
            out.append(Finding(PROBLEM, "core_pattern", f"{d} is missing or not writable, so "
                               "the kernel cannot write cores there",
                               (f"sudo mkdir -p {d} && sudo chmod 1777 {d}",)))
        return out
    if p.handler == "systemd-coredump":
        if f.coredumpctl is False:
            out.append(Finding(PROBLEM, "core_pattern", "core_pattern pipes to systemd-coredump "
                               "but coredumpctl is missing", ("sudo apt-get install "
                                                              "systemd-coredump",)))
        elif (f.coredump_storage or "").lower() == "none":
            out.append(Finding(PROBLEM, "core_pattern", "systemd-coredump has Storage=none: it "
                               "logs crashes but keeps no core", (
                                   "sudo sed -i 's/^#\\?Storage=.*/Storage=external/' "
                                   "/etc/systemd/coredump.conf",)))
        else:
            out.append(Finding(OK, "core_pattern", "cores go to systemd-coredump; flakehunt "
                               "fetches each with 'coredumpctl dump PID -o FILE'"))
        return out
    if p.handler == "apport":
        out.append(Finding(PROBLEM, "core_pattern", "core_pattern pipes to apport, which ignores "
                           "programs that are not from a package (newer apport keeps them in "
                           "/var/lib/apport/coredump, which flakehunt also checks)", (
                               "sudo sysctl -w kernel.core_pattern=core.%p   # until reboot",
                               "sudo systemctl disable --now apport.service   # keeps it so",
                           )))
        return out
    out.append(Finding(WARN, "core_pattern", f"core_pattern pipes to {p.program}, which "
                       "flakehunt cannot collect from: cores will not be in the evidence",
                       ("sudo sysctl -w kernel.core_pattern=core.%p",)))
    return out


def _linux_extra(f: Facts) -> list[Finding]:
    out: list[Finding] = []
    if f.filter_writable is False:
        out.append(Finding(WARN, "coredump_filter", "/proc/self/coredump_filter cannot be "
                           "written: cores will lack code pages, so chkimg cannot check code"))
    elif f.filter_writable:
        out.append(Finding(OK, "coredump_filter", "flakehunt sets coredump_filter to 0x37 so "
                           "cores include code pages (file-backed private mappings)"))
    if f.ptrace_scope is None:
        out.append(Finding(OK, "ptrace", "Yama is not active: a debugger may attach to any of "
                           "your processes"))
    elif f.ptrace_scope == 1:
        out.append(Finding(WARN, "ptrace", "ptrace_scope is 1: a debugger ('--on-failure "
                           "\"gdb -p {pid}\"', chkimg of a live process) may attach only to its "
                           "own descendants", ("sudo sysctl -w kernel.yama.ptrace_scope=0",)))
    elif f.ptrace_scope == 2:
        out.append(Finding(WARN, "ptrace", "ptrace_scope is 2: only root may attach a debugger",
                           ("sudo sysctl -w kernel.yama.ptrace_scope=0",)))
    elif f.ptrace_scope >= 3:
        out.append(Finding(WARN, "ptrace", "ptrace_scope is 3: no process may attach a debugger "
                           "until reboot", ("set kernel.yama.ptrace_scope=0 in /etc/sysctl.d "
                                            "and reboot",)))
    else:
        out.append(Finding(OK, "ptrace", "ptrace_scope is 0: a debugger may attach"))
    return out


def _telemetry(f: Facts) -> list[Finding]:
    if f.hidepid and f.hidepid not in ("0", "off", "noaccess=0") and not f.is_root:
        return [Finding(WARN, "telemetry", f"/proc is mounted with hidepid={f.hidepid}: other "
                        "users' processes are invisible to the flight recorder",
                        ("sudo mount -o remount,hidepid=0 /proc",))]
    if f.procs_other_unreadable:
        return [Finding(WARN, "telemetry", f"{f.procs_other_unreadable} of "
                        f"{f.procs_other_users} other users' processes deny I/O and open-file "
                        "counts: those show as unknown, not zero",
                        ("sudo flakehunt run ...   # or grant CAP_SYS_PTRACE",))]
    seen = "" if f.procs_total is None else f" ({f.procs_total} processes visible)"
    return [Finding(OK, "telemetry", f"the flight recorder can see every process{seen}")]


def _disk(f: Facts) -> list[Finding]:
    if f.evidence_free is None:
        return [Finding(WARN, "disk", f"cannot tell the free space for {f.evidence_dir}")]
    free = format_size(f.evidence_free)
    if f.evidence_free < LOW_DISK:
        return [Finding(PROBLEM, "disk", f"only {free} free for evidence in {f.evidence_dir}",
                        ("flakehunt run --max-evidence 200MB ...",
                         f"du -sh {f.evidence_dir}/*   # then remove old campaigns"))]
    if f.evidence_cap is not None and f.evidence_free < f.evidence_cap:
        return [Finding(WARN, "disk", f"{free} free for evidence in {f.evidence_dir}, less than "
                        f"the evidence cap of {format_size(f.evidence_cap)}",
                        (f"flakehunt run --max-evidence {f.evidence_free // 2 // 2**20}MiB ...",))]
    return [Finding(OK, "disk", f"{free} free for evidence in {f.evidence_dir}")]


def _macos(f: Facts) -> list[Finding]:
    out: list[Finding] = []
    if f.macos_coredump is False:
        out.append(Finding(PROBLEM, "core dumps", "kern.coredump is 0: macOS writes no cores",
                           ("sudo sysctl kern.coredump=1",)))
    corefile = f.macos_corefile or "/cores/core.%P"
    if f.macos_cores_writable is False:
        d = os.path.dirname(corefile) or "/cores"
        out.append(Finding(PROBLEM, "core dumps", f"{d} is not writable for you",
                           (f"sudo chmod 1777 {d}",)))
    if not out:
        out.append(Finding(OK, "core dumps", f"cores are written to {corefile} (hardened "
                           "binaries need the get-task-allow entitlement)"))
    return out


def _windows(f: Facts) -> list[Finding]:
    from flakehunt.evidence.coredump_windows import enable_commands

    w = f.wer or {}
    if not w.get("enabled"):
        reason = w.get("reason") or "WER LocalDumps is not configured"
        return [Finding(PROBLEM, "crash dumps", f"{reason}", tuple(enable_commands()))]
    if w.get("dump_type") != 2:
        return [Finding(WARN, "crash dumps", f"WER LocalDumps writes {w.get('type_name', 'mini')}"
                        f" dumps to {w.get('folder')}: they hold almost no code bytes, so chkimg "
                        "sees little", tuple(enable_commands(str(w.get("folder"))))[1:2])]
    return [Finding(OK, "crash dumps", f"WER LocalDumps writes full dumps to {w.get('folder')}")]


def diagnose(f: Facts) -> list[Finding]:
    """Return every finding for *f*, problems first."""
    out: list[Finding] = []
    if f.platform.startswith("win"):
        out += _windows(f)
    else:
        out += _rlimit(f)
        out += _macos(f) if f.platform == "darwin" else _pattern(f) + _linux_extra(f)
    out += _telemetry(f) + _disk(f)
    rank = {PROBLEM: 0, WARN: 1, OK: 2}
    return sorted(out, key=lambda x: rank[x.level])


def render_text(findings: list[Finding]) -> str:
    """Render findings for a terminal: one line each, fixes indented below."""
    lines = []
    for fd in findings:
        lines.append(f"{fd.level:<8} {fd.topic}: {fd.message}")
        lines += [f"         fix: {cmd}" for cmd in fd.fix]
    bad = sum(fd.level == PROBLEM for fd in findings)
    lines.append(f"{bad} problem(s), {sum(fd.level == WARN for fd in findings)} warning(s)")
    return "\n".join(lines)
