"""The bisect posterior, the probe policy, and the search loop with a simulated test."""

from __future__ import annotations

import numpy as np
import pytest

from flakehunt.bisect.policy import choose, information
from flakehunt.bisect.posterior import BASELINE, Model, Posterior, posterior
from flakehunt.bisect.search import Probe, ProbeOutcome, Settings, State, run_search


def _known(n: int, p: float) -> Posterior:
    """A uniform posterior over n candidates with the rate known: p after, 0 before."""
    probs = np.full(n, 1.0 / n)
    new_side = np.concatenate([[0.0], np.cumsum(probs)])
    return Posterior(probs, new_side, np.zeros(n), np.full(n, p))


@pytest.mark.parametrize(
    ("p", "low", "high"),
    [
        (0.05, 0.35, 0.40),  # rare failures: near 1/e, well below the median
        (0.2, 0.37, 0.43),
        (1.0, 0.49, 0.51),  # a deterministic test: plain bisection's median
    ],
)
def test_one_run_is_best_spent_where_p_culprit_before_is_near_1_over_e(
    p: float, low: float, high: float
) -> None:
    post = _known(1000, p)
    pick = choose(post, run_choices=(1,))
    c = post.new_side[int(pick.position)]
    assert low <= c <= high, f"best probe at P(culprit <= i) = {c:.3f} for p = {p}"


def test_information_of_a_single_run_matches_the_closed_form() -> None:
    # I = h(pC) - C h(p) for a known rate and no baseline.
    post = _known(10, 0.3)
    info = information(post, 1)
    h = lambda x: -(x * np.log(x) + (1 - x) * np.log(1 - x))  # noqa: E731
    for i in (1, 4, 9):
        c = post.new_side[i]
        assert info[i] == pytest.approx(h(0.3 * c) - c * h(0.3), rel=1e-9)
    assert info[0] == pytest.approx(0.0, abs=1e-12)  # the good end tells nothing


