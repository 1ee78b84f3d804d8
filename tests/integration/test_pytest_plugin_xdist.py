"""The pytest plugin under pytest-xdist: repetitions spread over workers, recorded once."""

from __future__ import annotations

import sqlite3

import pytest

pytest.importorskip("xdist", reason="pytest-xdist is not installed")

from tests.helpers import plugin_args

pytest_plugins = ["pytester"]


ARGS = (*plugin_args(), "-n", "2",
        *(a for p in ("repeat", "benchmark", "hypothesispytest") for a in ("-p", f"no:{p}")))


def test_two_workers_record_each_repetition_once(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_w="""
        import os, time

        def test_a():
            time.sleep(0.005)  # long enough that both workers get work

        def test_b():
            assert int(os.environ["PYTEST_XDIST_WORKER"][2:]) >= 0
    """)
    n = 15
    result = pytester.runpytest_subprocess(
        *ARGS, f"--flakehunt={n}", "--flakehunt-seed", "5", "test_w.py")
    result.assert_outcomes(passed=2 * n)
    with sqlite3.connect(pytester.path / ".flakehunt" / "flakehunt.db") as conn:
        runs = conn.execute("SELECT variant, block, worker, slot, concurrency, seq FROM runs"
                            ).fetchall()
        kind = conn.execute("SELECT kind, state FROM campaigns").fetchall()
    assert kind == [("pytest", "finished")]
    assert len(runs) == 2 * n
    assert len({(v, b) for v, b, *_ in runs}) == 2 * n  # no repetition recorded twice
    assert {(v, b) for v, b, *_ in runs} == {
        (f"test_w.py::test_{t}", b) for t in "ab" for b in range(1, n + 1)}
    assert {(w, s) for _, _, w, s, _, _ in runs} == {("gw0", 0), ("gw1", 1)}
    assert {c for *_, c, _ in runs} == {2}
    assert sorted(seq for *_, seq in runs) == list(range(1, 2 * n + 1))
    result.stdout.fnmatch_lines([
        f"passed  test_w.py::test_a: no failure in {n} runs*",
        f"passed  test_w.py::test_b: no failure in {n} runs*",
    ])


def test_until_fail_stops_the_workers(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_f="def test_f():\n    raise RuntimeError('boom')\n")
    result = pytester.runpytest_subprocess(
        *ARGS, "--flakehunt=500", "--flakehunt-until-fail", "test_f.py")
    assert result.ret != pytest.ExitCode.OK
    with sqlite3.connect(pytester.path / ".flakehunt" / "flakehunt.db") as conn:
        [(n,)] = conn.execute("SELECT COUNT(*) FROM runs").fetchall()
    assert 1 <= n <= 4  # each worker stops at its first failure


def test_a_worker_that_dies_is_a_recorded_failure(pytester: pytest.Pytester) -> None:
    marker = pytester.path / "crashed-once"
    pytester.makepyfile(test_c=f"""
        import os

        def test_c():
            try:  # atomically: two workers may get here at the same moment
                os.close(os.open({str(marker)!r}, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                return
            os._exit(3)  # the worker dies under the test, once
    """)
    n = 6
    result = pytester.runpytest_subprocess(*ARGS, f"--flakehunt={n}", "test_c.py")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    with sqlite3.connect(pytester.path / ".flakehunt" / "flakehunt.db") as conn:
        runs = conn.execute("SELECT block, outcome, note FROM runs").fetchall()
    assert len(runs) == n
    assert len({b for b, _, _ in runs}) == n
    assert [(o, note) for _, o, note in runs if o == "fail"] == [
        ("fail", "the worker process died")]
    result.stdout.fnmatch_lines([
        f"FLAKY   test_c.py::test_c: 1 of {n} runs failed*",
        "*x1 [[]*] worker crashed (the process died while running the test)",
    ])
