"""The controller's record of a hunt: campaigns, one row per repetition, tallies.

Only the controller writes (the pytest process itself, or the pytest-xdist
controller, which receives every worker's reports): one connection, one
writer, no lock contention, and each repetition committed the moment its
teardown report arrives.
"""

from __future__ import annotations

import os
import socket
import sys
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flakehunt.pytest_plugin.options import HuntOptions

if TYPE_CHECKING:
    from flakehunt.record.store import Store

TAIL_BYTES = 4096


@dataclass
class TestTally:
    """One test id (one compare variant of it) as counted so far."""

    passed: int = 0
    failed: int = 0
    ignored: int = 0
    signatures: Counter[str] = field(default_factory=Counter)

    @property
    def runs(self) -> int:
        """Counted repetitions: passed + failed."""
        return self.passed + self.failed


@dataclass(frozen=True)
class Repetition:
    """One finished repetition, as the reports of its phases tell it."""

    test: str  # the test's own node id, without the repetition parameter
    block: int
    variant: str | None
    worker: str  # "main" in-process, "gw0".. under pytest-xdist
    outcome: str  # pass, fail or ignored
    started: float
    duration: float
    signature: tuple[str, str] | None = None
    tail: str | None = None
    note: str | None = None
    pid: int | None = None


def slot_of(worker: str) -> int:
    """Return the slot number of a worker: gw3 -> 3, the main process -> 0."""
    digits = "".join(c for c in worker if c.isdigit())
    return int(digits) if digits else 0


class Recorder:
    """Create the campaign(s) and record each repetition as it finishes."""

    def __init__(self, opts: HuntOptions, rootdir: str, jobs: int) -> None:
        self.opts = opts
        self.rootdir = rootdir
        self.jobs = jobs
        self.host = socket.gethostname()
        self._store: Store | None = None
        self.campaigns: dict[str, int] = {}  # test id (compare) or "" (hunt) -> campaign id
        self.tests: list[str] = []
        self.tallies: dict[tuple[str, str | None], TestTally] = {}
        self.titles: dict[str, str] = {}
        self._seq: dict[int, int] = {}

    @property
    def store(self) -> Store:
        """Open the database on first use."""
        if self._store is None:
            from flakehunt.record.store import Store

            self._store = Store.open(self.opts.db)
        return self._store

    def announce(self, tests: list[str]) -> None:
        """Learn the selected tests before any repetition runs (for the campaign's spec)."""
        for t in tests:
            if t not in self.tests:
                self.tests.append(t)

    def _spec(self, test: str | None) -> dict[str, Any]:
        from flakehunt.campaign.spec import CampaignSpec, Limits, Variant

        o = self.opts
        argv = (sys.executable, "-m", "pytest")
        if test is None:  # a hunt: one variant per test id
            variants = tuple(Variant(name=t, argv=(*argv, t)) for t in self.tests)
            kind, title = "pytest", "pytest " + " ".join(o.args)
        else:  # a compare of one test: one variant per environment
            variants = tuple(Variant(name=n, argv=(*argv, test), env=env) for n, env in o.variants)
            kind, title = "compare", f"pytest {test} (--flakehunt-compare)"
        spec = CampaignSpec(
            kind=kind, variants=variants, title=title, cwd=self.rootdir, jobs=self.jobs,
            limits=Limits(runs=o.repetitions, duration=o.duration,
                          max_failures=1 if o.until_fail else 0),
            seed=o.seed, baseline=o.variants[0][0] if o.variants else None,
        ).to_dict()
        # Readers that do not know this key ignore it (CampaignSpec.from_dict).
        spec["pytest"] = {"args": list(o.args), "repetitions": o.repetitions,
                          "tests": list(self.tests)}
        return spec

    def campaign_for(self, test: str) -> int:
        """Return the campaign recording *test*, creating it on first use."""
        from flakehunt import __version__

        key = test if self.opts.compare else ""
        cid = self.campaigns.get(key)
        if cid is None:
            self.announce([test])
            spec = self._spec(test if self.opts.compare else None)
            cid = self.store.create_campaign(
                uuid=uuid.uuid4().hex, kind=spec["kind"], host=self.host, version=__version__,
                spec=spec, title=spec["title"])
            self.campaigns[key] = cid
            self._seq[cid] = 0
        return cid

    def record(self, rep: Repetition) -> None:
        """Commit one repetition now and count it."""
        cid = self.campaign_for(rep.test)
        self._seq[cid] += 1
        seq = self._seq[cid]
        variant = rep.variant if self.opts.compare and rep.variant is not None else rep.test
        sig = rep.signature
        if sig is not None and sig[0] not in self.titles:
            self.titles[sig[0]] = sig[1]
            self.store.add_signature(cid, sig[0], sig[1])
        label = {"pass": "passed", "fail": "failed", "ignored": "skipped"}[rep.outcome]
        tail = rep.tail.encode("utf-8", "replace")[-TAIL_BYTES:] if rep.tail else None
        self.store.add_runs([dict(
            run_id=os.urandom(8).hex() + f"{seq:x}", campaign_id=cid, variant=variant,
            seq=seq, block=rep.block, slot=slot_of(rep.worker), host=self.host,
            worker=rep.worker, platform="python", concurrency=self.jobs, load_profile="",
            started=rep.started, duration=rep.duration, returncode=None,
            status_label=label,
            outcome=rep.outcome, signature=sig[0] if sig else None, pid=rep.pid,
            max_rss_kb=None, user_cpu=None, sys_cpu=None, core_dumped=0,
            evidence_path=None, output_tail=tail, note=rep.note,
        )])
        t = self.tallies.setdefault((rep.test, rep.variant), TestTally())
        if rep.outcome == "pass":
            t.passed += 1
        elif rep.outcome == "fail":
            t.failed += 1
            if sig is not None:
                t.signatures[sig[0]] += 1
        else:
            t.ignored += 1

    def finish(self, interrupted: bool) -> None:
        """Mark the campaigns finished (or interrupted) and close the database."""
        if self._store is None:
            return
        for cid in self.campaigns.values():
            self._store.set_campaign_state(cid, "interrupted" if interrupted else "finished")
        self._store.close()
        self._store = None
