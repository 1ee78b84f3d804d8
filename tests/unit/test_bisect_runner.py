"""The probe runner on the hunt loop (fake executor), and the probes table."""

from __future__ import annotations

from pathlib import Path

from flakehunt.bisect.runner import GitProbeRunner
from flakehunt.campaign.model import Attempt
from flakehunt.campaign.spec import CampaignSpec, Variant
from flakehunt.execute.fake import FakeExecutor
from flakehunt.record.bisect_store import BisectStore
from flakehunt.record.schema import SCHEMA_VERSION
from flakehunt.record.store import Store


class FakeTrees:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.checkouts: list[str] = []

    def checkout(self, sha: str) -> tuple[Path, bool]:
        fresh = not self.checkouts or self.checkouts[-1] != sha
        self.checkouts.append(sha)
        path = self.root / sha
        path.mkdir(exist_ok=True)
        return path, fresh


def two_flakes(a: Attempt) -> tuple[int, bytes]:
    """Exit 1 on every 3rd run (ours), exit 2 on every 5th (an unrelated flake)."""
    if a.seq % 3 == 0:
        return 1, b"assertion failed: ours\n"
    if a.seq % 5 == 0:
        return 2, b"network unreachable\n"
    return 0, b""


def _runner(tmp_path: Path, store: Store, **kw: object) -> GitProbeRunner:
    spec = CampaignSpec(
        kind="run", variants=(Variant("default", ("t",)),), title="t", cwd=str(tmp_path)
    )
    return GitProbeRunner(
        FakeTrees(tmp_path),
        spec,
        store,  # type: ignore[arg-type]
        executor_factory=lambda: FakeExecutor(two_flakes),
        **kw,
    )  # type: ignore[arg-type]


def test_a_probe_counts_runs_and_failures_through_the_hunt_loop(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "db")
    out = _runner(tmp_path, store).probe("abc", 30, None)
    assert (out.runs, out.failures) == (30, 10 + 4)  # seq 1..30: 10 thirds, 4 fifths not thirds
    row = store.campaign(out.campaign_id)
    assert row.kind == "run" and row.spec["cwd"] == str(tmp_path / "abc")


def test_signature_counts_only_matching_failures_and_leaves_others_out(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "db")
    first = _runner(tmp_path, store).probe("abc", 30, None)
    sigs = {title: sid for sid, title, _ in store.signature_counts(first.campaign_id)}
    ours = next(sid for title, sid in sigs.items() if "1" in title or "ours" in title)
    out = _runner(tmp_path, store, signature=ours).probe("abc", 30, None)
    assert out.failures == 10
    assert out.runs == 30 - 4  # the unrelated failures say nothing either way


def test_calibration_stops_after_enough_failures(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "db")
    out = _runner(tmp_path, store).probe("abc", 300, 3)
    assert out.failures >= 3 and out.runs < 20


def test_a_failed_build_skips_the_commit(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "db")
    out = _runner(tmp_path, store, build="echo broken >&2; exit 7").probe("abc", 10, None)
    assert out.runs == 0 and out.skipped is not None and "exit 7" in out.skipped


def test_probes_are_recorded_and_read_back_in_order(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "db")
    assert SCHEMA_VERSION >= 2
    bid = store.create_campaign(
        uuid="u1", kind="bisect", host="h", version="v", spec={"x": 1}, title="t"
    )
    probes = BisectStore(store)
    for pos, runs, fails in ((10, 8, 3), (4, 2, 0), (7, 3, 1)):
        probes.add_probe(
            bid,
            position=pos,
            commit=f"c{pos}",
            phase="probe",
            runs=runs,
            failures=fails,
            probe_campaign_id=None,
            skipped=None,
        )
    store.close()
    again = BisectStore(Store.open(tmp_path / "db"))
    rows = again.probes(bid)
    assert [(r.seq, r.position, r.runs, r.failures) for r in rows] == [
        (1, 10, 8, 3),
        (2, 4, 2, 0),
        (3, 7, 3, 1),
    ]
    assert again.latest_bisect() == bid
