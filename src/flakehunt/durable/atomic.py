"""Replace a file so that a crash leaves either the old or the new content, never a mix."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from flakehunt.durable.platform import Syncer, default_syncer


def _mode_for(target: Path, mode: int | None) -> int:
    if mode is not None:
        return mode
    try:
        return target.stat().st_mode & 0o7777
    except FileNotFoundError:
        # What open(..., "w") would have produced: 0o666 minus the umask.
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def atomic_write(
    path: str | os.PathLike[str],
    data: bytes | bytearray | memoryview | str,
    *,
    mode: int | None = None,
    syncer: Syncer | None = None,
) -> Path:
    """Write *data* to *path* via a temp file in the same directory, fsync, replace, dir fsync.

    The temp file sits in the target's directory because ``os.replace`` is only
    atomic within one file system. A crash before the replace leaves the old
    file and a stray ``.NAME.*.tmp``; after it, the new file.
    """
    target = Path(path)
    sync = default_syncer() if syncer is None else syncer
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    directory = target.parent if str(target.parent) else Path(".")
    final_mode = _mode_for(target, mode)
    fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            if hasattr(os, "fchmod"):  # mkstemp made it 0600; give it the target's mode
                os.fchmod(fh.fileno(), final_mode)
            os.fsync(fh.fileno())
        if os.name != "posix":
            sync.sync_file(tmp)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    sync.sync_dir(directory.resolve())
    return target
