"""``flakehunt exec --flush GLOB -- TOOL ARGS...``: run a tool, flush its outputs, exit like it."""

from __future__ import annotations

from pathlib import Path

import click

from flakehunt.durable.flush import DEFAULT_WRITER_TIMEOUT

# Shells exit 127 for "command not found" and 126 for "found but cannot run"
# (POSIX sh, "Command Search and Execution"); a build rule sees the same.
NOT_FOUND = 127
CANNOT_RUN = 126


@click.command(
    "exec",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@click.option("--flush", "globs", multiple=True, metavar="GLOB",
              help="Flush files matching GLOB (relative to the working directory) afterwards.")
@click.option("--flush-written", "dirs", multiple=True, metavar="DIR",
              type=click.Path(file_okay=False, path_type=Path),
              help="Flush every file under DIR that the tool created or modified.")
@click.option("--writer-timeout", default=f"{int(DEFAULT_WRITER_TIMEOUT)}s", show_default=True,
              help="How long to wait for a process still holding a write lock on an output.")
@click.option("-v", "--verbose", is_flag=True, help="Report what was flushed on stderr.")
@click.argument("tool", nargs=-1, required=True, type=click.UNPROCESSED)
def exec_(globs: tuple[str, ...], dirs: tuple[Path, ...], writer_timeout: str, verbose: bool,
          tool: tuple[str, ...]) -> int:
    """Run TOOL, flush the outputs it produced, then exit with TOOL's own status.

    A drop-in for a link step: if TOOL dies by a signal, flakehunt dies by the
    same signal; SIGINT/SIGTERM/SIGHUP are forwarded to TOOL.
    """
    from flakehunt.cli.flush import render_flush
    from flakehunt.durable.launch import (
        ExecSpec,
        default_flusher,
        die_like,
        run_and_flush,
        run_forwarding,
    )
    from flakehunt.errors import CouldNotStart
    from flakehunt.units import parse_duration

    argv = tool[1:] if tool and tool[0] == "--" else tool
    spec = ExecSpec(tuple(argv), Path.cwd(), globs, dirs, parse_duration(writer_timeout))
    try:
        result = run_and_flush(spec, run_forwarding, default_flusher(spec.writer_timeout))
    except CouldNotStart as exc:
        click.echo(f"flakehunt: error: {exc}", err=True)
        return CANNOT_RUN if "permission" in exc.message else NOT_FOUND
    for pattern in result.unmatched:
        click.echo(f"flakehunt: warning: --flush {pattern!r} matched no file", err=True)
    if verbose and result.report is not None:
        click.echo(render_flush(result.report, verbose=True), err=True)
    return die_like(result.returncode)
