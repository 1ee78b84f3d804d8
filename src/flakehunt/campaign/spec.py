"""Frozen descriptions of a campaign: what to run, how, and when to stop."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Limits:
    """Stop rules; the first one reached wins (Ctrl-C always does)."""

    runs: int | None = None  # counted runs per variant, over the whole campaign
    duration: float | None = None  # seconds, for this invocation
    max_failures: int = 1  # 0 = never stop for failures; for this invocation


@dataclass(frozen=True)
class Variant:
    """One way of running the command under test."""

    name: str
    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()
    load_profile: str = ""


@dataclass(frozen=True)
class Hooks:
    """hyperfine's hooks, each a shell string run outside the timed run."""

    setup: str | None = None  # once, before the first run
    prepare: str | None = None  # before each run
    cleanup: str | None = None  # after each run
    conclude: str | None = None  # once, at the end


@dataclass(frozen=True)
class CampaignSpec:
    """Everything needed to run (and later ``--resume``) a campaign."""

    kind: str  # "run" or "compare"
    variants: tuple[Variant, ...]
    title: str
    cwd: str
    jobs: int = 1
    limits: Limits = field(default_factory=Limits)
    timeout: float | None = None
    kill_after: float = 10.0
    no_kill: bool = False
    expect_exit: tuple[int, ...] = (0,)
    fail_regex: str | None = None
    ignore_regex: str | None = None
    signature_regex: str | None = None
    junit: str | None = None  # a JUnit XML file each run writes, relative to its cwd
    keep_passing: int = 2
    max_evidence: int = 2 * 1024**3
    fresh_dir: bool = False
    hooks: Hooks = field(default_factory=Hooks)
    seed: int = 0
    baseline: str | None = None
    # EvidenceOptions fields given by the user (keep, hash, cores, telemetry_hz, ...);
    # root, cap and concurrency are derived when the campaign runs.
    evidence: dict[str, Any] = field(default_factory=dict)
    shard: tuple[int, int] | None = None  # (i, n): blocks b with (b - 1) % n == i - 1

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able form (stored with the campaign)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CampaignSpec:
        """Rebuild a spec stored by ``to_dict`` (unknown keys from newer versions ignored)."""
        known = set(cls.__dataclass_fields__)
        d = {k: v for k, v in data.items() if k in known}
        d["variants"] = tuple(
            Variant(
                name=v["name"],
                argv=tuple(v["argv"]),
                env=tuple((k, val) for k, val in v.get("env", ())),
                load_profile=v.get("load_profile", ""),
            )
            for v in d["variants"]
        )
        d["limits"] = Limits(**d.get("limits", {}))
        d["hooks"] = Hooks(**d.get("hooks", {}))
        d["expect_exit"] = tuple(d.get("expect_exit", (0,)))
        d["evidence"] = dict(d.get("evidence") or {})
        d["shard"] = tuple(d["shard"]) if d.get("shard") else None
        return cls(**d)
