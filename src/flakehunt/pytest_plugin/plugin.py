"""The active hunt: pytest hooks that repeat, observe, record and summarise.

Registered by ``pytest_configure`` only when a hunt was asked for. Roles:
every process (the only one, or each pytest-xdist worker) generates the
repetitions, applies compare variants' environments and describes failures on
its reports; the controller (the only process, or the xdist controller) turns
reports into recorded repetitions and prints the summary.
"""

from __future__ import annotations

import os
import time
from collections.abc import Generator
from typing import Any

import pytest

from flakehunt.pytest_plugin.items import (
    Rep,
    repetitions,
    selected,
    split_nodeid,
    split_selection,
)
from flakehunt.pytest_plugin.options import REP_FIXTURE, HuntOptions
from flakehunt.pytest_plugin.recorder import Recorder, Repetition
from flakehunt.pytest_plugin.signature import (
    RepFailure,
    crash_signature,
    failure_of,
    signature_of,
)

ATTR = "flakehunt"  # report attribute; pytest-xdist serialises it with the report


class FlakehuntPlugin:
    """The hooks of one hunt."""

    def __init__(self, config: pytest.Config, opts: HuntOptions) -> None:
        self.config = config
        self.opts = opts
        workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
        self.worker = str(workerinput["workerid"]) if workerinput else "main"
        self.is_controller = workerinput is None
        # The time limit counts from this process's first repetition: collecting
        # thousands of repetitions can take longer than a short limit.
        self.deadline: float | None = None
        self.stop_reason = ""
        self.env = dict(opts.variants)
        self.reps = repetitions(opts.repetitions, [n for n, _ in opts.variants], opts.seed)
        self.recorder: Recorder | None = None
        if self.is_controller:
            jobs = _xdist_workers(config)
            self.recorder = Recorder(opts, str(config.rootpath), jobs)
            from flakehunt.errors import FlakehuntError

            try:  # now, so that an unusable database stops pytest before any test runs
                self.recorder.store  # noqa: B018
            except FlakehuntError as exc:
                raise pytest.UsageError(f"flakehunt: {exc}") from exc
        self._phases: dict[str, list[pytest.TestReport]] = {}
        self._session: pytest.Session  # set by pytest_sessionstart
        # Before collection (this runs in pytest_configure): see split_selection.
        config.args[:], self._wanted = split_selection(
            config.args, str(config.invocation_params.dir))

    # -- every process --------------------------------------------------------------

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """Give xdist workers the seed, so they generate the controller's items in its order."""
        node.workerinput["flakehunt_seed"] = self.opts.seed

    @pytest.hookimpl(trylast=True)
    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """Add the repetition parameter, after (so: right of) the test's own parameters."""
        if REP_FIXTURE in metafunc.fixturenames:
            return
        metafunc.fixturenames.append(REP_FIXTURE)
        metafunc.parametrize(REP_FIXTURE, self.reps, ids=[r.id for r in self.reps],
                             indirect=True, scope="function")

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]
                                      ) -> None:
        """Keep the parameter sets selected; learn the tests for the campaign's spec."""
        if self._wanted:
            keep = [i for i in items if selected(i.nodeid, os.path.realpath(i.path),
                                                 self._wanted)]
            if len(keep) < len(items):
                kept = set(map(id, keep))
                config.hook.pytest_deselected(items=[i for i in items if id(i) not in kept])
                items[:] = keep
        if self.recorder is not None:
            self.recorder.announce(_tests_of(i.nodeid for i in items))

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        """Learn the selected tests from a worker's collection (xdist controller)."""
        if self.recorder is not None:
            self.recorder.announce(_tests_of(ids))

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None
                                ) -> bool | None:
        """Skip the remaining repetitions once the time is up (no report: not run)."""
        if self.opts.duration is not None and self.deadline is None:
            self.deadline = time.monotonic() + self.opts.duration
        if self.deadline is not None and time.monotonic() >= self.deadline:
            self.stop_reason = "duration"
            return True
        return None

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, object, object]:
        """Apply a compare variant's environment for the whole repetition."""
        rep = _rep_of(item)
        if rep is not None and rep.variant is not None and self.env.get(rep.variant):
            mp = pytest.MonkeyPatch()
            for key, value in self.env[rep.variant]:
                mp.setenv(key, value)
            # Undone after the repetition's teardown: see pytest_runtest_teardown.
            item.stash[_UNDO] = mp
        return (yield)

    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_runtest_teardown(self, item: pytest.Item, nextitem: pytest.Item | None
                                ) -> Generator[None, object, object]:
        """Restore os.environ after the repetition's own teardown."""
        try:
            return (yield)
        finally:
            mp = item.stash.get(_UNDO, None)
            if mp is not None:
                mp.undo()
                del item.stash[_UNDO]

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]
                                  ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        """Describe the repetition (and its failure) on the report for the controller."""
        report = yield
        rep = _rep_of(item)
        if rep is None:
            return report
        info: dict[str, Any] = {"block": rep.block, "variant": rep.variant,
                                "worker": self.worker, "pid": os.getpid()}
        if report.failed:
            info["signature"] = list(signature_of(_failure(item, call, report)))
        setattr(report, ATTR, info)
        return report

    # -- the controller -------------------------------------------------------------

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Record a repetition when its teardown report arrives."""
        if not isinstance(getattr(report, ATTR, None), dict):
            crashed = report.when not in ("setup", "call", "teardown")  # xdist says "???"
            if self.recorder is not None and crashed and report.failed:
                self._crashed(report)  # pytest-xdist's report for a worker that died
            return
        if self.recorder is None:  # an xdist worker: stop itself, the controller records
            if report.failed and self.opts.until_fail:
                self._stop("until-fail", "flakehunt: stopped at the first failed repetition")
            return
        phases = self._phases.setdefault(report.nodeid, [])
        phases.append(report)
        if report.when != "teardown":
            return
        del self._phases[report.nodeid]
        repetition = _repetition(report.nodeid, phases)
        if repetition is None:
            return
        self.recorder.record(repetition)
        if repetition.outcome == "fail" and self.opts.until_fail:
            self._stop("until-fail", "flakehunt: stopped at the first failed repetition")

    def _crashed(self, report: pytest.TestReport) -> None:
        split = split_nodeid(report.nodeid)
        if split is None or self.recorder is None:
            return
        test, rep = split
        self._phases.pop(report.nodeid, None)
        node = getattr(report, "node", None)
        worker = str(getattr(getattr(node, "gateway", None), "id", "") or "worker")
        self.recorder.record(Repetition(
            test=test, block=rep.block, variant=rep.variant, worker=worker, outcome="fail",
            started=time.time(), duration=0.0, signature=crash_signature(),
            tail=str(report.longrepr), note="the worker process died"))
        if self.opts.until_fail:
            self._stop("until-fail", "flakehunt: stopped at the first failed repetition")

    def _stop(self, reason: str, message: str) -> None:
        if not self.stop_reason:
            self.stop_reason = reason
        dsession = self.config.pluginmanager.getplugin("dsession")
        if dsession is not None:  # the xdist controller stops its workers
            dsession.shouldstop = message
        else:
            self._session.shouldfail = message

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """Keep the session: the stop rules set its shouldfail."""
        self._session = session

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """Print rates with intervals, flaky/broken verdicts and signatures."""
        if self.recorder is None:
            return
        from flakehunt.pytest_plugin.summary import render

        terminalreporter.write_sep("=", "flakehunt")
        terminalreporter.write_line(render(self.recorder, self.stop_reason))

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Remember how the session ended (the summary still reads the database)."""
        self._interrupted = (exitstatus == pytest.ExitCode.INTERRUPTED
                             and self.stop_reason != "until-fail")
        if self._interrupted:
            self.stop_reason = "interrupted"

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """Close the campaigns (finished, or interrupted by Ctrl-C) and the database."""
        if self.recorder is not None:
            self.recorder.finish(interrupted=getattr(self, "_interrupted", True))


