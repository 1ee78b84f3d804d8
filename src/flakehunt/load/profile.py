"""Load profiles: ``cpu=N,io=N,mem=SIZE,spawn=N``, parsed, validated and written back."""

from __future__ import annotations

from dataclasses import dataclass

from flakehunt.errors import InputError, UsageError
from flakehunt.units import format_size, parse_size

KINDS = ("cpu", "io", "mem", "spawn")


@dataclass(frozen=True)
class LoadProfile:
    """How many stressors of each kind; mem is bytes to hold resident."""

    cpu: int = 0
    io: int = 0
    mem: int = 0
    spawn: int = 0
    cmd: str = ""  # an external stressor command (--load-cmd), run through the shell

    @property
    def empty(self) -> bool:
        """Whether this profile starts nothing."""
        return not (self.cpu or self.io or self.mem or self.spawn or self.cmd)

    def text(self) -> str:
        """The canonical form, recorded per run (``load_profile`` column)."""
        parts = []
        for k in KINDS:
            v = getattr(self, k)
            if v:
                parts.append(f"{k}=" + (format_size(v).replace(" ", "") if k == "mem" else str(v)))
        if self.cmd:
            parts.append(f"cmd={self.cmd}")
        return ",".join(parts)

    def plus(self, other: LoadProfile) -> LoadProfile:
        """Return both profiles at once (campaign-wide load plus a variant's)."""
        cmd = " ; ".join(c for c in (self.cmd, other.cmd) if c)
        return LoadProfile(self.cpu + other.cpu, self.io + other.io, self.mem + other.mem,
                           self.spawn + other.spawn, cmd)


def parse_profile(text: str, *, option: str = "--load") -> LoadProfile:
    """Parse ``cpu=2,io=4,mem=1GiB,spawn=1`` (any subset, any order)."""
    values: dict[str, int] = {}
    for item in (p.strip() for p in text.split(",")):
        if not item:
            continue
        key, eq, value = item.partition("=")
        key = key.strip().lower()
        if not eq or key not in KINDS:
            raise UsageError(f"cannot read {option} {text!r}: {item!r}",
                             "write e.g. cpu=2,io=4,mem=1GiB,spawn=1")
        if key in values:
            raise UsageError(f"{option} names {key} twice", "give each kind once")
        try:
            n = parse_size(value) if key == "mem" else int(value)
        except (ValueError, InputError):
            raise UsageError(f"cannot read {option} {item!r}",
                             "counts are whole numbers; mem is a size such as 512MiB") from None
        if n < 0 or (key != "mem" and n > 256):
            raise UsageError(f"{option} {item!r} is out of range", "give 0 to 256 stressors")
        values[key] = n
    return LoadProfile(cpu=values.get("cpu", 0), io=values.get("io", 0),
                       mem=values.get("mem", 0), spawn=values.get("spawn", 0))


def parse_variant_loads(items: tuple[str, ...], names: set[str]) -> dict[str, LoadProfile]:
    """Parse ``--variant-load NAME=PROFILE`` items against the defined variants."""
    out: dict[str, LoadProfile] = {}
    for item in items:
        name, eq, prof = item.partition("=")
        if not eq or not prof:
            raise UsageError(f"cannot read --variant-load {item!r}",
                             "write --variant-load NAME=io=4,cpu=2")
        if name not in names:
            raise UsageError(f"--variant-load names variant {name!r}, which is not defined",
                             "define it with -V first")
        out[name] = parse_profile(prof, option="--variant-load")
    return out
