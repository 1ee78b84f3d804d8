"""Build report models and write the chosen formats; the one place report files are written."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from flakehunt.record.store import Store
from flakehunt.report.model import CampaignReport, build_report


@dataclass(frozen=True)
class Outputs:
    """Where each format goes: a path, "-" for stdout (Markdown, JSON), or None."""

    html: str | None = None
    markdown: str | None = None
    junit: str | None = None
    json: str | None = None


def reports_dir(store: Store) -> Path:
    """Reports live beside the database: ``.flakehunt/reports``."""
    return store.path.parent / "reports"


def default_html_path(store: Store, ids: list[int]) -> Path:
    """Return ``.flakehunt/reports/c<id>[-c<id>...].html``."""
    return reports_dir(store) / ("-".join(f"c{i}" for i in ids) + ".html")


def _write(path: Path, text: str) -> None:
    from flakehunt.durable import atomic_write

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(str(path), text.encode("utf-8"))


def write_reports(store: Store, refs: list[str | int | None],
                  out: Outputs) -> list[tuple[str, str]]:
    """Write the chosen formats of campaigns *refs*; return (text or kind, path or "-").

    For "-" the first item is the document to print; otherwise it names the
    format. With no format chosen, the HTML goes to its default path.
    """
    models: list[CampaignReport] = [build_report(store, ref) for ref in refs]
    if not any((out.html, out.markdown, out.junit, out.json)):
        out = Outputs(html=str(default_html_path(store, [m.id for m in models])))
    done: list[tuple[str, str]] = []
    if out.html:
        from flakehunt.report.html import render_html

        path = Path(out.html)
        _write(path, render_html(models, path))
        done.append(("html", str(path)))
    for kind, dest in (("markdown", out.markdown), ("junit", out.junit), ("json", out.json)):
        if not dest:
            continue
        text = _render(kind, models)
        if dest == "-":
            done.append((text, "-"))
        else:
            _write(Path(dest), text)
            done.append((kind, dest))
    return done


def _render(kind: str, models: list[CampaignReport]) -> str:
    if kind == "markdown":
        from flakehunt.report.markdown import render_markdown

        return render_markdown(models)
    if kind == "junit":
        from flakehunt.report.junit import render_junit

        return render_junit(models)
    from flakehunt.report.json_export import render_json

    return render_json(models)


def write_step_summary(store: Store, campaign_id: int) -> str | None:
    """Append campaign *campaign_id*'s Markdown to ``$GITHUB_STEP_SUMMARY``, if set.

    Return the summary file's path, or None when the variable is unset.
    """
    from flakehunt.report.markdown import append_step_summary, render_markdown

    if not os.environ.get("GITHUB_STEP_SUMMARY"):
        return None
    return append_step_summary(render_markdown([build_report(store, campaign_id)]))


def write_html_report(store: Store, campaign_id: int, path: str | None = None) -> str:
    """Write campaign *campaign_id*'s HTML report (default path if None); return its path."""
    done = write_reports(store, [campaign_id], Outputs(html=path or str(
        default_html_path(store, [campaign_id]))))
    return done[0][1]
