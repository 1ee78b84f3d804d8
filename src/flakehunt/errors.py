"""The one exception tree; every error says what was wrong and what to do.

Low-level errors (``OSError``, ``struct.error``, ``sqlite3.Error``...) are
wrapped into these at the boundary where their meaning is known. The CLI prints
``flakehunt: error: MESSAGE (HINT)`` and exits with the error's ``status``;
``--traceback`` shows the rest.
"""

from __future__ import annotations

from flakehunt.status import ExitStatus


class FlakehuntError(Exception):
    """Base of every error flakehunt reports to a user."""

    status: ExitStatus = ExitStatus.USAGE

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} ({self.hint})"
        return self.message


class UsageError(FlakehuntError):
    """The command line asked for something impossible or contradictory."""


class InputError(FlakehuntError):
    """A value or file given by the user could not be understood."""


class FormatError(InputError):
    """A binary input (dump, core, image) is truncated, corrupt or unsupported."""


class StoreError(FlakehuntError):
    """The flakehunt database could not be opened, read or written."""

    status = ExitStatus.ENVIRONMENT


class NotFound(InputError):
    """A campaign, run, signature or file named by the user does not exist."""


class CouldNotStart(FlakehuntError):
    """The command under test cannot be started at all."""

    status = ExitStatus.COULD_NOT_START


class EnvironmentProblem(FlakehuntError):
    """The machine refused something flakehunt needs (disk, permissions)."""

    status = ExitStatus.ENVIRONMENT
