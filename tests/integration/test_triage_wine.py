"""The story's two codes from real Windows processes (mingw-w64 + Wine), decoded right.

A Windows parent starts a child that crashes with an access violation, or
calls __fastfail(FAST_FAIL_GUARD_ICALL_CHECK_FAILURE) (``int 0x29``, what a
Control Flow Guard failure does), and prints GetExitCodeProcess as signed
decimal, as many tools do. The numbers must come out as in the story and
decode to two different signatures with hex labels.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from flakehunt.campaign.model import Outcome
from flakehunt.triage.decode import status_label
from flakehunt.triage.signature import signature_for, signature_summary

pytestmark = pytest.mark.slow

WINE = Path("/usr/lib/wine/wine64")
CC = "x86_64-w64-mingw32-gcc"

CHILD = r"""
#include <string.h>
int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "av")) { volatile int *p = 0; *p = 1; }
    if (argc > 1 && !strcmp(argv[1], "cfg")) { __asm__ volatile("int $0x29" :: "c"(10)); }
    if (argc > 1 && !strcmp(argv[1], "exit3")) return 3;
    return 0;
}
"""

PARENT = r"""
#include <windows.h>
#include <stdio.h>
int main(int argc, char **argv) {
    SetErrorMode(SEM_NOGPFAULTERRORBOX | SEM_FAILCRITICALERRORS);
    for (int i = 1; i < argc; i++) {
        char cmd[256]; STARTUPINFOA si = {sizeof si}; PROCESS_INFORMATION pi; DWORD code = 0;
        snprintf(cmd, sizeof cmd, "child.exe %s", argv[i]);
        if (!CreateProcessA(NULL, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi)) return 9;
        WaitForSingleObject(pi.hProcess, INFINITE);
        GetExitCodeProcess(pi.hProcess, &code);
        printf("RESULT %s %ld\n", argv[i], (long)code);
    }
    return 0;
}
"""


def test_story_codes_from_real_windows_processes(tmp_path: Path) -> None:
    if not WINE.exists() or shutil.which(CC) is None:
        pytest.skip("needs wine64 and mingw-w64")
    for name, src in (("child", CHILD), ("parent", PARENT)):
        (tmp_path / f"{name}.c").write_text(src)
        subprocess.run(
            [CC, "-O0", "-o", str(tmp_path / f"{name}.exe"), str(tmp_path / f"{name}.c")],
            check=True,
        )
    env = {
        **os.environ,
        "WINEDEBUG": "-all",
        "WINEPREFIX": str(tmp_path / "prefix"),
        "WINEDLLOVERRIDES": "mscoree,mshtml=",
    }
    proc = subprocess.run(
        [str(WINE), "parent.exe", "av", "cfg", "av", "exit3"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    codes = [(m[1], int(m[2])) for m in re.finditer(r"^RESULT (\w+) (-?\d+)", proc.stdout, re.M)]
    assert codes == [
        ("av", -1073741819),
        ("cfg", -1073740791),
        ("av", -1073741819),
        ("exit3", 3),
    ], (proc.stdout, proc.stderr)
    labels = [status_label(code, "windows") for _, code in codes]
    assert labels == [
        "0xC0000005 STATUS_ACCESS_VIOLATION",
        "0xC0000409 STATUS_STACK_BUFFER_OVERRUN",
        "0xC0000005 STATUS_ACCESS_VIOLATION",
        "exit 3",
    ]
    sigs = Counter(signature_for(Outcome.FAIL, code, "windows", b"") for _, code in codes)
    assert signature_summary(sigs) == (
        "3 distinct failures: 0xC0000005 STATUS_ACCESS_VIOLATION x2 · "
        "0xC0000409 STATUS_STACK_BUFFER_OVERRUN x1 · exit 3 x1"
    )
