"""The hunt loop's one door to evidence: campaign start, each attempt, each failure, the end.

Usage (from the scheduler; thread-safe for several slots)::

    ev = EvidenceSession(EvidenceOptions(keep=("build/*.exe",), hash=("build/*.exe",)))
    setup = ev.start()                    # before the first spawn: limits are inherited
    ev.attempt_started(attempt, pid)      # right after spawning
    rec = ev.attempt_ended(result, failed=outcome.failed)   # after the run was reaped
    store(rec.to_record())                # JSON-ready fields for the run's row
    ev.close()                            # in a finally: stops tracer and recorder
"""

from __future__ import annotations

import collections
import contextlib
import functools
import os
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any, NamedTuple, TypeVar

from flakehunt.campaign.model import Attempt, AttemptResult
from flakehunt.evidence.artifacts import (
    FileGlob,
    FileHash,
    KeptFile,
    compile_globs,
    hash_files,
    keep_files,
)
from flakehunt.evidence.budget import DEFAULT_EVIDENCE_CAP, EvidenceBudget
from flakehunt.evidence.cores import CoreCollector, CoreResult, CoreSetup, prepare_core_dumps
from flakehunt.evidence.recorder import FlightRecorder
from flakehunt.evidence.tracer import HookResult, Tracer, expand_command, run_hook, split_command

TELEMETRY_FILE = "telemetry.jsonl.gz"
T = TypeVar("T")


@dataclass(frozen=True)
class EvidenceOptions:
    """What to keep; built by the CLI from ``flakehunt run`` options."""

    root: str = os.path.join(".flakehunt", "evidence")
    cap: int | None = DEFAULT_EVIDENCE_CAP  # --max-evidence; None: unlimited
    keep: tuple[str, ...] = ()  # --keep GLOB
    hash: tuple[str, ...] = ()  # --hash GLOB
    cores: bool = True
    telemetry_hz: float = 10.0  # --telemetry-hz; 0 turns the recorder off
    telemetry_before: float = 30.0  # --telemetry-before
    telemetry_retention: float = 600.0
    neighbours: int = 1  # passing runs on each side of a failure whose windows are kept too
    concurrency: int = 1
    tracer: str | None = None  # --tracer CMD
    tracer_snapshot: str | None = None  # --tracer-snapshot SIGNAL|CMD
    on_failure: str | None = None  # --on-failure CMD
    on_failure_shell: bool = False
    hook_timeout: float = 60.0

    def validate(self) -> None:
        """Raise UsageError for bad globs and commands before anything runs."""
        compile_globs(self.keep)
        compile_globs(self.hash)
        if self.on_failure:
            split_command(self.on_failure)
        if self.tracer_snapshot and not self.tracer:
            from flakehunt.errors import UsageError

            raise UsageError("--tracer-snapshot needs --tracer", "add --tracer 'CMD'")


@dataclass(frozen=True)
class RunEvidence:
    """What was kept for one run; ``to_record`` gives the fields for its database row."""

    evidence_dir: str | None = None
    hashes: tuple[FileHash, ...] = ()
    kept: tuple[KeptFile, ...] = ()
    core: CoreResult | None = None
    telemetry: dict[str, Any] | None = None
    telemetry_path: str | None = None
    hooks: tuple[HookResult, ...] = ()
    notices: tuple[str, ...] = ()  # say these once to the user (e.g. the cap was reached)
    problems: tuple[str, ...] = ()  # steps that failed (disk full...): evidence is best effort

    def to_record(self) -> dict[str, Any]:
        """Return JSON-ready evidence fields for the run's record."""
        return {
            "evidence_path": self.evidence_dir,
            "core_captured": None if self.core is None else self.core.captured,
            "core_path": None if self.core is None else self.core.path,
            "core_reason": None if self.core is None else self.core.reason,
            "core_size": None if self.core is None else self.core.size,
            "artifact_hashes": [asdict(h) for h in self.hashes],
            "kept": [asdict(k) for k in self.kept],
            "telemetry": self.telemetry,
            "telemetry_path": self.telemetry_path,
            "hooks": [{"argv": list(h.argv), "returncode": h.returncode, "log": h.log_path,
                       "reason": h.reason} for h in self.hooks],
            "evidence_problems": list(self.problems),
        }


_NOTHING = RunEvidence()  # frozen: shared by every pass that keeps nothing


class _Done(NamedTuple):
    run_id: str
    start: float
    end: float


