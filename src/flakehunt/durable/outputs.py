"""Find what a tool produced: globs confined to the working directory, or files it wrote."""

from __future__ import annotations

import glob
import os
import posixpath
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from flakehunt.errors import UsageError

# Kernels stamp mtime/ctime from a coarse clock (one jiffy, up to 10 ms on Linux),
# so a file rewritten in the same tick as the snapshot, with the same size and
# inode, looks unchanged. Files touched this close to the snapshot are flushed
# anyway: an extra flush is harmless, a missed one is the bug this tool fixes.
AMBIGUOUS_NS = 20_000_000


@dataclass(frozen=True)
class FileState:
    """What identifies one version of a file: inode, times and size."""

    dev: int
    ino: int
    mtime_ns: int
    ctime_ns: int
    size: int


@dataclass(frozen=True)
class Snapshot:
    """The state of every regular file under some directories, and when it was taken."""

    taken_ns: int
    files: Mapping[Path, FileState]


def check_glob(pattern: str, cwd: Path) -> str:
    """Return *pattern* relative to *cwd*, or raise UsageError if it could match outside."""
    if not pattern:
        raise UsageError("empty --flush glob", "name the tool's outputs, e.g. --flush 'out/*.exe'")
    norm = pattern.replace("\\", "/") if os.sep == "\\" else pattern
    if os.path.isabs(norm):
        try:
            rel = Path(norm).relative_to(cwd)
        except ValueError:
            raise UsageError(
                f"--flush {pattern!r} escapes the working directory {cwd}",
                "use a glob relative to the directory the build runs in",
            ) from None
        norm = rel.as_posix() or "."
    clean = posixpath.normpath(norm)
    if clean == ".." or clean.startswith("../") or "/../" in f"/{clean}/":
        raise UsageError(
            f"--flush {pattern!r} escapes the working directory {cwd}",
            "use a glob relative to the directory the build runs in, without '..'",
        )
    return clean


def expand_globs(patterns: Iterable[str], cwd: Path) -> tuple[list[Path], list[str]]:
    """Return (matched regular files, patterns that matched nothing), in a stable order."""
    found: list[Path] = []
    seen: set[Path] = set()
    unmatched: list[str] = []
    for pattern in patterns:
        rel = check_glob(pattern, cwd)
        matches = sorted(glob.glob(rel, root_dir=cwd, recursive=True))
        files = [cwd / m for m in matches if (cwd / m).is_file()]
        if not files:
            unmatched.append(pattern)
        for f in files:
            if f not in seen:
                seen.add(f)
                found.append(f)
    return found, unmatched


def snapshot(dirs: Iterable[Path], clock_ns: Callable[[], int] = time.time_ns) -> Snapshot:
    """Record the state of every regular file under *dirs* (missing dirs are empty)."""
    taken = clock_ns()
    files: dict[Path, FileState] = {}
    for d in dirs:
        for root, subdirs, names in os.walk(d):
            subdirs.sort()
            for name in names:
                p = Path(root) / name
                try:
                    st = p.lstat()
                except OSError:
                    continue  # vanished while walking
                if not _is_regular(st.st_mode):
                    continue
                files[p] = FileState(
                    st.st_dev, st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_size
                )
    return Snapshot(taken, files)


def _is_regular(mode: int) -> bool:
    import stat

    return stat.S_ISREG(mode)


def written_between(before: Snapshot, after: Snapshot) -> list[Path]:
    """Return files that are new, replaced or modified in *after* compared with *before*."""
    out: list[Path] = []
    for path, state in sorted(after.files.items()):
        old = before.files.get(path)
        if old is None or old != state or before.taken_ns - old.mtime_ns < AMBIGUOUS_NS:
            out.append(path)
    return out
