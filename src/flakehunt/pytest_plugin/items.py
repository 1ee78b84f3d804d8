"""Repetitions as a parametrization: the parameter values, their ids, and back.

pytest-repeat's technique: one more function-scoped parameter, so each
repetition is an ordinary item (fresh function fixtures, higher scopes as
pytest sets them up, distributable by pytest-xdist).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# The id is last in the item's brackets (our generate hook runs after the
# parametrize marks): test_y[fh3] or test_y[a-1-fh3@fix].
_REP_ID = re.compile(r"(\[|-)fh(\d+)(?:@(.+?))?\]$")


@dataclass(frozen=True)
class Rep:
    """One repetition of a test: its block (repetition index) and env variant."""

    block: int
    variant: str | None = None

    @property
    def id(self) -> str:
        """Return the id pytest shows in the item's brackets."""
        return f"fh{self.block}" + (f"@{self.variant}" if self.variant is not None else "")


def repetitions(n: int, variants: Sequence[str] = (), seed: int = 0) -> list[Rep]:
    """Return the repetitions in running order: blocks, variants shuffled in each."""
    if not variants:
        return [Rep(b) for b in range(1, n + 1)]
    from flakehunt.campaign.order import block_order

    return [Rep(block, name) for name, block in block_order(variants, seed=seed, blocks=n)]


def split_nodeid(nodeid: str) -> tuple[str, Rep] | None:
    """Return (the test's own id, its repetition) for a repeated item's node id."""
    m = _REP_ID.search(nodeid)
    if m is None:
        return None
    head = nodeid[: m.start()]
    base = head if m.group(1) == "[" else head + "]"
    return base, Rep(int(m.group(2)), m.group(3))


@dataclass(frozen=True)
class Wanted:
    """A parametrized test id the user selected, e.g. ``tests/t.py::test_p[2]``."""

    path: str  # resolved file path
    tail: str  # "test_p[2]" or "TestC::test_p[2]"

    @property
    def function(self) -> str:
        """Return the tail without its parameter ids."""
        return self.tail[: self.tail.index("[")]


def split_selection(args: Sequence[str], invocation_dir: str) -> tuple[list[str], list[Wanted]]:
    """Return the args pytest can match once repeated, and the parameter sets asked for.

    pytest matches ``test_p[2]`` against item names exactly, and repeated items
    are named ``test_p[2-fh1]``: select ``test_p`` and keep ``[2]`` afterwards.
    """
    import os

    out: list[str] = []
    wanted: list[Wanted] = []
    for arg in args:
        path, sep, tail = arg.partition("::")
        if sep and tail.endswith("]") and "[" in tail:
            full = os.path.realpath(os.path.join(invocation_dir, path))
            wanted.append(Wanted(full, tail))
            out.append(f"{path}::{tail[: tail.index('[')]}")
        else:
            out.append(arg)
    return out, wanted


def selected(nodeid: str, path: str, wanted: Sequence[Wanted]) -> bool:
    """Return whether a repeated item survives the parameter sets the user selected."""
    split = split_nodeid(nodeid)
    if split is None or not wanted:
        return True
    tail = split[0].partition("::")[2]
    function = tail.split("[", 1)[0]
    groups = [w for w in wanted if w.path == path and w.function == function]
    return not groups or any(w.tail == tail for w in groups)
