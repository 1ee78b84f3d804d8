"""The minidump reader on a real Windows dump and on Wine-written fixtures."""

from __future__ import annotations

import logging

from chkimg_paths import NORETURN, X64, needs_noreturn

from flakehunt.images.minidump import open_minidump

FIXTURES = X64


@needs_noreturn
def test_noreturn_modules_exception_threads_and_memory() -> None:
    t = open_minidump(NORETURN)
    assert t.arch == "x86"
    names = [m.basename for m in t.modules]
    assert names == ["noreturn.exe", "ntdll.dll", "kernel32.dll", "KERNELBASE.dll"]
    exe = t.modules[0]
    assert exe.base == 0x6F0000 and exe.size == 0x6C000
    assert t.exception is not None
    assert t.exception.code == 0x80000003 and t.exception.address == 0x6F6BC3
    assert t.exception.name == "EXCEPTION_BREAKPOINT"
    thread = next(th for th in t.threads if th.thread_id == t.exception.thread_id)
    assert thread.ip == t.exception.address  # EIP in the context is the breakpoint
    ranges = {(p.start, p.size) for p in t.memory.pieces}
    assert (0x6F6B43, 0x100) in ranges  # the code bytes: IP - 0x80 .. IP + 0x80
    assert thread.stack_start is not None and (thread.stack_start, 0x4EC) in ranges
    code = t.memory.read(0x6F6B43, 0x6F6C43)
    assert [(a, len(d)) for a, d in code] == [(0x6F6B43, 256)]
    assert t.memory.read(0x6F0000, 0x6F6B43) == []  # nothing invented outside the dump


@needs_noreturn
def test_noreturn_agrees_with_the_minidump_package() -> None:
    from minidump.minidumpfile import MinidumpFile

    logging.disable(logging.CRITICAL)  # the package logs a PEB traceback for this dump
    try:
        theirs = MinidumpFile.parse(str(NORETURN))
    finally:
        logging.disable(logging.NOTSET)
    ours = open_minidump(NORETURN)
    assert [(m.name, m.baseaddress, m.size, m.timestamp) for m in theirs.modules.modules] == [
        (m.name, m.base, m.size, m.pe_timestamp) for m in ours.modules]
    assert sorted((s.start_virtual_address, s.size)
                  for s in theirs.memory_segments.memory_segments) == sorted(
        (p.start, p.size) for p in ours.memory.pieces)


def test_wine_dump_holds_both_modules_relocated_dll() -> None:
    t = open_minidump(FIXTURES / "clean.dmp")
    assert t.arch == "x86-64"
    by_name = {m.basename: m for m in t.modules}
    exe, dll = by_name["chkimg_victim.exe"], by_name["chkimg_victim_dll.dll"]
    assert exe.base == 0x140000000
    assert dll.base != 0x140000000  # the loader had to rebase it
    text = t.memory.read(dll.base + 0x1000, dll.base + 0x2000)
    assert [(a, len(d)) for a, d in text] == [(dll.base + 0x1000, 0x1000)]
