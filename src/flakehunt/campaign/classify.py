"""Decide what a finished attempt means: pass, fail, timeout, ignored, ..."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from flakehunt.campaign.model import AttemptResult, Outcome

TAIL_BYTES = 64 * 1024
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Rules:
    """The user's failure definition, compiled."""

    expect_exit: frozenset[int] = frozenset({0})
    fail_regex: re.Pattern[bytes] | None = None
    ignore_regex: re.Pattern[bytes] | None = None

    @property
    def reads_output(self) -> bool:
        """Whether classification needs to scan the run's output."""
        return self.fail_regex is not None or self.ignore_regex is not None


def compile_regex(text: str | None) -> re.Pattern[bytes] | None:
    """Compile a user regex for line-wise matching over raw output bytes."""
    if text is None:
        return None
    return re.compile(text.encode(), re.MULTILINE)


def _lines_chunks(path: str) -> Iterator[bytes]:
    """Yield the file in ~1 MiB pieces that end at line boundaries.

    A whole log can be gigabytes; reading it in line-aligned chunks keeps our
    memory flat while a regex still sees every line whole.
    """
    with open(path, "rb") as fh:
        carry = b""
        while True:
            block = fh.read(_CHUNK)
            if not block:
                if carry:
                    yield carry
                return
            data = carry + block
            cut = data.rfind(b"\n")
            if cut < 0 and len(data) < 16 * _CHUNK:
                carry = data
                continue
            if cut < 0:
                cut = len(data) - 1  # an absurdly long line: split it
            yield data[: cut + 1]
            carry = data[cut + 1 :]


def output_matches(path: str, pattern: re.Pattern[bytes]) -> bool:
    """Return whether any line of the log at *path* matches *pattern*."""
    try:
        return any(pattern.search(chunk) for chunk in _lines_chunks(path))
    except OSError:
        return False


def read_tail(path: str, limit: int = TAIL_BYTES) -> bytes:
    """Return the last *limit* bytes of the log at *path* (empty if unreadable)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - limit))
            return fh.read()
    except OSError:
        return b""


def classify(result: AttemptResult, rules: Rules, log_path: str | None) -> Outcome:
    """Return the outcome of *result* under *rules* (reads the log only if needed)."""
    if result.start_error is not None:
        return Outcome.COULD_NOT_START
    if result.interrupted:
        return Outcome.INTERRUPTED
    if result.timed_out:
        return Outcome.TIMEOUT
    code = result.returncode
    failed = code is None or code not in rules.expect_exit
    if not failed and rules.fail_regex is not None and log_path:
        failed = output_matches(log_path, rules.fail_regex)
    ignore = rules.ignore_regex
    if failed and ignore is not None and log_path and output_matches(log_path, ignore):
        return Outcome.IGNORED
    return Outcome.FAIL if failed else Outcome.PASS
