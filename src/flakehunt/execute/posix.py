"""POSIX process control: sessions, group kills, escaped descendants, reaping.

Every run is started in a new session (so its process group id is its pid and
terminal signals do not reach it); a timeout or an interrupt ends the whole
group, then hunts down descendants that left the group with ``setsid`` by the
``FLAKEHUNT_RUN_ID`` marker they inherited in their environment.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable

PR_SET_CHILD_SUBREAPER = 36  # linux/prctl.h


def enable_subreaper() -> bool:
    """Make orphaned descendants re-parent to us instead of init (Linux only).

    Then an escaped daemon stays our child: we can find it cheaply and reap it
    after killing it, instead of leaving a zombie of init's.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def kill_group(pgid: int, sig: int) -> bool:
    """Send *sig* to process group *pgid*; return False if the group is gone."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    except PermissionError:
        # A member changed credentials (setuid helper); the rest got the signal.
        return True
    return True


def reap_group(pgid: int) -> None:
    """Reap zombies of our own children in group *pgid* (escapees re-parented to us)."""
    while True:
        try:
            pid, _ = os.waitpid(-pgid, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def group_alive(pgid: int) -> bool:
    """Return whether any process of group *pgid* still exists (zombies reaped first)."""
    reap_group(pgid)
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def end_group(
    pgid: int,
    grace: float,
    *,
    already_termed: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """TERM group *pgid*, wait up to *grace* seconds for it to go, then KILL it."""
    if not already_termed and not kill_group(pgid, signal.SIGTERM):
        return
    deadline = time.monotonic() + grace
    delay = 0.002
    while group_alive(pgid):
        if time.monotonic() >= deadline:
            kill_group(pgid, signal.SIGKILL)
            # SIGKILL is not instantaneous; wait briefly so callers see an empty group.
            for _ in range(200):
                if not group_alive(pgid):
                    break
                sleep(0.005)
            return
        sleep(delay)
        delay = min(delay * 2, 0.05)


def _environ_has(pid: int, needles: Iterable[bytes]) -> bool | None:
    """Whether *pid*'s environment holds a needle; None when it reads empty."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as fh:
            data = fh.read()
    except OSError:
        return False
    if not data:
        return None
    entries = data.split(b"\0")
    return any(n in entries for n in needles)


def _proc_pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


PF_KTHREAD = 0x00200000  # linux/sched.h
MID_EXEC_SETTLE = 0.05  # seconds to wait for an environment that is not published yet

# (pid, start time) of processes whose environment stayed empty (``env -i``):
# not waited for again.
_stayed_empty: set[tuple[int, str]] = set()


def _user_start(pid: int) -> tuple[int, str] | None:
    """(pid, start time) of a live user process; None for kernel threads, zombies, the gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            text = fh.read()
    except OSError:
        return None
    f = text[text.rfind(b")") + 2 :].split()
    if f[0] in (b"Z", b"X") or int(f[6]) & PF_KTHREAD:
        return None
    return pid, f[19].decode()


def marked_pids(markers: Iterable[tuple[str, str]]) -> list[int]:
    """Return pids whose environment holds any ``KEY=VALUE`` of *markers*.

    Reads ``/proc`` directly where it exists (one open per process), psutil
    elsewhere. Processes we may not inspect are skipped: we can't kill them either.
    """
    needles = [f"{k}={v}".encode() for k, v in markers]
    me = os.getpid()
    if os.path.isdir("/proc/self"):
        found: list[int] = []
        unsure: list[tuple[int, str]] = []
        for pid in _proc_pids():
            has = pid != me and _environ_has(pid, needles)
            if has:
                found.append(pid)
            elif has is None and (key := _user_start(pid)) and key not in _stayed_empty:
                unsure.append(key)
        # An empty environment is a kernel thread, a zombie, a process started
        # with none (env -i), or one in the middle of execve: the kernel switches
        # to the new image (waking a vfork parent, closing O_CLOEXEC fds) before
        # it publishes the new environment. Such a process may be a run's daemon
        # just born, so look again for a moment rather than let it escape.
        deadline = time.monotonic() + MID_EXEC_SETTLE
        while unsure and time.monotonic() < deadline:
            time.sleep(0.002)
            still = []
            for key in unsure:
                has = _environ_has(key[0], needles)
                if has:
                    found.append(key[0])
                elif has is None:
                    still.append(key)
            unsure = still
        if len(_stayed_empty) > 4096:
            _stayed_empty.clear()
        _stayed_empty.update(unsure)
        return found
    import psutil

    found = []
    text_needles = {n.decode() for n in needles}
    for proc in psutil.process_iter():
        try:
            env = proc.environ()
        except (psutil.Error, OSError):
            continue
        if any(f"{k}={v}" in text_needles for k, v in env.items()) and proc.pid != me:
            found.append(proc.pid)
    return found


def _in_groups(pid: int, groups: frozenset[int]) -> bool:
    try:
        return os.getpgid(pid) in groups
    except ProcessLookupError:
        return True  # gone already: nothing to kill


def kill_marked(
    markers: Iterable[tuple[str, str]], *, rounds: int = 5, spare_groups: Iterable[int] = ()
) -> list[int]:
    """SIGKILL every process carrying a marker, repeating while new ones appear.

    Repeated because a forking process can create a child between our scan and
    our kill; each round also reaps the ones that were our children. Processes
    in *spare_groups* (runs left alive by ``--no-kill``) are left alone.
    """
    markers = list(markers)
    spare = frozenset(spare_groups)
    killed: list[int] = []
    for _ in range(rounds):
        pids = [p for p in marked_pids(markers) if not (spare and _in_groups(p, spare))]
        if not pids:
            break
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
        time.sleep(0.01)
        for pid in pids:
            _reap_pid(pid)
    return sorted(set(killed))


def _reap_pid(pid: int) -> None:
    for _ in range(50):
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return  # not our child: its own parent (or init) reaps it
        except OSError as exc:  # pragma: no cover - defensive
            if exc.errno == errno.EINTR:
                continue
            return
        if done:
            return
        time.sleep(0.002)


def raise_core_limit() -> tuple[int, int] | None:
    """Raise our soft RLIMIT_CORE to the hard limit (inherited by every child)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
    if soft != hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_CORE)
