"""Failure signatures: which failures are the same failure (minimal version).

Contract used by the scheduler: ``signature_for(...) -> Signature``. The triage
work (issue 3) adds output fingerprints and normalisation.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from flakehunt.campaign.model import Outcome
from flakehunt.triage.decode import status_label


@dataclass(frozen=True)
class Signature:
    """A stable short id and a title people can read."""

    id: str
    title: str


def signature_for(
    outcome: Outcome, returncode: int | None, platform: str, output_tail: bytes
) -> Signature:
    """Return the signature of a failed run."""
    if outcome is Outcome.TIMEOUT:
        title = "timeout"
    elif outcome is Outcome.COULD_NOT_START:
        title = "could not start"
    else:
        title = status_label(returncode, platform)
    digest = hashlib.sha1(f"{outcome.value}|{title}".encode()).hexdigest()[:8]
    return Signature(id=digest, title=title)
