"""Fingerprint a failed run's output: its telling line, with the noise taken out.

``fingerprint`` finds the line that says what went wrong, using built-in
patterns for common toolchains and runners, ranked so that a crash report
beats a test runner's summary, which beats a compiler diagnostic, which beats
a generic "error" line (a program that logs "error: retrying" and then panics
is a panic). Within a rank the first matching line wins. ``normalize`` then
replaces what differs between runs of the same failure (addresses, numbers,
PIDs, temp paths, timestamps, durations, UUIDs) with placeholders, so those
runs share one signature.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

MAX_LEN = 200  # a fingerprint is a title, not a log


@dataclass(frozen=True)
class Pattern:
    """One built-in error pattern: a name for docs and tests, and its regex."""

    name: str
    regex: re.Pattern[str]


def _p(name: str, rx: str, flags: int = 0) -> Pattern:
    return Pattern(name, re.compile(rx, flags))


# Ranked, most telling first. Sources: the formats these tools print.
PATTERNS: tuple[Pattern, ...] = (
    # ==1234==ERROR: AddressSanitizer: heap-use-after-free on address 0x...
    _p("sanitizer", r"\b(?:ERROR|WARNING): (?:Address|Memory|Thread|Leak|Hardware)Sanitizer: "),
    # UBSan: file.c:3:5: runtime error: signed integer overflow
    _p("ubsan", r":\d+:\d+: runtime error: "),
    _p("go-panic", r"^(?:panic: |fatal error: (?!.*\.(?:c|h|cc|cpp):))"),
    _p("rust-panic", r"^thread '.*' panicked at "),
    _p("python-exception", r"^Traceback \(most recent call last\):"),
    _p("java-exception", r"^Exception in thread \".*\" "),
    _p("glibc-assert", r": Assertion `.*' failed\.$"),
    _p("assert", r"^Assertion failed: |\bassertion failed\b|\bAssertionError\b"),
    _p("sanitizer-summary", r"^SUMMARY: \w+Sanitizer: "),
    # What shells print for a child killed by a signal ("bash: line 1: 4242 Aborted ./x").
    _p(
        "crash",
        r"\b(?:Segmentation fault|Bus error|Illegal instruction|Floating point "
        r"exception)\b|(?:^|\d )Aborted\b|\bAborted \(core dumped\)",
    ),
    _p("pytest-failed", r"^(?:FAILED|ERROR) \S+::\S+"),
    _p("go-test-fail", r"^\s*--- FAIL: \S+"),
    _p("cargo-test-fail", r"^test \S+ \.\.\. FAILED$"),
    _p("test-failed", r"\bFAILED\b|\bFAIL\b|\*\*\*Failed\b"),
    _p(
        "compiler-error",
        r"^\S+?:\d+(?::\d+)?: (?:fatal )?error: "
        r"|\berror(?:\[E\d{4}\]| [A-Z]+\d+)?: |\berror (?:C|CS|LNK)\d+:"
        r"|^ld(?:\.lld)?: error: |undefined reference to ",
    ),
    _p("generic-error", r"\b(?:fatal|FATAL|error|ERROR|Error)\b[:!]|^npm ERR!|^make: \*\*\* "),
    _p("exception", r"\b\w+(?:Exception|Error): "),
)

# Normalisation rules, applied in order; the order matters (durations before
# numbers, hex before words, paths before everything that might eat them).
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_SOURCE_LOC = re.compile(
    r"[\w./\\-]+\.(?:c|cc|cpp|cxx|h|hh|hpp|rs|go|py|java|kt|scala|js|ts|cs|swift|m|mm|zig|rb):\d+(?::\d+)?"
)
@functools.cache
def _known_statuses() -> frozenset[int]:
    from flakehunt.triage.ntstatus_table import NTSTATUS
    from flakehunt.triage.winerror_table import HRESULTS

    return frozenset(NTSTATUS) | frozenset(HRESULTS)


def _hex_or_status(m: re.Match[str]) -> str:
    """Mask an address, but keep a known NTSTATUS/HRESULT such as 0xC0000005.

    The story's two bugs differed only in that code; a random address almost
    never equals one of the ~2,000 named 32-bit statuses, and only values of 8
    hex digits with the severity bits of an error or warning are considered.
    """
    text = m.group(0)
    digits = text[2:]
    if len(digits) == 8 and digits[0] in "89aAbBcCdDeEfF" and int(digits, 16) in _known_statuses():
        return "0x" + digits.upper()
    return "<addr>"


_RULES: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    (
        re.compile(
            r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
        ),
        "<uuid>",
    ),
    (
        re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?"),
        "<time>",
    ),
    (re.compile(r"\b\d{4}[-/]\d{2}[-/]\d{2}\b"), "<date>"),
    (re.compile(r"\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b"), "<time>"),
    (
        re.compile(
            r"(?:[A-Za-z]:)?[\\/](?:tmp|var[\\/]tmp|var[\\/]folders|private[\\/]var[\\/]folders"
            r"|dev[\\/]shm)[\\/][^\s'\",:;)\]]*",
            re.I,
        ),
        "<tmp>",
    ),
    (
        re.compile(r"[A-Za-z]:\\Users\\[^\\\s]+\\AppData\\Local\\Temp\\[^\s'\",;)\]]*", re.I),
        "<tmp>",
    ),
    (re.compile(r"\b0[xX][0-9a-fA-F]+\b"), _hex_or_status),
    (re.compile(r"\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b"), "<hex>"),
    (re.compile(r"\b(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+\b"), "<dur>"),  # Go: 1m2.5s
    (
        re.compile(
            r"\b\d+(?:\.\d+)?\s?(?:ns|us|µs|ms|s|sec|secs|seconds?|m|min|minutes?|h|hours?)\b"
        ),
        "<dur>",
    ),
    (re.compile(r"\b(?:pid|PID|process|thread|tid|TID)([ =:#]+)\d+"), r"<pid>"),
    (re.compile(r"(?<![\w<])[-+]?\d+(?:\.\d+)?(?![\w>])"), "<n>"),
)
_SPACE = re.compile(r"\s+")


def normalize(line: str) -> str:
    """Replace what varies between runs of one failure with placeholders."""
    # Cut first: some rules are quadratic on one very long run of path characters.
    text = _ANSI.sub("", line[: MAX_LEN * 5])
    # Protect source locations (file.c:12:5): the same code fails at the same line.
    kept: list[str] = []

    def keep(m: re.Match[str]) -> str:
        kept.append(m.group(0))
        # Private-use characters: no later rule can match inside the marker.
        return f"\ue000{chr(0xE100 + len(kept) - 1)}"

    text = _SOURCE_LOC.sub(keep, text)
    for rx, repl in _RULES:
        text = rx.sub(repl, text)
    text = re.sub("\ue000(.)", lambda m: kept[ord(m.group(1)) - 0xE100], text)
    text = _SPACE.sub(" ", text).strip()
    return text[:MAX_LEN]


def _python_exception(lines: Sequence[str], start: int) -> str | None:
    """Return the exception line that ends the traceback starting at *start*."""
    for line in lines[start + 1 :]:
        if line and not line[0].isspace() and not line.startswith("Traceback"):
            return line
    return None


def _rust_message(lines: Sequence[str], i: int) -> str:
    line = lines[i]
    # Rust >= 1.73 prints the message on the line after "panicked at file:line:col:".
    if line.rstrip().endswith(":") and i + 1 < len(lines):
        return line.rstrip() + " " + lines[i + 1].strip()
    return line


# Every built-in pattern needs one of these words; lines without any are skipped
# cheaply (a 64 KiB tail costs ~1 ms instead of ~20 ms for all patterns on all lines).
# tests/unit/test_triage_fingerprint.py checks the prefilter against a full scan.
_KEYWORDS = re.compile(
    r"Sanitizer|runtime error|panic|fatal|FATAL|Traceback|Exception|ssert|SUMMARY"
    r"|Segmentation fault|Bus error|Illegal instruction|Floating point|Aborted"
    r"|FAIL|Fail|error|ERROR|Error|npm ERR|make: |undefined reference"
)


def find_line(lines: Sequence[str], prefilter: bool = True) -> tuple[str, str] | None:
    """Return (pattern name, raw line) of the most telling line, or None."""
    candidates = [
        (i, line) for i, line in enumerate(lines) if not prefilter or _KEYWORDS.search(line)
    ]
    for pattern in PATTERNS:
        search = pattern.regex.search
        if pattern.name == "python-exception":
            # Chained exceptions print several tracebacks; the last one propagated.
            for i, line in reversed(candidates):
                if search(line):
                    exc = _python_exception(lines, i)
                    if exc is not None:
                        return pattern.name, exc
            continue
        first = next((i for i, line in candidates if search(line)), None)
        if first is None:
            continue
        if pattern.name == "rust-panic":
            return pattern.name, _rust_message(lines, first)
        return pattern.name, lines[first]
    return None


def decode_tail(output_tail: bytes) -> list[str]:
    """Split an output tail into lines, tolerating any encoding and a cut first line."""
    text = output_tail.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
    return [line.rstrip() for line in _ANSI.sub("", text).split("\n")]


def as_text_pattern(rx: re.Pattern[str] | re.Pattern[bytes]) -> re.Pattern[str]:
    """Return *rx* as a str pattern (callers may compile --signature-regex as bytes)."""
    if isinstance(rx.pattern, bytes):
        return re.compile(rx.pattern.decode("utf-8", errors="replace"), rx.flags & ~re.ASCII)
    return rx  # type: ignore[return-value]


def fingerprint(
    output_tail: bytes, signature_regex: re.Pattern[str] | re.Pattern[bytes] | None = None
) -> str:
    """Return the normalised telling line of *output_tail*, or "" if none is found.

    With *signature_regex*, its first capture group (or whole match) on the
    first matching line is the fingerprint and the built-in patterns are not used.
    """
    lines = decode_tail(output_tail)
    if signature_regex is not None:
        rx = as_text_pattern(signature_regex)
        for line in lines:
            m = rx.search(line)
            if m:
                return normalize(m.group(1) if m.re.groups else m.group(0))
        return ""
    found = find_line(lines)
    return normalize(found[1]) if found else ""
