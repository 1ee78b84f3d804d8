"""Live progress: plain lines for CI, a rich panel that prints user text as written."""

from __future__ import annotations

import io

from flakehunt.campaign.events import Snapshot
from flakehunt.report.progress import PlainProgress, RichProgress, eta_seconds, status_line


def snap(**kw: object) -> Snapshot:
    base = dict(campaign_id=3, title="make [bold]test[/bold]", done=200, failures=7, ignored=0,
                interrupted=0, elapsed=10.0, runs_per_s=20.0, planned=1000, deadline_in=None,
                last_failure="run 190: exit 1",
                signatures=(("ab12cd34ef", "exit 1 · error: [x] broke", 7),))
    base.update(kw)
    return Snapshot(**base)  # type: ignore[arg-type]


def test_status_line_has_rate_interval_speed_and_eta() -> None:
    line = status_line(snap())
    assert line.startswith("flakehunt: 200 runs · 7 failed · rate 3.5% [")
    assert "20.0 runs/s" in line and "eta 40.0s" in line and "last failure: run 190" in line


def test_eta_is_the_nearer_bound() -> None:
    assert eta_seconds(snap(deadline_in=5.0)) == 5.0
    assert eta_seconds(snap(planned=None)) is None


def test_plain_progress_prints_at_its_interval() -> None:
    now = [0.0]
    out = io.StringIO()
    p = PlainProgress(out, every=5.0, clock=lambda: now[0])
    for t in (1.0, 4.9, 5.1, 7.0, 10.2):
        now[0] = t
        p.update(snap())
    assert out.getvalue().count("\n") == 2  # at 5.1 and 10.2


def test_rich_panel_prints_user_text_as_written() -> None:
    out = io.StringIO()
    p = RichProgress(out)
    p.close(snap())
    text = out.getvalue()
    assert "[ab12cd34ef] exit 1 · error: [x] broke" in text
    assert "make [bold]test[/bold]" in text
