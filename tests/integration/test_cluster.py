"""Cluster execution on a real Dask scheduler and workers, all on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from tests.helpers import flakehunt, processes_with_env, wait_until

pytest.importorskip("distributed")
pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="process groups, /proc")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class DaskCluster:
    address: str
    scheduler: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]]


def _workers_up(address: str, n: int) -> bool:
    from distributed import Client

    try:
        with Client(address, timeout=2) as c:
            return len(c.scheduler_info()["workers"]) >= n
    except (OSError, TimeoutError):
        return False


@pytest.fixture
def dask_cluster(tmp_path: Path) -> Iterator[DaskCluster]:
    """A `dask scheduler` and two `dask worker` processes (no nanny: we kill workers)."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    log = open(tmp_path / "dask.log", "wb")  # noqa: SIM115 - closed in finally
    procs: list[subprocess.Popen[bytes]] = []
    try:
        sched = subprocess.Popen(
            ["dask", "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            stdout=log, stderr=log, cwd=tmp_path,
        )
        procs.append(sched)
        workers = []
        for _ in range(2):
            w = subprocess.Popen(
                ["dask", "worker", address, "--host", "127.0.0.1", "--nthreads", "2",
                 "--no-nanny", "--no-dashboard"],
                stdout=log, stderr=log, cwd=tmp_path,
            )
            procs.append(w)
            workers.append(w)
        assert wait_until(lambda: _workers_up(address, 2), timeout=30, step=0.3), (
            (tmp_path / "dask.log").read_text()
        )
        yield DaskCluster(address, sched, workers)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        log.close()


def _runs(db: Path) -> list[tuple[str, int, str, str, str]]:
    with sqlite3.connect(db) as c:
        return c.execute("SELECT run_id, seq, outcome, host, worker FROM runs").fetchall()


def test_200_runs_on_two_workers_are_each_recorded_once(
    dask_cluster: DaskCluster, tmp_path: Path
) -> None:
    db = tmp_path / "c.db"
    # Run 100 fails after leaving a file in its run directory: shipped back with its log.
    script = 'echo "out $FLAKEHUNT_RUN"; [ $FLAKEHUNT_RUN != 100 ] || { echo kept > f; exit 3; }'
    out = flakehunt("run", "--db", str(db), "--cluster", dask_cluster.address, "-j", "4",
                    "--fresh-dir", "-n", "200", "--max-failures", "0", "-q", "--", "sh", "-c",
                    script, cwd=tmp_path, check=1)
    runs = _runs(db)
    assert len(runs) == 200
    assert len({r[0] for r in runs}) == 200
    assert sorted(r[1] for r in runs) == list(range(1, 201))
    assert [r[1] for r in runs if r[2] != "pass"] == [100]
    failed = tmp_path / "evidence" / "c1" / "r000100"
    assert (failed / "output.log").read_text() == "out 100\n"
    assert (failed / "scratch" / "f").read_text() == "kept\n"
    assert len({r[4] for r in runs}) == 2  # both workers took attempts
    assert all(r[3] and r[4].startswith("tcp://127.0.0.1:") for r in runs)
    assert "2 workers ran attempts" in out.stdout


def test_a_killed_worker_loses_no_run_and_leaves_no_process(
    dask_cluster: DaskCluster, tmp_path: Path
) -> None:
    pids = tmp_path / "pids"
    pids.mkdir()
    db = tmp_path / "c.db"
    script = f'echo $$ >> {pids}/"$FLAKEHUNT_RUN_ID"; sleep 0.25; sleep 0.05'
    env = {**os.environ, "PYTHONPATH": os.environ["PYTHONPATH"]}
    hunt = subprocess.Popen(
        [sys.executable, "-m", "flakehunt", "run", "--db", str(db), "--cluster",
         dask_cluster.address, "-j", "4", "-n", "40", "--max-failures", "0", "-q",
         "--evidence-dir", str(tmp_path / "shared"), "--", "sh", "-c", script],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        victim = psutil.Process(dask_cluster.workers[0].pid)

        def users() -> list[psutil.Process]:
            return [p for p in victim.children(recursive=True) if p.name() in ("sh", "sleep")]

        assert wait_until(lambda: len(list(pids.iterdir())) >= 8, timeout=20)
        assert wait_until(lambda: bool(users()), timeout=10)
        doomed = users()
        victim.send_signal(signal.SIGKILL)
        out, err = hunt.communicate(timeout=45)
    finally:
        if hunt.poll() is None:
            hunt.kill()
            hunt.wait()
    assert hunt.returncode == 0, (out, err)
    runs = _runs(db)
    assert len(runs) == 40  # no run lost ...
    assert len({r[0] for r in runs}) == 40  # ... and none counted twice
    assert {r[2] for r in runs} == {"pass"}
    # --evidence-dir: every run wrote its log on the "shared" path, none was shipped.
    assert len(list((tmp_path / "shared").glob("flakehunt-*/output.log"))) >= 40
    # The executor retried what the dead worker held: those run ids started twice.
    reran = [f for f in pids.iterdir() if len(f.read_text().split()) > 1]
    assert reran, "the killed worker held no attempt"
    assert "retried after a lost worker" in out and "lost" in out
    # The user's commands on the killed worker did not outlive it.
    assert wait_until(lambda: not any(p.is_running() and p.status() != "zombie" for p in doomed),
                      timeout=5), doomed


def test_local_cluster_of_two(tmp_path: Path) -> None:
    mark = {"CLUSTER_TEST_MARK": str(tmp_path)}
    # Run 3 hangs, with a setsid'd sleep that escapes its process group; run 7 fails.
    script = ('echo run $FLAKEHUNT_RUN; [ "$FLAKEHUNT_RUN" != 3 ] || { setsid sleep 30 & '
              'sleep 30; }; [ "$FLAKEHUNT_RUN" != 7 ]')
    out = flakehunt("run", "--db", "c.db", "--cluster", "local:2", "-j", "2", "-n", "20",
                    "--timeout", "2s", "--max-failures", "0", "-q", "--", "sh", "-c", script,
                    cwd=tmp_path, env=mark, check=1)
    runs = _runs(tmp_path / "c.db")
    assert len(runs) == 20 and len({r[0] for r in runs}) == 20
    assert {r[1]: r[2] for r in runs if r[2] != "pass"} == {3: "timeout", 7: "fail"}
    assert "local cluster of 2" in out.stdout
    kept = tmp_path / "evidence" / "c1" / "r000007" / "output.log"
    assert kept.read_text() == "run 7\n"
    assert wait_until(lambda: not processes_with_env("CLUSTER_TEST_MARK", str(tmp_path)), 5)


def test_interrupt_ends_every_process_on_a_local_cluster(tmp_path: Path) -> None:
    mark = {"CLUSTER_TEST_MARK": str(tmp_path)}
    hunt = subprocess.Popen(
        [sys.executable, "-m", "flakehunt", "run", "--db", "i.db", "--cluster", "local:1",
         "-j", "2", "-n", "10", "-q", "--", "sleep", "30"],
        cwd=tmp_path, env={**os.environ, **mark}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )
    try:
        assert wait_until(
            lambda: len([p for p in processes_with_env("CLUSTER_TEST_MARK", str(tmp_path))
                         if p.name() == "sleep"]) == 2, timeout=30)
        hunt.send_signal(signal.SIGINT)
        out, err = hunt.communicate(timeout=20)
    finally:
        if hunt.poll() is None:
            hunt.kill()
            hunt.wait()
    assert hunt.returncode == 130, (out, err)
    assert {r[2] for r in _runs(tmp_path / "i.db")} == {"interrupted"}
    assert wait_until(lambda: not processes_with_env("CLUSTER_TEST_MARK", str(tmp_path)), 5)
