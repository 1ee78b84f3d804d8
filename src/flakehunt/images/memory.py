"""Memory a target actually holds: address ranges backed by bytes in a file."""

from __future__ import annotations

import mmap
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from flakehunt.errors import FormatError, InputError, NotFound


class ByteSource(Protocol):
    """Bytes at offsets: a dump or core file, or ``/proc/PID/mem``."""

    def read_at(self, offset: int, size: int) -> bytes:
        """Return up to *size* bytes at *offset* (fewer or none if unreadable)."""
        ...

    @property
    def length(self) -> int | None:
        """Size in bytes, or None when the source has no fixed end."""
        ...


class MappedFile:
    """A read-only file mapped into memory; slicing it copies only what is asked."""

    def __init__(self, path: Path, what: str) -> None:
        try:
            with open(path, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                self._map: mmap.mmap | bytes = (
                    mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
                )
        except FileNotFoundError:
            raise NotFound(f"{what} {path} does not exist", "check the path") from None
        except IsADirectoryError:
            raise InputError(f"{what} {path} is a directory", "give a file") from None
        except OSError as exc:
            raise InputError(f"cannot read {what} {path}: {exc.strerror}",
                             "check permissions") from None
        self.path = path
        self._size = size

    @property
    def length(self) -> int:
        """Size of the file in bytes."""
        return self._size

    def read_at(self, offset: int, size: int) -> bytes:
        """Return the bytes at [offset, offset+size), clipped to the end of the file."""
        if offset < 0 or size < 0:
            return b""
        return bytes(self._map[offset : offset + size])

    def close(self) -> None:
        """Release the mapping."""
        if isinstance(self._map, mmap.mmap):
            self._map.close()


class BytesSource:
    """An in-memory byte string as a source (tests, small fixtures)."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    @property
    def length(self) -> int:
        """Size in bytes."""
        return len(self._data)

    def read_at(self, offset: int, size: int) -> bytes:
        """Return the bytes at [offset, offset+size), clipped to the end."""
        if offset < 0 or size < 0:
            return b""
        return self._data[offset : offset + size]


@dataclass(frozen=True)
class Piece:
    """A range of target memory [start, start+size) stored at *offset* in the source."""

    start: int
    size: int
    offset: int

    @property
    def end(self) -> int:
        """First address after the piece."""
        return self.start + self.size


class HeldMemory:
    """The pieces of memory a target holds; never invents bytes it does not hold."""

    def __init__(self, pieces: list[Piece], source: ByteSource, what: str) -> None:
        length = source.length
        if length is not None:
            for p in pieces:
                if p.offset + p.size > length:
                    raise FormatError(
                        f"{what} is truncated: memory at {p.start:#x} needs bytes up to "
                        f"{p.offset + p.size:,} but the file has {length:,}",
                        "the file was cut short while being written or copied",
                    )
        self.pieces = sorted((p for p in pieces if p.size > 0), key=lambda p: p.start)
        self.source = source

    def held_bytes(self) -> int:
        """Total bytes of memory held."""
        return sum(p.size for p in self.pieces)

    def read(self, start: int, end: int) -> list[tuple[int, bytes]]:
        """Return (address, bytes) for every held part of [start, end), in order."""
        out: list[tuple[int, bytes]] = []
        cursor = start
        for p in self.pieces:
            if p.end <= cursor or p.start >= end:
                continue
            s = max(p.start, cursor)
            e = min(p.end, end)
            data = self.source.read_at(p.offset + (s - p.start), e - s)
            if data:
                if out and out[-1][0] + len(out[-1][1]) == s:
                    out[-1] = (out[-1][0], out[-1][1] + data)
                else:
                    out.append((s, data))
            cursor = max(cursor, s + len(data)) if data else max(cursor, e)
            if cursor >= end:
                break
        return out
