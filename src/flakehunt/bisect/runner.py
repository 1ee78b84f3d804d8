"""A probe on a real commit: worktree, optional build, then the hunt loop."""

from __future__ import annotations

import subprocess
import time
from dataclasses import replace
from typing import Any

from flakehunt.bisect.git import Worktrees
from flakehunt.bisect.search import ProbeOutcome
from flakehunt.campaign.books import Finished
from flakehunt.campaign.model import Outcome
from flakehunt.campaign.spec import CampaignSpec, Limits
from flakehunt.record.store import Store

FAILED = (Outcome.FAIL.value, Outcome.TIMEOUT.value)


class GitProbeRunner:
    """Run the test at a commit through ``hunt()``; each probe is a ``run`` campaign."""

    def __init__(
        self,
        worktrees: Worktrees,
        template: CampaignSpec,
        store: Store,
        *,
        build: str | None = None,
        signature: str | None = None,
        progress: Any = None,
        executor_factory: Any = None,
    ) -> None:
        self.worktrees = worktrees
        self.template = template
        self.store = store
        self.build = build
        self.signature = signature
        self.progress = progress
        self.executor_factory = executor_factory
        self.build_seconds = 0.0
        self.run_seconds: list[float] = []

    def move_cost(self) -> float | None:
        """Return a move to another commit (checkout + build) in test runs, once measured."""
        if not self.run_seconds:
            return None
        per_run = max(sum(self.run_seconds) / len(self.run_seconds), 1e-3)
        return min(max(self.build_seconds / per_run, 0.5), 100.0)

    def probe(self, commit: str, runs: int, stop_after: int | None) -> ProbeOutcome:
        """Check *commit* out, build it if new, and run the test up to *runs* times."""
        from flakehunt.campaign.events import NullProgress
        from flakehunt.campaign.hunt import hunt
        from flakehunt.execute.local import LocalExecutor

        t0 = time.monotonic()
        path, fresh = self.worktrees.checkout(commit)
        if fresh and self.build:
            proc = subprocess.run(
                self.build, shell=True, cwd=path, capture_output=True, text=True, check=False
            )
            self.build_seconds = time.monotonic() - t0
            if proc.returncode != 0:
                tail = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or [""]
                return ProbeOutcome(
                    0, 0, skipped=f"build failed (exit {proc.returncode}) {tail[0]}"
                )
        elif fresh:
            self.build_seconds = time.monotonic() - t0
        counted = 0

        def observer(f: Finished) -> str | None:
            nonlocal counted
            if f.outcome.value in FAILED and self._matches(f.signature):
                counted += 1
                if stop_after is not None and counted >= stop_after:
                    return "reproduced"
            return None

        spec = replace(
            self.template,
            cwd=str(path),
            title=f"bisect probe {commit[:12]}: {self.template.title}",
            limits=Limits(runs=runs, max_failures=0),
        )
        executor = self.executor_factory() if self.executor_factory else LocalExecutor()
        t1 = time.monotonic()
        summary = hunt(
            spec, self.store, executor, self.progress or NullProgress(), observer=observer
        )
        cid = summary.campaign_id
        tally = self.store.tally(cid)
        if tally.runs:
            self.run_seconds.append((time.monotonic() - t1) / tally.runs * spec.jobs)
        interrupted = summary.stop_reason == "interrupted"
        if summary.start_error and tally.runs == 0 and not interrupted:
            return ProbeOutcome(0, 0, cid, skipped=f"could not start: {summary.start_error}")
        if self.signature is None:
            return ProbeOutcome(tally.runs, tally.failures, cid, interrupted)
        matching = sum(1 for _ in self.store.runs(cid, outcomes=FAILED, signature=self.signature))
        # A run that failed some other way says nothing about our failure: not counted.
        other = tally.failures - matching
        return ProbeOutcome(tally.runs - other, matching, cid, interrupted)

    def _matches(self, signature: tuple[str, str] | None) -> bool:
        if self.signature is None:
            return True
        return signature is not None and signature[0].startswith(self.signature)
