"""Turn a ChkimgReport into text, a JSON-ready dict, or one summary line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flakehunt.images import report as R

DETAIL_RANGES = 10  # ranges shown with [expected:actual] under -d
LIST_RANGES = 20  # ranges listed without -d


def _where(m: R.ModuleReport, r: R.DiffRange) -> str:
    return f"{r.section}+{r.section_offset:#x}"


def _sections_with_diffs(m: R.ModuleReport) -> str:
    names = [s.name for s in m.sections if s.differing]
    return ", ".join(names) or "code"


def render_text(report: R.ChkimgReport, detail: bool = False) -> str:
    """Return the human report; *detail* adds [expected:actual] bytes."""
    lines = [f"chkimg {report.target} ({report.kind}, {report.arch})"]
    ex = report.exception
    if ex is not None:
        where = f" at {ex.address:#x}" if ex.address is not None else ""
        label = f" {ex.name}" if ex.name else ""
        if report.kind == "minidump":
            lines.append(f"  exception {ex.code:#010x}{label}{where} (thread {ex.thread_id})")
        else:
            lines.append(f"  signal {ex.code}{label}{where} (thread {ex.thread_id})")
    if report.memory_ranges:
        total = sum(n for _s, n in report.memory_ranges)
        lines.append(f"  memory held: {len(report.memory_ranges):,} range(s), {total:,} bytes")
    for note in report.notes:
        lines.append(f"  note: {note}")
    for m in report.modules:
        lines.append("")
        lines.extend(_module_text(m, detail))
    lines.append("")
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"


def _module_text(m: R.ModuleReport, detail: bool) -> list[str]:
    out = [f"{m.name} at {m.base:#x} (size {m.size:#x})"]
    if m.status != R.COMPARED:
        out.append(f"  {m.status.upper()}: {m.message}")
        if m.hint:
            out.append(f"  to fix: {m.hint}")
        if m.status == R.NOT_CAPTURED:
            out.append(f"  image: {m.image} ({m.identity}): 0 of {m.code_bytes:,} code bytes held")
        return out
    out.append(f"  image: {m.image} ({m.identity})")
    if m.status == R.COMPARED and m.message:
        out.append(f"  {m.message}")
    for s in m.sections:
        out.append(f"  {s.name}: compared {s.compared:,} of {s.size:,} bytes, "
                   f"{s.differing:,} differ")
    out.append(f"  total: compared {m.compared:,} of {m.code_bytes:,} code bytes, "
               f"{m.differing:,} differ in {m.range_count:,} range(s)")
    if m.zero_filled:
        where = _sections_with_diffs(m)
        out.append(f"  ZERO-FILLED: {m.differing:,} bytes in {where} read as zeros")
    shown = m.ranges[: DETAIL_RANGES if detail else LIST_RANGES]
    for i, r in enumerate(shown):
        size = f"{r.size:,} bytes" + (f" ({r.differing:,} differ)" if r.differing != r.size else "")
        text = f"    {r.start:#x}-{r.end - 1:#x}  {size}  {_where(m, r)}"
        if detail and i < DETAIL_RANGES:
            more = "..." if r.size > len(r.expected) else ""
            text += f"  [{r.expected.hex(' ')}{more}:{r.actual.hex(' ')}{more}]"
        out.append(text)
    if m.range_count > len(shown):
        out.append(f"    ... {m.range_count - len(shown):,} more range(s) (--json lists "
                   f"{len(m.ranges):,})")
    counts: dict[str, int] = {}
    for p in m.pages:
        counts[p.verdict] = counts.get(p.verdict, 0) + (p.end - p.start) // 4096
    order = [R.MATCH, R.DIFFERS, R.ZERO_FILLED, R.NOT_CAPTURED_PAGE]
    out.append("  pages: " + ", ".join(f"{counts[v]:,} {v}" for v in order if v in counts))
    listed = [p for p in m.pages if p.verdict != R.MATCH]
    if m.compared:  # when nothing was captured, one line above says it all
        for p in listed[:LIST_RANGES]:
            out.append(f"    {p.start:#x}-{p.end - 1:#x}  {p.verdict}")
        if len(listed) > LIST_RANGES:
            out.append(f"    ... {len(listed) - LIST_RANGES:,} more page run(s)")
    if m.skipped:
        out.append("  skipped: " + ", ".join(m.skipped))
    return out


def summary_line(report: R.ChkimgReport) -> str:
    """Return one line: the verdict a run's signature and evidence can carry."""
    bad = [m for m in report.modules if m.differing]
    if bad:
        worst = max(bad, key=lambda m: m.differing)
        kind = "ZERO-FILLED" if worst.zero_filled else "DIFFERS"
        more = f" (+{len(bad) - 1} more module(s))" if len(bad) > 1 else ""
        return (f"chkimg: {kind} {worst.differing:,} bytes in {_sections_with_diffs(worst)} "
                f"of {worst.basename}{more}")
    if report.compared:
        n = sum(1 for m in report.modules if m.compared)
        return f"chkimg: 0 differences in {report.compared:,} code bytes ({n} module(s))"
    statuses = {m.status for m in report.modules}
    if R.NOT_CAPTURED in statuses:
        return "chkimg: code not captured: nothing compared"
    if statuses & {R.MISSING, R.DIFFERENT_BUILD}:
        return "chkimg: no matching image found: nothing compared (use --image or --search)"
    return "chkimg: nothing compared"


