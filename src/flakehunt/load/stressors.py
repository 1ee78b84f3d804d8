"""Stressor pools: start, pause, resume and end the processes of a load profile.

Each stressor is a separate process (``flakehunt.load.worker``) in its own
session, carrying the executor's session marker in its environment: the
guardian that outlives a SIGKILLed flakehunt ends everything so marked, and
each worker also asked for PR_SET_PDEATHSIG. PR_SET_PDEATHSIG fires when the
parent *thread* ends, so pools must be started from the main thread.

Per-variant load (``compare --variant-load``): one pool per profile, started
at the beginning and stopped with SIGSTOP; it is resumed with SIGCONT while
at least one run of its variant is in flight and stopped again when the last
one ends. With ``-j 1`` runs of other variants never see it; with parallel
slots a run of another variant that overlaps a loaded run feels that load
too (so keep ``-j 1`` for a clean contrast). A stopped memory stressor keeps
its memory: SIGSTOP pauses work, not residency.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping

from flakehunt.load.profile import LoadProfile

STRESSOR_KEY = "FLAKEHUNT_STRESSOR"
DIR_PREFIX = ".flakehunt-load-"  # then the owner's pid: stale ones can be told apart


def remove_stale_dirs(workdir: str) -> list[str]:
    """Remove io stressor directories left by a flakehunt that was SIGKILLed (pid gone)."""
    removed: list[str] = []
    try:
        names = os.listdir(workdir)
    except OSError:
        return removed
    for name in names:
        if not name.startswith(DIR_PREFIX):
            continue
        pid_text = name[len(DIR_PREFIX):].split("-", 1)[0]
        if not pid_text.isdigit() or _alive(int(pid_text)):
            continue
        shutil.rmtree(os.path.join(workdir, name), ignore_errors=True)
        removed.append(name)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _pythonpath() -> str:
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    old = os.environ.get("PYTHONPATH", "")
    return here + (os.pathsep + old if old else "")


class StressorPool:
    """The processes of one load profile."""

    def __init__(self, profile: LoadProfile, *, marker_env: Mapping[str, str], workdir: str,
                 label: str = "load") -> None:
        self.profile = profile
        self.marker_env = dict(marker_env)
        self.workdir = workdir
        self.label = label
        self.procs: list[subprocess.Popen[bytes]] = []
        self.tmpdir: str | None = None
        self.paused = False

    @property
    def pids(self) -> list[int]:
        """Pids of the pool's processes (each leads its own process group)."""
        return [p.pid for p in self.procs]

    def start(self) -> None:
        """Start every stressor of the profile."""
        prof = self.profile
        jobs: list[list[str]] = [["cpu", "-"]] * prof.cpu + [["spawn", "-"]] * prof.spawn
        if prof.io:
            remove_stale_dirs(self.workdir)
            self.tmpdir = tempfile.mkdtemp(prefix=f"{DIR_PREFIX}{os.getpid()}-", dir=self.workdir)
            jobs += [["io", self.tmpdir]] * prof.io
        if prof.mem:
            jobs.append(["mem", str(prof.mem)])
        if prof.cmd:
            shell = os.environ.get("SHELL") or "/bin/sh"
            jobs.append(["exec", "-", "--", shell, "-c", prof.cmd])
        env = {**os.environ, **self.marker_env, STRESSOR_KEY: self.label,
               "PYTHONPATH": _pythonpath()}
        me = str(os.getpid())
        for job in jobs:
            argv = [sys.executable, "-m", "flakehunt.load.worker", job[0], job[1], me, *job[2:]]
            self.procs.append(subprocess.Popen(
                argv, env=env, cwd=self.workdir, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))

    def _signal(self, sig: int) -> None:
        for p in self.procs:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(p.pid, sig)

    def pause(self) -> None:
        """SIGSTOP the pool (its process groups, so an external command's children too)."""
        self._signal(signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        """SIGCONT the pool."""
        self._signal(signal.SIGCONT)
        self.paused = False

    def stop(self, grace: float = 1.0) -> None:
        """End every stressor (TERM, then KILL after *grace*) and remove the temp dir."""
        if self.procs:
            self._signal(signal.SIGCONT)  # a stopped process would hold TERM pending
            self._signal(signal.SIGTERM)
            deadline = time.monotonic() + grace
            for p in self.procs:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    p.wait(max(0.0, deadline - time.monotonic()))
            self._signal(signal.SIGKILL)  # the groups: an external stressor's children
            for p in self.procs:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    p.wait(5)
            self.procs = []
        if self.tmpdir is not None:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None


class LoadManager:
    """The campaign-wide pool and the per-variant pools, with their SIGSTOP/SIGCONT gating."""

    def __init__(self, campaign: LoadProfile, per_variant: Mapping[str, LoadProfile], *,
                 marker_env: Mapping[str, str], workdir: str) -> None:
        self.pools: list[StressorPool] = []
        self.campaign: StressorPool | None = None
        if not campaign.empty:
            self.campaign = StressorPool(campaign, marker_env=marker_env, workdir=workdir)
            self.pools.append(self.campaign)
        by_text: dict[str, StressorPool] = {}
        self.variant_pool: dict[str, StressorPool] = {}
        for name, prof in per_variant.items():
            if prof.empty:
                continue
            pool = by_text.get(prof.text())
            if pool is None:
                pool = StressorPool(prof, marker_env=marker_env, workdir=workdir,
                                    label=f"variant:{prof.text()}")
                by_text[prof.text()] = pool
                self.pools.append(pool)
            self.variant_pool[name] = pool
        self._in_flight: dict[int, int] = {}  # id(pool) -> runs in flight
        self._lock = threading.Lock()

    @property
    def pids(self) -> set[int]:
        """Every stressor's pid."""
        return {pid for pool in self.pools for pid in pool.pids}

    def start(self) -> None:
        """Start every pool; per-variant pools start stopped."""
        try:
            for pool in self.pools:
                pool.start()
            gated = [p for p in self.pools if p is not self.campaign]
            if gated:
                time.sleep(0.3)  # let the workers get past interpreter start-up first
                for pool in gated:
                    pool.pause()
        except BaseException:
            self.stop()
            raise

    def run_started(self, variant: str) -> None:
        """Resume the variant's pool if this is its first run in flight."""
        pool = self.variant_pool.get(variant)
        if pool is None:
            return
        with self._lock:
            n = self._in_flight.get(id(pool), 0)
            self._in_flight[id(pool)] = n + 1
            if n == 0:
                pool.resume()

    def run_ended(self, variant: str) -> None:
        """Stop the variant's pool when its last run in flight ends."""
        pool = self.variant_pool.get(variant)
        if pool is None:
            return
        with self._lock:
            n = self._in_flight.get(id(pool), 1) - 1
            self._in_flight[id(pool)] = n
            if n == 0:
                pool.pause()

    def stop(self) -> None:
        """End every pool (idempotent)."""
        for pool in self.pools:
            pool.stop()
