"""The campaign's watch: one sampling thread plus cheap per-run hooks for the scheduler.

Per run (slot threads): ``before_launch`` (the resource guard's pause, a
``--kill-leaker`` kill), ``run_started`` and ``run_ended`` (orphans; per-variant
load gating). Once a ``every`` seconds (its own thread): a scan of every
process for the leak fits and the zombie count, the guard's measurements, and
reaping of orphans that ended. The main thread drains ``take_notices``.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from flakehunt.campaign.model import AttemptResult
from flakehunt.load.profile import LoadProfile, parse_profile
from flakehunt.load.stressors import LoadManager
from flakehunt.watch import procscan
from flakehunt.watch.guard import GuardLimits, shortfall
from flakehunt.watch.leaks import LeakWatch, describe
from flakehunt.watch.orphans import Orphan, OrphanWatch
from flakehunt.watch.report import WatchReport

NOTICE_EVERY = 30.0  # seconds between live notices of one kind
MAX_ORPHANS_KEPT = 1000


def default_settings() -> dict[str, Any]:
    """The watch settings when the user gave none (stored in the spec for --resume)."""
    return {"every": 1.0, "kill_orphans": False, "leave_orphans": False, "kill_leaker": [],
            "min_free_disk": None, "min_free_mem": None, "load": "", "load_cmd": "",
            "variant_load": {}}


class RunWatch:
    """Orphans, zombies, leaks, the resource guard and the load of one campaign."""

    def __init__(self, settings: Mapping[str, Any], *, marker_env: Mapping[str, str], cwd: str,
                 evidence_root: str, scan: Callable[[], list[procscan.ProcSample]] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        s = {**default_settings(), **dict(settings)}
        self.every = float(s["every"] or 0.0)
        self.kill_orphans = bool(s["kill_orphans"])
        self.leave_orphans = bool(s["leave_orphans"])
        self.kill_leaker = frozenset(s["kill_leaker"] or ())
        self.limits = GuardLimits(s["min_free_disk"], s["min_free_mem"], (cwd, evidence_root))
        campaign = parse_profile(s["load"] or "")
        if s["load_cmd"]:
            campaign = campaign.plus(LoadProfile(cmd=s["load_cmd"]))
        per_variant = {k: parse_profile(v, option="--variant-load")
                       for k, v in (s["variant_load"] or {}).items()}
        self.marker = next(iter(marker_env.items()), ("FLAKEHUNT_SESSION", ""))
        self.load = LoadManager(campaign, per_variant, marker_env=marker_env, workdir=cwd)
        self.orphans = OrphanWatch(self.marker)
        self.leak = LeakWatch()
        self.report = WatchReport(load=campaign.text(),
                                  variant_load={k: v.text() for k, v in per_variant.items()})
        self._scan = scan or procscan.scan
        self.clock = clock
        self.runs_done = 0
        self._completed = itertools.count(1)
        self._notices: list[str] = []
        self._last_notice: dict[str, float] = {}
        self._lock = threading.Lock()
        self._quit = threading.Event()
        self._thread: threading.Thread | None = None
        self._pause_reason: str | None = None
        self._paused_since = 0.0
        self._pending_kills: list[tuple[int, float, str]] = []
        self._killed: dict[tuple[int, float], str] = {}
        self._ours: dict[tuple[int, float], bool] = {}
        self._zombie_max = 0
        self._last_zombies: set[int] = set()  # zombie pids at the previous scan
        self._started = False
        self._want_thread = False

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        """Start the stressors and the sampling thread; measure the guard once now."""
        self.load.start()
        self.orphans.exclude |= self.load.pids
        self._started = True
        self._guard()  # the first launch must wait if the machine is already short
        # The sampling thread starts with the first launch: after the executor
        # forked its guardian (a fork is safest while no thread of ours runs).
        self._want_thread = self.every > 0 or self.limits.active or bool(self.kill_leaker)

    def _start_thread(self) -> None:
        with self._lock:
            if not self._want_thread or self._quit.is_set():
                return
            self._want_thread = False
            self._thread = threading.Thread(target=self._loop, name="flakehunt-watch",
                                            daemon=True)
            self._thread.start()

    def _stop_thread(self) -> None:
        self._quit.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def campaign_ending(self, executor: Any) -> None:
        """At the end, before the executor's sweep: stop the load, list or spare leftovers."""
        self._stop_thread()
        self._final_zombies()
        self._set_pause(None, quiet=True)  # count the pause up to the end; no "resumed"
        self.load.stop()
        spared = set(getattr(executor, "left_running", ()))
        left = [o for o in self.orphans.leftovers() if not _in_groups(o.pid, spared)]
        self.report.leftovers = left
        self.report.leftovers_ended = not self.leave_orphans
        if self.leave_orphans:
            if hasattr(executor, "spare_leftovers"):
                executor.spare_leftovers = True
        elif left:
            self.orphans.kill(left)

    def close(self) -> None:
        """Release everything (idempotent; also on errors and Ctrl-C)."""
        self._stop_thread()
        self.load.stop()
        self.orphans.close()
        self.report.leaks = self.leak_list()

    # -- per run (slot threads) --------------------------------------------------------

    def before_launch(self, stop: threading.Event) -> None:
        """Wait while the machine is below a floor; end a pending --kill-leaker target."""
        if self._want_thread:
            self._start_thread()
        while self._pause_reason is not None and not stop.is_set():
            stop.wait(0.2)
        if self._pending_kills:
            with self._lock:
                pending, self._pending_kills = self._pending_kills, []
            for pid, start, name in pending:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGTERM)
                    self._killed[(pid, start)] = name
                    self.report.leakers_killed.append((name, pid))
                    self._notice("kill", f"--kill-leaker: ended {name} pid {pid} between runs",
                                 force=True)

    def run_started(self, run_id: str, seq: int, variant: str) -> None:
        """A run is about to start."""
        self.orphans.run_started(run_id, seq)
        self.load.run_started(variant)

    def run_ended(self, result: AttemptResult) -> dict[str, Any] | None:
        """Account for a finished run; return what its evidence record gets, if anything."""
        a = result.attempt
        self.load.run_ended(a.variant)
        self.runs_done = next(self._completed)  # atomic under the GIL, unlike += 1
        found = self.orphans.run_ended(a.run_id, a.seq, result.pid)
        if not found:
            return None
        doc: dict[str, Any] = {"orphans": [o.to_dict() for o in found]}
        with self._lock:
            if len(self.report.orphans) < MAX_ORPHANS_KEPT:
                self.report.orphans += found
        if self.kill_orphans:
            ended = self.orphans.kill(found)
            self.report.orphans_killed += len(found)
            doc["orphans_killed"] = ended
        self._notice("orphan", f"run {a.seq}: {len(found)} process(es) outlived it: "
                     + "; ".join(o.line() for o in found[:3])
                     + (" (ended: --kill-orphans)" if self.kill_orphans else ""))
        return doc

    def take_notices(self) -> list[str]:
        """Return the notices gathered since the last call (main thread)."""
        if not self._notices:
            return []
        with self._lock:
            out, self._notices = self._notices, []
        return out

    def leak_list(self) -> list[Any]:
        """The leaks found so far."""
        with self._lock:
            return self.leak.leaks()

    # -- the sampling thread -------------------------------------------------------------

    def _loop(self) -> None:
        interval = self.every if self.every > 0 else 1.0
        # The first sample after one interval: a campaign shorter than that is
        # not worth a scan of every process (and a one-second fit says nothing).
        while not self._quit.wait(interval):
            try:
                self._tick()
            except Exception as exc:  # the watch must never stop the hunt
                self._notice("watch", f"watch: sample failed: {exc}")

    def _tick(self) -> None:
        self._guard()
        self.orphans.reap()
        if self.every <= 0 and not self.kill_leaker:
            return
        samples = self._scan()
        self.report.samples += 1
        ours = self._our_keys(samples)
        with self._lock:
            self.leak.add(samples, self.runs_done, ours)
            leaks = self.leak.leaks()
        self._zombies(samples)
        if leaks:
            self._notice("leak", "leaking with the runs: " + " · ".join(describe(leaks)[:3]))
        alive = {(s.pid, s.start) for s in samples}
        for key in [k for k in self._killed if k in alive]:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(key[0], signal.SIGKILL)  # it ignored the TERM of the last tick
        if self.kill_leaker:
            with self._lock:
                for lk in leaks:
                    start = next((s.start for s in samples if s.pid == lk.pid), 0.0)
                    key = (lk.pid, start)
                    if lk.name in self.kill_leaker and key not in self._killed and not any(
                            p[0] == lk.pid for p in self._pending_kills):
                        self._pending_kills.append((lk.pid, start, lk.name))

    def _our_keys(self, samples: list[procscan.ProcSample]) -> set[tuple[int, float]]:
        """Keys of flakehunt, its descendants, its stressors and orphans, and marked ones."""
        children: dict[int, list[int]] = {}
        for s in samples:
            children.setdefault(s.ppid, []).append(s.pid)
        mine = {os.getpid()} | self.load.pids | set(self.orphans.known)
        todo = list(mine)
        while todo:
            for c in children.get(todo.pop(), ()):
                if c not in mine:
                    mine.add(c)
                    todo.append(c)
        needle = f"{self.marker[0]}={self.marker[1]}".encode()
        keys = set()
        for s in samples:
            key = (s.pid, s.start)
            if s.pid in mine:
                self._ours[key] = True
            elif key not in self._ours:
                # Once per process: a daemon of a run re-parented elsewhere still
                # carries the session marker.
                self._ours[key] = bool(procscan.environ_has(s.pid, needle))
            if self._ours[key]:
                keys.add(key)
        if len(self._ours) > 4 * len(samples) + 1000:
            live = {(s.pid, s.start) for s in samples}
            self._ours = {k: v for k, v in self._ours.items() if k in live}
        return keys

    def _zombies(self, samples: list[procscan.ProcSample]) -> None:
        zombies = [s for s in samples if s.state == "Z"]
        now = {s.pid for s in zombies}
        if self.report.zombies_start is not None:
            # Only zombies left unreaped for a whole interval: every process is a
            # zombie for a moment between its exit and its parent's wait (a run's
            # leader before its slot's wait4, a build's compiler before make's).
            zombies = [s for s in zombies if s.pid in self._last_zombies]
        self._last_zombies = now
        n = len(zombies)
        if self.report.zombies_start is None:
            self.report.zombies_start = self._zombie_max = n
        self.report.zombies_end = n
        if n > self._zombie_max:
            self._zombie_max = n
            names = {s.pid: s.name for s in samples}
            count: dict[int, int] = {}
            for z in zombies:
                count[z.ppid] = count.get(z.ppid, 0) + 1
            ranked = sorted(count.items(), key=lambda kv: -kv[1])
            self.report.zombie_parents = [(names.get(p, "?"), p, k) for p, k in ranked]
            who = ", ".join(f"{names.get(p, '?')} pid {p} ({k})" for p, k in ranked[:3])
            self._notice("zombie", f"zombies: {n} (were {self.report.zombies_start}); "
                         f"parents: {who}")

    def _final_zombies(self) -> None:
        if self.every > 0 and self._started and self.report.samples:
            # As each tick does: orphans re-parented to us that ended are ours to
            # reap, not zombies someone leaks.
            self.orphans.reap()
            with contextlib.suppress(Exception):
                self._zombies(self._scan())

    def _guard(self) -> None:
        if not self.limits.active:
            return
        self._set_pause(shortfall(self.limits))

    def _set_pause(self, reason: str | None, *, quiet: bool = False) -> None:
        now = self.clock()
        was = self._pause_reason
        if reason is not None and was is None:
            self._paused_since = now
            self.report.pauses += 1
            if len(self.report.pause_reasons) < 10:
                self.report.pause_reasons.append(reason)
            self._notice("pause", f"paused launching: {reason}", force=True)
        elif reason is None and was is not None:
            took = now - self._paused_since
            self.report.paused_seconds += took
            if not quiet:
                self._notice("pause", f"resumed launching after {took:.1f}s", force=True)
        self._pause_reason = reason

    def _notice(self, kind: str, text: str, *, force: bool = False) -> None:
        now = self.clock()
        with self._lock:
            last = self._last_notice.get(kind)
            if not force and last is not None and now - last < NOTICE_EVERY:
                return
            self._last_notice[kind] = now
            self._notices.append(text)

    @property
    def paused(self) -> bool:
        """Whether launching is held back now."""
        return self._pause_reason is not None


def _in_groups(pid: int, groups: set[int]) -> bool:
    if not groups:
        return False
    try:
        return os.getpgid(pid) in groups
    except OSError:
        return False


__all__ = ["Orphan", "RunWatch", "default_settings"]
