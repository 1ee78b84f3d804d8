"""External tracers and failure hooks: ``--tracer``, ``--tracer-snapshot``, ``--on-failure``.

Commands are split with ``shlex`` first and placeholders substituted into the
resulting argv entries afterwards, so a ``{run_dir}`` with spaces or quotes
stays one argument and is never re-parsed by a shell (unless ``shell=True``
was asked for, where values are quoted with ``shlex.quote``).
"""

from __future__ import annotations

import atexit
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass

from flakehunt.errors import CouldNotStart, UsageError

PLACEHOLDERS = ("run_dir", "pid", "exit", "core")
_FIELD = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")


def substitute(token: str, values: Mapping[str, str], quote: bool = False) -> str:
    """Replace ``{name}`` in *token* (``{{``/``}}`` are literal braces)."""

    def repl(m: re.Match[str]) -> str:
        text = m.group(0)
        if text in ("{{", "}}"):
            return text[0]
        name = m.group(1)
        if name not in PLACEHOLDERS:
            raise UsageError(f"unknown placeholder {{{name}}} in command",
                             f"use {', '.join('{' + p + '}' for p in PLACEHOLDERS)}")
        value = values.get(name, "")
        return shlex.quote(value) if quote else value

    return _FIELD.sub(repl, token)


def split_command(template: str) -> list[str]:
    """Split a command line with POSIX shell rules; UsageError when it cannot be split."""
    try:
        argv = shlex.split(template)
    except ValueError as exc:
        raise UsageError(f"cannot split command {template!r}: {exc}",
                         "check its quotes") from exc
    if not argv:
        raise UsageError("empty command", "give a program and its arguments")
    for tok in argv:
        substitute(tok, {})  # reject unknown placeholders before the campaign starts
    return argv


def expand_command(template: str, values: Mapping[str, str], shell: bool = False) -> list[str]:
    """Return the argv to run for *template* with *values* substituted."""
    if shell:
        split_command(template)  # validates placeholders
        return ["/bin/sh", "-c", substitute(template, values, quote=True)]
    return [substitute(tok, values) for tok in split_command(template)]


@dataclass(frozen=True)
class HookResult:
    """How a failure hook (``--on-failure`` or a snapshot command) ended."""

    argv: tuple[str, ...]
    returncode: int | None
    log_path: str
    reason: str = ""


def run_hook(argv: list[str], cwd: str, log_path: str, timeout: float = 60.0) -> HookResult:
    """Run *argv* with output to *log_path*, in its own session, killed after *timeout*."""
    with open(log_path, "ab") as log:
        try:
            proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as exc:
            return HookResult(tuple(argv), None, log_path, f"could not start: {exc.strerror}")
        try:
            rc = proc.wait(timeout)
            return HookResult(tuple(argv), rc, log_path)
        except subprocess.TimeoutExpired:
            _kill_group(proc, signal.SIGKILL)
            proc.wait()
            return HookResult(tuple(argv), proc.returncode, log_path,
                              f"killed after {timeout:.0f}s")


def _kill_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    try:
        if sys.platform.startswith("win"):
            proc.kill()
        else:
            os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def parse_snapshot(spec: str) -> int | str:
    """Read ``--tracer-snapshot``: a signal (``USR2``, ``SIGUSR2``, ``12``) or a command."""
    text = spec.strip()
    name = text.upper()
    if name.isdigit():
        return int(name)
    for cand in (name, "SIG" + name):
        if cand.isidentifier() and hasattr(signal, cand) and cand.startswith("SIG") \
                and "_" not in cand:
            return int(getattr(signal, cand))
    split_command(text)
    return text


