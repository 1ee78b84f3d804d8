"""Find the image of a module on disk and check that it is the same build."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flakehunt.errors import FlakehuntError
from flakehunt.images.elfcore import memory_build_id
from flakehunt.images.elfimage import read_build_id
from flakehunt.images.memory import HeldMemory
from flakehunt.images.pe import read_pe_identity
from flakehunt.images.target import LoadedModule


@dataclass(frozen=True)
class Located:
    """The outcome of looking for one module's image."""

    path: Path | None
    matches: bool  # identity matches (or could not be checked: see note)
    found: str = ""  # the candidate's identity when it is a different build
    wanted: str = ""  # the module's identity as the target records it
    note: str = ""


def module_identity(module: LoadedModule, memory: HeldMemory) -> tuple[str, object]:
    """Return (description, key) of what identifies *module*'s build in the target."""
    if module.format == "pe":
        key = (module.pe_timestamp, module.size)
        return f"TimeDateStamp {module.pe_timestamp or 0:#010x} SizeOfImage {module.size:#x}", key
    bid = memory_build_id(memory, module)
    return (f"build-id {bid.hex()}" if bid else "build-id not captured"), bid


def _file_identity(module: LoadedModule, path: Path) -> tuple[str, object]:
    if module.format == "pe":
        ident = read_pe_identity(path)
        return ident.describe(), (ident.timestamp, ident.size_of_image)
    bid = read_build_id(path)
    return (f"build-id {bid.hex()}" if bid else "no build-id"), bid


def candidates(module: LoadedModule, target_dir: Path | None, images: list[Path],
               search: list[Path]) -> list[Path]:
    """List files that may be *module*'s image, best first, by name."""
    name = module.basename
    fold = module.format == "pe"  # Windows file names are case-insensitive

    def same(p: Path) -> bool:
        return p.name.lower() == name.lower() if fold else p.name == name

    out = [p for p in images if same(p)]
    dirs = ([target_dir] if target_dir else []) + list(search)
    for d in dirs:
        try:
            out.extend(p for p in d.iterdir() if same(p) and p.is_file())
        except OSError:
            continue
    if module.format == "elf" and module.name.startswith("/"):
        out.append(Path(module.name))
    seen: set[Path] = set()
    unique = []
    for p in out:
        if p not in seen and p.is_file():
            seen.add(p)
            unique.append(p)
    return unique


def locate(module: LoadedModule, memory: HeldMemory, target_dir: Path | None,
           images: list[Path], search: list[Path], unnamed: list[Path]) -> Located:
    """Pick *module*'s image: the first candidate of the same build.

    *unnamed* are --image files whose names match no module: they are tried by
    identity, so a kept build output may carry another name.
    """
    wanted, key = module_identity(module, memory)
    first_other: tuple[Path, str] | None = None
    for path in candidates(module, target_dir, images, search) + unnamed:
        try:
            found, fkey = _file_identity(module, path)
        except FlakehuntError:
            continue
        if key is None:
            if path in unnamed:
                continue
            return Located(path, True, found, wanted,
                           "identity not verified: the target does not hold the build-id")
        if fkey == key:
            return Located(path, True, found, wanted)
        if first_other is None and path not in unnamed:
            first_other = (path, found)
    if first_other is not None:
        return Located(first_other[0], False, first_other[1], wanted)
    return Located(None, False, "", wanted)
