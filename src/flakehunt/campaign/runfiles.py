"""Each run's directory (log + scratch), what is kept of it, and the disk cap.

Layout under the evidence root: ``c<campaign>/r<seq>/output.log`` and
``c<campaign>/r<seq>/scratch/`` (``FLAKEHUNT_RUN_DIR``). Passing runs are
deleted except the newest ``keep_passing``; failures are kept while the total
stays under ``max_evidence``; beyond it, counting goes on and logs are dropped.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RunPaths:
    """Where one run's files live."""

    root: Path  # the run's directory
    log: Path
    scratch: Path

    @property
    def relative(self) -> str:
        """The run directory relative to the evidence root (stored in the database)."""
        return f"{self.root.parent.name}/{self.root.name}"


def _tree_size(path: Path, stop_above: int) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, name)).st_size
            if total > stop_above:
                return total
    return total


def _remove(root: Path) -> None:
    # Fast path for the common case: an empty scratch dir and one log.
    try:
        os.unlink(root / "output.log")
        os.rmdir(root / "scratch")
        os.rmdir(root)
    except OSError:
        shutil.rmtree(root, ignore_errors=True)


class RunFiles:
    """Create run directories and decide which survive; safe across slot threads."""

    def __init__(
        self, evidence_root: Path, campaign_id: int, *, keep_passing: int, max_evidence: int
    ) -> None:
        self.evidence_root = evidence_root
        self.campaign_dir = evidence_root / f"c{campaign_id}"
        self.keep_passing = keep_passing
        self.max_evidence = max_evidence
        self.used = 0
        self.cap_reached = False  # set once; the caller tells the user once
        self._passing: deque[RunPaths] = deque()
        self._lock = threading.Lock()
        self.campaign_dir.mkdir(parents=True, exist_ok=True)

    def create(self, seq: int) -> RunPaths:
        """Make the directory of run *seq* (replacing leftovers of a killed attempt)."""
        root = self.campaign_dir / f"r{seq:06d}"
        if root.exists():
            shutil.rmtree(root, ignore_errors=True)
        scratch = root / "scratch"
        scratch.mkdir(parents=True)
        return RunPaths(root=root, log=root / "output.log", scratch=scratch)

    def passed(self, paths: RunPaths) -> None:
        """A passing run: keep it if it is among the newest ``keep_passing``."""
        with self._lock:
            self._passing.append(paths)
            old = self._passing.popleft() if len(self._passing) > self.keep_passing else None
        if old is not None:
            _remove(old.root)

    def failed(self, paths: RunPaths) -> bool:
        """A failing run: keep its directory if it fits under the cap; return whether kept."""
        with self._lock:
            room = self.max_evidence - self.used
        size = _tree_size(paths.root, room)
        with self._lock:
            if size <= self.max_evidence - self.used:
                self.used += size
                return True
            self.cap_reached = True
        _remove(paths.root)
        return False

    def discard(self, paths: RunPaths) -> None:
        """Delete a run's directory (interrupted or never started)."""
        _remove(paths.root)

    def remove_empty_campaign_dir(self) -> None:
        """Remove the campaign's directory if nothing was kept in it."""
        with contextlib.suppress(OSError):
            self.campaign_dir.rmdir()
