"""Orphans: processes that descend from a run and outlived it (daemons that ``setsid`` away).

On Linux flakehunt is a child subreaper (``PR_SET_CHILD_SUBREAPER``), so a
descendant whose parent dies re-parents to flakehunt's main thread, and the
kernel lists it in ``/proc/self/task/PID/children`` (proc(5)). Reading that
one file again with ``pread`` costs about a microsecond, so it is done after
every run; only when it lists a pid not seen before is anything else read:
the newcomer's environment (the ``FLAKEHUNT_RUN_ID`` it inherited says which
run it came from), its session and group (a scrubbed environment still keeps
the run's session id), its name and command line. Without a subreaper (other
systems, or prctl refused) the run's marker is searched in every process's
environment instead, which costs a scan of /proc per run.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from flakehunt.watch.procscan import cmdline_of, environ_of

RUN_KEY = "FLAKEHUNT_RUN_ID"
MAX_LEADERS = 4096  # run leaders remembered for attribution by session id


_SETTLE_TRIES = 25  # looks at a new child still being born (a double fork in flight)
_SETTLE_PAUSE = 0.004


@dataclass(frozen=True)
class Orphan:
    """A process left behind by a run."""

    pid: int
    name: str
    cmdline: str
    run: int | None  # the run's sequence number, when known
    found_by: str  # "marker", "session" or "ancestry"

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able form."""
        return {"pid": self.pid, "name": self.name, "cmdline": self.cmdline, "run": self.run,
                "found_by": self.found_by}

    def line(self) -> str:
        """Say who it is, in one line."""
        origin = f"run {self.run}" if self.run is not None else "a run"
        return f"{self.name} pid {self.pid} from {origin}: {self.cmdline[:120]}"


def _stat_fields(pid: int) -> tuple[str, int, int] | None:
    """Return (name, pgid, sid) of *pid*, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            text = fh.read().decode("utf-8", "replace")
    except OSError:
        return None
    lp, rp = text.find("("), text.rfind(")")
    f = text[rp + 2 :].split()
    if f[0] == "Z":
        return None  # a zombie of ours: reaped, not reported
    return text[lp + 1 : rp], int(f[2]), int(f[3])


def _zombie_session(pid: int) -> int | None:
    """The session id of *pid* if it is a zombie, else None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            text = fh.read()
    except OSError:
        return None
    f = text[text.rfind(b")") + 2 :].split()
    return int(f[3]) if f[0] == b"Z" else None


