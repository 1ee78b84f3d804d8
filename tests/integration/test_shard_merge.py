"""--shard I/N and flakehunt merge through the CLI: shards merge to the unsharded campaign."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.helpers import flakehunt


def test_merged_shards_equal_the_unsharded_campaign(tmp_path: Path) -> None:
    args = ["-j", "2", "-n", "15", "--max-failures", "0", "-q", "--", "true"]
    flakehunt("run", "--db", "whole.db", *args, cwd=tmp_path, check=0)
    for i in (1, 2):
        flakehunt("run", "--db", f"s{i}.db", "--shard", f"{i}/2", *args, cwd=tmp_path, check=0)
    out = flakehunt("merge", "s1.db", "s2.db", "--into", "all.db", cwd=tmp_path, check=0)
    assert "15 runs added" in out.stdout

    def totals(name: str) -> tuple[list[tuple[str, int]], list[int]]:
        with sqlite3.connect(tmp_path / name) as c:
            by = c.execute("SELECT outcome, COUNT(*) FROM runs GROUP BY outcome").fetchall()
            blocks = [b for (b,) in c.execute("SELECT block FROM runs ORDER BY block")]
        return by, blocks

    assert totals("all.db") == totals("whole.db")
    again = flakehunt("merge", "s1.db", "s2.db", "--into", "all.db", cwd=tmp_path, check=0)
    assert "0 runs added, 15 already there" in again.stdout
    # Different commands (a compare campaign) are refused; --force is unit-tested.
    flakehunt("compare", "--db", "cmp.db", "-n", "1", "-q", "-V", "a=true", "-V", "b=true",
              cwd=tmp_path, check=0)
    refused = flakehunt("merge", "s1.db", "cmp.db", "--into", "x.db", cwd=tmp_path, check=2)
    assert "different commands" in refused.stderr and not (tmp_path / "x.db").exists()


def test_a_resumed_shard_continues_its_own_blocks(tmp_path: Path) -> None:
    args = ["--db", "s.db", "--max-failures", "0", "-q"]
    flakehunt("run", *args, "--shard", "2/3", "-n", "10", "--", "true", cwd=tmp_path, check=0)
    flakehunt("run", *args, "--resume", "--shard", "2/3", "-n", "20", cwd=tmp_path, check=0)
    with sqlite3.connect(tmp_path / "s.db") as c:
        blocks = [b for (b,) in c.execute("SELECT block FROM runs ORDER BY block")]
    assert blocks == [2, 5, 8, 11, 14, 17, 20]


def test_compare_shards_merge_to_the_unsharded_experiment(tmp_path: Path) -> None:
    base = ["-n", "4", "-j", "2", "-q", "-V", "ok=true", "-V", "bad=false"]
    flakehunt("compare", "--db", "whole.db", "--seed", "5", *base, cwd=tmp_path, check=1)
    for i in (1, 2):
        flakehunt("compare", "--db", f"s{i}.db", "--seed", "5", "--shard", f"{i}/2", *base,
                  cwd=tmp_path, check=1)
    flakehunt("merge", "s1.db", "s2.db", "--into", "all.db", cwd=tmp_path, check=0)

    def order(name: str) -> list[tuple[int, str, str]]:
        with sqlite3.connect(tmp_path / name) as c:
            return c.execute("SELECT block, variant, outcome FROM runs ORDER BY seq").fetchall()

    # Same blocks, same variant order inside each block, same outcomes.
    assert order("all.db") == order("whole.db")
