"""Shards, merge and the cluster executor's bookkeeping, without processes or Dask."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from flakehunt.campaign.events import NullProgress
from flakehunt.campaign.hunt import hunt
from flakehunt.campaign.model import Attempt
from flakehunt.campaign.order import block_order
from flakehunt.campaign.spec import CampaignSpec, Limits, Variant
from flakehunt.cli.cluster_options import make_executor, parse_shard, shard_runs, sharded_limits
from flakehunt.errors import UsageError
from flakehunt.execute.cluster import ClusterExecutor, ClusterTarget
from flakehunt.execute.cluster_task import ship_files
from flakehunt.execute.fake import FakeExecutor
from flakehunt.record.merge import merge_databases
from flakehunt.record.store import Store

VARIANTS = ("normal", "sleep", "flush")


@pytest.mark.parametrize("n", [1, 2, 3, 5])
@pytest.mark.parametrize("runs", [1, 7, 12])
def test_shards_together_are_the_unsharded_order(n: int, runs: int) -> None:
    whole = list(block_order(VARIANTS, seed=7, blocks=runs))
    parts = [
        list(block_order(VARIANTS, seed=7, blocks=shard_runs(runs, (i, n)), shard=(i, n)))
        for i in range(1, n + 1)
    ]
    assert sum(len(p) for p in parts) == len(whole)
    assert sorted(x for p in parts for x in p) == sorted(whole)
    by_block = {b: [v for v, bb in whole if bb == b] for _, b in whole}
    for p in parts:  # the same permutation inside each block
        assert {b: [v for v, bb in p if bb == b] for _, b in p} == {
            b: by_block[b] for _, b in p
        }


def test_a_resumed_shard_continues_its_share() -> None:
    assert [b for _, b in block_order(["a"], seed=0, first_block=6, blocks=2, shard=(2, 3))] == [
        8,
        11,
    ]


@pytest.mark.parametrize(
    ("text", "expected"), [(None, None), ("1/1", (1, 1)), ("2/4", (2, 4)), ("4/4", (4, 4))]
)
def test_parse_shard(text: str | None, expected: tuple[int, int] | None) -> None:
    assert parse_shard(text) == expected


@pytest.mark.parametrize("text", ["0/2", "3/2", "1", "a/b", "1/2/3", "-1/2"])
def test_parse_shard_rejects(text: str) -> None:
    with pytest.raises(UsageError):
        parse_shard(text)


def test_sharded_limits_need_a_seed_and_no_sequential_rule() -> None:
    lim = Limits(runs=10, max_failures=0)
    assert sharded_limits("2/3", lim, 1) == ((2, 3), Limits(3, None, 0))
    assert sharded_limits(None, lim, None) == (None, lim)
    with pytest.raises(UsageError, match="--seed"):
        sharded_limits("1/2", lim, None)
    with pytest.raises(UsageError, match="until-decided"):
        sharded_limits("1/2", lim, 1, until_decided=True)


@pytest.mark.parametrize(
    ("text", "address", "workers"),
    [("local:3", "", 3), ("tcp://10.0.0.5:8786", "tcp://10.0.0.5:8786", 0),
     ("tls://h:8786", "tls://h:8786", 0)],
)
def test_cluster_target(text: str, address: str, workers: int) -> None:
    assert ClusterTarget.parse(text) == ClusterTarget(address, workers)


@pytest.mark.parametrize("text", ["local:0", "local:x", "myhost:8786"])
def test_cluster_target_rejects(text: str) -> None:
    with pytest.raises(UsageError):
        ClusterTarget.parse(text)


def test_make_executor() -> None:
    from flakehunt.execute.local import LocalExecutor

    assert isinstance(make_executor({"cluster": None}, 2), LocalExecutor)
    ex = make_executor({"cluster": "local:2", "ship_evidence": "1MiB"}, 4)
    assert isinstance(ex, ClusterExecutor) and ex.mode == "direct" and ex.ship_cap == 2**20
    shared = make_executor({"cluster": "tcp://h:1", "evidence_dir": "/nfs/e"}, 4)
    assert shared.mode == "shared"
    assert make_executor({"cluster": "tcp://h:1"}, 4).mode == "ship"
    with pytest.raises(UsageError):
        make_executor({"cluster": None, "evidence_dir": "/x"}, 1)


def test_ship_files_keeps_the_end_of_a_long_log(tmp_path: Path) -> None:
    log, scratch = tmp_path / "out.log", tmp_path / "s"
    scratch.mkdir()
    log.write_bytes(b"a" * 900 + b"THE END")
    (scratch / "core.txt").write_text("small")
    got = ship_files(str(log), str(scratch), 100)
    assert got["log"] == (b"a" * 900 + b"THE END")[-100:] and got["truncated"]
    assert got["log_size"] == 907 and got["tar"] is None  # no room left for the directory
    roomy = ship_files(str(log), str(scratch), 1 << 20)
    assert not roomy["truncated"] and roomy["tar"] and b"small" in roomy["tar"]


def _attempt(tmp_path: Path, run_id: str = "r1") -> Attempt:
    return Attempt(run_id=run_id, campaign_id=1, seq=1, variant="default", block=1, slot=0,
                   argv=("true",), cwd=str(tmp_path), env={}, run_dir=str(tmp_path / "s"),
                   log_path=str(tmp_path / "r.log"))


class _Call:
    def __init__(self, value: object) -> None:
        self.value = value

    def result(self, timeout: float | None = None) -> object:
        if isinstance(self.value, Exception):
            raise self.value
        return self.value


class _Actor:
    """A worker's actor: answers, or behaves like a worker that was SIGKILLed."""

    def __init__(self, addr: str, dead: bool = False) -> None:
        self.addr, self.dead, self.calls = addr, dead, 0

    def run(self, attempt: Attempt, *args: object) -> _Call:
        self.calls += 1
        if self.dead:
            return _Call(OSError("connection reset"))
        files = {"log": b"hello\n", "log_size": 6, "tar": None, "truncated": False}
        return _Call({"run_id": attempt.run_id, "worker": self.addr, "host": "hb",
                      "started": 1.0, "duration": 0.5, "returncode": 0, "platform": "posix",
                      "rusage": {"max_rss_kb": 7}, "files": files})

    def alive(self) -> _Call:
        return _Call(OSError("gone") if self.dead else self.addr)