@dataclass
class EvidenceSession:
    """Owns the budget, recorder, tracer and core collector of one campaign."""

    options: EvidenceOptions
    recorder: FlightRecorder | None = None  # injected in tests; built by start() otherwise
    collector: CoreCollector | None = None
    clock: Callable[[], float] = time.time
    setup: CoreSetup | None = None
    budget: EvidenceBudget | None = None  # share the loop's budget, or one is made from cap
    tracer: Tracer | None = None
    failing: collections.deque[dict[str, Any]] = field(
        default_factory=lambda: collections.deque(maxlen=5000))
    passing: collections.deque[dict[str, Any]] = field(
        default_factory=lambda: collections.deque(maxlen=5000))

    def __post_init__(self) -> None:
        if self.budget is None:
            self.budget = EvidenceBudget(self.options.cap)
        self._budget: EvidenceBudget = self.budget
        self._keep: list[FileGlob] = compile_globs(self.options.keep)
        self._hash: list[FileGlob] = compile_globs(self.options.hash)
        self._lock = threading.Lock()
        self._recent_pass: collections.deque[_Done] = collections.deque(
            maxlen=max(1, self.options.neighbours))
        self._awaiting: list[tuple[str, int]] = []  # (failure dir, passing runs still wanted)

    def start(self, campaign_id: int | None = None) -> CoreSetup | None:
        """Campaign start: core limits (inherited by every run), recorder, tracer."""
        o = self.options
        o.validate()
        if o.cores:
            self.setup = prepare_core_dumps()
            if self.collector is None:
                self.collector = CoreCollector.for_this_machine(self.setup)
        if self.recorder is None and o.telemetry_hz > 0:
            self.recorder = FlightRecorder(hz=o.telemetry_hz, retention=o.telemetry_retention,
                                           max_runs=o.concurrency, clock=self.clock)
        if self.recorder is not None:
            self.recorder.start()
        if o.tracer:
            where = "tracer" if campaign_id is None else os.path.join(f"c{campaign_id}", "tracer")
            self.tracer = Tracer(o.tracer, os.path.join(o.root, where), o.tracer_snapshot)
            self.tracer.start()
        return self.setup

    def attempt_started(self, attempt: Attempt, pid: int) -> None:
        """Right after the spawn: sample the run's process tree."""
        if self.recorder is not None:
            self.recorder.register(attempt.run_id, pid)

    def evidence_dir(self, attempt: Attempt) -> str:
        """Return where a failing attempt's evidence goes."""
        return os.path.join(self.options.root, f"c{attempt.campaign_id}", f"r{attempt.seq:06d}")

    def attempt_ended(self, result: AttemptResult, failed: bool, *,
                      evidence_dir: str | None = None, cwd: str | None = None) -> RunEvidence:
        """After the run was reaped: hashes for every run; the full evidence for a failure.

        *evidence_dir* overrides where a failure's evidence goes (default
        ``evidence_dir(attempt)``); *cwd* says where the run's working directory
        is now, if the loop already moved it (cores and --keep files are found there).
        """
        a = result.attempt
        if cwd is not None:
            a = replace(a, cwd=cwd)
            result = replace(result, attempt=a)
        rec = self.recorder
        tree = frozenset() if rec is None else rec.unregister(a.run_id, tree=failed)
        end = result.started + max(0.0, result.duration)
        hashes = tuple(hash_files(a.cwd, self._hash)) if self._hash else ()
        summary = None
        newest = None if rec is None else rec.system.latest_t()
        # A run shorter than one tick usually holds no sample: skip it cheaply (the
        # loop may finish thousands of runs a second).
        if rec is not None and newest is not None and newest >= result.started and (
                failed or end - result.started >= 1.0 / rec.hz):
            from flakehunt.evidence.summary import summarize

            summary = summarize(rec.window(result.started, end), a.run_id)
        if not failed:
            self._passed(_Done(a.run_id, result.started, end), summary)
            if not hashes and summary is None:
                return _NOTHING  # the common pass: thousands a second, nothing kept
            return RunEvidence(hashes=hashes, telemetry=summary)
        return self._failed(result, end, hashes, summary, evidence_dir or self.evidence_dir(a),
                            tree)

    def _passed(self, done: _Done, summary: dict[str, Any] | None) -> None:
        if summary is not None:
            self.passing.append(summary)
        with self._lock:
            self._recent_pass.append(done)
            if not self._awaiting:
                return  # the common case: no failure waits for the passes after it
            awaiting, self._awaiting = self._awaiting, []
        still = []
        for fail_dir, wanted in awaiting:
            with contextlib.suppress(OSError):  # best effort, like all evidence
                self._write_neighbour(fail_dir, done)
            if wanted > 1:
                still.append((fail_dir, wanted - 1))
        with self._lock:
            self._awaiting.extend(still)

    def _failed(self, result: AttemptResult, end: float, hashes: tuple[FileHash, ...],
                summary: dict[str, Any] | None, d: str, tree: frozenset[int]) -> RunEvidence:
        """Collect a failure's evidence; an OSError in one step is noted, never raised.

        Evidence is best effort: a full disk or a vanished file must not end the
        campaign, whose records matter more than any one failure's files.
        """
        a, o = result.attempt, self.options
        problems: list[str] = []

        def step(what: str, fn: Callable[[], T]) -> T | None:
            try:
                return fn()
            except OSError as exc:
                problems.append(f"{what}: {exc.strerror or exc}")
                return None

        step("cannot create the evidence directory", lambda: os.makedirs(d, exist_ok=True))
        hooks: list[HookResult] = []
        values = {"run_dir": a.run_dir, "pid": "" if result.pid is None else str(result.pid),
                  "exit": "" if result.returncode is None else str(result.returncode), "core": ""}
        tracer = self.tracer
        if tracer is not None:  # first: a tracer's ring buffer keeps overwriting
            snap = step("tracer snapshot", lambda: tracer.snapshot(d, values))
            if snap is not None:
                hooks.append(snap)
        core = None
        collector = self.collector
        if collector is not None:
            core = step("core", lambda: collector.collect(
                pid=result.pid, returncode=result.returncode, cwd=a.cwd, started=result.started,
                dest_dir=d, budget=self._budget, exe=_exe(a),
                core_dumped=result.core_dumped or None, descendants=tree))
            values["core"] = (core.path if core else None) or ""
        kept: tuple[KeptFile, ...] = ()
        if self._keep:
            kept = tuple(step("--keep", lambda: keep_files(a.cwd, self._keep, d,
                                                           self._budget)) or ())
        tele_path = None
        if self.recorder is not None:
            tele_path = step("telemetry", lambda: self._write_telemetry(
                os.path.join(d, TELEMETRY_FILE), result.started - o.telemetry_before, end))
            with self._lock:
                before = list(self._recent_pass)
                if o.neighbours > 0:
                    self._awaiting.append((d, o.neighbours))
            for done in before:
                step("telemetry of a passing neighbour",
                     functools.partial(self._write_neighbour, d, done))
        if summary is not None:
            self.failing.append(summary)
        if o.on_failure:
            argv = expand_command(o.on_failure, values, shell=o.on_failure_shell)
            hook = step("--on-failure", lambda: run_hook(
                argv, d, os.path.join(d, "on-failure.log"), o.hook_timeout))
            if hook is not None:
                hooks.append(hook)
        notice = self._budget.take_notice()
        return RunEvidence(d, hashes, kept, core, summary, tele_path, tuple(hooks),
                           (notice,) if notice else (), tuple(problems))

    def _write_telemetry(self, path: str, start: float, end: float) -> str | None:
        assert self.recorder is not None
        self.recorder.write_window(path, start, end)
        size = os.path.getsize(path)
        if not self._budget.try_reserve(size):
            os.unlink(path)
            return None
        return path

    def _write_neighbour(self, fail_dir: str, done: _Done) -> None:
        if self.recorder is None:
            return
        ndir = os.path.join(fail_dir, "passing-neighbours")
        os.makedirs(ndir, exist_ok=True)
        self._write_telemetry(os.path.join(ndir, f"{done.run_id}.{TELEMETRY_FILE}"),
                              done.start - self.options.telemetry_before, done.end)

    def comparison(self) -> list[str]:
        """Campaign end: how telemetry of failing runs differs from passing ones."""
        from flakehunt.evidence.summary import compare_windows

        return compare_windows(list(self.failing), list(self.passing))

    def close(self) -> None:
        """Stop the tracer and the recorder (idempotent; call in a finally)."""
        if self.tracer is not None:
            self.tracer.stop()
            self.tracer = None
        if self.recorder is not None:
            self.recorder.stop()


def _exe(a: Attempt) -> str | None:
    return a.argv[0] if a.argv else None
