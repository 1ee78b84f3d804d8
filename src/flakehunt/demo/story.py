"""The story, as a compare campaign on the bundled racing toolchain (pure parts)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from flakehunt.campaign.spec import CampaignSpec, Limits, Variant
from flakehunt.demo.variants import VARIANTS, demo_variants

FULL_SECONDS = 75.0  # leaves room for runs in flight and analysis inside 90 s
QUICK_SECONDS = 18.0
QUICK_ROUNDS = 1500  # a wider window, so a 20 s demo still sees failures
# The run step names the story's status codes; fingerprint on that phrase, not
# on page numbers, so each failure mode is one signature.
SIGNATURE_REGEX = r"runstep: \S+: ((?:access violation|fail fast) \(0x[0-9A-F]+[^)]*\))"

INTRO = """\
flakehunt demo: the story of a flaky build, reproduced on this machine.

A "linker" writes its output through a memory mapping and hands off before
every page is written; the next build step runs the output at once. When it
finds zero pages of code it crashes like an access violation (0xC0000005);
when only the guard table is still zero, like a Control Flow Guard fail-fast
(0xC0000409). Three builds, interleaved in random blocks, as in the story's
weekend of 1,000+ builds: normal, a short sleep after linking, and the link
wrapped in `flakehunt exec --flush` (the story's FlushFileBuffers fix).
"""

OUTRO = """\
The failure rates come out of a real race between two processes, not from a
random number, so they vary from machine to machine and run to run. The flush
variant fails 0 times because the flush waits for the writer to finish, which
closes the race; a sleep only narrows it.
"""


@dataclass(frozen=True)
class DemoPlan:
    """What the demo will run."""

    spec: CampaignSpec
    workspace: Path


def plan_demo(workspace: Path, *, quick: bool, runs: int | None, jobs: int,
              seed: int) -> DemoPlan:
    """Return the compare campaign of the demo, toolchain working in *workspace*."""
    rounds = QUICK_ROUNDS if quick else None
    commands = demo_variants(workspace, rounds=rounds) if rounds else demo_variants(workspace)
    variants = tuple(
        Variant(name, ("/bin/sh", "-c", str(commands[name]))) for name in VARIANTS
    )
    duration = None if runs is not None else (QUICK_SECONDS if quick else FULL_SECONDS)
    spec = CampaignSpec(
        kind="compare", variants=variants, title="demo: " + " vs ".join(VARIANTS),
        cwd=os.fspath(workspace), jobs=jobs,
        limits=Limits(runs=runs, duration=duration, max_failures=0),
        timeout=60.0, kill_after=2.0, seed=seed, baseline="normal",
        signature_regex=SIGNATURE_REGEX,
    )
    return DemoPlan(spec=spec, workspace=workspace)


def kept_outputs(workspace: Path, pid: int | None) -> list[Path]:
    """Return the image and the bytes the run step saw, kept for a failed run's pid."""
    if pid is None:
        return []
    names = [workspace / f"out-{pid}.bin", workspace / "seen" / f"out-{pid}.bin.seen"]
    return [p for p in names if p.exists()]
