"""The hunt loop: slots pull attempts, run them, and the main thread records each.

Threads: one per slot runs ``executor.execute`` (blocking) and interprets the
result (classification, log tail, what to keep); the calling thread records
every finished run in the store the moment it arrives, applies the stop rules
and feeds the progress sink. Ctrl-C lands in the calling thread: first TERM
every running group, then (second Ctrl-C) KILL.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from flakehunt.campaign import evidence_hook
from flakehunt.campaign.books import Books, CampaignSummary, Finished
from flakehunt.campaign.classify import Rules, classify, compile_regex, read_tail
from flakehunt.campaign.events import ProgressSink
from flakehunt.campaign.model import Attempt, AttemptResult, LayeredEnv, Outcome
from flakehunt.campaign.order import block_order
from flakehunt.campaign.runfiles import RunFiles, RunPaths
from flakehunt.campaign.spec import CampaignSpec, Variant
from flakehunt.errors import EnvironmentProblem, FlakehuntError
from flakehunt.evidence.budget import EvidenceBudget
from flakehunt.execute.base import Executor
from flakehunt.record.journal import RunJournal
from flakehunt.record.store import Store, run_tuple
from flakehunt.triage.decode import status_label

if TYPE_CHECKING:
    from flakehunt.campaign.hunt import InterruptLatch
    from flakehunt.evidence.session import EvidenceSession
    from flakehunt.watch.session import RunWatch

SHELL_HOOK_TIMEOUT = 3600.0


class Scheduler:
    """Run one campaign (new or resumed) to its stop rule."""

    def __init__(
        self,
        spec: CampaignSpec,
        store: Store,
        executor: Executor,
        *,
        campaign_id: int,
        campaign_uuid: str,
        evidence_root: str,
        progress: ProgressSink,
        base_env: dict[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        status_interval: float = 0.1,
        observer: Callable[[Finished], str | None] | None = None,
        evidence: EvidenceSession | None = None,
        budget: EvidenceBudget | None = None,
        watch: RunWatch | None = None,
        interrupts: InterruptLatch | None = None,
    ) -> None:
        self.spec = spec
        self.store = store
        self.executor = executor
        self.campaign_id = campaign_id
        self.campaign_uuid = campaign_uuid
        self.progress = progress
        self.clock = clock
        self.status_interval = status_interval
        # Called with each recorded run; a non-empty return stops the campaign
        # (``compare --until-decided`` decides here).
        self.observer = observer
        self.rules = Rules(
            expect_exit=frozenset(spec.expect_exit),
            fail_regex=compile_regex(spec.fail_regex),
            ignore_regex=compile_regex(spec.ignore_regex),
        )
        self.evidence = evidence
        self.watch = watch  # orphans, leaks, the resource guard, load (flakehunt.watch)
        self.interrupts = interrupts  # Ctrl-C/SIGTERM counted outside the wait below
        self.files = RunFiles(
            evidence_root,
            campaign_id,
            keep_passing=spec.keep_passing,
            budget=budget if budget is not None else EvidenceBudget(spec.max_evidence),
        )
        if evidence is not None:
            executor.set_spawn_listener(evidence.attempt_started)
        self._signature_regex = compile_regex(spec.signature_regex)
        env = dict(os.environ if base_env is None else base_env)
        env.update(executor.marker_env())
        self._variant_env = {
            v.name: {**env, **dict(v.env), "FLAKEHUNT_CAMPAIGN": str(campaign_id)}
            for v in spec.variants
        }
        self._variants = {v.name: v for v in spec.variants}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._seq = store.max_seq(campaign_id)
        # Run ids: 64 random bits for this invocation, then the seq: unique across
        # databases (the merge key) without a getrandom call per run.
        self._run_prefix = os.urandom(8).hex()
        self._labels: dict[tuple[int | None, str], str] = {}
        self._order = self._make_order()
        self._record_lock = threading.Lock()
        self._done = threading.Event()
        self._slots_left = spec.jobs
        self._started_ok = False
        self._running = 0
        self.stop_reason = ""
        self._failures_now = 0
        self._error: BaseException | None = None

    # -- attempt generation ---------------------------------------------------------

    def _make_order(self) -> Iterator[tuple[str, int]]:
        names = [v.name for v in self.spec.variants]
        done_blocks = 0
        if self.spec.limits.runs is not None:
            tallies = self.store.tallies_by_variant(self.campaign_id)
            counted = [tallies[n].runs + tallies[n].ignored if n in tallies else 0 for n in names]
            done_blocks = min(counted)
        blocks = None
        if self.spec.limits.runs is not None:
            blocks = max(0, self.spec.limits.runs - done_blocks)
        return block_order(
            names,
            seed=self.spec.seed,
            first_block=self.store.max_block(self.campaign_id) + 1,
            blocks=blocks,
            shard=self.spec.shard,
        )

    def _next(self, slot: int) -> tuple[Variant, int, int] | None:
        with self._lock:
            if self._stop.is_set():
                return None
            nxt = next(self._order, None)
            if nxt is None:
                return None
            self._seq += 1
            self._running += 1
            return self._variants[nxt[0]], nxt[1], self._seq

    def _attempt(
        self, variant: Variant, block: int, seq: int, slot: int, paths: RunPaths
    ) -> Attempt:
        run_id = f"{self._run_prefix}{seq:x}"
        # The variant's environment is shared (the executor encodes it once);
        # only these values are the run's own.
        env = LayeredEnv(self._variant_env[variant.name], {
            "FLAKEHUNT_RUN": str(seq),
            "FLAKEHUNT_SLOT": str(slot),
            "FLAKEHUNT_RUN_ID": run_id,
            "FLAKEHUNT_RUN_DIR": paths.scratch,
            "FLAKEHUNT_VARIANT": variant.name,
        })
        return Attempt(
            run_id=run_id,
            campaign_id=self.campaign_id,
            seq=seq,
            variant=variant.name,
            block=block,
            slot=slot,
            argv=variant.argv,
            cwd=str(paths.scratch) if self.spec.fresh_dir else self.spec.cwd,
            env=env,
            run_dir=str(paths.scratch),
            log_path=str(paths.log),
            timeout=self.spec.timeout,
            kill_after=self.spec.kill_after,
            no_kill=self.spec.no_kill,
            concurrency=self.spec.jobs,
            load_profile=variant.load_profile,
        )

    # -- slot threads ---------------------------------------------------------------

    def _slot(self, slot: int) -> None:
        try:
            scratch = self.files.slot_scratch(slot)
            watch = self.watch
            while True:
                if watch is not None:
                    watch.before_launch(self._stop)  # the resource guard may hold us here
                if (nxt := self._next(slot)) is None:
                    break
                variant, block, seq = nxt
                paths = self.files.paths(slot, scratch)
                attempt = self._attempt(variant, block, seq, slot, paths)
                self._hook(self.spec.hooks.prepare, attempt)
                if watch is not None:
                    watch.run_started(attempt.run_id, seq, variant.name)
                result = self.executor.execute(attempt)
                extra = watch.run_ended(result) if watch is not None else None
                self._hook(self.spec.hooks.cleanup, attempt)
                finished = self._interpret(result, paths, extra)
                self._apply_stop_rules(finished)
                self._record(finished)
        except BaseException as exc:  # a full disk, a broken database: stop, then report
            with self._lock:
                if self._error is None:
                    self._error = exc
            self.request_stop("error")
            self.executor.interrupt()
        finally:
            with self._lock:
                self._slots_left -= 1
                if self._slots_left == 0:
                    self._done.set()

    def _junit_failures(self, a: Attempt, started: float) -> tuple[str, ...]:
        if not self.spec.junit:
            return ()
        from flakehunt.triage.junit import failures_for_run

        ids, _problem = failures_for_run(os.path.join(a.cwd, self.spec.junit), started)
        return ids

    def _apply_stop_rules(self, f: Finished) -> None:
        # Decided here, before this slot takes another attempt: in the story's
        # mode (stop at the first failure) one more build would overwrite the
        # failing output, the very evidence the user wants to look at.
        with self._lock:
            if f.outcome.counts:
                self._started_ok = True
            if f.outcome.failed:
                self._failures_now += 1
                limit = self.spec.limits.max_failures
                if limit and self._failures_now >= limit:
                    self._request_stop_locked("max-failures")
            elif f.outcome is Outcome.COULD_NOT_START and not self._started_ok:
                self._request_stop_locked("could-not-start")

    def _hook(self, command: str | None, attempt: Attempt | None) -> None:
        if not command:
            return
        env = dict(attempt.env) if attempt else dict(os.environ)
        subprocess.run(
            command,
            shell=True,
            env=env,
            cwd=attempt.cwd if attempt else self.spec.cwd,
            stdin=subprocess.DEVNULL,
            timeout=SHELL_HOOK_TIMEOUT,
            check=False,
        )

    def _interpret(
        self, result: AttemptResult, paths: RunPaths, extra: dict[str, object] | None = None
    ) -> Finished:
        a = result.attempt
        outcome = classify(result, self.rules, a.log_path)
        tail: bytes | None = None
        sig: tuple[str, str] | None = None
        evidence: str | None = None
        key = (result.returncode, result.platform)
        label = self._labels.get(key)
        if label is None:  # a few distinct statuses per campaign: decode each once
            label = self._labels[key] = status_label(*key)
        ev = evidence_hook.NONE
        if self.evidence is not None and outcome is not Outcome.COULD_NOT_START:
            where = None
            if outcome.failed:
                where = evidence_hook.absolute_dir(self.files.evidence_root, a.campaign_id,
                                                   a.seq)
            ev = evidence_hook.collect(self.evidence, result, outcome, where)
            for text in ev.notices:
                self.progress.notice(text)
        if outcome is Outcome.PASS:
            self.files.passed(a.seq, a.run_id, paths)
        elif outcome is Outcome.INTERRUPTED:
            self.files.discard(paths)
        else:
            # Imported at the first failure: its fingerprint patterns are ~20 ms of
            # start-up that a campaign without failures never needs.
            from flakehunt.triage.signature import signature_for

            tail = read_tail(a.log_path) if outcome is not Outcome.COULD_NOT_START else None
            s = signature_for(
                outcome,
                result.returncode,
                result.platform,
                tail or b"",
                signature_regex=self._signature_regex,
                junit_failures=self._junit_failures(a, result.started),
                start_error=result.start_error,
            )
            s = evidence_hook.with_chkimg(s, ev.chkimg)
            sig = (s.id, s.title)
            if outcome is Outcome.COULD_NOT_START:
                self.files.discard(paths)
            else:
                evidence = self.files.failed(a.seq, paths)
        if result.timed_out:
            label = f"timeout after {a.timeout:g}s" + (f", {label}" if result.returncode else "")
        evidence_json = ev.evidence_json
        if extra:  # what the watch saw (orphans), beside the evidence session's record
            evidence_json = json.dumps({**json.loads(evidence_json or "{}"), **extra})
        note = result.start_error
        if result.left_running:
            note = f"left running for a debugger: pid {result.pid} (kill -- -{result.pid})"
        row = dict(
            run_id=a.run_id,
            campaign_id=a.campaign_id,
            variant=a.variant,
            seq=a.seq,
            block=a.block,
            slot=a.slot,
            host=result.host,
            worker=result.worker,
            platform=result.platform,
            concurrency=a.concurrency,
            load_profile=a.load_profile,
            started=result.started,
            duration=result.duration,
            returncode=result.returncode,
            status_label=label,
            outcome=outcome.value,
            signature=sig[0] if sig else None,
            pid=result.pid,
            max_rss_kb=result.rusage.max_rss_kb,
            user_cpu=result.rusage.user_cpu,
            sys_cpu=result.rusage.sys_cpu,
            core_dumped=int(result.core_dumped),
            evidence_path=evidence,
            output_tail=tail,
            note=note,
            core_captured=ev.core_captured,
            core_reason=ev.core_reason,
            evidence_json=evidence_json,
        )
        return Finished(result, outcome, row, sig)

    # -- the loop ---------------------------------------------------------------------

    def run(self) -> CampaignSummary:
        """Run until a stop rule; record everything; return the summary."""
        spec = self.spec
        self.books = books = Books(
            self,
            self.store.tallies_by_variant(self.campaign_id),
            self.store.signature_counts(self.campaign_id),
        )
        self._hook(spec.hooks.setup, None)
        t0 = self.clock()
        books.t0 = t0
        self.executor.start()
        # After the executor's start: it may fork its guardian, best done while
        # no other thread of ours runs.
        self.journal = RunJournal(self.store, self.campaign_id)
        # Everything imported and built so far lives as long as the campaign:
        # out of the collector's sight, a full collection no longer walks it.
        gc.freeze()
        threads = [
            threading.Thread(target=self._slot, args=(i,), name=f"flakehunt-slot-{i}", daemon=True)
            for i in range(spec.jobs)
        ]
        for t in threads:
            t.start()
        interrupts = 0
        latch = self.interrupts
        # The slots record their own runs; this thread only watches the clock,
        # draws progress and takes Ctrl-C (Python delivers signals here).
        while any(t.is_alive() for t in threads):
            try:
                if latch is not None:
                    if latch.count > interrupts:  # came while we were not waiting
                        raise KeyboardInterrupt
                    latch.raise_now = True
                try:
                    self._done.wait(self._wait_time(t0))
                finally:
                    if latch is not None:
                        latch.raise_now = False
                with self._record_lock:
                    snap = books.snapshot()
                self.progress.update(snap)
                if self.watch is not None:
                    for text in self.watch.take_notices():
                        self.progress.notice(text)
            except KeyboardInterrupt:
                interrupts = max(interrupts + 1, latch.count if latch is not None else 0)
                self.request_stop("interrupted")
                self.executor.interrupt(force=interrupts > 1)
        for t in threads:
            t.join()
        try:
            # Every finished run into the database. (A Ctrl-C now only counts in the
            # latch: it cannot cut this short.)
            self.journal.close()
        except FlakehuntError as exc:
            if self._error is None:
                self._error = exc
        try:
            if self.watch is not None:
                self.watch.campaign_ending(self.executor)
                for text in self.watch.take_notices():
                    self.progress.notice(text)
            self.executor.close()
        finally:
            self._hook(spec.hooks.conclude, None)
        if self._error is not None:
            raise _as_user_error(self._error)
        kept = self.files.finish()
        if kept:
            self.store.set_evidence_paths(kept)
        summary = books.finish(self.store.signature_counts(self.campaign_id))
        self.progress.close(books.snapshot())
        return summary

    def _wait_time(self, t0: float) -> float:
        """Seconds until the next status update or the --duration deadline."""
        timeout = self.status_interval
        limit = self.spec.limits.duration
        if limit is not None and not self._stop.is_set():
            left = limit - (self.clock() - t0)
            if left <= 0:
                self.request_stop("duration")
            timeout = max(0.001, min(timeout, left))
        return timeout

    def _record(self, f: Finished) -> None:
        """Make one finished run durable now, before its slot launches another."""
        self.journal.add(run_tuple(f.row))
        with self._record_lock:
            self.books.record([f])
            if self.observer is not None:
                reason = self.observer(f)
                if reason:
                    self.request_stop(reason)

    def request_stop(self, reason: str) -> None:
        """Stop launching; the first reason is kept, except that Ctrl-C overrides."""
        with self._lock:
            self._request_stop_locked(reason)

    def _request_stop_locked(self, reason: str) -> None:
        if not self._stop.is_set() or reason == "interrupted":
            self.stop_reason = reason
        self._stop.set()

    def run_finished(self) -> None:
        """Account for a finished run in the count of runs in flight."""
        with self._lock:
            self._running -= 1

    @property
    def running(self) -> int:
        """Runs in flight now."""
        return self._running

    @property
    def started_ok(self) -> bool:
        """Whether any run of this invocation started."""
        return self._started_ok


def _as_user_error(exc: BaseException) -> BaseException:
    """Say what stopped a slot in one line; the recorded runs are all kept."""
    if isinstance(exc, FlakehuntError):
        return exc
    if isinstance(exc, OSError):
        return EnvironmentProblem(
            f"the campaign stopped: {exc.strerror or exc} ({exc.filename or 'no file'})",
            "every finished run is recorded; free disk space or fix permissions, then "
            "'flakehunt run --resume'",
        )
    return exc
