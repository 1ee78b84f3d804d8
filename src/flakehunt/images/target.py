"""What every reader produces: the modules a target loaded and the memory it holds."""

from __future__ import annotations

from dataclasses import dataclass, field

from flakehunt.images.memory import HeldMemory


@dataclass(frozen=True)
class Mapping:
    """One file-backed mapping of an ELF module: [start, end) from *file_offset*."""

    start: int
    end: int
    file_offset: int
    executable: bool


@dataclass(frozen=True)
class LoadedModule:
    """A module (PE or ELF image) as the target recorded it."""

    name: str  # the path as recorded (C:\\...\\x.exe, /usr/lib/.../libc.so.6)
    base: int
    size: int
    format: str  # "pe" or "elf"
    pe_timestamp: int | None = None  # PE: TimeDateStamp from the module list
    mappings: tuple[Mapping, ...] = ()  # ELF: file-backed mappings of this file

    @property
    def basename(self) -> str:
        """The file name without directories (either separator)."""
        return self.name.replace("\\", "/").rsplit("/", 1)[-1]


@dataclass(frozen=True)
class ExceptionInfo:
    """The exception or signal that ended the target, as recorded."""

    code: int
    address: int | None
    thread_id: int | None
    name: str = ""


@dataclass(frozen=True)
class ThreadInfo:
    """One thread: its id, instruction and stack pointers when recorded."""

    thread_id: int
    ip: int | None = None
    sp: int | None = None
    stack_start: int | None = None
    stack_size: int = 0


@dataclass
class Target:
    """A dump, core or live process opened by a reader."""

    path: str
    kind: str  # "minidump", "elf-core", "live"
    arch: str
    modules: list[LoadedModule]
    memory: HeldMemory
    exception: ExceptionInfo | None = None
    threads: list[ThreadInfo] = field(default_factory=list)
    pid: int | None = None
    notes: list[str] = field(default_factory=list)

    def close(self) -> None:
        """Release the file or process handle behind the memory."""
        close = getattr(self.memory.source, "close", None)
        if close is not None:
            close()
