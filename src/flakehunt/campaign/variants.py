"""Turn what the user wrote (-V, -P, -e, a campaign file) into variants.

* ``-V NAME=COMMAND``: a variant running COMMAND through the shell.
* ``-V NAME``: a variant running the shared command given after ``--``.
* ``-P NAME v1,v2,...`` with ``-- cmd {NAME}``: one variant per value
  (hyperfine's parameter scan), named ``NAME=v``.
* ``-e NAME:KEY=VALUE``: environment for variant NAME (variants that differ
  only by environment: ``-V plain -V checked -e checked:MALLOC_CHECK_=3 -- ./t``).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from flakehunt.campaign.spec import Variant
from flakehunt.errors import InputError, UsageError

_NAME = re.compile(r"^[A-Za-z0-9_.+=-]+$")  # "=" for -P names such as threads=4


def _check_name(name: str) -> str:
    if not _NAME.match(name):
        raise InputError(f"variant name {name!r} is not usable",
                         "use letters, digits, '_', '-', '.', '+'")
    return name


def parse_env(items: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
    """Parse ``NAME:KEY=VALUE`` items into variant -> [(KEY, VALUE)]."""
    out: dict[str, list[tuple[str, str]]] = {}
    for item in items:
        name, sep, assignment = item.partition(":")
        key, eq, value = assignment.partition("=")
        if not sep or not eq or not key:
            raise InputError(f"cannot read -e {item!r}", "write -e VARIANT:KEY=VALUE")
        out.setdefault(_check_name(name), []).append((key, value))
    return out


def build_variants(
    specs: Sequence[str],
    params: Sequence[tuple[str, str]],
    shared: tuple[str, ...],
    env: Sequence[str],
    shell_argv: Callable[[str], tuple[str, ...]],
) -> tuple[Variant, ...]:
    """Return the variants described by -V/-P/-e and the shared command."""
    envs = parse_env(env)
    variants: list[Variant] = []
    for spec in specs:
        name, eq, command = spec.partition("=")
        _check_name(name)
        if eq:
            if not command.strip():
                raise InputError(f"variant {name!r} has an empty command",
                                 "write -V NAME='COMMAND'")
            argv = shell_argv(command)
        elif shared:
            argv = shared
        else:
            raise UsageError(f"variant {name!r} has no command",
                             f"write -V {name}='COMMAND', or give a shared command after --")
        variants.append(Variant(name, argv, tuple(envs.get(name, ()))))
    for pname, values in params:
        if not shared:
            raise UsageError(f"-P {pname} needs a command after -- that uses {{{pname}}}",
                             f"e.g. -P {pname} 1,2,4 -- ./test --threads {{{pname}}}")
        if not any(f"{{{pname}}}" in a for a in shared):
            raise UsageError(f"the command does not use {{{pname}}}",
                             f"put {{{pname}}} where the value goes")
        for value in [v for v in values.split(",") if v != ""]:
            name = _check_name(f"{pname}={value}")
            argv = tuple(a.replace(f"{{{pname}}}", value) for a in shared)
            variants.append(Variant(name, argv, tuple(envs.get(name, ()))))
    names = [v.name for v in variants]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise UsageError(f"variant {dupes[0]!r} is given twice", "give each variant once")
    unknown = sorted(set(envs) - set(names))
    if unknown:
        raise UsageError(f"-e names variant {unknown[0]!r}, which is not defined",
                         "define it with -V first")
    if len(variants) < 2:
        raise UsageError("an experiment needs at least two variants",
                         "e.g. -V normal='make' -V flushed='make && sync'")
    return tuple(variants)


def load_campaign_file(path: Path | None) -> dict[str, Any]:
    """Read ``[compare]`` from flakehunt.toml or ``[tool.flakehunt.compare]`` in pyproject.toml."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    candidates = [path] if path is not None else [Path("flakehunt.toml"), Path("pyproject.toml")]
    for p in candidates:
        if p is None or not p.exists():
            if path is not None:
                raise InputError(f"no campaign file {path}", "give an existing flakehunt.toml")
            continue
        try:
            data = tomllib.loads(p.read_text())
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise InputError(f"cannot read {p}: {exc}", "fix the TOML syntax") from exc
        if p.name == "pyproject.toml":
            data = data.get("tool", {}).get("flakehunt", {})
        section = data.get("compare")
        if section is not None:
            if not isinstance(section, dict):
                raise InputError(f"[compare] in {p} is not a table", "see docs/compare.md")
            return section
    return {}


def variants_from_file(section: dict[str, Any],
                       shell_argv: Callable[[str], tuple[str, ...]]) -> tuple[Variant, ...]:
    """Return the variants of a campaign file's ``[[compare.variants]]`` array."""
    out = []
    for i, item in enumerate(section.get("variants", [])):
        if not isinstance(item, dict) or "name" not in item or "command" not in item:
            raise InputError(f"variant {i + 1} in the campaign file needs name and command",
                             'write [[compare.variants]] name = "x" command = "..."')
        env = item.get("env", {})
        if not isinstance(env, dict):
            raise InputError(f"env of variant {item['name']!r} is not a table",
                             'write env = { KEY = "value" }')
        command = item["command"]
        argv = tuple(command) if isinstance(command, list) else shell_argv(str(command))
        out.append(Variant(_check_name(str(item["name"])), argv,
                           tuple((str(k), str(v)) for k, v in env.items())))
    return tuple(out)