class OrphanWatch:
    """Find, record and (optionally) end the processes each run leaves behind."""

    def __init__(self, session_marker: tuple[str, str], *, proc_children: str | None = None,
                 use_children: bool = True) -> None:
        self.session_marker = session_marker
        self.exclude: set[int] = set()  # the guardian, stressors: ours, not the runs'
        self.known: dict[int, Orphan] = {}
        self._foreign: set[int] = set()  # our children that no run started (the guardian)
        self._running: dict[str, int] = {}  # run id -> seq, for runs in flight
        self._leaders: OrderedDict[int, int] = OrderedDict()  # leader pid (= session id) -> seq
        self._lock = threading.Lock()
        self._last = b""
        self._fd: int | None = None
        if use_children:
            path = proc_children or f"/proc/self/task/{os.getpid()}/children"
            with contextlib.suppress(OSError):
                self._fd = os.open(path, os.O_RDONLY)

    @property
    def cheap(self) -> bool:
        """Whether the children list is readable (else each run costs a /proc scan)."""
        return self._fd is not None

    def close(self) -> None:
        """Release the children file."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def run_started(self, run_id: str, seq: int) -> None:
        """Note a run in flight: what it spawns is not an orphan while it runs."""
        self._running[run_id] = seq

    def run_ended(self, run_id: str, seq: int, leader: int | None) -> list[Orphan]:
        """Return the processes that outlived runs, newly found after run *seq* ended."""
        self._running.pop(run_id, None)
        if leader is not None:
            self._leaders[leader] = seq
            if len(self._leaders) > MAX_LEADERS:
                self._leaders.popitem(last=False)  # O(1); dict.pop(next(iter())) is not
        if self._fd is not None:
            try:
                data = os.pread(self._fd, 1 << 16, 0)
            except OSError:
                return []
            if data == self._last:
                return []  # the per-run fast path: nothing new re-parented to us
            found: list[Orphan] = []
            for attempt in range(_SETTLE_TRIES):
                with self._lock:
                    more, settled = self._classify([int(p) for p in data.split()])
                    found += more
                    if settled:
                        self._last = data
                if settled or attempt == _SETTLE_TRIES - 1:
                    break
                # Something new is still being born (a double fork in flight):
                # give it a few milliseconds so it is pinned to this run.
                time.sleep(_SETTLE_PAUSE)
                try:
                    data = os.pread(self._fd, 1 << 16, 0)
                except OSError:
                    break
            return found
        from flakehunt.execute.posix import marked_pids

        with self._lock:
            return self._classify(marked_pids([(RUN_KEY, run_id)]))[0]

    def _classify(self, pids: list[int]) -> tuple[list[Orphan], bool]:
        found: list[Orphan] = []
        settled = True
        for pid in pids:
            if pid in self.known or pid in self.exclude or pid in self._foreign:
                continue
            fields = _stat_fields(pid)
            if fields is None:
                continue
            name, _pgid, sid = fields
            env = environ_of(pid)
            if not env:
                # Unreadable or empty: a process in the middle of execve (a daemon's
                # setsid + exec) shows no environment for a moment. Not foreign:
                # look again, or it would never be attributed to its run.
                settled = False
                continue
            run_id = env.get(RUN_KEY)
            if run_id is not None and run_id in self._running:
                settled = False  # its run is still going: look again later
                continue
            seq: int | None = None
            how = "ancestry"
            if run_id is not None:
                how = "marker"
                with contextlib.suppress(ValueError):
                    seq = int(env.get("FLAKEHUNT_RUN", ""))
            elif sid in self._leaders:
                how, seq = "session", self._leaders[sid]
            elif env.get(self.session_marker[0]) != self.session_marker[1]:
                self._foreign.add(pid)  # not from a run: the guardian, a caller's child
                continue
            cmdline = cmdline_of(pid)
            if not cmdline:  # mid-exec as well: its command line is not there yet
                settled = False
                continue
            orphan = Orphan(pid, name, cmdline, seq, how)
            self.known[pid] = orphan
            found.append(orphan)
        return found, settled

    def reap(self) -> None:
        """Reap orphans that ended by themselves (they re-parented to us)."""
        for pid in list(self.known):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid  # not our child (no subreaper): its new parent reaps it
            if done:
                self.known.pop(pid, None)
        if self._fd is None:
            return
        # One that ended before a run's end looked at it was never classified (a
        # zombie has no environment to say whose it is). Its session still says it
        # came from a run: then it is ours to reap. Any other child of ours (the
        # guardian, stressors, a cluster's workers) is waited for by its owner.
        with contextlib.suppress(OSError):
            for p in os.pread(self._fd, 1 << 16, 0).split():
                pid = int(p)
                if pid in self.known or pid in self.exclude or pid in self._foreign:
                    continue
                if _zombie_session(pid) in self._leaders:
                    with contextlib.suppress(ChildProcessError):
                        os.waitpid(pid, os.WNOHANG)

    def kill(self, orphans: list[Orphan]) -> list[int]:
        """End *orphans* and whatever they started since (``--kill-orphans``)."""
        from flakehunt.execute.posix import kill_marked

        ended = []
        for o in orphans:
            env_run = environ_of(o.pid).get(RUN_KEY)  # before the kill: a zombie has none
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(o.pid, signal.SIGKILL)
                ended.append(o.pid)
            if env_run:
                ended += kill_marked([(RUN_KEY, env_run)], rounds=2)
        self.reap_pids(ended)
        return sorted(set(ended))

    def reap_pids(self, pids: list[int]) -> None:
        """Reap *pids* that were our children, forgetting them."""
        import time

        for pid in pids:
            for _ in range(100):
                try:
                    done, _ = os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    break
                if done:
                    break
                time.sleep(0.002)
            self.known.pop(pid, None)

    def leftovers(self) -> list[Orphan]:
        """Return every live process of this campaign's runs, at its end."""
        import time

        from flakehunt.execute.posix import marked_pids

        with self._lock:
            self._running.clear()
            seen: set[int] = set()
            for _ in range(3):  # a daemon may still be forking: look until nothing is new
                pids = set(marked_pids([self.session_marker]))
                if self._fd is not None:
                    with contextlib.suppress(OSError):
                        pids |= {int(p) for p in os.pread(self._fd, 1 << 16, 0).split()}
                if pids <= seen:
                    break
                seen |= pids
                self._classify(sorted(pids))
                time.sleep(0.02)
            live = []
            for pid, o in self.known.items():
                fields = _stat_fields(pid)
                if pid not in self.exclude and fields is not None:
                    # Named now: at discovery it may have been between fork and exec.
                    live.append(Orphan(pid, fields[0], cmdline_of(pid) or o.cmdline, o.run,
                                       o.found_by))
            return live
