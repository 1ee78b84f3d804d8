"""What a campaign that never fails loads: numpy stays out of the start-up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROBE = """
import sys
from flakehunt.cli import main
sys.argv = ["flakehunt", "run", "-q", "-n", "5", *sys.argv[1:]]
try:
    main()
except SystemExit as exc:
    code = exc.code
print("numpy" in sys.modules, code)
"""


def _probe(tmp_path: Path, *cmd: str) -> str:
    return subprocess.run([sys.executable, "-c", PROBE, *cmd], cwd=tmp_path, check=True,
                          capture_output=True, text=True).stdout.split("\n")[-2]


def test_passing_runs_never_import_numpy(tmp_path: Path) -> None:
    # numpy cost ~80 ms of every start-up; the flight recorder's rings need it
    # only when a window of telemetry is read: for a failure, or a pass longer than
    # a sampling interval (1 s here, so that a loaded machine cannot make one).
    assert _probe(tmp_path, "--telemetry-hz", "1", "--", "true") == "False 0"


def test_a_failure_reads_its_telemetry_with_numpy(tmp_path: Path) -> None:
    assert _probe(tmp_path, "--", "sh", "-c", "sleep 0.3; exit 3") == "True 1"
