"""Read JUnit XML files that a run writes, and name the tests that failed.

Handles the shapes real tools write: pytest ``--junitxml`` (testsuite name
"pytest", dotted module classnames), Gradle and Maven (one file per class,
Maven's ``flakyFailure``), go-junit-report (classname = package), Bazel's
test.xml (a testcase named after the target, no classname), nested suites.
Parsing uses expat with document type declarations refused, so a hostile or
broken file cannot expand entities; every parse problem becomes FormatError.
"""

from __future__ import annotations

import re
import xml.parsers.expat
from dataclasses import dataclass, field
from pathlib import Path

from flakehunt.errors import FlakehuntError, FormatError, NotFound

FAILED_TAGS = frozenset({"failure", "error"})
FLAKY_TAGS = frozenset({"flakyFailure", "flakyError", "rerunFailure", "rerunError"})
_CLASS_PART = re.compile(r"^[A-Z]")


@dataclass(frozen=True)
class FailedTest:
    """One failing test: its id, how it failed, and the runner's message."""

    id: str
    kind: str  # "failure" | "error" | "flaky" (failed, then passed on a rerun)
    message: str = ""


@dataclass(frozen=True)
class JUnitReport:
    """What a JUnit file says: how many tests ran and which failed."""

    tests: int = 0
    failures: tuple[FailedTest, ...] = field(default_factory=tuple)

    @property
    def failing_ids(self) -> tuple[str, ...]:
        """Return the ids of tests that failed (not the flaky-then-passed ones)."""
        seen: dict[str, None] = {}
        for f in self.failures:
            if f.kind != "flaky":
                seen.setdefault(f.id)
        return tuple(seen)


def case_id(classname: str, name: str, file: str = "", pytest: bool = False) -> str:
    """Return the id people use for a test: ``tests/test_x.py::test_y`` or ``Class.name``."""
    if not classname:
        return name
    if pytest:
        parts = classname.split(".")
        if file:
            classes = [p for p in parts if _CLASS_PART.match(p)]
            return "::".join([file.replace("\\", "/"), *classes, name])
        # pytest's classname is the module path in dots, then any classes.
        split = next((i for i, p in enumerate(parts) if _CLASS_PART.match(p)), len(parts))
        module = "/".join(parts[:split]) + ".py"
        return "::".join([module, *parts[split:], name])
    return f"{classname}.{name}"


class _Reader:
    """Collect test cases and their failures from expat events."""

    def __init__(self) -> None:
        self.suites: list[str] = []
        self.tests = 0
        self.failures: list[FailedTest] = []
        self.case: tuple[str, str, str] | None = None
        self.current = ""
        self.failed_kinds: list[tuple[str, str]] = []

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if tag == "testsuite":
            self.suites.append(attrs.get("name", ""))
        elif tag == "testcase":
            self.tests += 1
            pytest = bool(self.suites) and self.suites[0] == "pytest"
            self.current = case_id(
                attrs.get("classname", ""), attrs.get("name", ""), attrs.get("file", ""), pytest
            )
            self.failed_kinds = []
        elif self.current and (tag in FAILED_TAGS or tag in FLAKY_TAGS):
            kind = "flaky" if tag in FLAKY_TAGS else tag
            message = attrs.get("message", "") or attrs.get("type", "")
            self.failed_kinds.append((kind, message.strip().splitlines()[0] if message else ""))

    def end(self, tag: str) -> None:
        if tag == "testsuite" and self.suites:
            self.suites.pop()
        elif tag == "testcase":
            for kind, message in self.failed_kinds:
                self.failures.append(FailedTest(self.current, kind, message))
            self.current = ""
            self.failed_kinds = []


def _refuse_doctype(*_args: object) -> None:
    raise FormatError("JUnit file has a document type declaration", "JUnit files never need one")


def parse_junit(data: bytes, source: str = "<junit>") -> JUnitReport:
    """Parse JUnit XML *data*; raise FormatError if it is not well-formed JUnit."""
    reader = _Reader()
    parser = xml.parsers.expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.EntityDeclHandler = _refuse_doctype
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as exc:
        raise FormatError(
            f"{source} is not well-formed XML: {exc}",
            "was the file still being written, or cut short by a crash?",
        ) from exc
    return JUnitReport(reader.tests, tuple(reader.failures))


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        # Gradle writes TEST-*.xml per class; Bazel writes **/test.xml.
        return sorted(p for p in path.rglob("*.xml") if p.is_file())
    return [path]


def read_junit(path: str | Path) -> JUnitReport:
    """Read a JUnit file, or every ``*.xml`` under a directory, into one report."""
    p = Path(path)
    if not p.exists():
        raise NotFound(f"no JUnit file at {p}", "did the run write it? check --junit PATH")
    tests = 0
    failures: list[FailedTest] = []
    for f in _files(p):
        try:
            data = f.read_bytes()
        except OSError as exc:
            raise FormatError(f"cannot read {f}: {exc.strerror}", "check its permissions") from exc
        report = parse_junit(data, str(f))
        tests += report.tests
        failures.extend(report.failures)
    return JUnitReport(tests, tuple(failures))


def failing_tests(path: str | Path) -> tuple[str, ...]:
    """Return the ids of the tests that failed according to the JUnit file(s) at *path*."""
    return read_junit(path).failing_ids


def failures_for_run(path: str | Path, started: float | None = None) -> tuple[tuple[str, ...], str]:
    """Return (failing test ids, problem) for one run; never raises.

    *started* is the run's start (epoch seconds): a file older than that was
    left by an earlier run (this one crashed before writing its own), so its
    tests are not blamed on this run. ``problem`` is "" when the file was read.
    """
    p = Path(path)
    try:
        if started is not None and p.is_file() and p.stat().st_mtime < started - 1.0:
            return (), f"{p} is older than the run (not rewritten by it)"
        return read_junit(p).failing_ids, ""
    except FlakehuntError as exc:
        return (), str(exc)
    except OSError as exc:
        return (), f"cannot read {p}: {exc.strerror}"
