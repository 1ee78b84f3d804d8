"""``flakehunt chkimg``: compare code in a dump, core or live process with its images."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import click


@dataclass(frozen=True)
class ChkimgSpec:
    """What the command line asked for."""

    target: str
    images: tuple[Path, ...]
    search: tuple[Path, ...]
    detail: bool
    as_json: bool


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("target")
@click.option("--image", "images", multiple=True, type=click.Path(path_type=Path),
              help="An image file to compare with (repeatable); matched by name, then identity.")
@click.option("--search", "search", multiple=True, metavar="DIR",
              type=click.Path(path_type=Path),
              help="A directory to look for images in (repeatable).")
@click.option("-d", "--detail", is_flag=True,
              help="Show [expected:actual] bytes of the first ranges.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def chkimg(target: str, images: tuple[Path, ...], search: tuple[Path, ...], detail: bool,
           as_json: bool) -> int:
    """Compare the code in TARGET with the images on disk.

    TARGET is a Windows minidump, an ELF core file, or pid:N for a live process.
    Exit status: 0 no differences, 1 differences found, 2 bad input or nothing
    could be compared (image missing, code not captured).
    """
    spec = ChkimgSpec(target, images, search, detail, as_json)
    from flakehunt.images import check_target, render_text, report_to_dict

    report = check_target(spec.target, list(spec.images), list(spec.search))
    if spec.as_json:
        click.echo(json.dumps(report_to_dict(report), indent=2))
    else:
        click.echo(render_text(report, detail=spec.detail), nl=False)
    return int(report.exit_status())
