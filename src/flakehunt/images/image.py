"""What an image on disk says a module's code should be: ranges of expected bytes."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CodeRange:
    """Expected bytes at [start, start+len(expected)) inside section *section*."""

    section: str
    section_start: int  # address of the section's first byte, for section+offset
    start: int
    expected: bytes

    @property
    def end(self) -> int:
        """First address after the range."""
        return self.start + len(self.expected)


@dataclass(frozen=True)
class ExpectedImage:
    """The code of one image as it should appear at one load address."""

    path: str
    identity: str  # "TimeDateStamp 0x5e11... SizeOfImage 0x6c000" or "build-id 3fa2..."
    ranges: list[CodeRange]
    skipped: list[str] = field(default_factory=list)  # what the rules left out, and why
