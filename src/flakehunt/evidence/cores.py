"""Core dumps: prepare this process so children dump usefully; find and keep their cores.

``prepare_core_dumps`` is called once in the flakehunt process before any run
starts: ``RLIMIT_CORE`` and ``/proc/self/coredump_filter`` are inherited across
fork and exec (setrlimit(2), core(5)), so every run and its descendants get them.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flakehunt.evidence import coredump_linux as lx
from flakehunt.evidence.budget import EvidenceBudget

# Signals whose default action is "Core" (signal(7)).
CORE_SIGNALS = frozenset(
    int(getattr(signal, n)) for n in (
        "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGSEGV",
        "SIGXCPU", "SIGXFSZ", "SIGSYS",
    ) if hasattr(signal, n)
)
# Bits 0,1 anonymous private/shared, 2 file-backed private (code pages), 4 ELF
# headers, 5 private huge pages: core(5). Written with "0x": the kernel parses
# writes with base 0, so "37" would mean decimal 37 (0x25).
CODE_FILTER = "0x37"
WerReader = Callable[[str], "tuple[Mapping[str, object] | None, Mapping[str, object] | None]"]
FILTER_PATH = "/proc/self/coredump_filter"


@dataclass(frozen=True)
class CoreSetup:
    """What ``prepare_core_dumps`` achieved for this process (and so for its children)."""

    platform: str
    soft_before: int | None = None  # RLIMIT_CORE soft limit found; None: no such limit here
    soft: int | None = None  # soft limit now (-1: unlimited)
    hard: int | None = None
    filter_before: str | None = None
    filter_now: str | None = None  # hex as the kernel shows it, e.g. "00000037"
    problems: tuple[str, ...] = ()

    @property
    def cores_possible(self) -> bool:
        """Whether file cores can be written at all (the soft limit is above zero)."""
        return self.soft is None or self.soft != 0

    @property
    def code_pages(self) -> bool:
        """Whether cores will include file-backed private mappings (bit 2)."""
        try:
            return self.filter_now is not None and bool(int(self.filter_now, 16) & 0x4)
        except ValueError:
            return False


def prepare_core_dumps(
    resource_api: Any = None, filter_path: str = FILTER_PATH, platform: str = sys.platform
) -> CoreSetup:
    """Raise RLIMIT_CORE to its hard limit and ask for code pages in cores; say what worked."""
    if platform.startswith("win"):
        return CoreSetup(platform)  # WER decides; nothing to inherit
    if resource_api is None:
        import resource as resource_api
    problems: list[str] = []
    limit = resource_api.RLIMIT_CORE
    soft_before, hard = resource_api.getrlimit(limit)
    soft = soft_before
    if soft != hard:
        try:
            resource_api.setrlimit(limit, (hard, hard))
            soft = hard
        except (ValueError, OSError) as exc:
            problems.append(f"cannot raise RLIMIT_CORE to its hard limit: {exc}")
    if hard == 0:
        problems.append("the hard RLIMIT_CORE is 0, so no core file can be written")
    before = now = None
    if platform.startswith("linux"):
        try:
            with open(filter_path) as f:
                before = f.read().strip()
            with open(filter_path, "w") as f:
                f.write(CODE_FILTER)
            with open(filter_path) as f:
                now = f.read().strip()
        except OSError as exc:
            problems.append(f"cannot set {filter_path}: {exc.strerror}; cores will lack code pages")
            now = now or before
    return CoreSetup(platform, soft_before, soft, hard, before, now, tuple(problems))


@dataclass(frozen=True)
class CoreResult:
    """Whether the run's core was kept, where, and a reason a person can act on."""

    captured: bool
    path: str | None
    reason: str
    size: int | None = None


def is_core_signal(returncode: int | None) -> bool:
    """Whether *returncode* (Python convention: -N) is death by a core-dumping signal."""
    return returncode is not None and returncode < 0 and -returncode in CORE_SIGNALS


def move_into(src: str, dest_dir: str, budget: EvidenceBudget, name: str | None = None,
              copy: bool = False) -> CoreResult:
    """Move (or copy) *src* into *dest_dir* if it fits in *budget*."""
    try:
        size = os.stat(src).st_size
    except OSError as exc:
        return CoreResult(False, None, f"core at {src} vanished: {exc.strerror}")
    if not budget.try_reserve(size):
        return CoreResult(False, None, f"core at {src} not kept: {budget.refusal_reason(size)}",
                          size)
    os.makedirs(dest_dir, exist_ok=True)
    dst = os.path.join(dest_dir, name or os.path.basename(src))
    try:
        if copy:
            shutil.copyfile(src, dst)
        else:
            shutil.move(src, dst)  # rename on one filesystem, copy+unlink across
    except OSError as exc:
        budget.release(size)
        return CoreResult(False, None, f"cannot move core {src} into {dest_dir}: {exc.strerror}",
                          size)
    return CoreResult(True, dst, "", size)


