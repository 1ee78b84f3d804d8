"""The ``flakehunt`` command: a lazy click group over one module per command.

Only this package calls ``sys.exit``. Each command module is imported when the
command is invoked, so ``flakehunt --help`` costs click and nothing else.
"""

from __future__ import annotations

import importlib
import sys

import click

from flakehunt import __version__

# name -> (module, attribute, one-line help shown by ``flakehunt --help``).
# Keep the help here so listing commands imports nothing.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "run": ("flakehunt.cli.run", "run", "Run a command repeatedly until a stop rule."),
    "compare": ("flakehunt.cli.compare", "compare", "Compare mitigations: interleaved variants."),
    "demo": ("flakehunt.cli.demo", "demo", "The story, reproduced here in about a minute."),
    "history": ("flakehunt.cli.history", "history", "List recorded campaigns."),
    "decode": ("flakehunt.cli.decode", "decode_cmd", "Name exit statuses: NTSTATUS, signal, 128+N"),
    "show": ("flakehunt.cli.history", "show", "Show a campaign's summary, or one run in full."),
    "failures": ("flakehunt.cli.history", "failures", "List failed runs, by signature."),
    "chkimg": ("flakehunt.cli.chkimg", "chkimg", "Compare code in a dump/core/process with images"),
    "flush": ("flakehunt.cli.flush", "flush", "Flush files to stable storage (fsync and kin)."),
    "exec": ("flakehunt.cli.exec", "exec_", "Run a tool, flush what it wrote, exit as it did."),
    "plan": ("flakehunt.cli.plan", "plan", "How many runs a question needs (exact enumeration)."),
    "merge": ("flakehunt.cli.merge", "merge", "Merge campaigns from several databases (shards)."),
    "doctor": ("flakehunt.cli.doctor", "doctor", "Check crash dumps, telemetry, evidence space."),
    "bisect": ("flakehunt.cli.bisect", "bisect", "Find the commit that made a test flaky."),
    "report": ("flakehunt.cli.report", "report", "Write HTML, Markdown, JUnit or JSON reports."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module = importlib.import_module(entry[0])
        command = getattr(module, entry[1])
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="flakehunt")
@click.option("--traceback", is_flag=True, help="Show the Python traceback of an error.")
@click.pass_context
def cli(ctx: click.Context, traceback: bool) -> None:
    """Hunt intermittent failures in builds and tests."""
    ctx.ensure_object(dict)
    ctx.obj["traceback"] = traceback


def main(argv: list[str] | None = None) -> None:
    """Run the CLI and exit with a documented status (see ``flakehunt.status``)."""
    from flakehunt.cli.main import run_cli

    sys.exit(run_cli(cli, argv))


__all__ = ["COMMANDS", "cli", "main"]
