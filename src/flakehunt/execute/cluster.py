"""The cluster executor: attempts run on Dask ``distributed`` workers.

Each ``execute`` submits one task, keyed by the attempt's run id, and blocks
until that task's result arrives, so the scheduler records each run the
moment it ends, and an attempt yields exactly one result however often Dask
ran it. When a worker dies Dask re-runs its tasks elsewhere (6 of 40 tasks did
in one test here); the worker-side task announces every start, so a re-run is
noted (``notices``) and the lost worker named, but only the result Dask
returned is recorded. A task that kills ``allowed-failures`` workers in a row
comes back as could-not-start (recorded, never counted).

Dask and distributed are imported inside methods: they are an optional extra
(``pip install 'flakehunt[cluster]'``) and cost a second of import.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import socket
import tarfile
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from flakehunt.campaign.model import Attempt, AttemptResult, Rusage
from flakehunt.errors import CouldNotStart, EnvironmentProblem, UsageError
from flakehunt.execute.cluster_task import CLIENT_KEY, EVENT_TOPIC

DEFAULT_SHIP_CAP = 50 * 1024**2


@dataclass(frozen=True)
class ClusterTarget:
    """Where to run: a scheduler address, or ``local:N`` worker processes here."""

    address: str  # "" for a local cluster
    local_workers: int = 0

    @classmethod
    def parse(cls, text: str) -> ClusterTarget:
        """Read ``tcp://HOST:PORT``, ``tls://HOST:PORT`` or ``local:N``."""
        if text.startswith("local:"):
            try:
                n = int(text[len("local:") :])
            except ValueError:
                n = 0
            if n < 1:
                raise UsageError(f"--cluster {text}: not a number of workers", "e.g. local:4")
            return cls("", n)
        if "://" not in text:
            raise UsageError(
                f"--cluster {text}: not a scheduler address",
                "give tcp://HOST:8786, tls://HOST:8786 or local:N",
            )
        return cls(text)


