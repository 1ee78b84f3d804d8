"""Mitigation experiments: analyse a compare campaign from its recorded runs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from flakehunt.campaign.books import Finished
from flakehunt.campaign.model import Outcome
from flakehunt.record.store import RunRow, Store

if TYPE_CHECKING:
    from flakehunt.stats.compare import ComparisonResult
    from flakehunt.stats.records import RunRecord


def record_of(variant: str, block: int, outcome: str, signature: str | None,
              concurrency: int) -> RunRecord:
    """The statistics' view of one run."""
    from flakehunt.stats.records import RunRecord

    o = Outcome(outcome)
    return RunRecord(variant=variant, block=block, failed=o.failed, counted=o.counts,
                     signature=signature, concurrency=concurrency)


def records_of(rows: Iterable[RunRow], titles: dict[str, str] | None = None) -> list[RunRecord]:
    """Turn stored runs into statistics records; signatures read "title [id]" when known."""
    titles = titles or {}

    def sig(s: str | None) -> str | None:
        return f"{titles[s]} [{s}]" if s is not None and s in titles else s

    return [record_of(r.variant, r.block, r.outcome, sig(r.signature), r.concurrency)
            for r in rows]


def analyse_campaign(store: Store, campaign_id: int, *, baseline: str | None = None,
                     confidence: float = 0.95, method: str = "exact",
                     sequential: bool = False) -> ComparisonResult:
    """Compare every variant of a recorded campaign with its baseline."""
    from flakehunt.campaign.spec import CampaignSpec
    from flakehunt.stats.compare import analyse

    spec = CampaignSpec.from_dict(store.campaign(campaign_id).spec)
    names = [v.name for v in spec.variants]
    base = baseline or spec.baseline or names[0]
    records = records_of(store.runs(campaign_id), store.signature_titles(campaign_id))
    return analyse(records, base, confidence=confidence,
                   method=method, variants=names, sequential_rule=sequential)


class UntilDecided:
    """The ``--until-decided`` observer: feed each run to the e-process monitor."""

    def __init__(self, baseline: str, variants: list[str], *, alpha: float,
                 max_runs: int | None) -> None:
        from flakehunt.stats.sequential import Monitor

        self.monitor = Monitor(baseline, variants, alpha=alpha, max_runs=max_runs)

    def __call__(self, f: Finished) -> str | None:
        """Return "decided" once every variant is decided against the baseline."""
        a = f.result.attempt
        self.monitor.add(record_of(a.variant, a.block, f.outcome.value,
                                   f.signature[0] if f.signature else None, a.concurrency))
        return "decided" if self.monitor.decided() else None
