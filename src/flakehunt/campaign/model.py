"""The nouns of a hunt: outcomes, attempts and their results.

Attempts and results are values: made once, never changed (``dataclasses.replace``
makes a changed copy). They are not declared frozen because a frozen dataclass
sets each field through ``object.__setattr__``: 6.5 µs to build an Attempt,
against 2 µs with plain slots, and the loop builds three such objects a run.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any


class Outcome(str, enum.Enum):
    """How one run ended. Only ``FAIL`` and ``TIMEOUT`` count as failures."""

    PASS = "pass"
    FAIL = "fail"
    TIMEOUT = "timeout"
    IGNORED = "ignored"  # failed, but --ignore-regex matched: recorded, not counted
    INTERRUPTED = "interrupted"  # ended by Ctrl-C/SIGTERM of flakehunt: not counted
    COULD_NOT_START = "could-not-start"

    # Set below for every member: read several times per run, thousands of runs
    # a second (an Enum property comparing members costs ~3 µs a read).
    counts: bool  # whether a run with this outcome enters the failure rate's denominator
    failed: bool  # whether this outcome is a counted failure


for _o in Outcome:
    _o.counts = _o in (Outcome.PASS, Outcome.FAIL, Outcome.TIMEOUT)
    _o.failed = _o in (Outcome.FAIL, Outcome.TIMEOUT)
del _o


class LayeredEnv(Mapping[str, str]):
    """A child's environment: a shared base (one per variant) under the run's own values.

    Thousands of runs a second share one base, which the local executor encodes
    once; a run adds only its ``FLAKEHUNT_*`` values. Pickles as a plain dict.
    """

    __slots__ = ("base", "extra")

    def __init__(self, base: Mapping[str, str], extra: Mapping[str, str]) -> None:
        self.base = base
        self.extra = extra

    def __getitem__(self, key: str) -> str:
        extra = self.extra
        return extra[key] if key in extra else self.base[key]

    def __iter__(self) -> Iterator[str]:
        yield from self.extra
        extra = self.extra
        yield from (k for k in self.base if k not in extra)

    def __len__(self) -> int:
        return len(self.base) + sum(1 for k in self.extra if k not in self.base)

    def __contains__(self, key: object) -> bool:
        return key in self.extra or key in self.base

    def __reduce__(self) -> tuple[Any, ...]:
        return (dict, (dict(self),))

    def __repr__(self) -> str:
        return f"LayeredEnv({dict(self)!r})"


@dataclass(slots=True)
class Attempt:
    """One run to make: everything an executor needs, nothing it must look up."""

    run_id: str  # unique across every database; exported as FLAKEHUNT_RUN_ID
    campaign_id: int
    seq: int  # 1-based, per campaign; exported as FLAKEHUNT_RUN
    variant: str
    block: int
    slot: int
    argv: tuple[str, ...]
    cwd: str
    env: Mapping[str, str]  # the full environment of the child
    run_dir: str  # private scratch + log directory, exists before launch
    log_path: str  # stdout+stderr of the run go here, never through flakehunt's memory
    timeout: float | None = None
    kill_after: float = 10.0
    no_kill: bool = False
    concurrency: int = 1
    load_profile: str = ""


@dataclass(slots=True)
class Rusage:
    """Resource use of a finished run, from ``wait4`` where the platform has it."""

    max_rss_kb: int | None = None
    user_cpu: float | None = None
    sys_cpu: float | None = None


@dataclass(slots=True)
class AttemptResult:
    """What an executor observed; interpretation (pass/fail) happens elsewhere.

    ``returncode`` follows Python's convention: ``>= 0`` is an exit status,
    ``-N`` is death by signal N on POSIX. On Windows it is the 32-bit exit code
    as unsigned (e.g. 0xC0000005).
    """

    attempt: Attempt
    started: float  # epoch seconds
    duration: float  # seconds, monotonic
    returncode: int | None  # None: never started, or left running with --no-kill
    host: str
    platform: str  # "posix" or "windows": decides the primary reading of returncode
    pid: int | None = None
    timed_out: bool = False
    interrupted: bool = False
    start_error: str | None = None  # why the command could not start
    left_running: bool = False  # --no-kill: the hung run was left alive for a debugger
    core_dumped: bool = False
    rusage: Rusage = field(default_factory=Rusage)
    worker: str = ""  # cluster worker address; "" for the local executor
