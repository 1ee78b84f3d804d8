"""The story's three builds as shell command lines: normal, sleep after link, flush after link."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from flakehunt.demo.link import DEFAULT_ROUNDS

# The story slept 7 s after linking on builds taking about 5 minutes; here the
# link-to-run gap is tens of milliseconds, so a 20 ms sleep is the same idea:
# it shifts the race, it does not close it.
DEFAULT_SLEEP = 0.02
VARIANTS = ("normal", "sleep", "flush")


def demo_variants(
    workdir: Path,
    *,
    python: str | None = None,
    rounds: int = DEFAULT_ROUNDS,
    sleep: float = DEFAULT_SLEEP,
    dump_dir: str = "seen",
) -> dict[str, list[str] | str]:
    """Return {variant: POSIX sh command line} for ``normal``, ``sleep`` and ``flush``.

    Each command links ``out-$$.bin`` in *workdir* (``$$``: the shell's pid, so
    parallel runs never share an image), then ``exec``s the run step, so the
    run's raw status is the run step's own death (SIGSEGV or SIGABRT), not the
    shell's 128+N. A clean run deletes its image; a crashed one keeps it (as it
    is now, complete) and the bytes the run step saw, under *dump_dir*.
    """
    py = shlex.quote(python or sys.executable)
    cd = f"cd {shlex.quote(str(workdir))}"
    link = f"{py} -m flakehunt.demo.link out-$$.bin --rounds {int(rounds)}"
    run = f"exec {py} -m flakehunt.demo.runstep out-$$.bin --remove --dump {shlex.quote(dump_dir)}"
    flushed_link = f"{py} -m flakehunt exec --flush out-$$.bin -- {link}"
    return {
        "normal": f"{cd} && {link} && {run}",
        "sleep": f"{cd} && {link} && sleep {sleep:g} && {run}",
        "flush": f"{cd} && {flushed_link} && {run}",
    }
