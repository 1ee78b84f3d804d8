"""Failure signatures: which failed runs are the same failure.

A signature is the outcome kind (fail, timeout, could-not-start, killed by a
signal, a Windows crash status, killed by OOM), the decoded status, a
fingerprint of the output (see ``fingerprint``) and the failing test ids from
a JUnit file. Its id is a short hash of those parts, stable across runs,
machines and flakehunt versions that keep ``ID_VERSION``; its title is what a
person reads: ``0xC0000005 STATUS_ACCESS_VIOLATION · error: null deref at <addr>``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from flakehunt.campaign.model import Outcome
from flakehunt.triage.decode import status_label
from flakehunt.triage.fingerprint import fingerprint, normalize

ID_VERSION = "v1"  # bump when a change to the parts or normalisation moves ids
ID_LENGTH = 10
TITLE_MAX = 160
SEP = " · "

# Kernel and runtime phrases that show a SIGKILL came from memory pressure.
# A bare "Killed" is not evidence: bash prints it for any SIGKILL.
_OOM_HINT = re.compile(
    r"out of memory|oom[-_ ]?kill|Killed process \d+|memory cgroup|MemoryError"
    r"|Cannot allocate memory|std::bad_alloc|fatal error: runtime: out of memory",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Signature:
    """A stable short id and a title people can read, with the parts they came from."""

    id: str
    title: str
    kind: str = ""
    status: str = ""
    fingerprint: str = ""
    tests: tuple[str, ...] = ()


def _is_sigkill(returncode: int | None, platform: str) -> bool:
    if returncode is None or platform.lower() == "windows":
        return False
    return returncode == -9 or returncode == 128 + 9


def failure_kind(
    outcome: Outcome, returncode: int | None, platform: str, tail: bytes, *, oom: bool = False
) -> str:
    """Return the kind of a failure: fail, timeout, could-not-start, signal, crash or oom."""
    if outcome is Outcome.TIMEOUT:
        return "timeout"  # our own kill: its status says nothing about the failure
    if outcome is Outcome.COULD_NOT_START:
        return "could-not-start"
    if oom or (
        _is_sigkill(returncode, platform)
        and _OOM_HINT.search(tail[-8192:].decode("utf-8", errors="replace"))
    ):
        return "oom"
    if returncode is not None:
        if platform.lower() == "windows" and (returncode & 0xFFFFFFFF) >> 30 == 3:
            return "crash"  # an NTSTATUS of error severity: an exception ended it
        if platform.lower() != "windows" and returncode < 0:
            return "signal"
    return "fail"


def _status_key(kind: str, returncode: int | None, platform: str) -> str:
    """Return the part of the id that says which status, equal for equal statuses."""
    if kind in ("timeout", "could-not-start") or returncode is None:
        return ""
    if platform.lower() == "windows":
        return f"0x{returncode & 0xFFFFFFFF:08X}"
    return status_label(returncode, platform)


def _tests_text(tests: Sequence[str]) -> str:
    if not tests:
        return ""
    more = f" (+{len(tests) - 1} more)" if len(tests) > 1 else ""
    return f"test {tests[0]}{more}"


def _title(kind: str, label: str, fp: str, tests: Sequence[str], start_error: str | None) -> str:
    if kind == "timeout":
        head = "timeout"
    elif kind == "could-not-start":
        head = "could not start" + (f": {normalize(start_error)}" if start_error else "")
    elif kind == "oom":
        head = f"out of memory ({label})"
    else:
        head = label
    parts = [head, _tests_text(tests), fp]
    title = SEP.join(p for p in parts if p)
    return title if len(title) <= TITLE_MAX else title[: TITLE_MAX - 1] + "…"


def signature_for(
    outcome: Outcome,
    returncode: int | None,
    platform: str,
    output_tail: bytes,
    *,
    signature_regex: re.Pattern[str] | re.Pattern[bytes] | None = None,
    junit_failures: Sequence[str] = (),
    oom: bool = False,
    start_error: str | None = None,
    fast_fail_code: int | None = None,
) -> Signature:
    """Return the signature of a failed run.

    *signature_regex* replaces the built-in output patterns (its first group
    is the fingerprint); *junit_failures* are failing test ids read from the
    run's JUnit file; *oom* says other evidence (cgroup oom_kill count, kernel
    log) shows the run was killed for memory; *start_error* is why a run could
    not start; *fast_fail_code* comes from a crash dump's exception record.
    """
    fp = fingerprint(output_tail, signature_regex)
    kind = failure_kind(outcome, returncode, platform, output_tail, oom=oom)
    tests = tuple(sorted(set(junit_failures)))
    label = status_label(returncode, platform, fast_fail_code=fast_fail_code)
    status = _status_key(kind, returncode, platform)
    if fast_fail_code is not None and status:
        status += f"/ff{fast_fail_code}"
    start = normalize(start_error) if kind == "could-not-start" and start_error else ""
    key = "\x1f".join([ID_VERSION, kind, status, fp, start, *tests])
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:ID_LENGTH]
    title = _title(kind, label, fp, tests, start_error)
    return Signature(digest, title, kind, status, fp, tests)


def signature_summary(counts: Mapping[Signature, int] | Mapping[str, int], limit: int = 5) -> str:
    """Return one line naming the distinct failures, most frequent first.

    ``counts`` maps signatures (or their titles) to how many runs had them:
    "2 distinct failures: 0xC0000005 STATUS_ACCESS_VIOLATION x9 · 0xC0000409 ... x3".
    """
    items = [(k.title if isinstance(k, Signature) else str(k), n) for k, n in counts.items() if n]
    if not items:
        return "no failures"
    items.sort(key=lambda tn: (-tn[1], tn[0]))
    shown = [f"{title} x{n}" for title, n in items[:limit]]
    if len(items) > limit:
        rest = sum(n for _, n in items[limit:])
        shown.append(f"{len(items) - limit} more ({rest} runs)")
    noun = "distinct failure" if len(items) == 1 else "distinct failures"
    return f"{len(items)} {noun}: " + SEP.join(shown)
