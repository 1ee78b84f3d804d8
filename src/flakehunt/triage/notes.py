"""What common statuses mean, in our own words (the headers carry names only).

Codes not listed here get a description made from their name. The few codes
that are not in any header (MSVC's C++ exception, the .NET CLR's) are listed
in ``EXTRA_CODES`` with names of our choosing.
"""

from __future__ import annotations

FASTFAIL_NOTE = (
    "on Windows 8 and later every __fastfail ends the process with this status, whatever "
    "its cause: a /GS stack-cookie check, a Control Flow Guard check "
    "(FAST_FAIL_GUARD_ICALL_CHECK_FAILURE), a corrupt list entry, an invalid CRT argument, "
    "or the Universal CRT's abort() (FAST_FAIL_FATAL_APP_EXIT); the fail-fast code is the "
    "first parameter of the exception record in a crash dump, not part of the exit code"
)

WINDOWS: dict[int, str] = {
    0x00000000: "success",
    0x40010004: "ended by a debugger (or TerminateProcess from one)",
    0x40000015: "fatal application exit (FatalAppExit)",
    0x80000003: "a breakpoint instruction (int 3, __debugbreak) ran with no debugger attached",
    0x80000004: "single-step trap with no debugger attached",
    0x80000002: "misaligned data access",
    0x80000001: "guard page touched (usually stack growth gone wrong)",
    0xC0000005: "access violation: read, write or execution of memory the process may not "
    "touch (null or wild pointer, use after free, or code pages that are not what the "
    "linker wrote)",
    0xC0000006: "in-page error: a page of a mapped file or image could not be read in "
    "(disk or network failure, or the file changed under the mapping)",
    0xC0000008: "an invalid handle was used",
    0xC0000017: "not enough memory (or quota) to complete the call",
    0xC000001D: "illegal instruction: bad code bytes or a CPU feature this machine lacks",
    0xC0000022: "access denied",
    0xC0000025: "a non-continuable exception was continued",
    0xC000008C: "array bounds exceeded",
    0xC000008E: "floating-point division by zero (with FP exceptions unmasked)",
    0xC0000090: "invalid floating-point operation (with FP exceptions unmasked)",
    0xC0000094: "integer division by zero",
    0xC0000095: "integer overflow",
    0xC0000096: "privileged instruction executed in user mode",
    0xC00000FD: "stack overflow: unbounded recursion or a very large local array",
    0xC000007B: "bad image: a DLL or EXE is corrupt or for the wrong architecture (32/64-bit)",
    0xC000012D: "commit limit reached: RAM plus page file exhausted",
    0xC0000135: "a DLL the program needs was not found at load time",
    0xC0000139: "a function the program imports is missing from a DLL (version mismatch)",
    0xC0000142: "a DLL failed to initialise (often desktop heap exhaustion under many processes)",
    0xC000013A: "ended by Ctrl-C or Ctrl-Break",
    0xC0000374: "heap corruption detected by the heap manager (double free, write after "
    "free or past the end of a block)",
    0xC0000409: "a security check ended the process; despite the name it is seldom a "
    "stack overrun: " + FASTFAIL_NOTE,
    0xC0000420: "an assertion failure (int 2c)",
    0xC0000602: "a fail-fast exception (RaiseFailFastException)",
    0xC000041D: "an exception escaped a user-mode callback from the kernel",
    0x80004001: "not implemented",
    0x80004002: "interface not supported",
    0x80004003: "invalid pointer",
    0x80004005: "unspecified failure",
    0x8000FFFF: "catastrophic (unexpected) failure",
    0x80070005: "access denied (Win32 ERROR_ACCESS_DENIED as an HRESULT)",
    0x8007000E: "out of memory",
    0x80070057: "an argument is invalid",
    0xE06D7363: "an unhandled C++ exception from MSVC-compiled code ('msc' in ASCII)",
    0xE0434352: "an unhandled .NET exception ('CCR' in ASCII)",
    0xE0434F4D: "an unhandled .NET Framework 1.x exception ('COM' in ASCII)",
}

# Codes that appear as exit statuses but are defined in no header.
EXTRA_CODES: dict[int, str] = {
    0xE06D7363: "MSVC_CPP_EXCEPTION",
    0xE0434352: "CLR_EXCEPTION",
    0xE0434F4D: "CLR_EXCEPTION_V1",
}

WIN32: dict[int, str] = {
    2: "the file was not found",
    3: "the path was not found",
    5: "access denied",
    8: "not enough memory",
    32: "sharing violation: another process has the file open (antivirus, indexer, "
    "a build step still running)",
    33: "another process has locked part of the file",
    87: "an argument is invalid",
    112: "the disk is full",
    183: "the file already exists",
    1450: "insufficient system resources",
    1455: "the page file is too small",
}

EXIT: dict[int, str] = {
    0: "success",
    1: "failure (the usual catch-all)",
    2: "failure; many tools use 2 for a usage error",
    124: "timed out (coreutils timeout)",
    125: "the wrapper itself failed (timeout, docker run, git bisect run)",
    126: "found but not executable (shell convention)",
    127: "command not found (shell convention)",
    255: "exit(-1), or ssh could not connect",
}

FAST_FAIL: dict[str, str] = {
    "FAST_FAIL_LEGACY_GS_VIOLATION": "legacy /GS stack cookie violation",
    "FAST_FAIL_VTGUARD_CHECK_FAILURE": "a virtual table guard check failed",
    "FAST_FAIL_STACK_COOKIE_CHECK_FAILURE": "the /GS stack cookie was overwritten: a real "
    "stack buffer overrun",
    "FAST_FAIL_CORRUPT_LIST_ENTRY": "a doubly linked list entry was corrupt (heap or "
    "kernel-object corruption)",
    "FAST_FAIL_INVALID_ARG": "an invalid argument reached the CRT (invalid parameter handler)",
    "FAST_FAIL_FATAL_APP_EXIT": "abort() or a fatal exit in the C runtime",
    "FAST_FAIL_RANGE_CHECK_FAILURE": "a range check failed",
    "FAST_FAIL_GUARD_ICALL_CHECK_FAILURE": "Control Flow Guard: an indirect call went to an "
    "address not marked as a valid call target (stale CFG data, e.g. /incremental with "
    "/guard:cf, or a corrupted function pointer)",
    "FAST_FAIL_GUARD_WRITE_CHECK_FAILURE": "a Control Flow Guard write check failed",
    "FAST_FAIL_GUARD_SS_FAILURE": "the CET shadow stack did not match the return address",
    "FAST_FAIL_HEAP_METADATA_CORRUPTION": "the heap's metadata was corrupted",
    "FAST_FAIL_INVALID_EXCEPTION_CHAIN": "the SEH exception handler chain was corrupt",
    "FAST_FAIL_GUARD_ICALL_CHECK_FAILURE_XFG": "eXtended Flow Guard: an indirect call's "
    "target had the wrong type hash",
    "FAST_FAIL_INVALID_FAST_FAIL_CODE": "__fastfail was called with an unknown code",
}

PREFIXES = ("STATUS_", "ERROR_", "FAST_FAIL_", "DBG_", "RPC_NT_", "E_", "S_", "CO_E_")


def from_name(name: str) -> str:
    """Return a readable phrase made from a constant's name."""
    for prefix in PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    return name.replace("_", " ").lower()
