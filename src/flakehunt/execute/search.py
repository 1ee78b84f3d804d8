"""Find a command on ``PATH`` once, in the parent, instead of in every child.

``posix_spawnp`` (like ``execvp``) tries each ``PATH`` directory in turn in the
child, one failing ``execve`` per directory before the right one: with the
eleven entries of a developer's ``PATH`` here, ``sleep`` took ~95 µs longer to
start than ``/usr/bin/sleep``, on every run. Go's ``os/exec`` and bash's command
hash look a name up once; so does flakehunt, per command and ``PATH``.

Only an absolute ``PATH`` is searched here. A relative or empty entry means the
child's working directory, which may differ from ours (``--fresh-dir``): then,
as for a name that is not found, the child searches as before and reports its
own error.
"""

from __future__ import annotations

import os


def find_program(name: str, search_path: str | None) -> str | None:
    """Return the file ``execvp`` would run for *name* under *search_path*, or None.

    None means: let the child search (a name with a slash, no ``PATH``, a
    relative entry before the match, or nothing found).
    """
    if not name or "/" in name or not search_path:
        return None
    for d in search_path.split(os.pathsep):
        if not d or not os.path.isabs(d):
            return None
        candidate = os.path.join(d, name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None
