"""numpy is imported with one BLAS thread, and no child inherits the setting."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads")

PROBE = """
import os, subprocess
from flakehunt.blas import one_blas_thread
with one_blas_thread():
    import numpy
child = subprocess.run(["sh", "-c", "echo ${OPENBLAS_NUM_THREADS:-unset}"],
                       capture_output=True, text=True).stdout.strip()
print(len(os.listdir("/proc/self/task")), os.environ.get("OPENBLAS_NUM_THREADS"), child)
"""


def _probe(env_extra: dict[str, str]) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", PROBE], env={**env, **env_extra},
                         capture_output=True, text=True, check=True).stdout
    return out.split()


def test_one_thread_and_nothing_inherited() -> None:
    assert _probe({}) == ["1", "None", "unset"]


def test_the_users_choice_stands() -> None:
    assert _probe({"OPENBLAS_NUM_THREADS": "2"}) == ["2", "2", "2"]