class ClusterExecutor:
    """Run attempts on a Dask cluster; see ``flakehunt.execute.base.Executor``."""

    platform = "posix"

    def __init__(
        self,
        target: ClusterTarget,
        *,
        jobs: int = 1,
        evidence_dir: str | None = None,
        ship_cap: int = DEFAULT_SHIP_CAP,
        connect_timeout: float = 10.0,
    ) -> None:
        self.target = target
        self.jobs = max(1, jobs)
        self.evidence_dir = evidence_dir
        self.ship_cap = ship_cap
        self.connect_timeout = connect_timeout
        self.session = uuid.uuid4().hex
        self.notices: list[str] = []
        self.lost_workers: set[str] = set()
        self.reruns: dict[str, list[str]] = {}  # run_id -> workers that started it
        self.workers_used: set[str] = set()
        self._starts: dict[str, list[str]] = {}
        self._final: dict[str, str] = {}  # run_id -> worker whose result counted
        self._futures: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._interrupting = False
        self._client: Any = None
        self._cluster: Any = None
        self.host = socket.gethostname()

    @property
    def mode(self) -> str:
        """``direct`` (same machine), ``shared`` (--evidence-dir) or ``ship``."""
        if self.target.local_workers:
            return "direct"
        return "shared" if self.evidence_dir else "ship"

    # -- lifecycle ----------------------------------------------------------------

    def start(self) -> None:
        """Connect to the scheduler, or start a loopback-only local cluster."""
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise EnvironmentProblem(
                "--cluster needs Dask distributed", "pip install 'flakehunt[cluster]'"
            ) from None
        try:
            if self.target.local_workers:
                n = self.target.local_workers
                # Dask's defaults listen on 0.0.0.0; a local cluster has no business
                # being reachable from the network, dashboard included.
                self._cluster = LocalCluster(  # type: ignore[no-untyped-call]
                    n_workers=n,
                    threads_per_worker=max(1, math.ceil(self.jobs / n)),
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address="127.0.0.1:0",
                    silence_logs=logging.ERROR,
                )
                self._client = Client(self._cluster)  # type: ignore[no-untyped-call]
            else:
                # Security (TLS certificates) comes from Dask's own configuration.
                self._client = Client(  # type: ignore[no-untyped-call]
                    self.target.address, timeout=self.connect_timeout
                )
        except (OSError, TimeoutError) as exc:
            self.close()
            raise CouldNotStart(
                f"cannot reach the Dask scheduler at {self.target.address or 'local'}: {exc}",
                "start one with 'dask scheduler', and workers with 'dask worker ADDRESS'",
            ) from None
        self._client.subscribe_topic(EVENT_TOPIC, self._on_event)
        self._workers_at_start = set(self._client.scheduler_info()["workers"])

    def marker_env(self) -> dict[str, str]:
        """Mark each run with this client, so an interrupt ends only our runs."""
        return {CLIENT_KEY: self.session}

    def close(self) -> None:
        """End our runs everywhere, note re-runs and lost workers, disconnect."""
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._stop_remote(force=True)
            self._settle_events()
            with contextlib.suppress(Exception):
                self._client.close()
            self._client = None
        if self._cluster is not None:
            with contextlib.suppress(Exception):
                self._cluster.close()
            self._cluster = None

    # -- running ------------------------------------------------------------------

    def execute(self, attempt: Attempt) -> AttemptResult:
        """Run *attempt* on some worker; block until its one result is back."""
        from flakehunt.execute.cluster_task import run_attempt

        if self._interrupting or self._client is None:
            return self._not_started(attempt, None, interrupted=True)
        started = time.time()
        fut = self._client.submit(
            run_attempt,
            attempt,
            self.mode,
            self.ship_cap,
            self.evidence_dir or "",
            key=f"flakehunt-{attempt.run_id}",
            pure=False,
        )
        with self._lock:
            self._futures[attempt.run_id] = fut
        try:
            d = fut.result()
        except Exception as exc:  # every Dask failure becomes a recorded run
            if self._interrupting or fut.cancelled():
                return self._not_started(attempt, None, interrupted=True, started=started)
            return self._lost(attempt, exc, started)
        finally:
            with self._lock:
                self._futures.pop(attempt.run_id, None)
        return self._result(attempt, d)

    def interrupt(self, force: bool = False) -> None:
        """End our runs on every worker (TERM, or KILL if *force*); stop submitting."""
        self._interrupting = True
        with contextlib.suppress(Exception):
            self._stop_remote(force=force)
        if force and self._client is not None:
            with self._lock:
                futures = list(self._futures.values())
            with contextlib.suppress(Exception):
                self._client.cancel(futures, force=True)

    def _stop_remote(self, *, force: bool) -> None:
        from flakehunt.execute.cluster_task import stop_client

        if self._client is not None:
            self._client.run(stop_client, self.session, force)

    # -- results ------------------------------------------------------------------

    def _result(self, attempt: Attempt, d: dict[str, Any]) -> AttemptResult:
        if d.get("run_id") != attempt.run_id:  # a key collision would be a Dask bug
            raise RuntimeError(f"result for {d.get('run_id')} returned to {attempt.run_id}")
        worker = str(d.get("worker") or "")
        with self._lock:
            self._final[attempt.run_id] = worker
            self.workers_used.add(worker)
        files = d.pop("files", None)
        if files is not None:
            self._place_files(attempt, files)
        ru = d.pop("rusage", None) or {}
        fields = {k: v for k, v in d.items() if k in AttemptResult.__dataclass_fields__}
        fields.pop("attempt", None)
        return AttemptResult(attempt=attempt, rusage=Rusage(**ru), **fields)

    def _place_files(self, attempt: Attempt, files: dict[str, Any]) -> None:
        """Put a remote run's log and scratch where the scheduler looks for them."""
        try:
            if self.mode == "shared":
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(attempt.log_path)
                os.symlink(files["log"], attempt.log_path)
                os.symlink(files["scratch"], os.path.join(attempt.run_dir, "worker-run-dir"))
                return
            with open(attempt.log_path, "wb") as f:
                if files.get("truncated"):
                    f.write(
                        f"[flakehunt: shipped the last {len(files['log'])} bytes of "
                        f"{files['log_size']}; --ship-evidence caps it]\n".encode()
                    )
                f.write(files["log"])
            if files.get("tar"):
                import io

                with tarfile.open(fileobj=io.BytesIO(files["tar"])) as tar:
                    tar.extractall(attempt.run_dir, filter="data")
        except (OSError, tarfile.TarError) as exc:
            with self._lock:
                self.notices.append(f"run {attempt.seq}: could not place its files: {exc}")

    def _on_event(self, event: Any) -> None:
        _, msg = event
        run_id, worker = msg.get("run_id"), msg.get("worker", "")
        if not run_id:
            return
        with self._lock:
            self._starts.setdefault(run_id, []).append(worker)

    def _settle_events(self) -> None:
        """Turn every attempt started more than once into a notice (events lag)."""
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            with self._lock:
                if all(r in self._starts for r in self._final):
                    break
            time.sleep(0.02)
        with self._lock:
            for run_id, workers in sorted(self._starts.items()):
                if len(workers) < 2 or run_id in self.reruns:
                    continue
                self.reruns[run_id] = workers
                final = self._final.get(run_id, "")
                lost = [w for w in workers if w != final]
                self.lost_workers.update(lost)
                self.notices.append(
                    f"run {run_id} ran {len(workers)} times (Dask re-ran it after "
                    f"{', '.join(lost)} was lost); recorded once"
                )
            try:
                now = set(self._client.scheduler_info()["workers"])
                gone = self._workers_at_start - now
            except Exception:  # the scheduler may be gone already
                gone = set()
            for w in sorted(gone - self.lost_workers):
                self.lost_workers.add(w)
                self.notices.append(f"worker {w} left the cluster during the campaign")

    def summary_line(self) -> str:
        """One line for the campaign summary: workers, losses, re-runs."""
        where = self.target.address or f"local cluster of {self.target.local_workers}"
        line = f"cluster {where}: {len(self.workers_used)} workers ran attempts"
        if self.lost_workers:
            line += f"; {len(self.lost_workers)} lost"
        if self.reruns:
            line += f"; {len(self.reruns)} attempts re-run by Dask, each recorded once"
        return line + f"; stop rules may overshoot by up to {self.jobs} runs in flight"

    def _lost(self, attempt: Attempt, exc: Exception, started: float) -> AttemptResult:
        name = type(exc).__name__
        with self._lock:
            self.notices.append(f"run {attempt.seq} ({attempt.run_id}) lost: {name}: {exc}")
        why = f"lost on the cluster ({name}: {exc})"
        return self._not_started(attempt, why, started=started)

    def _not_started(
        self,
        attempt: Attempt,
        error: str | None,
        *,
        interrupted: bool = False,
        started: float | None = None,
    ) -> AttemptResult:
        return AttemptResult(
            attempt=attempt,
            started=started if started is not None else time.time(),
            duration=0.0,
            returncode=None,
            host=self.host,
            platform=self.platform,
            start_error=error,
            interrupted=interrupted,
        )
