"""The terminal summary of a hunt: per-test rates, verdicts, signatures, compare tables."""

from __future__ import annotations

from flakehunt.pytest_plugin.recorder import Recorder, TestTally

_STOPS = {
    "duration": "time limit reached",
    "until-fail": "stopped at the first failure",
    "interrupted": "interrupted: the repetition that was running is not recorded",
}


def verdict(t: TestTally) -> str:
    """Name a test by its repetitions: flaky, broken, passed (or skipped)."""
    if t.failed and t.passed:
        return "FLAKY"
    if t.failed:
        return "BROKEN"
    return "passed" if t.passed else "skipped"


def rate_line(t: TestTally, confidence: float = 0.95) -> str:
    """Say the rate with its interval (the same sentence ``flakehunt run`` prints)."""
    from flakehunt.report.summary import rate_sentence

    text = rate_sentence(t.failed, t.runs, confidence)
    return text + (f"; {t.ignored} skipped" if t.ignored else "")


def render(rec: Recorder, stop_reason: str = "") -> str:
    """Return the lines printed under pytest's ``flakehunt`` heading."""
    if not rec.tallies:
        return "no repetition was recorded (only pytest functions are repeated)"
    lines: list[str] = []
    tests = list(dict.fromkeys(test for test, _ in rec.tallies))
    for test in tests:
        for (t_id, variant), t in rec.tallies.items():
            if t_id != test:
                continue
            name = test if variant is None else f"{test} [{variant}]"
            lines.append(f"{verdict(t):7} {name}: {rate_line(t)}")
            for sid, n in t.signatures.most_common():
                lines.append(f"          x{n} [{sid}] {rec.titles.get(sid, '')}")
    if stop_reason in _STOPS:
        lines.append(_STOPS[stop_reason])
    if rec.opts.compare:
        lines.extend(_compare_tables(rec))
    ids = sorted(rec.campaigns.values())
    which = ", ".join(str(i) for i in ids)
    noun = "campaign" if len(ids) == 1 else "campaigns"
    lines.append(f"recorded as {noun} {which} in {rec.opts.db} "
                 f"(flakehunt show {ids[0]}; flakehunt failures {ids[0]})")
    return "\n".join(lines)


def _compare_tables(rec: Recorder) -> list[str]:
    from flakehunt.campaign.experiment import analyse_campaign
    from flakehunt.report.compare_table import render_terminal

    out: list[str] = []
    for test, cid in rec.campaigns.items():
        out.append("")
        out.append(f"compare {test} (campaign {cid}, seed {rec.opts.seed}):")
        out.append(render_terminal(analyse_campaign(rec.store, cid)))
    return out
