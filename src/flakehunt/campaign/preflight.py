"""Refuse a command that cannot start before recording a thousand failures."""

from __future__ import annotations

import os
import shutil

from flakehunt.campaign.spec import CampaignSpec
from flakehunt.errors import CouldNotStart

_HINT = "check the command, its PATH and the directory"


def check_startable(spec: CampaignSpec, env: dict[str, str] | None = None) -> None:
    """Raise ``CouldNotStart`` if a variant's program or the directory is missing.

    The executor still reports exec-time failures (a bad ``#!`` interpreter, say);
    this catches the common cases with zero runs recorded.
    """
    if not spec.fresh_dir and not os.path.isdir(spec.cwd):
        raise CouldNotStart(f"working directory {spec.cwd} does not exist", _HINT)
    path = (env if env is not None else os.environ).get("PATH", os.defpath)
    for variant in spec.variants:
        if not variant.argv:
            raise CouldNotStart(f"variant {variant.name!r} has no command", _HINT)
        prog = variant.argv[0]
        vpath = dict(variant.env).get("PATH", path)
        if os.sep in prog or (os.altsep and os.altsep in prog):
            full = prog if os.path.isabs(prog) else os.path.join(spec.cwd, prog)
            if not os.path.exists(full):
                raise CouldNotStart(f"command not found: {prog}", _HINT)
            if os.path.isdir(full):
                raise CouldNotStart(f"{prog} is a directory, not a command", _HINT)
            if not os.access(full, os.X_OK):
                raise CouldNotStart(f"permission denied: {prog} (is it executable?)", _HINT)
        elif shutil.which(prog, path=vpath) is None:
            raise CouldNotStart(f"command not found: {prog}", _HINT)