@dataclass
class CoreCollector:
    """Find the core of a dead run on this machine and move it into evidence."""

    platform: str = sys.platform
    setup: CoreSetup | None = None
    pattern: lx.CorePattern | None = None  # Linux
    corefile: str = ""  # macOS kern.corefile
    runner: lx.Runner = lx.run_command
    wer_reader: WerReader | None = None  # Windows, injectable
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))

    @classmethod
    def for_this_machine(cls, setup: CoreSetup | None = None) -> CoreCollector:
        """Read core_pattern (or kern.corefile) once, for the whole campaign."""
        col = cls(setup=setup)
        if sys.platform.startswith("linux"):
            col.pattern = lx.parse_core_pattern(_read("/proc/sys/kernel/core_pattern", "core"),
                                                _read("/proc/sys/kernel/core_uses_pid", "0") != "0")
        elif sys.platform == "darwin":
            from flakehunt.evidence.coredump_macos import DEFAULT_COREFILE, read_sysctl

            col.corefile = read_sysctl("kern.corefile") or DEFAULT_COREFILE
        return col

    def collect(self, *, pid: int | None, returncode: int | None, cwd: str, started: float,
                dest_dir: str, budget: EvidenceBudget, exe: str | None = None,
                core_dumped: bool | None = None,
                descendants: frozenset[int] = frozenset()) -> CoreResult:
        """Find the core of the run that ended with *returncode*; keep it within *budget*."""
        if self.platform.startswith("win"):
            return self._collect_windows(pid, returncode, started, dest_dir, budget, exe,
                                         descendants)
        if not is_core_signal(returncode) and not core_dumped:
            return CoreResult(False, None, "the run did not die by a core-dumping signal")
        no_limit = self.setup is not None and not self.setup.cores_possible
        if no_limit and (self.pattern is None or self.pattern.kind == "file"):
                return CoreResult(False, None, "RLIMIT_CORE is 0 (ulimit -c 0) and its hard "
                                  "limit cannot be raised, so no core was written")
        if self.platform == "darwin":
            return self._collect_macos(pid, started, dest_dir, budget, exe)
        pattern = self.pattern or lx.parse_core_pattern("core")
        info = lx.CrashInfo(pid, -returncode if returncode and returncode < 0 else None,
                            cwd, started, exe, descendants=descendants)
        if pattern.kind == "pipe":
            return self._collect_pipe(pattern, info, dest_dir, budget)
        found = lx.find_core_file(pattern, info)
        if found is None:
            where = "the run's working directory" if pattern.relative else "its directory"
            why = " (the kernel reported no core dumped)" if core_dumped is False else ""
            return CoreResult(False, None, f"no core matching core_pattern {pattern.raw!r} in "
                              f"{where} since the run started{why}")
        base = os.path.basename(found)
        return _reasoned(move_into(found, dest_dir, budget, base if base != "core" else
                                   f"core.{pid}"), f"core_pattern {pattern.raw!r}")

    def _collect_pipe(self, pattern: lx.CorePattern, info: lx.CrashInfo, dest_dir: str,
                      budget: EvidenceBudget) -> CoreResult:
        if pattern.handler == "systemd-coredump" and info.pid is not None:
            os.makedirs(dest_dir, exist_ok=True)
            dest = os.path.join(dest_dir, f"core.{info.pid}")
            ok, why = lx.fetch_from_systemd(info.pid, dest, self.runner)
            if not ok:
                return CoreResult(False, None, why)
            size = os.path.getsize(dest)
            if not budget.try_reserve(size):
                os.unlink(dest)  # systemd-coredump still holds its own copy
                return CoreResult(False, None, f"core from systemd-coredump not kept: "
                                  f"{budget.refusal_reason(size)}", size)
            return CoreResult(True, dest, why, size)
        if pattern.handler == "apport":
            found, why = lx.find_apport_core(info)
            if found is None:
                return CoreResult(False, None, why)
            # apport's files belong to apport's bookkeeping: copy, do not move.
            return _reasoned(move_into(found, dest_dir, budget, copy=True), why)
        name = os.path.basename(pattern.program) or "an unknown program"
        return CoreResult(False, None, f"core_pattern pipes to {name}, which flakehunt cannot "
                          "collect from; find the core with that tool")

    def _collect_macos(self, pid: int | None, started: float, dest_dir: str,
                       budget: EvidenceBudget, exe: str | None) -> CoreResult:
        from flakehunt.evidence.coredump_macos import find_macos_core

        if pid is None:
            return CoreResult(False, None, "the run's PID is unknown")
        found = find_macos_core(self.corefile, pid, os.path.basename(exe or ""), os.getuid(),
                                started)
        if found is None:
            return CoreResult(False, None, f"no core at {self.corefile} for PID {pid} (is "
                              "kern.coredump 1 and /cores writable? see 'flakehunt doctor')")
        return _reasoned(move_into(found, dest_dir, budget), f"kern.corefile {self.corefile}")

    def _collect_windows(self, pid: int | None, returncode: int | None, started: float,
                         dest_dir: str, budget: EvidenceBudget, exe: str | None,
                         descendants: frozenset[int]) -> CoreResult:
        from flakehunt.evidence import coredump_windows as wn

        if returncode is None or (returncode & 0xFFFFFFFF) < 0xC0000000:
            return CoreResult(False, None, "the run did not end by an unhandled exception")
        if pid is None or not exe:
            return CoreResult(False, None, "the run's PID or executable is unknown")
        reader = self.wer_reader or wn.read_localdumps
        global_values, app_values = reader(exe)
        settings = wn.wer_settings(global_values, app_values, self.env)
        if not settings.enabled:
            return CoreResult(False, None, settings.reason)
        found = wn.find_wer_dump(settings, exe, pid, started, descendants)
        if found is None:
            return CoreResult(False, None, f"no {wn.dump_name(exe, pid)} in {settings.folder}")
        how = f"WER LocalDumps ({settings.type_name} dump)"
        return _reasoned(move_into(found, dest_dir, budget), how)


def _reasoned(result: CoreResult, how: str) -> CoreResult:
    if result.captured:
        return CoreResult(True, result.path, how, result.size)
    return result


def _read(path: str, default: str) -> str:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return default