def _counts(n: int, data: dict[int, tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    runs, fails = np.zeros(n + 1), np.zeros(n + 1)
    for pos, (r, f) in data.items():
        runs[pos], fails[pos] = r, f
    return runs, fails


def test_a_failure_with_clean_runs_just_before_pins_the_culprit() -> None:
    runs, fails = _counts(10, {10: (20, 5), 6: (10, 2), 5: (200, 0)})
    post = posterior(runs, fails, Model())
    assert post.probs.sum() == pytest.approx(1.0)
    assert int(post.probs.argmax()) + 1 == 6
    assert post.probs[5] > 0.95
    # Commits after a failing one cannot be the first bad one (baseline ~0).
    assert post.probs[6:].sum() < 0.01


def test_fixed_mirrors_the_model() -> None:
    runs, fails = _counts(10, {10: (20, 5), 6: (10, 2), 5: (200, 0)})
    mirrored = posterior(runs[::-1].copy(), fails[::-1].copy(), Model.for_search(True))
    plain = posterior(runs, fails, Model())
    # Reversing the history and the roles gives the same answer, reflected.
    assert np.allclose(mirrored.probs[::-1], plain.probs, atol=1e-12)


def test_a_baseline_failure_does_not_rule_the_culprit_out() -> None:
    # One unrelated failure at 3 (before the culprit at 7), and the evidence for 7.
    runs, fails = _counts(10, {3: (40, 1), 6: (60, 0), 7: (30, 6), 10: (30, 6)})
    robust = posterior(runs, fails, Model())
    strict = posterior(runs, fails, Model(old=BASELINE.__class__(1.0, 19.0, zero=1.0)))
    assert int(robust.probs.argmax()) + 1 == 7
    assert robust.probs[6] > 0.5
    assert strict.probs[6] == 0.0  # q = 0 says: 3 failed, so the culprit is at or before 3


class FakeTest:
    """A simulated test: fails at rate p from the culprit on, q before."""

    def __init__(self, commits: int, culprit: int, p: float, q: float = 0.0, seed: int = 0):
        self.rate = np.where(np.arange(commits + 1) >= culprit, p, q)
        self.rng = np.random.default_rng(seed)
        self.calls: list[tuple[int, int]] = []

    def probe(self, commit: str, runs: int, stop_after: int | None) -> ProbeOutcome:
        pos = int(commit)
        self.calls.append((pos, runs))
        outcomes = self.rng.random(runs) < self.rate[pos]
        if stop_after is not None and outcomes.sum() >= stop_after:
            runs = int(np.flatnonzero(outcomes)[stop_after - 1]) + 1
            outcomes = outcomes[:runs]
        return ProbeOutcome(runs, int(outcomes.sum()), campaign_id=len(self.calls))

    def move_cost(self) -> float | None:
        return None


class Quiet:
    def __init__(self) -> None:
        self.notices: list[str] = []

    def probe_done(self, state: State, post: Posterior | None, probe: Probe) -> None:
        pass

    def notice(self, text: str) -> None:
        self.notices.append(text)


def test_the_search_finds_the_culprit_and_records_every_probe() -> None:
    test = FakeTest(60, culprit=23, p=0.3, seed=4)
    recorded: list[Probe] = []
    state = State([str(i) for i in range(61)])
    v = run_search(state, Settings(), test, recorded.append, Quiet())
    assert v.status == "found" and v.position == 23 and v.probability >= 0.95
    assert recorded[0].phase == "calibrate" and recorded[0].position == 60
    assert recorded[0].failures == 10  # calibration stops once it reproduced 10 times
    assert sum(p.runs for p in recorded) == state.total_runs()


def test_resuming_from_recorded_probes_continues_not_restarts() -> None:
    test = FakeTest(60, culprit=40, p=0.3, seed=5)
    recorded: list[Probe] = []
    commits = [str(i) for i in range(61)]
    first = run_search(State(commits), Settings(max_runs=60), test, recorded.append, Quiet())
    assert first.status == "undecided"
    resumed = State(commits)
    for p in recorded:
        resumed.add(p)
    n_before = len(test.calls)
    v = run_search(resumed, Settings(), test, recorded.append, Quiet())
    assert v.status == "found" and v.position == 40
    assert test.calls[n_before][0] != 60 or test.calls[n_before][1] != 300  # no recalibration
    assert [p.phase for p in recorded].count("calibrate") == 1


def test_a_failure_that_never_reproduces_stops_the_search() -> None:
    test = FakeTest(60, culprit=61, p=0.0)  # never fails
    v = run_search(
        State([str(i) for i in range(61)]),
        Settings(calibrate_runs=50),
        test,
        lambda p: None,
        Quiet(),
    )
    assert v.status == "not-reproduced"
    assert test.calls == [(60, 50)]


def test_fixed_searches_for_the_commit_that_made_the_failure_go_away() -> None:
    # Old end flaky, new end clean: the first clean commit is 31.
    test = FakeTest(60, culprit=31, p=0.0, seed=6)
    test.rate = np.where(np.arange(61) >= 31, 0.0, 0.25)
    v = run_search(
        State([str(i) for i in range(61)]), Settings(fixed=True), test, lambda p: None, Quiet()
    )
    assert v.status == "found" and v.position == 31
    assert test.calls[0][0] == 0  # calibrated at the old, failing end


def test_a_commit_that_cannot_be_tested_is_never_probed_again() -> None:
    class Broken(FakeTest):
        def probe(self, commit: str, runs: int, stop_after: int | None) -> ProbeOutcome:
            if commit == "30":
                self.calls.append((30, runs))
                return ProbeOutcome(0, 0, skipped="build failed (exit 2)")
            return super().probe(commit, runs, stop_after)

    test = Broken(60, culprit=45, p=0.3, seed=8)
    v = run_search(State([str(i) for i in range(61)]), Settings(), test, lambda p: None, Quiet())
    assert v.status == "found" and v.position == 45
    assert len([c for c in test.calls if c[0] == 30]) <= 1

