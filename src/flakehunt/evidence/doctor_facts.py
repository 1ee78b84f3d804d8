"""Gather ``doctor`` facts from this machine (the only impure part of ``doctor``)."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import asdict

from flakehunt.evidence.coredump_linux import parse_core_pattern
from flakehunt.evidence.doctor import Facts


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def _int(text: str | None) -> int | None:
    try:
        return None if text is None else int(text)
    except ValueError:
        return None


def _free(path: str) -> int | None:
    p = os.path.abspath(path)
    while not os.path.exists(p):  # the evidence dir may not exist yet: ask its parent
        parent = os.path.dirname(p)
        if parent == p:
            return None
        p = parent
    try:
        return shutil.disk_usage(p).free
    except OSError:
        return None


def _filter_writable() -> bool | None:
    path = "/proc/self/coredump_filter"
    current = _read(path)
    if current is None:
        return None
    try:
        with open(path, "w") as f:
            f.write("0x" + current)  # write back what is there: doctor changes nothing
        return True
    except OSError:
        return False


def _storage() -> str | None:
    value = None
    for path in ("/etc/systemd/coredump.conf", *sorted(
            os.path.join(d, n) for d in ("/etc/systemd/coredump.conf.d",)
            if os.path.isdir(d) for n in os.listdir(d))):
        for line in (_read(path) or "").splitlines():
            line = line.strip()
            if line.startswith("Storage="):
                value = line.split("=", 1)[1].strip()
    return value


def _hidepid() -> str | None:
    for line in (_read("/proc/self/mounts") or "").splitlines():
        parts = line.split()
        if len(parts) > 3 and parts[1] == "/proc" and parts[2] == "proc":
            for opt in parts[3].split(","):
                if opt.startswith("hidepid="):
                    return opt.split("=", 1)[1]
    return None


def _process_visibility() -> tuple[int | None, int, int]:
    import psutil

    me = os.getuid() if hasattr(os, "getuid") else None
    total = others = denied = 0
    for p in psutil.process_iter(["uids"], ad_value=None):
        total += 1
        uids = p.info.get("uids")
        if me is None or uids is None or uids.real == me:
            continue
        others += 1
        try:
            p.io_counters() if hasattr(p, "io_counters") else None
            p.num_fds() if hasattr(p, "num_fds") else None
        except psutil.AccessDenied:
            denied += 1
        except psutil.Error:
            pass
    return total, others, denied


def gather(evidence_dir: str, evidence_cap: int | None) -> Facts:
    """Look at this machine and return what ``diagnose`` needs."""
    plat = sys.platform
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    total, others, denied = _process_visibility()
    common = dict(platform=plat, is_root=is_root, procs_total=total, procs_other_users=others,
                  procs_other_unreadable=denied, evidence_dir=evidence_dir,
                  evidence_free=_free(evidence_dir), evidence_cap=evidence_cap)
    if plat.startswith("win"):
        from flakehunt.evidence.coredump_windows import read_localdumps, wer_settings

        settings = wer_settings(*read_localdumps("flakehunt-any.exe"), dict(os.environ))
        wer = asdict(settings) | {"type_name": settings.type_name}
        return Facts(**common, wer=wer)  # type: ignore[arg-type]
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
    limits = dict(core_soft=-1 if soft == resource.RLIM_INFINITY else soft,
                  core_hard=-1 if hard == resource.RLIM_INFINITY else hard)
    if plat == "darwin":
        from flakehunt.evidence.coredump_macos import DEFAULT_COREFILE, read_sysctl

        corefile = read_sysctl("kern.corefile") or DEFAULT_COREFILE
        enabled = read_sysctl("kern.coredump")
        d = os.path.dirname(corefile) or "/cores"
        return Facts(**common, **limits,  # type: ignore[arg-type]
                     macos_coredump=None if enabled is None else enabled == "1",
                     macos_corefile=corefile, macos_cores_writable=os.access(d, os.W_OK))
    pattern = _read("/proc/sys/kernel/core_pattern")
    uses_pid = _read("/proc/sys/kernel/core_uses_pid")
    dir_writable = None
    if pattern and not pattern.startswith("|") and pattern.startswith("/"):
        tmpl = parse_core_pattern(pattern).template
        d = os.path.dirname(tmpl.split("%", 1)[0]) or "/"
        dir_writable = os.path.isdir(d) and os.access(d, os.W_OK)
    in_container = os.path.exists("/.dockerenv") or os.path.exists("/run/.containerenv")
    return Facts(
        **common, **limits,  # type: ignore[arg-type]
        core_pattern=pattern, core_uses_pid=None if uses_pid is None else uses_pid != "0",
        core_dir_writable=dir_writable, filter_writable=_filter_writable(),
        coredumpctl=shutil.which("coredumpctl") is not None, coredump_storage=_storage(),
        ptrace_scope=_int(_read("/proc/sys/kernel/yama/ptrace_scope")),
        in_container=in_container, hidepid=_hidepid(),
    )
