"""A bisect campaign: its stored spec, its probes, and resuming it."""

from __future__ import annotations

import socket
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from flakehunt import __version__
from flakehunt.bisect.git import Worktrees
from flakehunt.bisect.runner import GitProbeRunner
from flakehunt.bisect.search import Probe, Settings, Sink, State, Verdict, run_search
from flakehunt.campaign.hunt import sigterm_as_interrupt
from flakehunt.campaign.spec import CampaignSpec, Variant
from flakehunt.errors import UsageError
from flakehunt.record.bisect_store import BisectStore
from flakehunt.record.store import Store


@dataclass(frozen=True)
class BisectSpec:
    """Everything needed to run, and later ``--resume``, a bisection."""

    repo: str
    good: str  # as the user wrote them
    bad: str
    commits: tuple[str, ...]  # full ids, older end first
    argv: tuple[str, ...]
    title: str
    build: str | None = None
    signature: str | None = None
    confidence: float = 0.95
    max_runs: int | None = None
    calibrate_runs: int = 300
    fixed: bool = False
    jobs: int = 1
    timeout: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BisectSpec:
        """Rebuild a stored spec (unknown keys ignored)."""
        d = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        d["commits"] = tuple(d["commits"])
        d["argv"] = tuple(d["argv"])
        return cls(**d)

    def settings(self) -> Settings:
        """Return the search settings."""
        return Settings(
            confidence=self.confidence,
            max_runs=self.max_runs,
            calibrate_runs=self.calibrate_runs,
            fixed=self.fixed,
            min_runs=self.jobs,
        )


def create(store: Store, spec: BisectSpec) -> int:
    """Record a new bisect campaign; return its id."""
    return store.create_campaign(
        uuid=uuid.uuid4().hex,
        kind="bisect",
        host=socket.gethostname(),
        version=__version__,
        spec=spec.to_dict(),
        title=f"bisect{' --fixed' if spec.fixed else ''} {spec.good}..{spec.bad}: {spec.title}",
    )


def load(store: Store, ref: str | None) -> tuple[int, BisectSpec]:
    """Return the bisect campaign *ref* (default: the latest) and its spec."""
    if not ref:
        latest = BisectStore(store).latest_bisect()
        if latest is None:
            raise UsageError("no bisect campaign to resume", "start one with flakehunt bisect")
        ref = str(latest)
    row = store.campaign(ref)
    if row.kind != "bisect":
        raise UsageError(
            f"campaign {row.id} is a {row.kind} campaign",
            f"resume it with 'flakehunt {row.kind} --resume'",
        )
    return row.id, BisectSpec.from_dict(row.spec)


def restore(store: Store, bisect_id: int, spec: BisectSpec) -> State:
    """Rebuild the search state from the recorded probes."""
    state = State(spec.commits)
    for r in BisectStore(store).probes(bisect_id):
        state.add(
            Probe(r.position, r.commit, r.phase, r.runs, r.failures, r.probe_campaign_id, r.skipped)
        )
    return state


def execute(
    store: Store,
    bisect_id: int,
    spec: BisectSpec,
    sink: Sink,
    *,
    progress: Any = None,
    executor_factory: Any = None,
) -> Verdict:
    """Run (or continue) the bisection to a verdict, recording each probe as it ends."""
    state = restore(store, bisect_id, spec)
    probes = BisectStore(store)

    def record(p: Probe) -> None:
        probes.add_probe(
            bisect_id,
            position=p.position,
            commit=p.commit,
            phase=p.phase,
            runs=p.runs,
            failures=p.failures,
            probe_campaign_id=p.campaign_id,
            skipped=p.skipped,
        )

    template = CampaignSpec(
        kind="run",
        variants=(Variant("default", spec.argv),),
        title=spec.title,
        cwd=spec.repo,
        jobs=spec.jobs,
        timeout=spec.timeout,
    )
    store.set_campaign_state(bisect_id, "running")
    # SIGTERM between probes (build, checkout) must also clean up the worktree.
    with sigterm_as_interrupt(), Worktrees(Path(spec.repo)) as trees:
        runner = GitProbeRunner(
            trees,
            template,
            store,
            build=spec.build,
            signature=spec.signature,
            progress=progress,
            executor_factory=executor_factory,
        )
        try:
            verdict = run_search(state, spec.settings(), runner, record, sink)
        except BaseException:
            store.set_campaign_state(bisect_id, "interrupted")
            raise
    store.set_campaign_state(
        bisect_id, "interrupted" if verdict.status == "interrupted" else "finished"
    )
    return verdict
