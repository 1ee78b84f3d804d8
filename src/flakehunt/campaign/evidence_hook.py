"""Evidence for each finished run: the scheduler's side of ``evidence.EvidenceSession``.

Runs in the slot thread, before the run's files are moved: cores and ``--keep``
files are found in the run's working directory. A captured core is checked
with chkimg against the run's kept files and the images on disk; a difference
becomes part of the failure's signature (code that is not what the linker
wrote is a failure mode of its own: the story's).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flakehunt.campaign.model import AttemptResult, Outcome

if TYPE_CHECKING:
    from flakehunt.evidence.session import EvidenceSession
    from flakehunt.triage.signature import Signature


@dataclass(frozen=True)
class RunEvidenceFields:
    """What a run's database row gets from its evidence."""

    core_captured: bool | None = None
    core_reason: str | None = None
    evidence_json: str | None = None
    chkimg: str | None = None  # the chkimg summary line, when a core was checked
    notices: tuple[str, ...] = ()


NONE = RunEvidenceFields()


def collect(session: EvidenceSession, result: AttemptResult, outcome: Outcome,
            evidence_dir: str | None) -> RunEvidenceFields:
    """Hand the run to the evidence session; for a failure, check its core with chkimg."""
    failed = outcome.failed
    rec = session.attempt_ended(result, failed=failed,
                                evidence_dir=evidence_dir if failed else None)
    if not failed and not rec.hashes and rec.telemetry is None:
        return NONE  # the common case, thousands of times a second: nothing to record
    doc: dict[str, Any] = rec.to_record()
    doc.pop("evidence_path", None)  # the row has its own, relative to the evidence root
    line = None
    core = rec.core
    if failed and core is not None and core.captured and core.path:
        from flakehunt.images import evidence as chkimg_evidence

        images = [Path(k.kept_as) for k in rec.kept if k.kept_as]
        line, report = chkimg_evidence(core.path, images=images,
                                       search=[Path(result.attempt.cwd)])
        doc["chkimg"] = {"summary": line, "report": report}
    useful = {k: v for k, v in doc.items() if v not in (None, [], {}, "")}
    return RunEvidenceFields(
        core_captured=None if core is None else core.captured,
        core_reason=None if core is None else core.reason,
        evidence_json=json.dumps(useful, default=str) if useful else None,
        chkimg=line,
        notices=rec.notices,
    )


def with_chkimg(sig: Signature, line: str | None) -> Signature:
    """Return *sig* refined by a chkimg verdict that found code unlike the image."""
    if not line:
        return sig
    if line.startswith("chkimg: ZERO-FILLED"):
        phrase = "code pages read as zeros (chkimg)"
    elif line.startswith("chkimg: DIFFERS"):
        phrase = "code differs from the image on disk (chkimg)"
    else:
        return sig  # clean or not comparable: no new failure mode
    from flakehunt.triage.signature import Signature

    digest = hashlib.sha1(f"{sig.id}|{phrase}".encode()).hexdigest()[:10]
    return Signature(id=digest, title=f"{sig.title} · {phrase}", kind=sig.kind,
                     status=sig.status, fingerprint=sig.fingerprint, tests=sig.tests)


def absolute_dir(evidence_root: str, campaign_id: int, seq: int) -> str:
    """The evidence directory of run *seq*, as RunFiles will name it."""
    return os.path.join(evidence_root, f"c{campaign_id}", f"r{seq:06d}")