def _with_actors(*actors: _Actor) -> ClusterExecutor:
    ex = ClusterExecutor(ClusterTarget("tcp://s:1"), jobs=4, worker_wait=0.2)
    ex._client = object()
    for a in actors:
        ex._actors[a.addr] = a
        ex._free.put(a.addr)
    return ex


def test_an_attempt_on_a_lost_worker_is_retried_elsewhere_and_recorded_once(
    tmp_path: Path,
) -> None:
    dead, live = _Actor("tcp://a:1", dead=True), _Actor("tcp://b:1")
    ex = _with_actors(dead, live)
    res = ex.execute(_attempt(tmp_path))
    assert (res.worker, res.host, res.returncode, res.rusage.max_rss_kb) == ("tcp://b:1", "hb",
                                                                               0, 7)
    assert (dead.calls, live.calls) == (1, 1)
    assert (tmp_path / "r.log").read_bytes() == b"hello\n"
    assert ex.lost_workers == {"tcp://a:1"}
    assert ex.reruns == {"r1": ["tcp://a:1", "tcp://b:1"]}
    line = ex.summary_line()
    assert "1 lost" in line and "1 attempts retried" in line and "up to 4 runs in flight" in line
    again = ex.execute(_attempt(tmp_path, "r2"))  # the dead worker gets nothing more
    assert again.worker == "tcp://b:1" and dead.calls == 1


def test_with_every_worker_lost_an_attempt_cannot_start(tmp_path: Path) -> None:
    ex = _with_actors(_Actor("tcp://a:1", dead=True))
    res = ex.execute(_attempt(tmp_path))
    assert res.returncode is None and "no free Dask worker" in (res.start_error or "")


def test_a_failed_call_on_a_live_worker_is_not_retried(tmp_path: Path) -> None:
    class Broken(_Actor):
        def run(self, attempt: Attempt, *args: object) -> _Call:
            self.calls += 1
            return _Call(ValueError("bad payload"))

    b = Broken("tcp://a:1")
    ex = _with_actors(b)
    res = ex.execute(_attempt(tmp_path))
    assert b.calls == 1 and "bad payload" in (res.start_error or "") and not ex.lost_workers


def test_a_result_for_another_attempt_is_refused(tmp_path: Path) -> None:
    ex = ClusterExecutor(ClusterTarget("tcp://s:1"))
    with pytest.raises(RuntimeError):
        ex._result(_attempt(tmp_path, "r1"), {"run_id": "r2"})


def _shard_db(tmp_path: Path, name: str, shard: tuple[int, int] | None, host: str,
              argv: tuple[str, ...] = ("cmd",)) -> Path:
    spec = CampaignSpec(kind="run", variants=(Variant("default", argv),), title=" ".join(argv),
                        cwd=str(tmp_path), jobs=2, limits=Limits(runs=10, max_failures=0),
                        shard=shard)
    if shard is not None:
        spec = replace(spec, limits=Limits(runs=shard_runs(10, shard), max_failures=0))
    path = tmp_path / name / "flakehunt.db"
    store = Store.open(path)
    ex = FakeExecutor(lambda a: (0, b"ok\n"), host=host)
    hunt(spec, store, ex, NullProgress())  # type: ignore[arg-type]
    store.close()
    return path


def test_merge_keeps_hosts_renumbers_and_skips_known_runs(tmp_path: Path) -> None:
    a = _shard_db(tmp_path, "a", (1, 2), "host-a")
    b = _shard_db(tmp_path, "b", (2, 2), "host-b")
    out = tmp_path / "all.db"
    r = merge_databases([a, b], out)
    assert (r.added, r.duplicates, r.hosts) == (10, 0, ["host-a", "host-b"])
    store = Store.open(out)
    runs = list(store.runs(r.campaign_id))
    assert sorted(x.seq for x in runs) == list(range(1, 11))
    assert sorted(x.block for x in runs) == list(range(1, 11))
    assert store.tally(r.campaign_id).runs == 10
    assert store.campaign(r.campaign_id).spec["shard"] is None
    store.close()
    again = merge_databases([a, b, out], out)
    assert (again.added, again.duplicates) == (0, 10)


def test_merge_refuses_other_commands_unless_forced(tmp_path: Path) -> None:
    a = _shard_db(tmp_path, "a", None, "h")
    b = _shard_db(tmp_path, "b", None, "h", argv=("other",))
    with pytest.raises(UsageError, match="different commands"):
        merge_databases([a, b], tmp_path / "x.db")
    assert not os.path.exists(tmp_path / "x.db")
    forced = merge_databases([a, b], tmp_path / "x.db", force=True)
    assert forced.added == 20 and forced.forced
