"""Fingerprints: the telling line is found, and run-to-run noise does not split a cluster."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flakehunt.triage.fingerprint import decode_tail, find_line, fingerprint, normalize

CASES = Path(__file__).parents[1] / "data" / "triage" / "same_signature.txt"


def _blocks() -> list[list[str]]:
    text = CASES.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    blocks, current = [], []
    for line in lines:
        if line == "---":
            blocks.append(current)
            current = []
        elif line:
            current.append(line)
    blocks.append(current)
    return blocks


BLOCKS = _blocks()


@pytest.mark.parametrize("block", BLOCKS, ids=[b[0][:40] for b in BLOCKS])
def test_lines_differing_only_in_noise_share_a_fingerprint(block):
    prints = {fingerprint(f"some log\n{line}\nmore log\n".encode()) for line in block}
    assert len(prints) == 1, prints
    assert prints != {""}


def test_distinct_failures_keep_distinct_fingerprints():
    prints = [fingerprint(f"{block[0]}\n".encode()) for block in BLOCKS]
    assert len(set(prints)) == len(BLOCKS), prints


# (output tail, expected fingerprint): the right line is chosen.
CHOICE = [
    ("Traceback (most recent call last):\n  File \"x.py\", line 3, in <module>\n    f()\n"
     "KeyError: 'user-17'\n", "KeyError: 'user-<n>'"),
    ("Traceback (most recent call last):\n  File \"a.py\", line 1\nOSError: disk\n\nDuring handling"
     " of the above exception, another exception occurred:\n\nTraceback (most recent call last):\n"
     "  File \"a.py\", line 4\nRuntimeError: cleanup failed\n", "RuntimeError: cleanup failed"),
    ("info: starting\nerror: retrying in 5s\npanic: send on closed channel\n\ngoroutine 7:\n",
     "panic: send on closed channel"),
    ("thread 'main' panicked at src/lib.rs:10:9:\nattempt to divide by zero\nnote: run with\n",
     "thread 'main' panicked at src/lib.rs:10:9: attempt to divide by zero"),
    ("cc -c x.c\nx.c:3:5: error: expected ';'\nmake: *** [Makefile:2: x.o] Error 1\n",
     "x.c:3:5: error: expected ';'"),
    ("E   assert 1 == 2\n=== short test summary ===\nFAILED tests/t.py::test_b - assert 1 == 2\n",
     "FAILED tests/t.py::test_b - assert <n> == <n>"),
    ("=== RUN   TestFoo\n    foo_test.go:12: got 3\n--- FAIL: TestFoo (0.00s)\nFAIL\n",
     "--- FAIL: TestFoo (<dur>)"),
    ("==99==ERROR: LeakSanitizer: detected memory leaks\nSUMMARY: AddressSanitizer: 64 byte(s)\n",
     "==<n>==ERROR: LeakSanitizer: detected memory leaks"),
    ("x.c:7:12: runtime error: signed integer overflow: 2147483647 + 1\n",
     "x.c:7:12: runtime error: signed integer overflow: <n> + <n>"),
    ("\x1b[31merror:\x1b[0m build failed at 12:01:02\n", "error: build failed at <time>"),
    ('Exception in thread "main" java.lang.IllegalStateException: closed after 17 tasks\n'
     "\tat Foo.bar(Foo.java:12)\n",
     'Exception in thread "main" java.lang.IllegalStateException: closed after <n> tasks'),
    ("fatal error: concurrent map writes\n\ngoroutine 1 [running]:\n",
     "fatal error: concurrent map writes"),
    ("x.c:(.text+0x5): undefined reference to `foo'\ncollect2: error: ld returned 1\n",
     "x.c:(.text+<addr>): undefined reference to `foo'"),
    ("Fatal Python error: Segmentation fault\n\nCurrent thread 0x00007f12 (most recent):\n",
     "Fatal Python error: Segmentation fault"),
    ("AddressSanitizer:DEADLYSIGNAL\n==77==ERROR: AddressSanitizer: SEGV on unknown address 0x0"
     " (pc 0x5581 T0)\n",
     "==<n>==ERROR: AddressSanitizer: SEGV on unknown address <addr> (pc <addr> T0)"),
    ("all good\nnothing to see\n", ""),
]


@pytest.mark.parametrize(("tail", "expected"), CHOICE, ids=[e or "none" for _, e in CHOICE])
def test_telling_line(tail, expected):
    assert fingerprint(tail.encode()) == expected


def test_signature_regex_overrides_builtin_patterns():
    tail = b"panic: boom\nSTEP build-17 FAILED with code 0x1f\n"
    rx = re.compile(r"STEP (\S+) FAILED")
    assert fingerprint(tail, rx) == "build-<n>"
    assert fingerprint(tail, re.compile(r"no such line")) == ""
    assert fingerprint(tail, re.compile(r"STEP \S+")) == "STEP build-<n>"
    assert fingerprint(tail, re.compile(rb"STEP (\S+) FAILED")) == "build-<n>"


def test_normalize_keeps_words_with_digits_and_source_lines():
    assert normalize("test_case_3 int32 sha256 E0308 at foo.py:42") == (
        "test_case_3 int32 sha256 E0308 at foo.py:42"
    )


def test_undecodable_bytes_and_crlf_do_not_break_fingerprints():
    tail = b"\xff\xfe junk\r\nerror: bad \xe9 thing 5\r\n"
    assert fingerprint(tail) == "error: bad \ufffd thing <n>"


def test_keyword_prefilter_finds_what_a_full_scan_finds():
    tails = [tail for tail, _ in CHOICE] + [line for block in BLOCKS for line in block]
    for tail in tails:
        lines = decode_tail(f"noise 1\n{tail}\nnoise 2\n".encode())
        assert find_line(lines) == find_line(lines, prefilter=False), tail
