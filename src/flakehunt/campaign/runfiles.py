"""Each run's log and scratch directory, what is kept of them, and the disk cap.

Layout under the evidence root, per campaign ``c<id>/``:

* ``slot<k>.<i>.log``: the logs of slot k, ``keep_passing + 1`` of them used in
  turn: a run writes into a free one; a pass keeps its log there until the
  slot's newer passes push it out; a failure's log is moved away.
* ``r<seq>.log``: at the end, the newest ``keep_passing`` passing logs of the
  campaign are renamed to these and the slots' logs removed.
* ``slot<k>/``: the scratch directory (``FLAKEHUNT_RUN_DIR``) of slot k,
  private to the run in that slot and emptied before the next run.
* ``r<seq>/``: made only for a failure: ``output.log``, the scratch contents
  (while under the cap), and later evidence (cores, artifacts, telemetry).

Why this shape: a passing run must cost almost nothing, or the loop cannot keep
up with Go's ``stress`` on short commands. On this machine's ext4, creating a
log and unlinking it later cost 35-60 µs a run; opening an existing empty log
with ``O_TRUNC`` costs a few µs, and the child does it (``execute.cspawn``).
``rmdir`` costs ~140 µs, so the scratch directory is emptied, never remade; and
it is listed only when an inotify watch saw something created in it
(``campaign.dirwatch``), since most runs never write there.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from collections import deque
from dataclasses import dataclass, field

from flakehunt.campaign.dirwatch import DirWatch
from flakehunt.evidence.budget import EvidenceBudget


@dataclass(frozen=True)
class RunPaths:
    """Where one run's files live while it runs."""

    log: str
    scratch: str
    slot: int = 0


@dataclass
class _SlotLogs:
    """One slot's log files: which are free, which hold the slot's newest passes.

    Only the slot's own thread touches it while the campaign runs.
    """

    free: list[str]
    kept: deque[tuple[int, str, str]] = field(default_factory=deque)  # (seq, run id, path)
    scratch: DirWatch | None = None


def _tree_size(path: str, stop_above: int) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, name)).st_size
            if total > stop_above:
                return total
    return total


