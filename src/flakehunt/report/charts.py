"""SVG charts for the HTML report, drawn by pygal and inlined without any script.

Why pygal: it is small (pure Python, ~1 MB installed), maintained, and renders
SVG offline. matplotlib costs 0.5 s of import and 170 MB here; plotly inlines
4.7 MB of JavaScript into every file. pygal's interactive tooltips need a
script from its CDN: the report sets ``js=[]`` and removes the config script
pygal always adds, so the page runs under a CSP that forbids every script.
Text inside the SVG (variant names, signature titles) is escaped by pygal's
XML serializer.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flakehunt.report.model import CampaignReport, Curve, Durations
    from flakehunt.report.telemetry import Timeline

WIDTH, HEIGHT = 860, 340
MAX_SERIES = 8  # signatures drawn separately; the rest are summed as "other"
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>|<script\b[^>]*/>", re.S | re.I)


def _config(**kw: Any) -> dict[str, Any]:
    from pygal.style import DefaultStyle

    base: dict[str, Any] = {
        "js": [], "disable_xml_declaration": True, "width": WIDTH, "height": HEIGHT,
        "explicit_size": False, "style": DefaultStyle, "truncate_legend": 28, "show_dots": False,
        "margin": 12, "print_values": False,
    }
    base.update(kw)
    return base


def render(chart: Any) -> str:
    """Return the chart's SVG with no script element left in it."""
    return _SCRIPT.sub("", chart.render(is_unicode=True))


def cumulative(curves: list[Curve], by: str) -> str:
    """Cumulative failures per variant over its runs (*by* "run") or elapsed seconds ("time")."""
    import pygal

    title = "runs of the variant" if by == "run" else "seconds since the campaign started"
    chart = pygal.XY(**_config(x_title=title, y_title="failures so far", show_dots=False,
                               stroke_style={"width": 2}))
    for c in curves:
        pts = c.by_run if by == "run" else c.by_time
        chart.add(c.variant, [(float(x), float(y)) for x, y in pts])
    return render(chart)


def rates(report: CampaignReport) -> str:
    """Failure rate per variant (%) with its interval as error bars."""
    import pygal

    # The axis must reach the highest interval end, or its whisker is cut off.
    top = max((v.interval[1] * 100 for v in report.variants), default=1.0)
    chart = pygal.Bar(**_config(y_title="failure rate, %", show_legend=False,
                                print_values=True, value_formatter=lambda v: f"{v:.2f}%",
                                range=(0, max(top * 1.05, 1e-3))))
    chart.x_labels = [v.name for v in report.variants]
    chart.add("failure rate", [
        {"value": v.rate * 100,
         "ci": {"low": v.interval[0] * 100, "high": v.interval[1] * 100}}
        for v in report.variants])
    return render(chart)


def signatures(report: CampaignReport) -> str:
    """Failures per variant, stacked by signature (the most frequent drawn apart)."""
    import pygal

    names = [v.name for v in report.variants]
    chart = pygal.StackedBar(**_config(y_title="failures"))
    chart.x_labels = names
    shown, rest = report.signatures[:MAX_SERIES], report.signatures[MAX_SERIES:]
    for s in shown:
        label = f"{s.id[:10]} {s.title}".strip()
        chart.add(label, [s.per_variant.get(n) for n in names])
    if rest:
        chart.add(f"{len(rest)} other signatures",
                  [sum(s.per_variant.get(n, 0) for s in rest) or None for n in names])
    return render(chart)


def durations(d: Durations) -> str:
    """Share of each outcome's runs per duration bin: passing vs failing vs timed out."""
    import pygal

    chart = pygal.Bar(**_config(x_title="duration, seconds (bin start)",
                                y_title="% of that outcome's runs", x_label_rotation=40,
                                show_minor_x_labels=False))
    chart.x_labels = [_short(e) for e in d.edges[:-1]]
    chart.x_labels_major_every = max(1, len(d.edges) // 10)
    for outcome in ("pass", "fail", "timeout"):
        counts = d.counts.get(outcome)
        if not counts:
            continue
        total = sum(counts)
        chart.add(outcome, [100.0 * n / total if n else None for n in counts])
    return render(chart)


def timeline_system(t: Timeline) -> str:
    """The machine around a failure: CPU busy and iowait (%), seconds from the run's start."""
    import pygal

    chart = pygal.XY(**_config(x_title="seconds from the failing run's start", y_title="%",
                               height=280))
    for name in ("cpu busy %", "iowait %"):
        pts = t.system.get(name) or []
        if pts:
            chart.add(name, pts)
    chart.add("failing run", [(0.0, 0.0), (0.0, 100.0), None, (t.run_duration, 100.0),
                              (t.run_duration, 0.0)], stroke_style={"dasharray": "4,4"})
    return render(chart)


def timeline_run(t: Timeline) -> str:
    """CPU of the failing run's process tree beside its passing neighbours (cores)."""
    import pygal

    chart = pygal.XY(**_config(x_title="seconds from each run's start", y_title="cores",
                               height=280))
    if t.run_cpu:
        chart.add(f"failing run #{t.seq}", t.run_cpu, stroke_style={"width": 3})
    for name, pts in t.neighbours.items():
        if pts:
            chart.add(f"passing {name}", pts)
    return render(chart)


def _short(x: float) -> str:
    return f"{x:.3g}"
