"""A failed repetition's signature: exception type, normalised message, test frame.

Two repetitions fail "the same way" when the same exception type is raised
with the same message once numbers, addresses and ids are masked
(``triage.fingerprint.normalize``), reached through the same line of the test
file. The test frame rather than the raising frame: a flaky assertion inside a
helper shared by many tests is one signature per calling line of each test.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from types import TracebackType

ID_VERSION = "pytest-v1"  # bump when the parts or their normalisation change
ID_LENGTH = 10
SEP = " · "


@dataclass(frozen=True)
class RepFailure:
    """What a failed phase of a repetition tells about its cause."""

    phase: str  # setup, call or teardown
    exc_type: str
    message: str
    frame: str  # "path:line" of the deepest traceback entry in the test's own file


def test_frame(tb: TracebackType | None, test_file: str, rootdir: str) -> str:
    """Return "relpath:line" of the deepest frame in *test_file* (else the deepest frame)."""
    deepest: tuple[str, int] | None = None
    in_test: tuple[str, int] | None = None
    want = os.path.realpath(test_file)
    while tb is not None:
        path = tb.tb_frame.f_code.co_filename
        deepest = (path, tb.tb_lineno)
        if os.path.realpath(path) == want:
            in_test = deepest
        tb = tb.tb_next
    chosen = in_test or deepest
    if chosen is None:
        return ""
    path, line = chosen
    try:
        rel = os.path.relpath(path, rootdir)
    except ValueError:  # another drive on Windows
        rel = path
    if rel.startswith(".."):
        rel = path
    return f"{rel.replace(os.sep, '/')}:{line}"


def failure_of(
    phase: str, exc: BaseException, tb: TracebackType | None, test_file: str, rootdir: str
) -> RepFailure:
    """Describe one failed phase from its exception."""
    lines = str(exc).strip().splitlines()
    return RepFailure(phase, type(exc).__qualname__, lines[0] if lines else "",
                       test_frame(tb, test_file, rootdir))


def signature_of(f: RepFailure) -> tuple[str, str]:
    """Return (id, title) of a failure: equal for failures that differ only in numbers."""
    from flakehunt.triage.fingerprint import normalize

    message = normalize(f.message)
    kind = "fail" if f.phase == "call" else f"error in {f.phase}"
    key = "\x1f".join([ID_VERSION, kind, f.exc_type, message, f.frame])
    sid = hashlib.sha256(key.encode("utf-8")).hexdigest()[:ID_LENGTH]
    head = f.exc_type + (f": {message}" if message else "")
    if kind != "fail":
        head = f"{kind}: {head}"
    title = SEP.join(p for p in (head, f.frame) if p)
    return sid, title if len(title) <= 160 else title[:159] + "…"


def crash_signature() -> tuple[str, str]:
    """Return the signature of a repetition whose xdist worker died under it."""
    key = "\x1f".join([ID_VERSION, "crash"])
    sid = hashlib.sha256(key.encode("utf-8")).hexdigest()[:ID_LENGTH]
    return sid, "worker crashed (the process died while running the test)"
