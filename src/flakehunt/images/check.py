"""chkimg's core: open a target, find each module's image, compare the code it holds."""

from __future__ import annotations

import sys
from pathlib import Path

from flakehunt.errors import FlakehuntError, FormatError, InputError, NotFound
from flakehunt.images import report as R
from flakehunt.images.elfimage import load_elf
from flakehunt.images.engine import PAGE, diff_bytes
from flakehunt.images.image import ExpectedImage
from flakehunt.images.locate import locate
from flakehunt.images.pe import load_pe
from flakehunt.images.target import LoadedModule, Target

MAX_RANGES = 200  # differing ranges kept per module; the count is always exact


def open_target(target: str | Path | int) -> Target:
    """Open a minidump or ELF core file, or ``pid:N`` (or an int) for a live process."""
    if isinstance(target, int) or (isinstance(target, str) and target.startswith("pid:")):
        try:
            pid = target if isinstance(target, int) else int(target[4:])
        except ValueError:
            raise InputError(f"cannot read {target!r} as a process", "write pid:1234") from None
        if sys.platform == "win32":
            from flakehunt.images.winproc import open_windows_process

            return open_windows_process(pid)
        from flakehunt.images.proc import open_process

        return open_process(pid)
    path = Path(target)
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
    except FileNotFoundError:
        raise NotFound(f"{path} does not exist", "give a minidump, an ELF core or pid:N") from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    if magic == b"MDMP":
        from flakehunt.images.minidump import open_minidump

        return open_minidump(path)
    if magic == b"\x7fELF":
        from flakehunt.images.elfcore import open_core

        return open_core(path)
    raise FormatError(f"{path} is neither a Windows minidump nor an ELF core file",
                      "give a .dmp, a core file or pid:N")


def check_target(target: str | Path | int, images: list[Path] | None = None,
                 search: list[Path] | None = None) -> R.ChkimgReport:
    """Compare the code *target* holds with its images; never fill gaps from the files."""
    opened = open_target(target)
    try:
        return check_opened(opened, list(images or []), list(search or []))
    finally:
        opened.close()


def check_opened(t: Target, images: list[Path], search: list[Path]) -> R.ChkimgReport:
    """Compare an opened target (see check_target)."""
    for p in images:
        validate_image(p)
    names = {m.basename.lower() for m in t.modules}
    unnamed = [p for p in images if p.name.lower() not in names]
    target_dir = None if t.kind == "live" else Path(t.path).resolve().parent
    modules = []
    for m in t.modules:
        if m.format == "elf" and not any(x.executable for x in m.mappings):
            continue  # data-only mappings (locale archives, fonts): no code to compare
        modules.append(_check_module(t, m, target_dir, images, search, unnamed))
    ranges = tuple((p.start, p.size) for p in t.memory.pieces) if t.kind == "minidump" else ()
    return R.ChkimgReport(t.path, t.kind, t.arch, tuple(modules), t.exception, tuple(t.threads),
                          ranges, tuple(t.notes))


def validate_image(path: Path) -> None:
    """Check that *path* is a readable PE or ELF image; raise FormatError if not."""
    from flakehunt.images.elf import ElfFile, file_build_id
    from flakehunt.images.memory import MappedFile
    from flakehunt.images.pe import read_pe_identity

    if not path.is_file():
        raise NotFound(f"image {path} does not exist", "check --image")
    source = MappedFile(path, "image")
    try:
        magic = source.read_at(0, 4)
        if magic[:2] == b"MZ":
            load_pe(path, read_pe_identity(path).image_base)
        elif magic == b"\x7fELF":
            elf = ElfFile(source, str(path))
            elf.sections()
            file_build_id(elf)
        else:
            raise FormatError(f"image {path} is neither a PE nor an ELF file",
                              "--image takes an .exe/.dll or an ELF executable or library")
    finally:
        source.close()


def _how_to_supply(t: Target, m: LoadedModule) -> str:
    where = ("the file it was loaded from is gone or was replaced" if t.kind == "live"
             else f"the {t.kind.replace('-', ' ')}'s own directory is searched too")
    return (f"supply it with --image PATH/{m.basename}, or --search DIR for a directory "
            f"holding it ({where})")


