"""POSIX signal numbers: Linux and macOS/BSD tables, and the running platform's.

Signal numbers differ between systems (10 is SIGUSR1 on Linux, SIGBUS on
macOS), so a status recorded on one OS must be read with that OS's table. The
fixed tables below are the Linux generic/x86/ARM numbering (asm-generic
signal.h; Alpha, MIPS and SPARC differ and are not covered) and the 4.4BSD
numbering that macOS, FreeBSD, NetBSD and OpenBSD share for 1-31. The tests
compare the table of the OS they run on with Python's ``signal`` module.
"""

from __future__ import annotations

import re
import signal
import sys

LINUX: dict[int, str] = {
    1: "SIGHUP",
    2: "SIGINT",
    3: "SIGQUIT",
    4: "SIGILL",
    5: "SIGTRAP",
    6: "SIGABRT",
    7: "SIGBUS",
    8: "SIGFPE",
    9: "SIGKILL",
    10: "SIGUSR1",
    11: "SIGSEGV",
    12: "SIGUSR2",
    13: "SIGPIPE",
    14: "SIGALRM",
    15: "SIGTERM",
    16: "SIGSTKFLT",
    17: "SIGCHLD",
    18: "SIGCONT",
    19: "SIGSTOP",
    20: "SIGTSTP",
    21: "SIGTTIN",
    22: "SIGTTOU",
    23: "SIGURG",
    24: "SIGXCPU",
    25: "SIGXFSZ",
    26: "SIGVTALRM",
    27: "SIGPROF",
    28: "SIGWINCH",
    29: "SIGIO",
    30: "SIGPWR",
    31: "SIGSYS",
}
# glibc reserves 32 and 33 for its threads, so SIGRTMIN is 34 to programs.
LINUX_RTMIN, LINUX_RTMAX = 34, 64

BSD: dict[int, str] = {
    1: "SIGHUP",
    2: "SIGINT",
    3: "SIGQUIT",
    4: "SIGILL",
    5: "SIGTRAP",
    6: "SIGABRT",
    7: "SIGEMT",
    8: "SIGFPE",
    9: "SIGKILL",
    10: "SIGBUS",
    11: "SIGSEGV",
    12: "SIGSYS",
    13: "SIGPIPE",
    14: "SIGALRM",
    15: "SIGTERM",
    16: "SIGURG",
    17: "SIGSTOP",
    18: "SIGTSTP",
    19: "SIGCONT",
    20: "SIGCHLD",
    21: "SIGTTIN",
    22: "SIGTTOU",
    23: "SIGIO",
    24: "SIGXCPU",
    25: "SIGXFSZ",
    26: "SIGVTALRM",
    27: "SIGPROF",
    28: "SIGWINCH",
    29: "SIGINFO",
    30: "SIGUSR1",
    31: "SIGUSR2",
}

