"""Text for the terminal: the live posterior, the verdict, the probes."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from flakehunt.bisect.posterior import Posterior
from flakehunt.bisect.search import Probe, State, Verdict
from flakehunt.stats.intervals import clopper_pearson, zero_failure_upper_bound


def _label(labels: Mapping[str, str], sha: str) -> str:
    return labels.get(sha, sha[:12])


def short(labels: Mapping[str, str], sha: str) -> str:
    """Return the short id of a commit."""
    return _label(labels, sha).split(" ")[0]


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%" if x >= 0.001 else f"{100 * x:.2f}%"


def top_candidates(
    post: Posterior, commits: list[str], labels: Mapping[str, str], n: int = 3
) -> str:
    """Return 'abc123 0.62, def456 0.21, ...' for the most probable first changed commits."""
    order = np.argsort(-post.probs)[:n]
    return ", ".join(f"{short(labels, commits[j + 1])} {post.probs[j]:.2f}" for j in order)


def probe_line(
    state: State, post: Posterior | None, probe: Probe, labels: Mapping[str, str]
) -> str:
    """Return one status line after a probe."""
    n = len(state.commits) - 1
    what = "calibrate" if probe.phase == "calibrate" else f"probe {probe.position}/{n}"
    line = (
        f"{what} {short(labels, probe.commit)}: {probe.failures}/{probe.runs} failed"
        f" · {state.total_runs()} runs"
    )
    if probe.skipped:
        line += f" · skipped: {probe.skipped}"
    if post is not None:
        line += f" · top: {top_candidates(post, list(state.commits), labels)}"
    return line


def verdict_text(v: Verdict, labels: Mapping[str, str], *, fixed: bool, stat: str | None) -> str:
    """Return the final report: verdict, rates on each side, the commits probed, git show."""
    commits = list(v.state.commits)
    lines: list[str] = []
    word = "first fixed commit" if fixed else "first bad commit"
    if v.status == "not-reproduced":
        end = commits[0] if fixed else commits[-1]
        runs = int(v.state.runs[0 if fixed else -1])
        lines.append(
            f"the failure did not reproduce at {short(labels, end)} in {runs} runs:"
            " nothing to search for (raise --calibrate-runs, or check --signature)"
        )
        return "\n".join(lines)
    k = v.position
    counts, fails = v.state.runs, v.state.fails
    n_old, f_old = int(counts[:k].sum()), int(fails[:k].sum())
    n_new, f_new = int(counts[k:].sum()), int(fails[k:].sum())
    flaky = (n_old, f_old) if fixed else (n_new, f_new)
    clean = (n_new, f_new) if fixed else (n_old, f_old)
    lo, hi = clopper_pearson(flaky[1], flaky[0]) if flaky[0] else (0.0, 1.0)
    rate = flaky[1] / flaky[0] if flaky[0] else 0.0
    if clean[0] == 0:
        clean_text = "not measured"
    elif clean[1] == 0:
        clean_text = f"≤ {_pct(zero_failure_upper_bound(clean[0]))}"
    else:
        clean_text = (
            f"{_pct(clean[1] / clean[0])} [≤ {_pct(clopper_pearson(clean[1], clean[0])[1])}]"
        )
    before, after = ("before", "after")
    flaky_text = f"{_pct(rate)} [{_pct(lo)}–{_pct(hi)}]"
    rates = (
        f"rate {before} {flaky_text}, {after} {clean_text}"
        if fixed
        else f"rate {before} {clean_text}, {after} {flaky_text}"
    )
    head = {
        "found": "",
        "trivial": "",
        "undecided": "undecided (stopped by --max-runs); most probable ",
        "interrupted": "interrupted; so far the most probable ",
    }[v.status]
    lines.append(f"{head}{word}: {short(labels, commits[k])} (P = {v.probability:.2f}), {rates}")
    if v.posterior is not None and v.status != "found":
        lines.append(f"candidates: {top_candidates(v.posterior, commits, labels, 5)}")
    lines.append(f"{v.state.total_runs()} runs over {len(v.state.probes)} probes; commits probed:")
    per: dict[int, list[int]] = {}
    for p in v.state.probes:
        t = per.setdefault(p.position, [0, 0])
        t[0] += p.runs
        t[1] += p.failures
    for pos in sorted(per):
        r, f = per[pos]
        mark = " <- culprit" if pos == k else ""
        skip = " (skipped)" if v.state.skipped[pos] else ""
        lines.append(f"  {pos:>5}  {_label(labels, commits[pos])[:60]:<60} {f}/{r}{skip}{mark}")
    if stat:
        lines.append("")
        lines.append(stat.rstrip())
    return "\n".join(lines)
