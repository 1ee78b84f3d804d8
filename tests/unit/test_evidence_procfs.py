"""Linux /proc parsing for the 10 Hz tick, and the real source on this machine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flakehunt.evidence.procfs import (
    parse_diskstats,
    parse_meminfo,
    parse_stat_cpu,
    whole_disks,
)

STAT = "cpu  100 5 50 800 40 1 2 3 7 0\ncpu0 50 2 25 400 20 0 1 1 3 0\nintr 1\n"
MEMINFO = "MemTotal: 16000 kB\nMemAvailable:  8000 kB\nSwapTotal: 2048 kB\nSwapFree: 1024 kB\n"
DISKSTATS = """\
 253       0 vda 1000 10 2000 300 500 20 4000 900 0 100 1200 0 0 0 0
 253       1 vda1 990 10 1990 300 500 20 4000 900 0 100 1200 0 0 0 0
   7       0 loop0 50 0 100 1 0 0 0 0 0 1 1 0 0 0 0
 252       0 dm-0 999 0 1999 300 500 0 4000 900 0 100 1200 0 0 0 0
"""


def test_parse_stat_cpu() -> None:
    total, idle, iowait = parse_stat_cpu(STAT)
    assert (total, idle, iowait) == (1001.0, 800.0, 40.0)  # guest (7) is inside user already


def test_parse_meminfo() -> None:
    assert parse_meminfo(MEMINFO) == (8000 * 1024, 1024 * 1024)
    assert parse_meminfo("MemTotal: 1 kB\n") == (None, None)


def test_parse_diskstats_counts_whole_disks_once() -> None:
    rb, wb, ro, wo = parse_diskstats(DISKSTATS, frozenset({"vda"}))
    assert (rb, wb, ro, wo) == (2000 * 512, 4000 * 512, 1000, 500)


def test_whole_disks_skips_loop_and_stacked(tmp_path: Path) -> None:
    for n in ("vda", "loop0", "dm-0", "zram0", "nvme0n1", "md0"):
        (tmp_path / n).mkdir()
    assert whole_disks(str(tmp_path)) == {"vda", "nvme0n1"}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux /proc")
def test_real_source_sees_this_machine() -> None:
    from flakehunt.evidence.sampler import PsutilSource

    src = PsutilSource()
    rows = src.snapshot()
    me = [r for r in rows if r.pid == os.getpid()]
    assert me and me[0].ppid == os.getppid() and me[0].rss and me[0].rss > 0
    c = src.system()
    assert c.cpu_total > c.cpu_idle > 0 and c.mem_available and c.nprocs == len(rows)
    child = subprocess.Popen(["sleep", "5"])
    try:
        tree = src.tree([os.getpid(), child.pid])
        assert set(tree.pids) == {os.getpid(), child.pid}
        assert tree.rss and tree.fds and tree.cpu_seconds is not None
    finally:
        child.kill()
        child.wait()
    assert src.tree([child.pid]).pids == ()
