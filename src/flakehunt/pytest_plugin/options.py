"""The plugin's command-line options and their frozen, validated form."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

REP_FIXTURE = "_flakehunt_rep"
# With only --flakehunt-duration or --flakehunt-until-fail, this many repetitions
# are generated as the upper bound: repetitions are collected items, so an
# unbounded hunt is not possible (10,000 items cost ~1 s of collection).
DEFAULT_REPETITIONS = 1000
_VARIANT_NAME = re.compile(r"^[A-Za-z0-9_.+-]+$")
_ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def add_options(parser: pytest.Parser) -> None:
    """Add the ``--flakehunt*`` options to pytest (cheap: no flakehunt import)."""
    g = parser.getgroup("flakehunt", "hunt flaky tests in-process (flakehunt)")
    g.addoption("--flakehunt", metavar="N", type=int, default=None, dest="flakehunt",
                help="run each selected test N times, record every repetition, "
                     "report failure rates and signatures")
    g.addoption("--flakehunt-until-fail", action="store_true", default=False,
                dest="flakehunt_until_fail", help="stop at the first failed repetition")
    g.addoption("--flakehunt-duration", metavar="TIME", default=None,
                dest="flakehunt_duration",
                help="stop starting repetitions after TIME (30s, 10m, 1h30m)")
    g.addoption("--flakehunt-db", metavar="PATH", default=None, dest="flakehunt_db",
                help="flakehunt database (default: $FLAKEHUNT_DB or ./.flakehunt/flakehunt.db)")
    g.addoption("--flakehunt-compare", action="store_true", default=False,
                dest="flakehunt_compare",
                help="compare environment variants (--flakehunt-variant), interleaved in "
                     "blocks of one repetition of each variant")
    # Not -V: pytest reserves lowercase short options and -V is --version.
    g.addoption("--flakehunt-variant", metavar="NAME[=KEY=VALUE]", action="append",
                default=[], dest="flakehunt_variant",
                help="a compare variant: NAME=KEY=VALUE sets KEY in os.environ for its "
                     "repetitions (repeat to set more keys); a bare NAME changes nothing. "
                     "The first variant is the baseline")
    g.addoption("--flakehunt-seed", metavar="INT", type=int, default=None,
                dest="flakehunt_seed", help="seed of the variants' order in each block")


@dataclass(frozen=True)
class HuntOptions:
    """What the user asked the plugin to do."""

    repetitions: int
    until_fail: bool
    duration: float | None
    db: Path
    compare: bool
    variants: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]
    seed: int
    args: tuple[str, ...]


def parse_variants(items: list[str]) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    """Parse ``NAME=KEY=VALUE`` / ``NAME`` items, merging repeated names in order."""
    env: dict[str, dict[str, str]] = {}
    for item in items:
        name, _, rest = item.partition("=")
        if not _VARIANT_NAME.match(name):
            raise pytest.UsageError(
                f"--flakehunt-variant {item!r}: name {name!r} may hold only letters, "
                "digits and _.+- (write NAME=KEY=VALUE)")
        keys = env.setdefault(name, {})
        if not rest:
            continue
        key, eq, value = rest.partition("=")
        if not eq or not _ENV_KEY.match(key):
            raise pytest.UsageError(
                f"--flakehunt-variant {item!r}: write NAME=KEY=VALUE, e.g. fast=MODE=fast")
        keys[key] = value
    return tuple((n, tuple(e.items())) for n, e in env.items())


def hunt_options(config: pytest.Config) -> HuntOptions | None:
    """Return the validated options, or None when no hunt was asked for."""
    get = config.getoption
    reps: int | None = get("flakehunt")
    compare = bool(get("flakehunt_compare"))
    until_fail = bool(get("flakehunt_until_fail"))
    duration_text: str | None = get("flakehunt_duration")
    variant_items: list[str] = get("flakehunt_variant") or []
    if reps is None and not (compare or until_fail or duration_text):
        if variant_items:
            raise pytest.UsageError("--flakehunt-variant needs --flakehunt-compare")
        return None
    if reps is None:
        reps = DEFAULT_REPETITIONS
    if reps < 1:
        raise pytest.UsageError(f"--flakehunt={reps}: give at least 1 repetition")
    duration = None
    if duration_text:
        from flakehunt.errors import FlakehuntError
        from flakehunt.units import parse_duration

        try:
            duration = parse_duration(duration_text)
        except FlakehuntError as exc:
            raise pytest.UsageError(f"--flakehunt-duration: {exc}") from exc
    variants = parse_variants(variant_items)
    if compare and len(variants) < 2:
        raise pytest.UsageError(
            "--flakehunt-compare needs at least two --flakehunt-variant (the first is the "
            "baseline), e.g. --flakehunt-variant base --flakehunt-variant fix=MODE=fix")
    if variants and not compare:
        raise pytest.UsageError("--flakehunt-variant needs --flakehunt-compare")
    seed = get("flakehunt_seed")
    workerinput = getattr(config, "workerinput", None)  # set on pytest-xdist workers
    if workerinput is not None and "flakehunt_seed" in workerinput:
        # Every worker must generate the same items in the same order as the others.
        seed = int(workerinput["flakehunt_seed"])
    if seed is None:
        seed = int.from_bytes(os.urandom(4), "big")
    from flakehunt.record.store import default_db_path

    db = default_db_path(get("flakehunt_db"))
    if not db.is_absolute():
        db = config.invocation_params.dir / db
    return HuntOptions(
        repetitions=reps, until_fail=until_fail, duration=duration, db=db, compare=compare,
        variants=variants, seed=seed, args=tuple(config.invocation_params.args))
