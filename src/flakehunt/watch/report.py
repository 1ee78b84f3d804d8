"""What the watch saw over a campaign, for the summary (text and ``--json``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flakehunt.units import format_duration
from flakehunt.watch.leaks import Leak, describe
from flakehunt.watch.orphans import Orphan

MAX_LISTED = 10


@dataclass
class WatchReport:
    """Orphans, zombies, leaks, pauses, load and kills of one campaign invocation."""

    orphans: list[Orphan] = field(default_factory=list)  # found after runs
    orphans_killed: int = 0  # by --kill-orphans
    leftovers: list[Orphan] = field(default_factory=list)  # alive at the end
    leftovers_ended: bool = True  # False under --leave-orphans
    zombies_start: int | None = None
    zombies_end: int | None = None
    zombie_parents: list[tuple[str, int, int]] = field(default_factory=list)  # name, pid, n
    leaks: list[Leak] = field(default_factory=list)
    leakers_killed: list[tuple[str, int]] = field(default_factory=list)  # --kill-leaker
    paused_seconds: float = 0.0
    pauses: int = 0
    pause_reasons: list[str] = field(default_factory=list)
    load: str = ""  # the campaign-wide profile
    variant_load: dict[str, str] = field(default_factory=dict)
    samples: int = 0

    def lines(self) -> list[str]:
        """The summary's lines about the machine (none when there is nothing to say)."""
        out: list[str] = []
        if self.load:
            out.append(f"load: {self.load} (stressors ended)")
        for name, prof in self.variant_load.items():
            out.append(f"load of variant {name}: {prof}")
        if self.orphans:
            n = self.orphans_killed
            killed = f", {n} ended (--kill-orphans)" if n else ""
            out.append(f"orphans: {len(self.orphans)} process(es) outlived their run{killed}")
            for o in self.orphans[:MAX_LISTED]:
                out.append(f"  {o.line()}")
            if len(self.orphans) > MAX_LISTED:
                out.append(f"  ... and {len(self.orphans) - MAX_LISTED} more (see --json)")
        if self.leftovers:
            if self.leftovers_ended:
                out.append(f"leftovers: {len(self.leftovers)} process(es) of the runs ended "
                           "at the end (--leave-orphans keeps them)")
            else:
                out.append(f"leftovers: {len(self.leftovers)} process(es) of the runs left "
                           "running (--leave-orphans):")
                for o in self.leftovers[:MAX_LISTED]:
                    out.append(f"  {o.line()}")
        if (self.zombies_start is not None and self.zombies_end is not None
                and self.zombies_end > self.zombies_start):
            parents = ", ".join(f"{n} pid {p} ({k})" for n, p, k in self.zombie_parents[:5])
            out.append(f"zombies: {self.zombies_start} at the start, {self.zombies_end} at the "
                       f"end" + (f"; parents: {parents}" if parents else ""))
        if self.leaks:
            out.append("leaking outside the runs (fit against runs completed):")
            out += [f"  {line}" for line in describe(self.leaks)]
        for name, pid in self.leakers_killed:
            out.append(f"WARNING: --kill-leaker ended {name} pid {pid} between runs")
        if self.pauses:
            out.append(f"paused launching {self.pauses} time(s), "
                       f"{format_duration(self.paused_seconds)} in all: "
                       + "; ".join(self.pause_reasons[:3]))
        return out

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form (the ``watch`` key of the summary)."""
        return {
            "orphans": [o.to_dict() for o in self.orphans],
            "orphans_killed": self.orphans_killed,
            "leftovers": [o.to_dict() for o in self.leftovers],
            "leftovers_ended": self.leftovers_ended,
            "zombies": {"start": self.zombies_start, "end": self.zombies_end,
                        "parents": [{"name": n, "pid": p, "zombies": k}
                                    for n, p, k in self.zombie_parents]},
            "leaks": [lk.to_dict() for lk in self.leaks],
            "leakers_killed": [{"name": n, "pid": p} for n, p in self.leakers_killed],
            "paused_seconds": round(self.paused_seconds, 3),
            "pauses": self.pauses,
            "pause_reasons": self.pause_reasons,
            "load": self.load,
            "variant_load": self.variant_load,
            "samples": self.samples,
        }
