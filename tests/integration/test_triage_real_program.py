"""A real program that fails two different ways yields exactly two signatures in 200 runs.

The C program below fails in two ways whose messages change in every run
(addresses, PIDs, temp paths, durations, values): a checksum error with exit 1,
and a null-pointer write that dies of SIGSEGV. Half its runs pass. The hunt loop
is fed the same way: outcome, returncode, platform and the output tail.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from flakehunt.campaign.model import Outcome
from flakehunt.triage.signature import signature_for, signature_summary

PROGRAM = (Path(__file__).parents[1] / "data" / "triage" / "flaky.c").read_text()

RUNS = 200


@pytest.fixture(scope="module")
def flaky_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None or not sys.platform.startswith(("linux", "darwin")):
        pytest.skip("needs a C compiler on a POSIX system")
    d = tmp_path_factory.mktemp("flaky")
    (d / "flaky.c").write_text(PROGRAM)
    subprocess.run([cc, "-O0", "-o", str(d / "flaky"), str(d / "flaky.c")], check=True)
    return d / "flaky"


def test_two_failure_modes_give_exactly_two_signatures(flaky_binary: Path) -> None:
    signatures = Counter()
    tails = set()
    passes = 0
    for _ in range(RUNS):
        # In its own directory: a SIGSEGV may dump "core" into the cwd (once another
        # test raised this process's RLIMIT_CORE), and a core in the checkout once
        # got committed.
        proc = subprocess.run(
            [str(flaky_binary)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30,
            cwd=flaky_binary.parent,
        )
        if proc.returncode == 0:
            passes += 1
            continue
        tails.add(proc.stdout)
        signatures[signature_for(Outcome.FAIL, proc.returncode, "posix", proc.stdout)] += 1
    # The messages really did differ from run to run: the test would catch a split.
    assert len(tails) > 20
    assert passes > 0
    assert len(signatures) == 2, signature_summary(signatures)
    titles = sorted(s.title for s in signatures)
    # No built-in pattern matches the worker's chatter, so the status alone names it.
    assert titles[0] == "SIGSEGV (-11)"
    assert titles[1] == (
        "exit 1 · error: checksum mismatch in <tmp>: expected <addr> got <addr> after <dur> (<pid>)"
    )
    assert signature_summary(signatures).startswith("2 distinct failures: ")
