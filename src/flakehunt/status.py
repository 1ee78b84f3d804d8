"""The one place where flakehunt's own exit statuses are named.

Policy (what a script or CI job may rely on):

* ``OK`` (0): the work finished and found no failure (for ``run``/``compare``:
  no counted failure; for other commands: success).
* ``FAILURES`` (1): the work finished and found what it hunts: at least one
  counted failure in a campaign, or differing bytes in ``chkimg``.
* ``USAGE`` (2): the command line or an input file was wrong; nothing was run.
  Also used for unreadable or corrupt inputs (dumps, cores, databases), because
  the remedy is the same: fix what was given.
* ``COULD_NOT_START`` (3): the command under test could not be started at all
  (not found, not executable, bad working directory). Distinct from 1 because
  no run happened, so no failure rate exists.
* ``ENVIRONMENT`` (4): the machine refused something flakehunt needs (disk
  full, database locked by another writer, permission denied on evidence).
* ``INTERNAL`` (70, BSD's EX_SOFTWARE): a bug in flakehunt. One line says so;
  ``--traceback`` shows where. Every run finished before it is recorded.
* ``INTERRUPTED`` (130): stopped by Ctrl-C or SIGTERM; 128 + SIGINT, as shells
  report it. Every finished run is recorded; runs in flight are recorded as
  ``interrupted`` and not counted.

``flakehunt exec`` is the one exception: it exits with the wrapped tool's own
status, because it is a drop-in for that tool in a build rule.
"""

from __future__ import annotations

import enum


class ExitStatus(enum.IntEnum):
    """Exit statuses of the ``flakehunt`` command; see the module docstring."""

    OK = 0
    FAILURES = 1
    USAGE = 2
    COULD_NOT_START = 3
    ENVIRONMENT = 4
    INTERNAL = 70
    INTERRUPTED = 130
