"""Windows process control: pure pieces, tested everywhere, used on Windows.

On Windows a run's process tree is held in a Job Object created with
``JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE``: closing the job handle (timeout,
Ctrl-C, or flakehunt dying) ends every process in it, the equivalent of a
POSIX process-group kill that no descendant can escape with ``setsid``.
"""

from __future__ import annotations

# winnt.h
JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x00002000
JOB_OBJECT_LIMIT_BREAKAWAY_OK = 0x00000800
JOB_OBJECT_LIMIT_SILENT_BREAKAWAY_OK = 0x00001000
JOBOBJECT_EXTENDED_LIMIT_INFORMATION_CLASS = 9
# winbase.h process creation flags
CREATE_SUSPENDED = 0x00000004
CREATE_NEW_PROCESS_GROUP = 0x00000200
CREATE_BREAKAWAY_FROM_JOB = 0x01000000


def cmd_argv(command: str) -> tuple[str, ...]:
    """Return the argv that runs *command* through ``cmd.exe``.

    ``/d`` skips AutoRun registry commands (they would run before every attempt),
    ``/s`` keeps cmd's quote handling predictable for the whole string.
    """
    return ("cmd.exe", "/d", "/s", "/c", command)


def job_limit_flags(*, allow_breakaway: bool = False) -> int:
    """Return the LimitFlags for a run's job: kill everything when the job closes.

    Breakaway stays forbidden by default: a child created with
    CREATE_BREAKAWAY_FROM_JOB would otherwise escape the kill, as a POSIX
    daemon escapes a process group with setsid.
    """
    flags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
    if allow_breakaway:
        flags |= JOB_OBJECT_LIMIT_BREAKAWAY_OK
    return flags


def creation_flags() -> int:
    """Start suspended so the process joins its job before it can spawn anything."""
    return CREATE_SUSPENDED | CREATE_NEW_PROCESS_GROUP


def normalize_exit_code(code: int) -> int:
    """Return a Windows exit code as the unsigned 32-bit value (0xC0000005, not -1073741819).

    Python reports GetExitCodeProcess's DWORD as unsigned already, but values
    that passed through a signed int (a shell, a log) come back negative.
    """
    return code & 0xFFFFFFFF
