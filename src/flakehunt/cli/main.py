"""Turn errors into one line and a documented exit status."""

from __future__ import annotations

import sys

import click

from flakehunt.errors import FlakehuntError
from flakehunt.status import ExitStatus


def _wants_traceback(argv: list[str]) -> bool:
    return "--traceback" in argv


def run_cli(group: click.Group, argv: list[str] | None) -> int:
    """Invoke *group* and map every outcome onto ``ExitStatus``."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        result = group.main(args=args, prog_name="flakehunt", standalone_mode=False)
    except FlakehuntError as exc:
        if _wants_traceback(args):
            raise
        click.echo(f"flakehunt: error: {exc}", err=True)
        return int(exc.status)
    except click.exceptions.Abort:
        click.echo("flakehunt: interrupted", err=True)
        return int(ExitStatus.INTERRUPTED)
    except click.ClickException as exc:
        # click's own usage errors: keep its message, make it one line with a hint.
        hint = ""
        ctx = getattr(exc, "ctx", None)
        if ctx is not None:
            hint = f" (see '{ctx.command_path} --help')"
        click.echo(f"flakehunt: error: {exc.format_message()}{hint}", err=True)
        return int(ExitStatus.USAGE)
    except KeyboardInterrupt:
        click.echo("flakehunt: interrupted", err=True)
        return int(ExitStatus.INTERRUPTED)
    except BrokenPipeError:
        # `flakehunt history | head`: the reader left; that is not an error.
        sys.stderr.close()
        return int(ExitStatus.OK)
    except Exception as exc:  # a bug: one line, not a wall of frames
        if _wants_traceback(args):
            raise
        click.echo(
            f"flakehunt: error: internal error: {type(exc).__name__}: {exc} "
            "(a bug in flakehunt: rerun with --traceback and report it)",
            err=True,
        )
        return int(ExitStatus.INTERNAL)
    if isinstance(result, int):
        return result
    return int(ExitStatus.OK)