def empty_dir(path: str) -> None:
    """Remove everything inside *path*, keeping *path* (cheap when already empty)."""
    names = os.listdir(path)  # the common case: [] after one getdents
    for name in names:
        full = os.path.join(path, name)
        if os.path.isdir(full) and not os.path.islink(full):
            shutil.rmtree(full, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                os.unlink(full)


class RunFiles:
    """Create run files and decide which survive; safe across slot threads."""

    def __init__(
        self, evidence_root: str, campaign_id: int, *, keep_passing: int, budget: EvidenceBudget
    ) -> None:
        self.evidence_root = evidence_root
        self.campaign_dir = os.path.join(evidence_root, f"c{campaign_id}")
        self.keep_passing = keep_passing
        self.budget = budget  # shared with cores, kept files and telemetry: one cap
        self.cap_reached = False  # set once; the caller tells the user once
        self._slots: dict[int, _SlotLogs] = {}
        self._lock = threading.Lock()
        self._prefix = f"c{campaign_id}/"
        os.makedirs(self.campaign_dir, exist_ok=True)

    def rel(self, name: str) -> str:
        """A path relative to the evidence root, as stored in the database."""
        return self._prefix + name

    def slot_scratch(self, slot: int) -> str:
        """Return slot *slot*'s scratch directory, created and empty."""
        path = os.path.join(self.campaign_dir, f"slot{slot}")
        os.makedirs(path, exist_ok=True)
        watch = DirWatch(path)  # before emptying: what a straggler adds then is seen
        empty_dir(path)
        names = [f"{self.campaign_dir}{os.sep}slot{slot}.{i}.log"
                 for i in range(max(0, self.keep_passing) + 1)]
        with self._lock:
            old = self._slots.get(slot)
            if old is not None and old.scratch is not None:
                old.scratch.close()
            self._slots[slot] = _SlotLogs(free=names, scratch=watch)
        return path

    def paths(self, slot: int, scratch: str) -> RunPaths:
        """Return the files of the next run in slot *slot* (after ``slot_scratch``)."""
        return RunPaths(log=self._slots[slot].free[-1], scratch=scratch, slot=slot)

    def passed(self, seq: int, run_id: str, paths: RunPaths) -> None:
        """A passing run: its log stays while among the slot's newest passes.

        Which passing logs survive is settled by ``finish``; until then a
        passing run's stored evidence path is empty.
        """
        logs = self._slots[paths.slot]
        self._reset_scratch(paths.scratch, logs.scratch)
        if self.keep_passing <= 0:
            return  # the log is overwritten by the slot's next run
        logs.kept.append((seq, run_id, logs.free.pop()))
        if len(logs.kept) > self.keep_passing:
            logs.free.append(logs.kept.popleft()[2])

    def failed(self, seq: int, paths: RunPaths) -> str | None:
        """A failing run: move its log (and scratch, if any) into ``r<seq>/`` under the cap.

        Returns the evidence directory relative to the root, or None when the
        cap left no room (the output tail is still stored in the database).
        """
        try:
            log_size = os.path.getsize(paths.log)
        except OSError:
            log_size = 0
        root = os.path.join(self.campaign_dir, f"r{seq:06d}")
        if not self.budget.try_reserve(log_size):
            self.cap_reached = True
            self.discard(paths)
            # Other evidence (a small core, telemetry) may have fit before the log.
            try:
                if os.listdir(root):
                    return self.rel(f"r{seq:06d}")
                os.rmdir(root)
            except OSError:
                pass
            return None
        os.makedirs(root, exist_ok=True)
        os.replace(paths.log, os.path.join(root, "output.log"))
        self._keep_scratch(paths, root)
        return self.rel(f"r{seq:06d}")

    def evidence_dir(self, rel: str) -> str:
        """Return the absolute evidence directory of a stored relative path."""
        return os.path.join(self.evidence_root, rel)

    def _keep_scratch(self, paths: RunPaths, root: str) -> None:
        scratch = paths.scratch
        logs = self._slots.get(paths.slot)
        watch = logs.scratch if logs is not None else None
        if watch is not None and not watch.changed():
            return  # nothing was created there
        try:
            os.makedirs(scratch, exist_ok=True)  # the run may have removed it
            with os.scandir(scratch) as it:
                if next(it, None) is None:
                    return  # the run wrote nothing there
            room = self.budget.remaining()
            size = _tree_size(scratch, room if room is not None else 1 << 62)
            keep = self.budget.try_reserve(size)
            if not keep:
                self.cap_reached = True
            if keep:
                # Rename the whole directory (one metadata operation), then give the
                # slot a fresh one.
                os.replace(scratch, os.path.join(root, "scratch"))
                os.mkdir(scratch)
            else:
                empty_dir(scratch)
        finally:
            if watch is not None:
                watch.rearm()  # the directory at that name may be a new one

    def discard(self, paths: RunPaths) -> None:
        """Drop a run's log and empty its scratch (interrupted, never started, no room)."""
        # The slot's next run truncates the log; a log not moved away is removed
        # by finish().
        logs = self._slots.get(paths.slot)
        self._reset_scratch(paths.scratch, logs.scratch if logs is not None else None)

    def _reset_scratch(self, scratch: str, watch: DirWatch | None) -> None:
        if watch is not None and not watch.changed():
            return  # the common case: the run created nothing there
        with contextlib.suppress(OSError):
            os.makedirs(scratch, exist_ok=True)  # the run may have removed it
            empty_dir(scratch)
        if watch is not None:
            watch.rearm()

    def finish(self) -> list[tuple[str, str]]:
        """Keep the newest passing logs as ``r<seq>.log``; remove the slots' files.

        Returns (run id, stored path) of each passing log kept. Removes the
        campaign directory if nothing at all was kept.
        """
        with self._lock:
            slots, self._slots = list(self._slots.values()), {}
        for logs in slots:
            if logs.scratch is not None:
                logs.scratch.close()
        passes = sorted((p for logs in slots for p in logs.kept), reverse=True)
        kept: list[tuple[str, str]] = []
        for seq, run_id, path in passes[: max(0, self.keep_passing)]:
            name = f"r{seq:06d}.log"
            with contextlib.suppress(OSError):
                os.replace(path, os.path.join(self.campaign_dir, name))
                kept.append((run_id, self.rel(name)))
        with contextlib.suppress(OSError):
            for e in os.scandir(self.campaign_dir):
                if e.name.startswith("slot"):
                    if e.is_dir(follow_symlinks=False):
                        shutil.rmtree(e.path, ignore_errors=True)
                    else:
                        os.unlink(e.path)
            os.rmdir(self.campaign_dir)
        return sorted(kept)
