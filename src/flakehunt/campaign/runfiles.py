"""Each run's log and scratch directory, what is kept of them, and the disk cap.

Layout under the evidence root, per campaign ``c<id>/``:

* ``r<seq>.log``: every run's output while it runs; a passing run's log is
  deleted unless it is among the newest ``keep_passing``.
* ``slot<k>/``: the scratch directory (``FLAKEHUNT_RUN_DIR``) of slot k,
  private to the run in that slot and emptied before the next run.
* ``r<seq>/``: made only for a failure: ``output.log``, the scratch contents
  (while under the cap), and later evidence (cores, artifacts, telemetry).

Why this shape: on this machine's ext4, ``rmdir`` costs ~140 µs and truncating
a non-empty file ~290 µs, while create + unlink is ~60 µs; a passing run must
cost a few cheap metadata operations, or the loop cannot keep up with Go's
``stress`` on short commands.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from collections import deque
from dataclasses import dataclass

from flakehunt.evidence.budget import EvidenceBudget


@dataclass(frozen=True)
class RunPaths:
    """Where one run's files live while it runs."""

    log: str
    scratch: str


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
        self._passing: deque[str] = deque()
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
        empty_dir(path)
        return path

    def paths(self, seq: int, scratch: str) -> RunPaths:
        """Return the files of run *seq* in a slot with *scratch*."""
        return RunPaths(log=f"{self.campaign_dir}{os.sep}r{seq:06d}.log", scratch=scratch)

    def passed(self, seq: int, paths: RunPaths) -> str | None:
        """A passing run: keep its log if among the newest; return its stored path."""
        self._reset_scratch(paths.scratch)
        if self.keep_passing <= 0:
            with contextlib.suppress(OSError):
                os.unlink(paths.log)
            return None
        with self._lock:
            self._passing.append(paths.log)
            old = self._passing.popleft() if len(self._passing) > self.keep_passing else None
        if old is not None:
            with contextlib.suppress(OSError):
                os.unlink(old)
        return f"{self._prefix}r{seq:06d}.log"

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
        self._keep_scratch(paths.scratch, root)
        return self.rel(f"r{seq:06d}")

    def evidence_dir(self, rel: str) -> str:
        """Return the absolute evidence directory of a stored relative path."""
        return os.path.join(self.evidence_root, rel)

    def _keep_scratch(self, scratch: str, root: str) -> None:
        with os.scandir(scratch) as it:
            if next(it, None) is None:
                return  # the common case: the run wrote nothing there
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

    def discard(self, paths: RunPaths) -> None:
        """Delete a run's log and empty its scratch (interrupted, never started, no room)."""
        with contextlib.suppress(OSError):
            os.unlink(paths.log)
        self._reset_scratch(paths.scratch)

    def _reset_scratch(self, scratch: str) -> None:
        with contextlib.suppress(OSError):
            empty_dir(scratch)

    def finish(self) -> None:
        """Remove the slots' scratch dirs, and the campaign dir if nothing was kept."""
        with contextlib.suppress(OSError):
            for e in os.scandir(self.campaign_dir):
                if e.name.startswith("slot") and e.is_dir(follow_symlinks=False):
                    shutil.rmtree(e.path, ignore_errors=True)
            os.rmdir(self.campaign_dir)
