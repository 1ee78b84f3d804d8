"""Where Linux puts a core: ``core_pattern`` parsed and matched, pipes to known collectors.

Rules from core(5) and fs/coredump.c (``format_corename``): a pattern starting
with ``|`` pipes the core to a program; otherwise it is a file path, relative
to the crashing process's working directory unless absolute. ``%`` specifiers
expand; an unknown ``%x`` and a trailing ``%`` expand to nothing. Expanded
values have ``/`` replaced by ``!`` (``cn_esc_printf``). When the pattern has no
``%p`` and ``core_uses_pid`` is nonzero, ``.PID`` is appended.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field

# Specifier -> regex matching any value it could take, for values flakehunt
# cannot know in advance (time of the dump, TIDs, dump mode, limit).
_WILD = {
    "p": r"\d+",
    "P": r"\d+",
    "i": r"\d+",
    "I": r"\d+",
    "u": r"\d+",
    "g": r"\d+",
    "s": r"\d+",
    "t": r"\d+",
    "c": r"\d+",
    "d": r"\d",
    "e": r"[^/]+",
    "f": r"[^/]+",
    "E": r"[^/]+",
    "h": r"[^/]+",
}


@dataclass(frozen=True)
class CorePattern:
    """A parsed ``core_pattern``: a file template, or a pipe to a program."""

    raw: str
    kind: str  # "file" or "pipe"
    template: str = ""  # kind == "file"; ".%p" already appended if core_uses_pid says so
    program: str = ""  # kind == "pipe": the helper's path
    args: tuple[str, ...] = ()
    handler: str = ""  # "systemd-coredump", "apport", "abrt" or "" (unknown helper)

    @property
    def relative(self) -> bool:
        """Whether the core lands relative to the crashing process's cwd."""
        return self.kind == "file" and not self.template.startswith("/")


@dataclass(frozen=True)
class CrashInfo:
    """What flakehunt knows about the process that died (values may be unknown)."""

    pid: int | None
    signal: int | None
    cwd: str
    started: float  # epoch seconds of the run's start: older cores are not this run's
    exe: str | None = None  # path of the executable, if known
    uid: int = field(default_factory=lambda: os.getuid() if hasattr(os, "getuid") else 0)
    gid: int = field(default_factory=lambda: os.getgid() if hasattr(os, "getgid") else 0)
    hostname: str = field(default_factory=lambda: _hostname())
    descendants: frozenset[int] = frozenset()  # PIDs seen in the run's tree


def _hostname() -> str:
    return os.uname().nodename if hasattr(os, "uname") else ""


def _handler(program: str) -> str:
    base = os.path.basename(program)
    if base == "systemd-coredump":
        return "systemd-coredump"
    if base == "apport" or base.startswith("apport"):
        return "apport"
    if base.startswith("abrt"):
        return "abrt"
    return ""


def parse_core_pattern(raw: str, core_uses_pid: bool = False) -> CorePattern:
    """Parse the text of ``/proc/sys/kernel/core_pattern`` (and ``core_uses_pid``)."""
    text = raw.rstrip("\n")
    if text.startswith("|"):
        parts = text[1:].strip().split()
        program = parts[0] if parts else ""
        return CorePattern(text, "pipe", program=program, args=tuple(parts[1:]),
                           handler=_handler(program))
    template = text or "core"  # an empty pattern behaves as the default "core"
    if core_uses_pid and "%p" not in template.replace("%%", ""):
        template += ".%p"
    return CorePattern(text, "file", template=template)


def _esc(value: str) -> str:
    return value.replace("/", "!")


def _known_values(info: CrashInfo, exact: bool) -> dict[str, str]:
    vals: dict[str, str] = {"u": str(info.uid), "g": str(info.gid)}
    if info.signal is not None:
        vals["s"] = str(info.signal)
    if info.hostname:
        vals["h"] = _esc(info.hostname)
    if exact and info.pid is not None:
        pids = sorted({info.pid, *info.descendants})
        vals["p"] = "|".join(str(p) for p in pids)  # an alternation, see pattern_regex
    if exact and info.exe:
        name = os.path.basename(info.exe)
        vals["e"] = _esc(name[:15])  # comm is TASK_COMM_LEN (16) including the NUL
        vals["f"] = _esc(name)
        vals["E"] = _esc(info.exe)
    return vals


def pattern_regex(template: str, info: CrashInfo, exact: bool = True) -> str:
    """Return a regex for the expanded *template*; unknown values become wildcards."""
    vals = _known_values(info, exact)
    out: list[str] = []
    i = 0
    while i < len(template):
        c = template[i]
        if c != "%":
            out.append(re.escape(c))
            i += 1
            continue
        spec = template[i + 1 : i + 2]
        i += 2
        if spec == "%":
            out.append("%")
        elif spec == "p" and "p" in vals:
            out.append(f"(?:{vals['p']})")  # the run's PID or one of its descendants
        elif spec in vals:
            out.append(re.escape(vals[spec]))
        elif spec in _WILD:
            out.append(_WILD[spec])
        # else: unknown specifier or trailing '%': the kernel drops both characters
    return "".join(out)


