"""Where macOS puts a core: ``kern.corefile`` (default ``/cores/core.%P``).

xnu's ``proc_core_name`` expands ``%N`` (process name), ``%P`` (PID), ``%U``
(UID) and ``%%``. Cores are written only when ``kern.coredump`` is 1, the
soft ``RLIMIT_CORE`` allows it, ``/cores`` is writable, and for hardened
binaries only with the ``com.apple.security.get-task-allow`` entitlement.
"""

from __future__ import annotations

import os
import subprocess

DEFAULT_COREFILE = "/cores/core.%P"


def expand_corefile(corefile: str, pid: int, name: str = "", uid: int = 0) -> str:
    """Return the path macOS writes the core of *pid* to."""
    out: list[str] = []
    i = 0
    while i < len(corefile):
        c = corefile[i]
        if c != "%":
            out.append(c)
            i += 1
            continue
        spec = corefile[i + 1 : i + 2]
        i += 2
        out.append({"P": str(pid), "N": name, "U": str(uid), "%": "%"}.get(spec, ""))
    return "".join(out)


def find_macos_core(corefile: str, pid: int, name: str, uid: int, started: float) -> str | None:
    """Return the core of *pid* if it exists and was written since the run started."""
    path = expand_corefile(corefile, pid, name, uid)
    try:
        return path if os.stat(path).st_mtime + 1.0 >= started else None
    except OSError:
        return None


def read_sysctl(name: str) -> str | None:
    """Return ``sysctl -n NAME`` on this Mac, or None if it cannot be read."""
    try:
        proc = subprocess.run(["sysctl", "-n", name], capture_output=True, text=True,
                              timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None
