"""The machine-watch and load options of ``run``/``compare`` and their translation."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from flakehunt.errors import UsageError

if TYPE_CHECKING:
    from flakehunt.load.profile import LoadProfile

F = TypeVar("F", bound=Callable[..., Any])


def watch_options(f: F) -> F:
    """Decorate a hunt command with the orphan, leak, guard and load options."""
    opts = [
        click.option("--kill-orphans", is_flag=True,
                     help="End the processes a run leaves behind, right after it."),
        click.option("--leave-orphans", is_flag=True,
                     help="At the end, leave the runs' leftover processes alive (and list "
                          "them) instead of ending them."),
        click.option("--kill-leaker", "kill_leaker", multiple=True, metavar="NAME",
                     help="End a process named NAME between runs once it is seen leaking "
                          "with the runs. Repeatable. Never by default."),
        click.option("--watch-every", metavar="DURATION", default="1s", show_default=True,
                     help="Sample every process (leaks, zombies) this often (0: off)."),
        click.option("--min-free-disk", metavar="SIZE",
                     help="Pause launching while the working or evidence directory's "
                          "filesystem has less free space."),
        click.option("--min-free-mem", metavar="SIZE",
                     help="Pause launching while available memory is below SIZE."),
        click.option("--load", "load", metavar="PROFILE",
                     help="Stressors for the whole campaign: cpu=N,io=N,mem=SIZE,spawn=N."),
        click.option("--load-cmd", metavar="CMD",
                     help="An external stressor for the whole campaign, e.g. "
                          "'stress-ng --hdd 4 --cpu 2'."),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def watch_settings(p: dict[str, Any]) -> dict[str, Any]:
    """Validate the watch options now and return them for ``spec.evidence['watch']``."""
    from flakehunt.load.profile import parse_profile
    from flakehunt.units import parse_duration, parse_size

    if p.get("kill_orphans") and p.get("leave_orphans"):
        raise UsageError("--kill-orphans and --leave-orphans contradict each other",
                         "give one of them")
    every = parse_duration(p.get("watch_every") or "0")
    if every < 0:
        raise UsageError("--watch-every cannot be negative", "0 turns the sampling off")
    load = parse_profile(p.get("load") or "")
    return {
        "every": every,
        "kill_orphans": bool(p.get("kill_orphans")),
        "leave_orphans": bool(p.get("leave_orphans")),
        "kill_leaker": list(p.get("kill_leaker") or ()),
        "min_free_disk": parse_size(p["min_free_disk"]) if p.get("min_free_disk") else None,
        "min_free_mem": parse_size(p["min_free_mem"]) if p.get("min_free_mem") else None,
        "load": load.text(),
        "load_cmd": p.get("load_cmd") or "",
        "variant_load": {},
    }


def campaign_profile(watch: dict[str, Any]) -> LoadProfile:
    """The campaign-wide load: the --load profile plus any --load-cmd."""
    from flakehunt.load.profile import LoadProfile, parse_profile

    prof = parse_profile(watch.get("load") or "")
    if watch.get("load_cmd"):
        prof = prof.plus(LoadProfile(cmd=watch["load_cmd"]))
    return prof


def campaign_load_text(watch: dict[str, Any]) -> str:
    """The campaign-wide load as recorded per run."""
    return campaign_profile(watch).text()
