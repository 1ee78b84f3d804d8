"""``--keep GLOB`` and ``--hash GLOB``: files of a run, confined to its working directory.

Globs are relative to the run's working directory. ``*`` and ``?`` never cross
``/``; ``**`` as a whole component matches any number of directories. Matching
walks the tree without following directory links, and a matched file whose
real path leaves the working directory is skipped: a build cannot make
flakehunt copy ``/etc/shadow`` by planting a link.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from flakehunt.errors import UsageError
from flakehunt.evidence.budget import EvidenceBudget

_HINT = "write a path relative to the run's working directory, e.g. 'build/*.exe' or '**/*.log'"


@dataclass(frozen=True)
class FileGlob:
    """One validated glob: its text, its compiled regex and its literal directory prefix."""

    text: str
    regex: re.Pattern[str]
    prefix: str  # directories before the first wildcard ("" for the top): where to walk


@dataclass(frozen=True)
class FileHash:
    """A file's path relative to the working directory, its size and sha256."""

    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class KeptFile:
    """A matched file and what happened to it: kept (linked or copied) or why not."""

    path: str
    size: int
    sha256: str | None
    kept_as: str | None  # absolute path in the evidence directory, None if not kept
    how: str  # "link", "copy" or "skipped"
    reason: str = ""


def _component_regex(part: str, glob: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(part):
        c = part[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = i + 1
            j += part[j : j + 1] == "!"
            j += part[j : j + 1] == "]"  # a leading ']' is a literal member, as in fnmatch
            end = part.find("]", j)
            if end < 0:
                raise UsageError(f"bad glob {glob!r}: '[' without a closing ']'", _HINT)
            body = part[i + 1 : end]
            neg = body.startswith("!")
            body = body[1:] if neg else body
            body = body.replace("\\", "\\\\").replace("^", "\\^").replace("[", "\\[")
            out.append(f"[{'^/' if neg else ''}{body}]")
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def compile_glob(text: str) -> FileGlob:
    """Validate *text* and compile it; raise UsageError for globs that escape or cannot match."""
    if not text or not text.strip():
        raise UsageError("empty glob", _HINT)
    if "\0" in text:
        raise UsageError(f"bad glob {text!r}: contains a NUL byte", _HINT)
    norm = text.replace("\\", "/") if os.sep == "\\" else text
    if norm.startswith("/") or re.match(r"^[A-Za-z]:", norm):
        raise UsageError(f"bad glob {text!r}: absolute paths are not allowed", _HINT)
    parts = [p for p in norm.split("/") if p not in ("", ".")]
    if not parts:
        raise UsageError(f"bad glob {text!r}: matches no file", _HINT)
    if ".." in parts:
        raise UsageError(f"bad glob {text!r}: '..' would leave the working directory", _HINT)
    if parts[-1] == "**":
        parts.append("*")  # 'dir/**' means every file below dir
    pieces: list[str] = []
    prefix: list[str] = []
    literal = True
    for idx, part in enumerate(parts):
        last = idx == len(parts) - 1
        if part == "**":
            literal = False
            pieces.append("(?:[^/]+/)*")
            continue
        if "**" in part:
            raise UsageError(f"bad glob {text!r}: '**' must be a whole path component", _HINT)
        if literal and not last and not any(ch in part for ch in "*?["):
            prefix.append(part)
        else:
            literal = False
        pieces.append(_component_regex(part, text) + ("" if last else "/"))
    return FileGlob(text, re.compile("".join(pieces) + r"\Z"), "/".join(prefix))


def compile_globs(texts: Iterable[str]) -> list[FileGlob]:
    """Compile every glob, failing on the first bad one."""
    return [compile_glob(t) for t in texts]


def _inside(root_real: str, path: str) -> bool:
    real = os.path.realpath(path)
    return real == root_real or real.startswith(root_real.rstrip(os.sep) + os.sep)


def match_files(cwd: str, globs: Sequence[FileGlob]) -> list[str]:
    """Return sorted relative paths of regular files under *cwd* matching any glob."""
    root_real = os.path.realpath(cwd)
    found: set[str] = set()
    for g in globs:
        top = os.path.join(cwd, g.prefix) if g.prefix else cwd
        if not os.path.isdir(top) or not _inside(root_real, top):
            continue
        # os.walk(followlinks=False): linked directories are listed but not entered.
        for dirpath, _dirs, files in os.walk(top, followlinks=False):
            rel_dir = os.path.relpath(dirpath, cwd).replace(os.sep, "/")
            for name in files:
                rel = name if rel_dir == "." else f"{rel_dir}/{name}"
                if rel in found or not g.regex.match(rel):
                    continue
                full = os.path.join(cwd, rel)
                try:
                    if not stat.S_ISREG(os.stat(full).st_mode):
                        continue
                except OSError:
                    continue
                if _inside(root_real, full):
                    found.add(rel)
    return sorted(found)


def sha256_file(path: str) -> tuple[int, str]:
    """Return (size, sha256 hex) of the file at *path*."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return size, h.hexdigest()


def hash_files(cwd: str, globs: Sequence[FileGlob]) -> list[FileHash]:
    """Return size and sha256 of every matching file (for every run, passing ones too)."""
    out: list[FileHash] = []
    for rel in match_files(cwd, globs):
        try:
            size, digest = sha256_file(os.path.join(cwd, rel))
        except OSError:
            continue  # vanished or unreadable between the walk and the read
        out.append(FileHash(rel, size, digest))
    return out


def _place(src: str, dst: str) -> str:
    """Hard-link *src* to *dst*, or copy it when linking is impossible; say which."""
    try:
        os.link(src, dst, follow_symlinks=True)
        return "link"
    except OSError:
        shutil.copyfile(src, dst)
        return "copy"


def keep_files(
    cwd: str,
    globs: Sequence[FileGlob],
    dest_dir: str,
    budget: EvidenceBudget,
    *,
    link: bool = True,
) -> list[KeptFile]:
    """Keep the matching files under ``dest_dir/files/`` within *budget*; report each.

    A hard link shares the inode: a build that rewrites the file in place would
    change the evidence too, so pass ``link=False`` to force copies (linkers and
    most build tools replace outputs, which leaves a link intact).
    """
    out: list[KeptFile] = []
    for rel in match_files(cwd, globs):
        src = os.path.join(cwd, rel)
        try:
            size, digest = sha256_file(src)
        except OSError as exc:
            out.append(KeptFile(rel, 0, None, None, "skipped", f"unreadable: {exc.strerror}"))
            continue
        if not budget.try_reserve(size):
            out.append(KeptFile(rel, size, digest, None, "skipped", budget.refusal_reason(size)))
            continue
        dst = os.path.join(dest_dir, "files", *rel.split("/"))
        try:
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            if link:
                how = _place(src, dst)
            else:
                shutil.copyfile(src, dst)
                how = "copy"
        except OSError as exc:  # a full disk must not end the campaign: say so, go on
            budget.release(size)
            out.append(KeptFile(rel, size, digest, None, "skipped",
                                f"cannot keep it in {dest_dir}: {exc.strerror}"))
            continue
        out.append(KeptFile(rel, size, digest, dst, how))
    return out
