"""chkimg: compare the code in dumps, cores and live processes with images on disk.

Integration API (pure; the caller prints):

* ``check_target(target, images, search) -> ChkimgReport``: *target* is a path
  to a minidump or ELF core, ``"pid:N"`` or an int pid.
* ``render_text(report, detail=False) -> str``, ``report_to_dict(report) -> dict``,
  ``summary_line(report) -> str``; ``report.exit_status()`` gives 0/1/2.
* ``evidence(target, images, search) -> (summary_line, dict | None)``: the same,
  never raising, for a run's evidence.

Raises ``FormatError``/``NotFound``/``InputError`` (exit 2) for bad input.
"""

from __future__ import annotations

from flakehunt.images.check import check_target, open_target
from flakehunt.images.render import evidence, render_text, report_to_dict, summary_line
from flakehunt.images.report import ChkimgReport, ModuleReport

__all__ = ["ChkimgReport", "ModuleReport", "check_target", "evidence", "open_target",
           "render_text", "report_to_dict", "summary_line"]
