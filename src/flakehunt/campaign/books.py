"""The running account of a campaign: counts, signatures, the failure stop rules."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flakehunt.campaign.events import Snapshot, VariantCounts
from flakehunt.campaign.model import AttemptResult, Outcome
from flakehunt.record.store import Tally

if TYPE_CHECKING:
    from flakehunt.campaign.scheduler import Scheduler


@dataclass
class Finished:
    """A run, interpreted, ready to be recorded."""

    result: AttemptResult
    outcome: Outcome
    row: dict[str, Any]
    signature: tuple[str, str] | None  # (id, title) for failures


@dataclass
class CampaignSummary:
    """What happened, for renderers and exit statuses."""

    campaign_id: int
    uuid: str
    title: str
    kind: str
    runs: int = 0
    failures: int = 0
    ignored: int = 0
    interrupted: int = 0
    could_not_start: int = 0
    elapsed: float = 0.0
    stop_reason: str = ""
    start_error: str | None = None
    evidence_dir: str = ""
    evidence_cap_reached: bool = False
    first_failure: str | None = None  # "CAMPAIGN:SEQ" of the first failure recorded now
    first_failure_log: str | None = None
    left_running: list[int] = field(default_factory=list)
    signatures: list[tuple[str, str, int]] = field(default_factory=list)
    telemetry_notes: list[str] = field(default_factory=list)  # failing vs passing runs
    setup_problems: list[str] = field(default_factory=list)  # e.g. cores will not be kept
    per_variant: dict[str, VariantCounts] = field(default_factory=dict)
    this_invocation_runs: int = 0
    watch: Any = None  # flakehunt.watch.report.WatchReport: orphans, zombies, leaks, load


class Books:
    """The running account of a campaign: counts, signatures, stop rules on failures."""

    def __init__(
        self, sched: Scheduler, before: dict[str, Tally], signatures: list[tuple[str, str, int]]
    ) -> None:
        self.s = sched
        spec = sched.spec
        self.summary = CampaignSummary(
            sched.campaign_id,
            sched.campaign_uuid,
            spec.title,
            spec.kind,
            evidence_dir=sched.files.campaign_dir,
        )
        # [runs, failures] per variant, counted in place (a frozen VariantCounts a
        # run cost a microsecond); VariantCounts are made for snapshots.
        self._counts: dict[str, list[int]] = {
            v.name: [before[v.name].runs, before[v.name].failures] if v.name in before
            else [0, 0]
            for v in spec.variants
        }
        self.sigs: dict[str, list[Any]] = {sid: [sid, t, n] for sid, t, n in signatures}
        self.last_failure: str | None = None
        self.t0 = 0.0
        runs = spec.limits.runs
        self.planned = None if runs is None else runs * len(spec.variants)

    @property
    def per(self) -> dict[str, VariantCounts]:
        """Counted runs and failures per variant, now."""
        return {name: VariantCounts(r, f) for name, (r, f) in self._counts.items()}

    def record(self, batch: list[Finished]) -> None:
        """Count a recorded batch and apply the stop rules that depend on outcomes."""
        summary, s = self.summary, self.s
        for f in batch:
            s.run_finished()
            o, name = f.outcome, f.result.attempt.variant
            if o.counts:
                summary.this_invocation_runs += 1
                c = self._counts[name]
                c[0] += 1
                if o.failed:
                    c[1] += 1
            if f.signature is not None:
                sid, title = f.signature
                if sid not in self.sigs:
                    s.store.add_signature(s.campaign_id, sid, title)
                    self.sigs[sid] = [sid, title, 0]
                if o.failed:
                    self.sigs[sid][2] += 1
            if o is Outcome.IGNORED:
                summary.ignored += 1
            elif o is Outcome.INTERRUPTED:
                summary.interrupted += 1
            elif o is Outcome.COULD_NOT_START:
                summary.could_not_start += 1
                if s.stop_reason == "could-not-start" and summary.start_error is None:
                    summary.start_error = f.result.start_error
            if f.result.left_running and f.result.pid is not None:
                summary.left_running.append(f.result.pid)
                s.progress.notice(f"run {f.row['seq']} hung: {f.row['note']}")
            if o.failed:
                self._failure(f)
        notice = s.files.budget.take_notice()  # told once, whoever hit the cap
        if notice:
            s.progress.notice(notice)

    def _failure(self, f: Finished) -> None:
        s, summary = self.s, self.summary
        title = f.signature[1] if f.signature else f.row["status_label"]
        self.last_failure = f"run {f.row['seq']}: {title}"
        if summary.first_failure is None:
            summary.first_failure = f"{s.campaign_id}:{f.row['seq']}"
            if f.row["evidence_path"]:
                summary.first_failure_log = os.path.join(
                    s.files.evidence_dir(f.row["evidence_path"]), "output.log"
                )

    def snapshot(self) -> Snapshot:
        """The state now, for progress displays."""
        s, spec = self.s, self.s.spec
        elapsed = s.clock() - self.t0
        deadline_in = None
        if spec.limits.duration is not None:
            deadline_in = max(0.0, spec.limits.duration - elapsed)
        ranked = sorted(self.sigs.values(), key=lambda v: -int(v[2]))
        return Snapshot(
            campaign_id=s.campaign_id,
            title=spec.title,
            done=sum(c[0] for c in self._counts.values()),
            failures=sum(c[1] for c in self._counts.values()),
            ignored=self.summary.ignored,
            interrupted=self.summary.interrupted,
            elapsed=elapsed,
            runs_per_s=self.summary.this_invocation_runs / elapsed if elapsed > 0 else 0.0,
            planned=self.planned,
            deadline_in=deadline_in,
            last_failure=self.last_failure,
            signatures=tuple((str(v[0]), str(v[1]), int(v[2])) for v in ranked if v[2]),
            per_variant=tuple(self.per.items()),
            running=s.running,
        )

    def finish(self, signatures: list[tuple[str, str, int]]) -> CampaignSummary:
        """Complete the summary once every slot has ended."""
        summary, s = self.summary, self.s
        summary.stop_reason = s.stop_reason or "runs"
        summary.elapsed = s.clock() - self.t0
        summary.runs = sum(c[0] for c in self._counts.values())
        summary.failures = sum(c[1] for c in self._counts.values())
        summary.per_variant = dict(self.per)
        summary.signatures = signatures
        summary.evidence_cap_reached = s.files.budget.cap_reached
        return summary