class Tracer:
    """An external tracer for the whole campaign, in its own process group, never orphaned.

    It is stopped by ``stop`` (SIGINT first, as ``perf record`` and ``lttng``
    expect, then SIGTERM, then SIGKILL to the group), by ``atexit``, and on
    Linux by the kernel if flakehunt itself dies (``setpriv --pdeathsig``).
    """

    def __init__(self, command: str, workdir: str, snapshot: str | None = None) -> None:
        self.argv = split_command(command)
        self.workdir = workdir  # the tracer's cwd: where its output (perf.data...) lands
        self.snapshot_spec = parse_snapshot(snapshot) if snapshot else None
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = os.path.join(workdir, "tracer.log")

    def start(self) -> None:
        """Start the tracer; CouldNotStart when it cannot be started or exits at once."""
        os.makedirs(self.workdir, exist_ok=True)
        argv = list(self.argv)
        setpriv = shutil.which("setpriv") if sys.platform.startswith("linux") else None
        if setpriv:
            argv = [setpriv, "--pdeathsig", "KILL", "--", *argv]
        with open(self.log_path, "ab") as log:
            try:
                self.proc = subprocess.Popen(argv, cwd=self.workdir, stdin=subprocess.DEVNULL,
                                             stdout=log, stderr=subprocess.STDOUT,
                                             start_new_session=True)
            except OSError as exc:
                raise CouldNotStart(f"cannot start tracer {self.argv[0]}: {exc.strerror}",
                                    "check --tracer") from exc
        atexit.register(self.stop)
        deadline = time.monotonic() + 0.3  # a tracer that fails exits within this
        while self.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        if self.proc.poll() is not None:
            raise CouldNotStart(f"tracer {self.argv[0]} exited at once with status "
                                f"{self.proc.returncode}", f"see {self.log_path}")

    @property
    def running(self) -> bool:
        """Whether the tracer process is alive."""
        return self.proc is not None and self.proc.poll() is None

    def snapshot(self, dest_dir: str, values: Mapping[str, str], settle: float = 1.0
                 ) -> HookResult | None:
        """Send the snapshot signal or run the snapshot command; move new output to *dest_dir*."""
        if self.snapshot_spec is None:
            return None
        os.makedirs(dest_dir, exist_ok=True)
        before = set(os.listdir(self.workdir))
        log = os.path.join(dest_dir, "tracer-snapshot.log")
        if isinstance(self.snapshot_spec, int):
            if not self.running or self.proc is None:
                return HookResult((), None, log, "the tracer is not running")
            os.kill(self.proc.pid, self.snapshot_spec)
            result = HookResult(("kill", f"-{self.snapshot_spec}", str(self.proc.pid)), 0, log)
        else:
            result = run_hook(expand_command(self.snapshot_spec, values), dest_dir, log)
        _move_new_files(self.workdir, before, dest_dir, settle)
        return result

    def stop(self, grace: float = 10.0) -> int | None:
        """Stop the tracer and its group; return its exit status."""
        proc = self.proc
        if proc is None:
            return None
        for sig, wait in ((signal.SIGINT, grace), (signal.SIGTERM, 2.0), (signal.SIGKILL, 5.0)):
            if proc.poll() is not None:
                break
            _kill_group(proc, sig)
            try:
                proc.wait(wait)
            except subprocess.TimeoutExpired:
                continue
        _kill_group(proc, signal.SIGKILL)  # leftovers of the group, if any
        self.proc = None
        atexit.unregister(self.stop)
        return proc.returncode


def _move_new_files(src: str, before: set[str], dest: str, settle: float) -> list[str]:
    """Move files that appeared in *src* once their sizes stop changing."""
    deadline = time.monotonic() + settle
    sizes: dict[str, int] = {}
    while True:
        new = {n: os.path.getsize(os.path.join(src, n)) for n in os.listdir(src)
               if n not in before and n != "tracer.log"
               and os.path.isfile(os.path.join(src, n))}
        if (new and new == sizes) or time.monotonic() >= deadline:
            break
        sizes = new
        time.sleep(0.1)
    moved = []
    for name in sorted(new):
        shutil.move(os.path.join(src, name), os.path.join(dest, name))
        moved.append(name)
    return moved