# Our own one-line explanations, for people who do not know the names by heart.
DESCRIPTIONS: dict[str, str] = {
    "SIGHUP": "hangup: the controlling terminal or parent session went away",
    "SIGINT": "interrupt: Ctrl-C",
    "SIGQUIT": "quit: Ctrl-\\, usually with a core dump",
    "SIGILL": "illegal instruction: bad code bytes, a CPU feature missing, or __builtin_trap",
    "SIGTRAP": "trace/breakpoint trap: a debugger breakpoint or __builtin_debugtrap",
    "SIGABRT": "abort: abort() was called, e.g. by a failed assert() or a C++ terminate",
    "SIGBUS": "bus error: misaligned access or a mapped file that shrank",
    "SIGEMT": "emulator trap",
    "SIGFPE": "arithmetic error: integer division by zero or overflow",
    "SIGKILL": "killed: SIGKILL, sent by a user, a timeout, or the kernel's OOM killer",
    "SIGUSR1": "user-defined signal 1",
    "SIGUSR2": "user-defined signal 2",
    "SIGSEGV": "segmentation fault: invalid memory access (null or wild pointer, stack overflow)",
    "SIGPIPE": "broken pipe: wrote to a pipe or socket with no reader",
    "SIGALRM": "alarm clock: an alarm() timer expired",
    "SIGTERM": "terminated: asked to stop (kill, a timeout, a service manager)",
    "SIGSTKFLT": "stack fault on a coprocessor (unused)",
    "SIGCHLD": "child stopped or exited",
    "SIGCONT": "continued",
    "SIGSTOP": "stopped (cannot be caught)",
    "SIGTSTP": "stopped from the terminal: Ctrl-Z",
    "SIGTTIN": "stopped: background read from the terminal",
    "SIGTTOU": "stopped: background write to the terminal",
    "SIGURG": "urgent data on a socket",
    "SIGXCPU": "CPU time limit exceeded (ulimit -t)",
    "SIGXFSZ": "file size limit exceeded (ulimit -f)",
    "SIGVTALRM": "virtual timer expired",
    "SIGPROF": "profiling timer expired",
    "SIGWINCH": "terminal window size changed",
    "SIGIO": "I/O possible",
    "SIGINFO": "status request from the terminal: Ctrl-T",
    "SIGPWR": "power failure",
    "SIGSYS": "bad system call: blocked by seccomp or not implemented",
}

_REALTIME = re.compile(r"SIGRT(MIN|MAX)([+-]\d+)?")
MACOS_PLATFORMS = ("darwin", "macos", "freebsd", "openbsd", "netbsd", "bsd")


def table_for(platform: str) -> str:
    """Return which table reads statuses of *platform*: "linux" or "bsd"."""
    p = platform.lower()
    if p in ("posix", "", "local"):
        p = sys.platform
    if p.startswith(MACOS_PLATFORMS):
        return "bsd"
    return "linux"


def running_names() -> dict[int, str]:
    """Return signal number -> name on the running platform, from ``signal``."""
    names: dict[int, str] = {}
    for sig in signal.Signals:
        # Aliases (SIGIOT, SIGPOLL, SIGCLD) come after the canonical member.
        names.setdefault(int(sig), sig.name)
    return names


def signal_name(num: int, platform: str = "posix") -> str | None:
    """Return the name of signal *num* on *platform*, or None if it has none."""
    which = table_for(platform)
    if which == table_for("posix"):
        name = running_names().get(num)
        if name is not None:
            return name
    table = BSD if which == "bsd" else LINUX
    if num in table:
        return table[num]
    if which == "linux" and LINUX_RTMIN <= num <= LINUX_RTMAX:
        return "SIGRTMIN" if num == LINUX_RTMIN else f"SIGRTMIN+{num - LINUX_RTMIN}"
    return None


def signal_number(name: str, platform: str = "posix") -> int | None:
    """Return the number of signal *name* (``SIGSEGV`` or ``SEGV``) on *platform*."""
    upper = name.upper()
    if not upper.startswith("SIG"):
        upper = "SIG" + upper
    which = table_for(platform)
    if which == table_for("posix"):
        member = getattr(signal.Signals, upper, None)
        if isinstance(member, signal.Signals):
            return int(member)
    table = BSD if which == "bsd" else LINUX
    for num, known in table.items():
        if known == upper:
            return num
    m = _REALTIME.fullmatch(upper)
    if which == "linux" and m:
        num = (LINUX_RTMIN if m.group(1) == "MIN" else LINUX_RTMAX) + int(m.group(2) or 0)
        if LINUX_RTMIN <= num <= LINUX_RTMAX:
            return num
    return None


def max_signal(platform: str = "posix") -> int:
    """Return the highest signal number a 128+N shell status can carry on *platform*."""
    return LINUX_RTMAX if table_for(platform) == "linux" else 31


def describe(name: str) -> str:
    """Return a one-line explanation of signal *name*."""
    if name.startswith("SIGRTMIN"):
        return "real-time signal (application-defined)"
    return DESCRIPTIONS.get(name, "signal")
