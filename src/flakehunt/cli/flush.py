"""``flakehunt flush PATH... [-r]``: flush files to stable storage and say what it cost."""

from __future__ import annotations

import click

from flakehunt.durable.flush import DEFAULT_JOBS, DEFAULT_WRITER_TIMEOUT, FlushReport
from flakehunt.units import format_duration, format_size


def render_flush(report: FlushReport, verbose: bool) -> str:
    """Return the summary line (and one line per file when *verbose*)."""
    lines: list[str] = []
    if verbose:
        for f in report.files:
            waited = ""
            if f.waited > 0.001:
                waited = f", waited {format_duration(f.waited)} for a writer"
            lines.append(f"{f.path}  {format_size(f.size)}  {format_duration(f.seconds)}{waited}")
    n = len(report.files)
    summary = (
        f"flushed {n} file{'s' if n != 1 else ''}, {format_size(report.total_bytes)}, "
        f"{len(report.directories)} director{'ies' if len(report.directories) != 1 else 'y'} "
        f"in {format_duration(report.seconds)} ({report.method})"
    )
    if report.waited > 0.001:
        summary += f"; {format_duration(report.waited)} waiting for writers"
    lines.append(summary)
    return "\n".join(lines)


@click.command("flush")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("-r", "--recursive", is_flag=True, help="Flush every file under directories.")
@click.option("-v", "--verbose", is_flag=True, help="List each file with its size and time.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on success.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=DEFAULT_JOBS,
              show_default=True, help="Files flushed at once (concurrent fsyncs share commits).")
@click.option(
    "--writer-timeout",
    default=f"{int(DEFAULT_WRITER_TIMEOUT)}s",
    show_default=True,
    help="How long to wait for a process that holds a write lock on a file.",
)
def flush(paths: tuple[str, ...], recursive: bool, verbose: bool, quiet: bool, jobs: int,
          writer_timeout: str) -> int:
    """Flush PATHs (and their directories) to stable storage: fsync, F_FULLFSYNC or
    FlushFileBuffers."""
    from flakehunt.durable.flush import flush as do_flush
    from flakehunt.status import ExitStatus
    from flakehunt.units import parse_duration

    report = do_flush(
        paths, recursive=recursive, jobs=jobs, writer_timeout=parse_duration(writer_timeout)
    )
    if not quiet:
        click.echo(render_flush(report, verbose))
    return int(ExitStatus.OK)
