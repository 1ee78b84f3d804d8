"""The result of chkimg: per-module verdicts, differing ranges and page verdicts."""

from __future__ import annotations

from dataclasses import dataclass, field

from flakehunt.images.target import ExceptionInfo, ThreadInfo
from flakehunt.status import ExitStatus

# Module statuses.
COMPARED = "compared"
MISSING = "missing"  # no image file found
DIFFERENT_BUILD = "different-build"  # a file of that name, but another build
NOT_CAPTURED = "not-captured"  # image found, but the target holds none of its code
UNREADABLE = "unreadable"  # the image file is corrupt

# Page verdicts.
MATCH, DIFFERS, ZERO_FILLED, NOT_CAPTURED_PAGE = "match", "differs", "zero-filled", "not captured"

DETAIL_BYTES = 16  # bytes of [expected:actual] kept per range


@dataclass(frozen=True)
class DiffRange:
    """A run of differing bytes at [start, end)."""

    start: int
    end: int
    section: str
    section_offset: int
    expected: bytes  # the first DETAIL_BYTES
    actual: bytes
    differing: int  # bytes in [start, end) that differ (ranges merge across small gaps)

    @property
    def size(self) -> int:
        """Number of differing bytes."""
        return self.end - self.start


@dataclass(frozen=True)
class PageRun:
    """Consecutive pages [start, end) with one verdict."""

    start: int
    end: int
    verdict: str


@dataclass(frozen=True)
class SectionStat:
    """How much of one section was compared and how much differed."""

    name: str
    size: int
    compared: int
    differing: int
    zero_differing: int


@dataclass(frozen=True)
class ModuleReport:
    """chkimg's verdict on one module."""

    name: str
    base: int
    size: int
    status: str
    message: str = ""
    hint: str = ""
    image: str | None = None
    identity: str = ""  # the image's identity, as compared
    sections: tuple[SectionStat, ...] = ()
    ranges: tuple[DiffRange, ...] = ()
    range_count: int = 0  # may exceed len(ranges): only the first are kept
    pages: tuple[PageRun, ...] = ()
    skipped: tuple[str, ...] = ()

    @property
    def basename(self) -> str:
        """The module's file name."""
        return self.name.replace("\\", "/").rsplit("/", 1)[-1]

    @property
    def code_bytes(self) -> int:
        """Bytes of code the rules select for comparison."""
        return sum(s.size for s in self.sections)

    @property
    def compared(self) -> int:
        """Bytes of code the target held and chkimg compared."""
        return sum(s.compared for s in self.sections)

    @property
    def differing(self) -> int:
        """Bytes that differ from the image."""
        return sum(s.differing for s in self.sections)

    @property
    def zero_differing(self) -> int:
        """Differing bytes that read as zero."""
        return sum(s.zero_differing for s in self.sections)

    @property
    def zero_filled(self) -> bool:
        """True when there are differences and every differing byte reads zero."""
        return self.differing > 0 and self.zero_differing == self.differing


@dataclass(frozen=True)
class ChkimgReport:
    """chkimg's verdict on one target (dump, core or live process)."""

    target: str
    kind: str
    arch: str
    modules: tuple[ModuleReport, ...]
    exception: ExceptionInfo | None = None
    threads: tuple[ThreadInfo, ...] = ()
    memory_ranges: tuple[tuple[int, int], ...] = ()  # (start, size) held, for dumps
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def compared(self) -> int:
        """Code bytes compared over all modules."""
        return sum(m.compared for m in self.modules)

    @property
    def differing(self) -> int:
        """Differing bytes over all modules."""
        return sum(m.differing for m in self.modules)

    def exit_status(self) -> ExitStatus:
        """0: compared, no differences; 1: differences; 2: nothing could be compared."""
        if self.differing:
            return ExitStatus.FAILURES
        if self.compared == 0:
            return ExitStatus.USAGE
        return ExitStatus.OK