_UNDO = pytest.StashKey[pytest.MonkeyPatch]()


def _xdist_workers(config: pytest.Config) -> int:
    n = getattr(config.option, "numprocesses", None)
    dist = getattr(config.option, "dist", "no")
    return int(n) if isinstance(n, int) and n > 0 and dist != "no" else 1


def _rep_of(item: pytest.Item) -> Rep | None:
    callspec = getattr(item, "callspec", None)
    value = callspec.params.get(REP_FIXTURE) if callspec is not None else None
    return value if isinstance(value, Rep) else None


def _tests_of(nodeids: Any) -> list[str]:
    out: list[str] = []
    for nodeid in nodeids:
        split = split_nodeid(nodeid)
        if split is not None and split[0] not in out:
            out.append(split[0])
    return out


def _failure(item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport
             ) -> RepFailure:
    rootdir = str(item.config.rootpath)
    excinfo = call.excinfo
    if excinfo is not None:
        return failure_of(call.when, excinfo.value, excinfo.tb, str(item.path), rootdir)
    # Failed without an exception: a strict xfail that passed.
    return RepFailure(call.when, "XPASS(strict)", str(report.longrepr or ""), "")


def _repetition(nodeid: str, phases: list[pytest.TestReport]) -> Repetition | None:
    split = split_nodeid(nodeid)
    if split is None:
        return None
    test, _ = split
    info = getattr(phases[0], ATTR)
    failed = next((r for r in phases if r.failed), None)
    skipped = next((r for r in phases if r.skipped), None)
    sig = None
    tail = note = None
    if failed is not None:
        outcome = "fail"
        s = getattr(failed, ATTR).get("signature")
        sig = (str(s[0]), str(s[1])) if s else None
        tail = failed.longreprtext
    elif skipped is not None:
        outcome = "ignored"
        note = "xfail" if hasattr(skipped, "wasxfail") else _skip_reason(skipped)
    else:
        outcome = "pass"
    return Repetition(
        test=test, block=int(info["block"]), variant=info.get("variant"),
        worker=str(info.get("worker", "main")), outcome=outcome,
        started=float(getattr(phases[0], "start", time.time())),
        duration=sum(r.duration for r in phases), signature=sig, tail=tail, note=note,
        pid=info.get("pid"))


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        reason = str(longrepr[2])
        return "skipped: " + reason.removeprefix("Skipped: ")
    return "skipped"
