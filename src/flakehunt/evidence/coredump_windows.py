"""Windows Error Reporting ``LocalDumps``: whether a dump is written, and where.

Settings live under ``HKLM\\SOFTWARE\\Microsoft\\Windows\\Windows Error
Reporting\\LocalDumps``; a subkey named for the executable (``app.exe``)
overrides the global values for that program. Without the key, WER keeps no
local dump. Values (Microsoft's "Collecting User-Mode Dumps"): ``DumpFolder``
(REG_EXPAND_SZ, default ``%LOCALAPPDATA%\\CrashDumps``), ``DumpCount`` (default
10, oldest deleted beyond it), ``DumpType`` (0 custom, 1 mini (default), 2 full),
``CustomDumpFlags`` (for type 0). The file is named ``<exe>.<pid>.dmp``.
"""

from __future__ import annotations

import ntpath
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

LOCALDUMPS_KEY = r"SOFTWARE\Microsoft\Windows\Windows Error Reporting\LocalDumps"
DEFAULT_FOLDER = r"%LOCALAPPDATA%\CrashDumps"
DUMP_TYPES = {0: "custom", 1: "mini", 2: "full"}

RegValues = Mapping[str, object]


@dataclass(frozen=True)
class WerSettings:
    """The effective LocalDumps settings for one executable."""

    enabled: bool
    folder: str = ""
    count: int = 10
    dump_type: int = 1
    reason: str = ""

    @property
    def type_name(self) -> str:
        """Return "mini", "full" or "custom"."""
        return DUMP_TYPES.get(self.dump_type, f"type {self.dump_type}")


def expand_env(text: str, env: Mapping[str, str]) -> str:
    """Expand ``%VAR%`` as REG_EXPAND_SZ does (case-insensitive; unknown left as is)."""
    upper = {k.upper(): v for k, v in env.items()}
    return re.sub(r"%([^%]+)%", lambda m: upper.get(m.group(1).upper(), m.group(0)), text)


def _int(value: object, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def wer_settings(
    global_values: RegValues | None, app_values: RegValues | None, env: Mapping[str, str]
) -> WerSettings:
    """Combine the global LocalDumps key and the app's subkey (None: key absent)."""
    if global_values is None and app_values is None:
        return WerSettings(False, reason="WER LocalDumps is not configured, so Windows "
                                         "keeps no local crash dump")
    merged: dict[str, object] = dict(global_values or {})
    merged.update(app_values or {})
    folder = merged.get("DumpFolder")
    folder_text = folder if isinstance(folder, str) and folder else DEFAULT_FOLDER
    count = _int(merged.get("DumpCount"), 10)
    dump_type = _int(merged.get("DumpType"), 1)
    expanded = expand_env(folder_text, env)
    if "%" in expanded:
        return WerSettings(False, expanded, count, dump_type,
                           f"DumpFolder {folder_text} names an unset variable")
    if count == 0:
        return WerSettings(False, expanded, count, dump_type,
                           "DumpCount is 0, so WER keeps no dump")
    return WerSettings(True, expanded, count, dump_type)


def image_name(exe: str) -> str:
    """Return the image name Windows uses for *exe* (``build\\app`` -> ``app.exe``)."""
    name = ntpath.basename(exe)
    return name if "." in name else name + ".exe"


def dump_name(exe: str, pid: int) -> str:
    """Return the file name WER gives the dump of *pid* (``app.exe.1234.dmp``)."""
    return f"{image_name(exe)}.{pid}.dmp"


def find_wer_dump(settings: WerSettings, exe: str, pid: int, started: float,
                  descendants: frozenset[int] = frozenset()) -> str | None:
    """Return the dump of *pid* (or of a descendant) in the LocalDumps folder, if fresh."""
    if not settings.enabled:
        return None
    path = os.path.join(settings.folder, dump_name(exe, pid))
    try:
        if os.stat(path).st_mtime + 1.0 >= started:
            return path
    except OSError:
        pass
    # A child of the run crashed (a test runner's worker): any <image>.<pid>.dmp of its tree.
    suffixes = tuple(f".{p}.dmp" for p in descendants - {pid})
    if not suffixes:
        return None
    try:
        entries = list(os.scandir(settings.folder))
    except OSError:
        return None
    fresh = [(e.stat().st_mtime, e.path) for e in entries
             if e.name.endswith(suffixes) and e.stat().st_mtime + 1.0 >= started]
    return max(fresh)[1] if fresh else None


def read_localdumps(exe: str) -> tuple[RegValues | None, RegValues | None]:
    """Read the global and per-app LocalDumps values from this machine's registry."""
    import importlib

    winreg: Any = importlib.import_module("winreg")  # Windows only; Any keeps mypy platform-free

    def values(path: str) -> RegValues | None:
        try:
            key = winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, path)
        except OSError:
            return None
        out: dict[str, object] = {}
        with key:
            i = 0
            while True:
                try:
                    name, value, _kind = winreg.EnumValue(key, i)
                except OSError:
                    break
                out[name] = value
                i += 1
        return out

    return values(LOCALDUMPS_KEY), values(LOCALDUMPS_KEY + "\\" + image_name(exe))


def enable_commands(folder: str = r"C:\CrashDumps", dump_type: int = 2) -> list[str]:
    """Return the commands (elevated prompt) that turn on full local dumps."""
    key = "HKLM\\" + LOCALDUMPS_KEY
    return [
        f'reg add "{key}" /v DumpFolder /t REG_EXPAND_SZ /d "{folder}" /f',
        f'reg add "{key}" /v DumpType /t REG_DWORD /d {dump_type} /f',
        f'reg add "{key}" /v DumpCount /t REG_DWORD /d 50 /f',
    ]
