"""The per-run facts the statistics need, independent of how they were stored."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RunRecord:
    """One run of one variant, as ``compare`` and ``--until-decided`` see it.

    *counted* is False for runs that say nothing about the rate (interrupted,
    ignored, could-not-start); they are kept so the report can say how many.
    *signature* is the triage signature id of a failure (None for a pass).
    """

    variant: str
    block: int
    failed: bool
    counted: bool = True
    signature: str | None = None
    concurrency: int = 1
