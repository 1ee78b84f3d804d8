"""The search loop: calibrate at the failing end, probe, stop at a confidence.

Pure apart from the injected ``ProbeRunner`` (real: git worktrees + the hunt
loop; fake: a simulated test) and the ``record`` callback (the store). The
failure that prompted the search is never counted: calibration runs are fresh,
because counting the prompting failure biases the rate up and, in simulation,
dropped accuracy to ~80-87%.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from flakehunt.bisect.policy import choose
from flakehunt.bisect.posterior import Model, Posterior, posterior


@dataclass(frozen=True)
class ProbeOutcome:
    """What running the test at one commit gave."""

    runs: int  # counted runs (other signatures' failures excluded)
    failures: int  # failures that count (matching --signature when given)
    campaign_id: int | None = None
    interrupted: bool = False
    skipped: str | None = None  # why the commit cannot be tested (build failed...)


class ProbeRunner(Protocol):
    """Runs the test at a commit."""

    def probe(self, commit: str, runs: int, stop_after: int | None) -> ProbeOutcome:
        """Run up to *runs* runs at *commit*; stop early after *stop_after* failures."""

    def move_cost(self) -> float | None:
        """Return the cost of moving to another commit in runs, if measured."""


@dataclass(frozen=True)
class Probe:
    """One recorded visit to a commit."""

    position: int
    commit: str
    phase: str  # calibrate | probe
    runs: int
    failures: int
    campaign_id: int | None = None
    skipped: str | None = None


@dataclass(frozen=True)
class Settings:
    """How the search runs and when it stops."""

    confidence: float = 0.95
    max_runs: int | None = None
    calibrate_runs: int = 300
    calibrate_failures: int = 10
    fixed: bool = False
    min_runs: int = 1  # per probe; -j slots so no slot idles
    switch_cost: float = 1.0  # a move to another commit, in runs (checkout + build)


@dataclass
class State:
    """Counts per position and the probes so far."""

    commits: Sequence[str]  # positions 0..N, old endpoint first
    runs: np.ndarray = field(init=False)
    fails: np.ndarray = field(init=False)
    skipped: np.ndarray = field(init=False)
    probes: list[Probe] = field(default_factory=list)

    def __post_init__(self) -> None:
        n = len(self.commits)
        self.runs = np.zeros(n)
        self.fails = np.zeros(n)
        self.skipped = np.zeros(n, dtype=bool)

    def add(self, probe: Probe) -> None:
        """Count a probe."""
        self.probes.append(probe)
        self.runs[probe.position] += probe.runs
        self.fails[probe.position] += probe.failures
        if probe.skipped:
            self.skipped[probe.position] = True

    def total_runs(self) -> int:
        """Counted runs so far, calibration included."""
        return int(self.runs.sum())


@dataclass(frozen=True)
class Verdict:
    """How the search ended."""

    status: str  # found | undecided | not-reproduced | interrupted | trivial
    position: int  # the most probable first changed commit
    probability: float
    posterior: Posterior | None
    state: State


class Sink(Protocol):
    """Shows the search as it goes."""

    def probe_done(self, state: State, post: Posterior | None, probe: Probe) -> None:
        """A probe finished."""

    def notice(self, text: str) -> None:
        """Tell the user something once."""


def flaky_end(settings: Settings, state: State) -> int:
    """Return the position of the endpoint that shows the failure."""
    return 0 if settings.fixed else len(state.commits) - 1


def run_search(
    state: State,
    settings: Settings,
    runner: ProbeRunner,
    record: Callable[[Probe], None],
    sink: Sink,
) -> Verdict:
    """Continue the search from *state* (empty or resumed) to a verdict.

    Ctrl-C or SIGTERM between probes (a checkout, a build) ends it like one during
    a probe: with the verdict so far, every recorded probe kept for ``--resume``.
    """
    model = Model.for_search(settings.fixed)
    try:
        return _search(state, settings, runner, record, sink, model)
    except KeyboardInterrupt:
        return _verdict(state, model, "interrupted")


def _search(
    state: State,
    settings: Settings,
    runner: ProbeRunner,
    record: Callable[[Probe], None],
    sink: Sink,
    model: Model,
) -> Verdict:
    end = flaky_end(settings, state)
    # Calibrate until the failure has reproduced a few times (V8's flake
    # bisect does the same) or the calibration budget is spent.
    cal = [p for p in state.probes if p.phase == "calibrate"]
    cal_runs = sum(p.runs for p in cal)
    cal_fails = sum(p.failures for p in cal)
    budget = settings.calibrate_runs
    if settings.max_runs is not None:
        budget = min(budget, settings.max_runs - state.total_runs() + cal_runs)
    while cal_fails < settings.calibrate_failures and cal_runs < budget:
        out = runner.probe(
            state.commits[end], budget - cal_runs, settings.calibrate_failures - cal_fails
        )
        probe = Probe(
            end,
            state.commits[end],
            "calibrate",
            out.runs,
            out.failures,
            out.campaign_id,
            out.skipped,
        )
        record(probe)
        state.add(probe)
        sink.probe_done(state, None, probe)
        cal_runs += out.runs
        cal_fails += out.failures
        if out.interrupted:
            return _verdict(state, model, "interrupted")
        if out.skipped:
            sink.notice(f"cannot test the failing end {state.commits[end][:12]}: {out.skipped}")
            return _verdict(state, model, "not-reproduced")
        if out.runs == 0:
            break
    if cal_fails == 0:
        return _verdict(state, model, "not-reproduced")
    if len(state.commits) == 2:
        return _verdict(state, model, "trivial")
    current = end
    while True:
        post = posterior(state.runs, state.fails, model)
        top = float(post.probs.max())
        if top >= settings.confidence:
            return _verdict(state, model, "found", post)
        left = None if settings.max_runs is None else settings.max_runs - state.total_runs()
        if left is not None and left <= 0:
            return _verdict(state, model, "undecided", post)
        excluded = state.skipped.copy()
        move = runner.move_cost()
        pick = choose(
            post,
            current=np.asarray(current),
            switch_cost=settings.switch_cost if move is None else move,
            min_runs=settings.min_runs,
            excluded=excluded,
        )
        # Below ~1e-7 nats a run, no affordable probe moves the posterior (a skipped
        # commit next to the culprit leaves two candidates no run can tell apart).
        if not np.isfinite(pick.value) or pick.value < 1e-7:
            sink.notice("no commit left whose runs would tell anything more")
            return _verdict(state, model, "undecided", post)
        pos = int(pick.position)
        m = int(pick.runs) if left is None else max(1, min(int(pick.runs), left))
        out = runner.probe(state.commits[pos], m, None)
        probe = Probe(
            pos, state.commits[pos], "probe", out.runs, out.failures, out.campaign_id, out.skipped
        )
        record(probe)
        state.add(probe)
        current = pos
        sink.probe_done(state, posterior(state.runs, state.fails, model), probe)
        if out.interrupted:
            return _verdict(state, model, "interrupted")


def _verdict(state: State, model: Model, status: str, post: Posterior | None = None) -> Verdict:
    if post is None and status != "not-reproduced":
        post = posterior(state.runs, state.fails, model)
    if post is None:
        return Verdict(status, len(state.commits) - 1, 0.0, None, state)
    j = int(post.probs.argmax())
    return Verdict(status, j + 1, float(post.probs[j]), post, state)
