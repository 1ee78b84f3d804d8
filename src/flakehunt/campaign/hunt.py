"""Start or resume a campaign: store + executor + scheduler, signals handled."""

from __future__ import annotations

import contextlib
import signal
import socket
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from flakehunt import __version__
from flakehunt.campaign.books import CampaignSummary, Finished
from flakehunt.campaign.events import ProgressSink
from flakehunt.campaign.scheduler import Scheduler
from flakehunt.campaign.spec import CampaignSpec, Limits
from flakehunt.errors import UsageError
from flakehunt.evidence.budget import EvidenceBudget
from flakehunt.execute.base import Executor
from flakehunt.record.store import Store

if TYPE_CHECKING:
    from flakehunt.evidence.session import EvidenceSession
    from flakehunt.watch.session import RunWatch


def evidence_root_for(db_path: Path) -> Path:
    """Evidence lives beside the database: ``.flakehunt/evidence``."""
    return db_path.parent / "evidence"


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C while a campaign runs (same clean stop)."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    try:
        old = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (tests)
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


class InterruptLatch:
    """Ctrl-C and SIGTERM during a campaign: raised where the scheduler waits, counted elsewhere.

    A KeyboardInterrupt raised while a campaign is being set up or wound down
    would escape it half-built (slots started, nothing summarized, a bisect
    left without its verdict). So the handler raises only while ``raise_now``
    (the scheduler's wait); otherwise it counts, and the scheduler looks at the
    count at the top of its loop, a tenth of a second later at most.
    """

    def __init__(self) -> None:
        self.count = 0
        self.raise_now = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.count += 1
        if self.raise_now:
            raise KeyboardInterrupt


@contextlib.contextmanager
def campaign_interrupts() -> Iterator[InterruptLatch]:
    """Route SIGINT and SIGTERM to an ``InterruptLatch`` for the duration of a campaign."""
    latch = InterruptLatch()
    old: list[tuple[signal.Signals, Any]] = []
    try:
        for sig in (signal.SIGINT, signal.SIGTERM):
            old.append((sig, signal.signal(sig, latch)))
    except ValueError:  # not the main thread (tests): signals stay as they were
        pass
    try:
        yield latch
    finally:
        for sig, handler in old:
            signal.signal(sig, handler)


def _evidence_session(spec: CampaignSpec, store: Store) -> tuple[EvidenceSession, EvidenceBudget]:
    """Build the campaign's evidence session; one budget for logs, cores and telemetry."""
    from flakehunt.evidence.session import EvidenceOptions, EvidenceSession

    fields = set(EvidenceOptions.__dataclass_fields__) - {"root", "cap", "concurrency"}
    given: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v
                             for k, v in spec.evidence.items() if k in fields}
    options = EvidenceOptions(root=str(evidence_root_for(store.path)), cap=spec.max_evidence,
                              concurrency=spec.jobs, **given)
    budget = EvidenceBudget(spec.max_evidence)
    return EvidenceSession(options, budget=budget), budget


def _run_watch(spec: CampaignSpec, store: Store, executor: Executor) -> RunWatch:
    """Build the campaign's watch from the settings stored in ``spec.evidence['watch']``."""
    from flakehunt.watch.session import RunWatch

    return RunWatch(spec.evidence.get("watch") or {}, marker_env=executor.marker_env(),
                    cwd=spec.cwd, evidence_root=str(evidence_root_for(store.path)))


def hunt(
    spec: CampaignSpec,
    store: Store,
    executor: Executor,
    progress: ProgressSink,
    *,
    resume: str | None = None,
    limits: Limits | None = None,
    observer: Callable[[Finished], str | None] | None = None,
) -> CampaignSummary:
    """Run *spec* as a new campaign, or continue campaign *resume* with its stored spec."""
    if resume is not None:
        row = store.campaign(resume or None)
        if row.kind not in ("run", "compare"):
            raise UsageError(
                f"campaign {row.id} is a {row.kind} campaign",
                f"resume it with 'flakehunt {row.kind} --resume'",
            )
        spec = CampaignSpec.from_dict(row.spec)
        if limits is not None:
            spec = replace(spec, limits=limits)
        campaign_id, campaign_uuid = row.id, row.uuid
    else:
        campaign_uuid = uuid.uuid4().hex
        campaign_id = store.create_campaign(
            uuid=campaign_uuid,
            kind=spec.kind,
            host=socket.gethostname(),
            version=__version__,
            spec=spec.to_dict(),
            title=spec.title,
        )
    store.set_campaign_state(campaign_id, "running")
    with campaign_interrupts() as latch:
        summary = _run_campaign(spec, store, executor, progress, campaign_id, campaign_uuid,
                                observer, latch)
        if latch.count and summary.stop_reason != "interrupted":
            summary.stop_reason = "interrupted"  # Ctrl-C while the campaign was ending
    state = "interrupted" if summary.stop_reason == "interrupted" else "finished"
    store.set_campaign_state(campaign_id, state)
    return summary


def _run_campaign(spec: CampaignSpec, store: Store, executor: Executor, progress: ProgressSink,
                  campaign_id: int, campaign_uuid: str,
                  observer: Callable[[Finished], str | None] | None,
                  latch: InterruptLatch) -> CampaignSummary:
    evidence, budget = _evidence_session(spec, store)
    setup = evidence.start(campaign_id)
    watch = _run_watch(spec, store, executor)
    try:
        watch.start()  # stressors and the sampling thread (stopped in the finally below)
        problems = list(setup.problems) if setup is not None else []
        for problem in problems:
            progress.notice(problem)
        sched = Scheduler(spec, store, executor, campaign_id=campaign_id,
                          campaign_uuid=campaign_uuid,
                          evidence_root=str(evidence_root_for(store.path)), progress=progress,
                          observer=observer, evidence=evidence, budget=budget, watch=watch,
                          interrupts=latch)
        try:
            summary = sched.run()
        except BaseException:
            store.set_campaign_state(campaign_id, "interrupted")
            raise
        if evidence.failing and evidence.passing:  # nothing to say without both
            summary.telemetry_notes = evidence.comparison()
        summary.setup_problems = problems
    finally:
        watch.close()
        evidence.close()
    summary.watch = watch.report
    return summary