def evidence(target: object, images: list[Path] | None = None,
             search: list[Path] | None = None) -> tuple[str, dict[str, Any] | None]:
    """Run chkimg for a run's evidence: (summary line, report dict), never raising.

    For the hunt loop: a core that cannot be read must not stop the campaign, so
    a FlakehuntError becomes the line ``chkimg: cannot check TARGET: MESSAGE``.
    """
    from flakehunt.errors import FlakehuntError
    from flakehunt.images.check import check_target

    try:
        report = check_target(target, images, search)  # type: ignore[arg-type]
    except FlakehuntError as exc:
        return f"chkimg: cannot check {target}: {exc}", None
    return summary_line(report), report_to_dict(report)


def report_to_dict(report: R.ChkimgReport) -> dict[str, Any]:
    """Return the report as plain JSON-ready data (addresses as integers)."""
    ex = report.exception
    return {
        "target": report.target,
        "kind": report.kind,
        "arch": report.arch,
        "exception": None if ex is None else {
            "code": ex.code, "name": ex.name, "address": ex.address, "thread_id": ex.thread_id},
        "threads": [{"thread_id": t.thread_id, "ip": t.ip, "sp": t.sp} for t in report.threads],
        "memory_ranges": [{"start": s, "size": n} for s, n in report.memory_ranges],
        "notes": list(report.notes),
        "compared": report.compared,
        "differing": report.differing,
        "exit_status": int(report.exit_status()),
        "summary": summary_line(report),
        "modules": [_module_dict(m) for m in report.modules],
    }


def _module_dict(m: R.ModuleReport) -> dict[str, Any]:
    return {
        "name": m.name, "base": m.base, "size": m.size, "status": m.status,
        "message": m.message, "hint": m.hint, "image": m.image, "identity": m.identity,
        "code_bytes": m.code_bytes, "compared": m.compared, "differing": m.differing,
        "zero_filled": m.zero_filled,
        "sections": [{"name": s.name, "size": s.size, "compared": s.compared,
                      "differing": s.differing} for s in m.sections],
        "range_count": m.range_count,
        "ranges": [{"start": r.start, "end": r.end, "size": r.size, "differing": r.differing,
                    "section": r.section,
                    "section_offset": r.section_offset, "expected": r.expected.hex(),
                    "actual": r.actual.hex()} for r in m.ranges],
        "pages": [{"start": p.start, "end": p.end, "verdict": p.verdict} for p in m.pages],
        "skipped": list(m.skipped),
    }
