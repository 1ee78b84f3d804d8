"""Render a ``ComparisonResult``: terminal table, Markdown, and a JSON-able dict.

Renderers return values; the CLI writes them. Numbers are rounded for reading
only; the JSON form keeps them whole.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: the live progress needs pct(), not the statistics
    from flakehunt.stats.compare import ComparisonResult, VariantResult

HEADERS = ("variant", "runs", "failures", "rate [interval]", "vs baseline", "verdict")


def pct(x: float) -> str:
    """Format a rate as a percentage with the precision it deserves."""
    if x == 0:
        return "0%"
    v = abs(x) * 100
    text = f"{v:.2f}" if v < 1 else f"{v:.1f}"
    if v < 0.1:
        text = f"{v:.2g}"
    return ("-" if x < 0 else "") + text + "%"


def points(x: float) -> str:
    """Format a difference of rates in percentage points, signed."""
    v = x * 100
    return f"{v:+.1f}" if abs(v) >= 0.05 or v == 0 else f"{v:+.2f}"


def pvalue(p: float) -> str:
    """Format a p-value without pretending to more digits than it has."""
    if p < 0.0001:
        return "p<0.0001"
    if p < 0.01:
        return f"p={p:.4f}"
    return f"p={p:.2f}"


def _rate_cell(v: VariantResult) -> str:
    cell = f"{pct(v.rate)} [{pct(v.interval[0])}, {pct(v.interval[1])}]"
    if v.upper_bound is not None:
        cell += f" (<= {pct(v.upper_bound)})"
    return cell


def _vs_cell(r: ComparisonResult, v: VariantResult) -> str:
    if v.difference is None or v.difference_interval is None:
        return "-"
    lo, hi = v.difference_interval
    cell = f"{points(v.difference)} pts [{points(lo)}, {points(hi)}]"
    if r.sequential and v.sequential is not None:
        e = v.sequential.e_better if v.difference <= 0 else v.sequential.e_worse
        return f"{cell}, e={e:.3g}"
    p = v.p_better if v.difference <= 0 else v.p_worse
    return cell if p is None else f"{cell}, {pvalue(p)}"


def verdict_text(r: ComparisonResult, v: VariantResult) -> str:
    """Return the verdict with the numbers it rests on."""
    base = next(x for x in r.variants if x.name == r.baseline)
    if v.verdict == "underpowered":
        if v.runs_needed is not None:
            return (
                f"underpowered: ~{v.runs_needed:,} runs per arm needed to detect "
                f"{pct(base.rate)} -> {pct(v.rate)}"
            )
        if v.runs_needed_over is not None:
            return f"underpowered: more than {v.runs_needed_over:,} runs per arm needed"
    return v.verdict


def _rows(r: ComparisonResult) -> list[tuple[str, ...]]:
    return [
        (v.name, str(v.runs), str(v.failures), _rate_cell(v), _vs_cell(r, v), verdict_text(r, v))
        for v in r.variants
    ]


def _footer(r: ComparisonResult) -> list[str]:
    conf = f"{r.confidence * 100:g}%"
    if r.sequential:
        m = max(1, len(r.variants) - 1)
        rule = (
            f"verdicts: discordant-block e-process (stopped by --until-decided); a difference "
            f"is declared when e >= {2 * m / r.alpha:g} (2 x {m} variants / alpha {r.alpha:g})"
        )
    else:
        rule = (
            f"p: exact one-sided Boschloo test vs {r.baseline}, Holm-adjusted; better/worse "
            f"when p <= {r.alpha / 2:g} (each direction at alpha/2, alpha = {r.alpha:g})"
        )
    lines = [
        f"rate: {conf} {r.method} interval; vs baseline: difference with {conf} Newcombe interval",
        rule,
    ]
    return lines + list(r.notes)


def _details(r: ComparisonResult) -> list[str]:
    lines: list[str] = []
    for v in r.variants:
        for g in v.signatures:
            lines.append(f"  {v.name}: signature {g.key}: {g.failures}/{g.runs} ({pct(g.rate)})")
        for g in v.by_concurrency:
            lines.append(f"  {v.name}: -j{g.key}: {g.failures}/{g.runs} ({pct(g.rate)})")
        if v.not_counted:
            lines.append(f"  {v.name}: {v.not_counted} runs not counted (interrupted or ignored)")
    return lines


def render_terminal(r: ComparisonResult) -> str:
    """Return the plain-text table, aligned for a monospace terminal."""
    rows = [HEADERS, *_rows(r)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]
    right = {1, 2}
    out = []
    for row in rows:
        cells = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        out.append("  ".join(cells).rstrip())
    details = _details(r)
    if details:
        out += ["", "failures by signature and concurrency:", *details]
    out += ["", *_footer(r)]
    return "\n".join(out) + "\n"


def render_markdown(r: ComparisonResult) -> str:
    """Return the table as GitHub-flavoured Markdown."""

    def esc(s: str) -> str:
        return s.replace("|", "\\|")

    out = ["| " + " | ".join(HEADERS) + " |", "|---|---:|---:|---|---|---|"]
    out += ["| " + " | ".join(esc(c) for c in row) + " |" for row in _rows(r)]
    details = _details(r)
    if details:
        out += ["", *[f"- {d.strip()}" for d in details]]
    out += ["", *[f"_{esc(line)}_  " for line in _footer(r)]]
    return "\n".join(out) + "\n"


def to_dict(r: ComparisonResult) -> dict[str, Any]:
    """Return a JSON-able dict with every number unrounded."""

    def group(g: Any) -> dict[str, Any]:
        return {"key": g.key, "runs": g.runs, "failures": g.failures, "rate": g.rate}

    variants = []
    for v in r.variants:
        s = v.sequential
        variants.append(
            {
                "name": v.name,
                "runs": v.runs,
                "not_counted": v.not_counted,
                "failures": v.failures,
                "rate": v.rate,
                "interval": list(v.interval),
                "design_effect": v.design_effect,
                "upper_bound": v.upper_bound,
                "difference": v.difference,
                "difference_interval": None
                if v.difference_interval is None
                else list(v.difference_interval),
                "p_better": v.p_better,
                "p_worse": v.p_worse,
                "verdict": v.verdict,
                "verdict_text": verdict_text(r, v),
                "runs_needed": v.runs_needed,
                "runs_needed_over": v.runs_needed_over,
                "signatures": [group(g) for g in v.signatures],
                "by_concurrency": [group(g) for g in v.by_concurrency],
                "sequential": None
                if s is None
                else {
                    "pairs": s.pairs,
                    "discordant": s.discordant,
                    "variant_failed": s.variant_failed,
                    "e_better": s.e_better,
                    "e_worse": s.e_worse,
                    "threshold": s.threshold,
                    "decision": s.decision,
                },
            }
        )
    return {
        "baseline": r.baseline,
        "confidence": r.confidence,
        "interval_method": r.method,
        "alpha": r.alpha,
        "sequential": r.sequential,
        "variants": variants,
        "notes": list(r.notes),
    }