def split_template(template: str, cwd: str) -> tuple[str, str]:
    """Return (directory to list, the varying rest of the template below it)."""
    head = template.split("%", 1)[0]
    base = head.rsplit("/", 1)[0] if "/" in head else ""
    rest = template[len(base) :].lstrip("/")
    if template.startswith("/"):
        return base or "/", rest
    return (os.path.join(cwd, base) if base else cwd), rest


def find_core_file(pattern: CorePattern, info: CrashInfo) -> str | None:
    """Return the newest core matching *pattern* written since the run started, or None.

    The PIDs of the run's tree (and its name) are tried first; then any core
    matching the pattern, since a grandchild born and dead between two snapshots
    is not known. That fallback can take a concurrent run's core when runs share
    a core directory; ``flakehunt doctor`` warns about such set-ups.
    """
    directory, rest = split_template(pattern.template, info.cwd)
    candidates = [
        (os.path.relpath(path, directory).replace(os.sep, "/"), mtime, path)
        for path, mtime in _list_files(directory, rest.count("/"))
        if mtime + 1.0 >= info.started  # mtime has coarse granularity on some filesystems
    ]
    for exact in (True, False):
        regex = re.compile(pattern_regex(rest, info, exact) + r"\Z")
        hits = [(mtime, path) for rel, mtime, path in candidates if regex.match(rel)]
        if hits:
            return max(hits)[1]
    return None


def _list_files(directory: str, depth: int) -> list[tuple[str, float]]:
    out: list[tuple[str, float]] = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return out
    for entry in entries:
        try:
            if entry.is_file(follow_symlinks=False):
                out.append((entry.path, entry.stat(follow_symlinks=False).st_mtime))
            elif depth > 0 and entry.is_dir(follow_symlinks=False):
                out.extend(_list_files(entry.path, depth - 1))
        except OSError:
            continue
    return out


Runner = Callable[[list[str], float], tuple[int, str]]


def run_command(argv: list[str], timeout: float) -> tuple[int, str]:
    """Run *argv* without a shell; return (status, stderr text); 127 when missing."""
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except FileNotFoundError:
        return 127, f"{argv[0]}: not found"
    except subprocess.TimeoutExpired:
        return 124, f"{argv[0]}: timed out after {timeout:.0f}s"
    return proc.returncode, proc.stderr.strip()


def fetch_from_systemd(
    pid: int, dest: str, runner: Runner = run_command, wait: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[bool, str]:
    """Ask systemd-coredump for the core of *pid*; poll, since it stores asynchronously."""
    deadline = time.monotonic() + wait
    detail = ""
    while True:
        status, detail = runner(["coredumpctl", "--no-pager", "-q", "-o", dest, "dump", str(pid)],
                                30.0)
        if status == 0 and os.path.exists(dest):
            return True, "from systemd-coredump (coredumpctl dump)"
        if status == 127:
            return False, "core_pattern pipes to systemd-coredump but coredumpctl is not installed"
        if time.monotonic() >= deadline:
            break
        sleep(0.25)
    why = f": {detail}" if detail else ""
    return False, (
        f"core_pattern pipes to systemd-coredump, which has no core for PID {pid}{why} "
        "(see Storage= and ProcessSizeMax= in /etc/systemd/coredump.conf)"
    )


def find_apport_core(info: CrashInfo, crash_dir: str = "/var/crash",
                     core_dir: str = "/var/lib/apport/coredump") -> tuple[str | None, str]:
    """Find what apport kept for the crash: a core (unpackaged programs) or a .crash report."""
    if info.pid is not None:
        # apport >= 2.20.11 writes cores of unpackaged programs as
        # core.<exe with '/'->'_'>.<uid>.<boot id>.<pid>.<time>
        want = re.compile(rf"core\..*\.{info.uid}\.[0-9a-f-]+\.{info.pid}\.\d+\Z")
        for path, mtime in _list_files(core_dir, 0):
            if mtime + 1.0 >= info.started and want.match(os.path.basename(path)):
                return path, "from apport's core directory"
    if info.exe:
        report = os.path.join(crash_dir, f"{info.exe.replace('/', '_')}.{info.uid}.crash")
        try:
            if os.stat(report).st_mtime + 1.0 >= info.started:
                return report, "apport crash report (the core is inside, base64 in CoreDump)"
        except OSError:
            pass
    return None, (
        "core_pattern pipes to apport, which ignores non-packaged programs "
        "(run 'flakehunt doctor' for the fix)"
    )