def _check_module(t: Target, m: LoadedModule, target_dir: Path | None, images: list[Path],
                  search: list[Path], unnamed: list[Path]) -> R.ModuleReport:
    found = locate(m, t.memory, target_dir, images, search, unnamed)
    if found.path is None:
        return R.ModuleReport(m.name, m.base, m.size, R.MISSING,
                              f"image {m.basename} not found ({found.wanted})",
                              _how_to_supply(t, m))
    if not found.matches:
        return R.ModuleReport(
            m.name, m.base, m.size, R.DIFFERENT_BUILD,
            f"different build: {found.path} has {found.found}, the target loaded {found.wanted}",
            "supply the exact build with --image or --search", image=str(found.path),
            identity=found.found)
    try:
        image = load_pe(found.path, m.base) if m.format == "pe" else load_elf(found.path, m)
    except FlakehuntError as exc:
        return R.ModuleReport(m.name, m.base, m.size, R.UNREADABLE, str(exc),
                              image=str(found.path))
    result = compare_image(t, m, image)
    if found.note:
        result = _with(result, skipped=(*result.skipped, found.note))
    return result


def _with(r: R.ModuleReport, **changes: object) -> R.ModuleReport:
    from dataclasses import replace

    return replace(r, **changes)  # type: ignore[arg-type]


def compare_image(t: Target, m: LoadedModule, image: ExpectedImage) -> R.ModuleReport:
    """Diff every code range of *image* against the memory *t* holds."""
    stats: dict[str, list[int]] = {}
    ranges: list[R.DiffRange] = []
    range_count = 0
    verdicts: dict[int, str] = {}
    for cr in image.ranges:
        st = stats.setdefault(cr.section, [0, 0, 0, 0])
        st[0] += len(cr.expected)
        for page in range(cr.start - cr.start % PAGE, cr.end, PAGE):
            verdicts.setdefault(page, R.NOT_CAPTURED_PAGE)
        for addr, actual in t.memory.read(cr.start, cr.end):
            off = addr - cr.start
            expected = cr.expected[off : off + len(actual)]
            d = diff_bytes(expected, actual, addr)
            st[1] += len(actual)
            st[2] += d.differing
            st[3] += d.zero_differing
            for page in range(addr - addr % PAGE, addr + len(actual), PAGE):
                if verdicts.get(page) == R.NOT_CAPTURED_PAGE:
                    verdicts[page] = R.MATCH
            for page, zero in d.pages.items():
                old = verdicts.get(page)
                new = R.ZERO_FILLED if zero else R.DIFFERS
                verdicts[page] = R.DIFFERS if old == R.DIFFERS else new
            for s, e in d.runs:
                range_count += 1
                if len(ranges) < MAX_RANGES:
                    k = min(e - s, R.DETAIL_BYTES)
                    exp = cr.expected[s - cr.start : e - cr.start]
                    act = actual[s - addr : e - addr]
                    ranges.append(R.DiffRange(s, e, cr.section, s - cr.section_start,
                                              exp[:k], act[:k], _count_differing(exp, act)))
    sections = tuple(R.SectionStat(n, *v) for n, v in stats.items())
    compared = sum(s.compared for s in sections)
    status, message, hint = R.COMPARED, "", ""
    if not image.ranges:
        message = "the image has no code section that the rules compare"
    elif compared == 0:
        status = R.NOT_CAPTURED
        kind = t.kind.replace("-", " ")
        message = f"code not captured: the {kind} holds none of {m.basename}'s code"
        hint = _not_captured_hint(t)
    return R.ModuleReport(m.name, m.base, m.size, status, message, hint, image.path,
                          image.identity, sections, tuple(ranges), range_count,
                          _runs(verdicts), tuple(image.skipped))


def _count_differing(a: bytes, b: bytes) -> int:
    import numpy as np

    return int(np.count_nonzero(np.frombuffer(a, np.uint8) != np.frombuffer(b, np.uint8)))


def _not_captured_hint(t: Target) -> str:
    if t.kind == "elf-core":
        return ("the core was written with a coredump_filter without file-backed private "
                "mappings (the default 0x33); write 0x37 to /proc/PID/coredump_filter "
                "(with the 0x prefix) before the crash")
    if t.kind == "minidump":
        return "write the dump with MiniDumpWithCodeSegs or a full-memory dump"
    return "the process's code pages could not be read"


def _runs(verdicts: dict[int, str]) -> tuple[R.PageRun, ...]:
    out: list[R.PageRun] = []
    for page in sorted(verdicts):
        v = verdicts[page]
        if out and out[-1].verdict == v and out[-1].end == page:
            out[-1] = R.PageRun(out[-1].start, page + PAGE, v)
        else:
            out.append(R.PageRun(page, page + PAGE, v))
    return tuple(out)
