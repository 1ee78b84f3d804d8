"""Mean runs to a verdict: flakehunt's Bayesian bisect vs naive repeated bisection, side by side.

Run: PYTHONPATH=src python bench/bisect_runs.py [--searches 200] [--commits 1000]

Naive bisection runs the test r times at the midpoint and calls the commit bad
if any run failed (p known to it, which flatters it). r is raised from 3/p
until its accuracy reaches the Bayesian search's, so the two are compared at
equal accuracy. The Bayesian runs include calibration at the bad commit.
"""

from __future__ import annotations

import argparse
import time

from flakehunt.bisect.simulate import simulate_bayes, simulate_naive
from flakehunt.stats.intervals import wilson


def _acc(correct: int, n: int) -> str:
    lo, hi = wilson(correct, n)
    return f"{correct / n:6.1%} [{lo:.1%}–{hi:.1%}]"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--searches", type=int, default=200)
    ap.add_argument("--commits", type=int, default=1000)
    ap.add_argument("--rates", default="0.05,0.2")
    a = ap.parse_args()
    print(f"{a.commits} commits, {a.searches} Bayesian searches, 4000 naive per setting")
    print(f"{'p':>6} {'method':<28} {'accuracy [Wilson 95%]':<26} {'mean runs':>9}")
    for p in (float(x) for x in a.rates.split(",")):
        t0 = time.perf_counter()
        b = simulate_bayes(commits=a.commits, p=p, searches=a.searches, seed=1)
        secs = time.perf_counter() - t0
        print(
            f"{p:>6} {'bayes (conf 0.95)':<28} {_acc(b.correct, b.searches):<26} "
            f"{b.mean_runs:>9.0f}   ({secs:.1f} s)"
        )
        base = round(3 / p)
        n3 = simulate_naive(commits=a.commits, p=p, repeats=base, searches=4000, seed=2)
        print(
            f"{p:>6} {f'naive, {base} runs/step (3/p)':<28} {_acc(n3.correct, 4000):<26} "
            f"{n3.mean_runs:>9.0f}"
        )
        r = base
        while True:
            n = simulate_naive(commits=a.commits, p=p, repeats=r, searches=4000, seed=3)
            if n.accuracy >= b.accuracy or r > 100 * base:
                break
            r = int(r * 1.1) + 1
        print(
            f"{p:>6} {f'naive, {r} runs/step (equal)':<28} {_acc(n.correct, 4000):<26} "
            f"{n.mean_runs:>9.0f}"
        )
        print(f"{p:>6} ratio naive/bayes at equal accuracy: {n.mean_runs / b.mean_runs:.2f}x")


if __name__ == "__main__":
    main()
