"""Resource guard: hold back new runs while free disk or memory is below a floor.

An overnight campaign that fills the disk ends in failures that are the
hunter's own. The watch thread measures (``statvfs`` of the working directory
and of the evidence directory; MemAvailable from /proc/meminfo, psutil
elsewhere); slots about to launch wait while the machine is below a floor.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from flakehunt.units import format_size


def free_disk(path: str) -> int | None:
    """Return the bytes an unprivileged user may still write on *path*'s filesystem."""
    try:
        st = os.statvfs(path)
    except (OSError, AttributeError):
        try:
            import shutil

            return shutil.disk_usage(path).free
        except OSError:
            return None
    return st.f_bavail * st.f_frsize


def free_memory() -> int | None:
    """Return the memory available for new work without swapping (MemAvailable)."""
    try:
        with open("/proc/meminfo", "rb") as fh:
            for line in fh:
                if line.startswith(b"MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except Exception:  # no psutil, or it cannot tell
        return None


@dataclass(frozen=True)
class GuardLimits:
    """The floors; None is no floor."""

    min_free_disk: int | None = None
    min_free_mem: int | None = None
    paths: tuple[str, ...] = ()  # filesystems to watch for --min-free-disk

    @property
    def active(self) -> bool:
        """Whether any floor is set."""
        return self.min_free_disk is not None or self.min_free_mem is not None


def shortfall(limits: GuardLimits, *, disk: Callable[[str], int | None] = free_disk,
              mem: Callable[[], int | None] = free_memory) -> str | None:
    """Return why launching must wait now (None: it need not)."""
    if limits.min_free_disk is not None:
        seen: set[int] = set()
        for path in _existing(limits.paths):
            try:
                dev = os.stat(path).st_dev
            except OSError:
                continue
            if dev in seen:
                continue
            seen.add(dev)
            free = disk(path)
            if free is not None and free < limits.min_free_disk:
                return (f"free disk on {path} is {format_size(free)}, "
                        f"below --min-free-disk {format_size(limits.min_free_disk)}")
    if limits.min_free_mem is not None:
        free = mem()
        if free is not None and free < limits.min_free_mem:
            return (f"free memory is {format_size(free)}, "
                    f"below --min-free-mem {format_size(limits.min_free_mem)}")
    return None


def _existing(paths: Sequence[str]) -> list[str]:
    """Return each path, or its nearest existing parent (the evidence dir may not exist yet)."""
    out = []
    for p in paths:
        p = os.path.abspath(p)
        while not os.path.exists(p) and os.path.dirname(p) != p:
            p = os.path.dirname(p)
        out.append(p)
    return out
