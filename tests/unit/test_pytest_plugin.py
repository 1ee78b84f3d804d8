"""The pytest plugin, run by pytester in-process: repetitions, record, summary, compare."""

from __future__ import annotations

import sqlite3
import time

import numpy  # noqa: F401  (pytester drops modules a run imported; numpy cannot reload)
import pytest
import scipy.stats  # noqa: F401
from tests.helpers import plugin_args

from flakehunt.report.summary import pct
from flakehunt.stats.intervals import clopper_pearson, wilson

pytest_plugins = ["pytester"]


PLUGIN = plugin_args()
QUIET = tuple(a for p in ("repeat", "benchmark", "hypothesispytest", "xdist", "cacheprovider")
              for a in ("-p", f"no:{p}"))


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # The plugin is imported already (by this module), too late for assert rewriting.
    # Other plugins installed here only slow each in-process run down.
    return pytester.runpytest(*PLUGIN, *QUIET, "-W",
                              "ignore::pytest.PytestAssertRewriteWarning", *args)


def rows(pytester: pytest.Pytester, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(pytester.path / ".flakehunt" / "flakehunt.db") as conn:
        return conn.execute(sql).fetchall()


EVERY_FIFTH = """
    calls = [0]

    def test_every_fifth():
        calls[0] += 1
        assert calls[0] % 5 != 0, f"call {calls[0]} lost"

    def test_fine():
        pass
"""


def test_every_fifth_call_failing_gives_the_exact_rate_and_its_interval(
        pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_x=EVERY_FIFTH)
    result = run(pytester, "--flakehunt=50", "test_x.py")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(failed=10, passed=90)
    lo, hi = wilson(10, 50)
    result.stdout.fnmatch_lines([
        f"FLAKY   test_x.py::test_every_fifth: 10 of 50 runs failed: 20.0% "
        f"[[]{pct(lo)}–{pct(hi)}, 95% Wilson]",
        "*x10 [[]*] AssertionError: call <n> lost · test_x.py:5",
        "passed  test_x.py::test_fine: no failure in 50 runs*",
    ])
    assert rows(pytester, "SELECT variant, outcome, COUNT(*) FROM runs GROUP BY 1, 2"
                " ORDER BY 1, 2") == [
        ("test_x.py::test_every_fifth", "fail", 10),
        ("test_x.py::test_every_fifth", "pass", 40),
        ("test_x.py::test_fine", "pass", 50),
    ]
    assert rows(pytester, "SELECT kind, state FROM campaigns") == [("pytest", "finished")]
    # Blocks are the repetition index, 1..50 for each test.
    assert rows(pytester, "SELECT MIN(block), MAX(block), COUNT(DISTINCT block) FROM runs"
                " GROUP BY variant") == [(1, 50, 50)] * 2


@pytest.mark.skipif(time.get_clock_info("monotonic").resolution > 1e-9,
                    reason="needs a nanosecond monotonic clock")
def test_a_clock_driven_one_in_five_failure_is_found_with_the_right_rate(
        pytester: pytest.Pytester) -> None:
    # Fails when the monotonic clock's nanosecond count is a multiple of 5. The
    # clock reads in ns (TSC here) and the time between repetitions varies by far
    # more than 5 ns, so the residue is uniform and independent from one
    # repetition to the next: p = 1/5, with no counter and no `random`. (The
    # microsecond digit is not: a repetition's jitter can be under 5 µs, and
    # successive residues then correlate; measured 27.5% of 200.)
    pytester.makepyfile(test_clock="""
        import time

        def test_clock_race():
            assert time.monotonic_ns() % 5 != 0
    """)
    n = 300
    result = run(pytester, f"--flakehunt={n}", "test_clock.py")
    [(failed,)] = rows(pytester, "SELECT COUNT(*) FROM runs WHERE outcome = 'fail'")
    assert isinstance(failed, int)
    result.assert_outcomes(failed=failed, passed=n - failed)
    # 1/5 lies in the 99.99% exact interval of what was found (fails 1 in 10,000).
    lo, hi = clopper_pearson(failed, n, 0.9999)
    assert lo <= 0.2 <= hi, failed
    wlo, whi = wilson(failed, n)
    result.stdout.fnmatch_lines([
        f"FLAKY   test_clock.py::test_clock_race: {failed} of {n} runs failed: "
        f"{pct(failed / n)} [[]{pct(wlo)}–{pct(whi)}, 95% Wilson]",
    ])
    # Different clock readings, one failure: the numbers are masked.
    assert rows(pytester, "SELECT COUNT(DISTINCT signature) FROM runs"
                " WHERE outcome = 'fail'") == [(1,)]


def test_fixture_scopes_module_and_session_once_function_per_repetition(
        pytester: pytest.Pytester) -> None:
    log = pytester.path / "setups.log"
    pytester.makeconftest(f"""
        import pytest

        def note(what):
            with open({str(log)!r}, "a") as f:
                f.write(what + "\\n")

        @pytest.fixture(scope="session")
        def sess():
            note("session")

        @pytest.fixture(scope="module")
        def mod(request, sess):
            note("module " + request.module.__name__)

        @pytest.fixture
        def func(mod):
            note("function")
    """)
    pytester.makepyfile(test_a="def test_1(func): pass\ndef test_2(func): pass\n",
                        test_b="def test_3(func): pass\n")
    result = run(pytester, "--flakehunt=4")
    result.assert_outcomes(passed=12)
    lines = log.read_text().splitlines()
    assert lines.count("session") == 1
    assert lines.count("module test_a") == 1
    assert lines.count("module test_b") == 1
    assert lines.count("function") == 12
    # The repetitions of one test run back to back.
    order = [r[0] for r in rows(pytester, "SELECT variant FROM runs ORDER BY seq")]
    assert order == ["test_a.py::test_1"] * 4 + ["test_a.py::test_2"] * 4 + [
        "test_b.py::test_3"] * 4


def test_failures_differing_only_in_numbers_share_one_signature(
        pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_sig="""
        import itertools, os
        n = itertools.count(1000)

        def test_numbers():
            raise TimeoutError(f"waited {next(n)} ms for pid {os.getpid()} at 0x{id(n):x}")

        def test_two_ways():
            if next(n) % 2:
                raise ValueError("odd")
            raise KeyError("even")
    """)
    result = run(pytester, "--flakehunt=6", "test_sig.py")
    result.assert_outcomes(failed=12)
    sigs = rows(pytester, "SELECT variant, COUNT(DISTINCT signature), COUNT(*) FROM runs"
                " GROUP BY variant ORDER BY variant")
    assert sigs == [("test_sig.py::test_numbers", 1, 6), ("test_sig.py::test_two_ways", 2, 6)]
    result.stdout.fnmatch_lines([
        "BROKEN  test_sig.py::test_numbers: 6 of 6 runs failed*",
        "*x6 [[]*] TimeoutError: waited <dur> for <pid> at <addr> · test_sig.py:5",
    ])


def test_parametrized_tests_count_per_parameter_set(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_p="""
        import pytest

        @pytest.mark.parametrize("x", [1, 2, 3])
        def test_p(x):
            assert x != 2
    """)
    result = run(pytester, "--flakehunt=3", "test_p.py")
    result.assert_outcomes(passed=6, failed=3)
    assert rows(pytester, "SELECT variant, COUNT(*), SUM(outcome = 'fail') FROM runs"
                " GROUP BY variant ORDER BY variant") == [
        ("test_p.py::test_p[1]", 3, 0), ("test_p.py::test_p[2]", 3, 3),
        ("test_p.py::test_p[3]", 3, 0)]
    result.stdout.fnmatch_lines(["BROKEN  test_p.py::test_p[[]2]: 3 of 3 runs failed*"])


def test_one_parameter_set_can_be_selected(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_p="""
        import pytest

        @pytest.mark.parametrize("x", ["a", "b"])
        def test_p(x):
            pass

        def test_other():
            pass
    """)
    result = run(pytester, "--flakehunt=3", "test_p.py::test_p[b]", "test_p.py::test_other")
    result.assert_outcomes(passed=6, deselected=3)
    assert rows(pytester, "SELECT DISTINCT variant FROM runs ORDER BY 1") == [
        ("test_p.py::test_other",), ("test_p.py::test_p[b]",)]


def test_an_error_in_a_fixture_fails_the_repetition_with_its_own_signature(
        pytester: pytest.Pytester) -> None:
    pytester.makeconftest("""
        import itertools, pytest
        n = itertools.count()

        @pytest.fixture
        def flaky_resource():
            if next(n) % 2:
                raise ConnectionError("port 4100 busy")
    """)
    pytester.makepyfile(test_r="def test_r(flaky_resource):\n    pass\n")
    result = run(pytester, "--flakehunt=4")
    result.assert_outcomes(passed=2, errors=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([
        "FLAKY   test_r.py::test_r: 2 of 4 runs failed*",
        "*x2 [[]*] error in setup: ConnectionError: port <n> busy · conftest.py:7",
    ])


def test_an_unusable_database_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_x=EVERY_FIFTH)
    (pytester.path / "not.db").write_text("this is not sqlite " * 100)
    result = run(pytester, "--flakehunt=2", "--flakehunt-db", "not.db")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*flakehunt: cannot use database*"])


def test_until_fail_stops_at_the_first_failure(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_x=EVERY_FIFTH)
    result = run(pytester, "--flakehunt=100", "--flakehunt-until-fail", "test_x.py")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(failed=1, passed=4)
    result.stdout.fnmatch_lines(["stopped at the first failure"])
    assert rows(pytester, "SELECT COUNT(*), MAX(seq) FROM runs") == [(5, 5)]


def test_ctrl_c_keeps_what_ran_and_marks_the_campaign_interrupted(
        pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_i="""
        calls = [0]

        def test_i():
            calls[0] += 1
            if calls[0] == 3:
                raise KeyboardInterrupt  # what pytest sees on Ctrl-C
    """)
    result = pytester.runpytest(*PLUGIN, *QUIET, "-W", "ignore::pytest.PytestAssertRewriteWarning",
                                "--flakehunt=10", no_reraise_ctrlc=True)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["interrupted: the repetition that was running is not recorded"])
    assert rows(pytester, "SELECT COUNT(*) FROM runs") == [(2,)]
    assert rows(pytester, "SELECT state FROM campaigns") == [("interrupted",)]


def test_duration_stops_starting_repetitions(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_s="import time\ndef test_s():\n    time.sleep(0.02)\n")
    result = run(pytester, "--flakehunt=1000", "--flakehunt-duration", "0.3s")
    assert result.ret == pytest.ExitCode.OK
    [(n,)] = rows(pytester, "SELECT COUNT(*) FROM runs")
    assert isinstance(n, int) and 3 <= n < 100
    result.stdout.fnmatch_lines(["time limit reached"])


def test_skips_are_recorded_as_ignored_not_counted(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_k="import pytest\ndef test_k():\n    pytest.skip('no gpu')\n")
    result = run(pytester, "--flakehunt=3")
    assert result.ret == pytest.ExitCode.OK
    assert rows(pytester, "SELECT outcome, note FROM runs") == [("ignored", "skipped: no gpu")] * 3
    result.stdout.fnmatch_lines(["skipped test_k.py::test_k: no run completed; 3 skipped"])


def test_compare_sets_each_variants_environment_in_blocks(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_env="""
        import os

        def test_mode():
            assert os.environ.get("MODE") != "bad"

        def test_restored():
            assert "MODE" not in os.environ
    """)
    result = run(pytester, "--flakehunt=8", "--flakehunt-compare", "--flakehunt-seed", "7",
                 "--flakehunt-variant", "base", "--flakehunt-variant", "bad=MODE=bad",
                 "test_env.py::test_mode")
    result.assert_outcomes(passed=8, failed=8)
    result.stdout.fnmatch_lines([
        "compare test_env.py::test_mode (campaign 1, seed 7):",
        "base *baseline",
        "bad * 8 * 8 *worse",
    ])
    assert rows(pytester, "SELECT kind FROM campaigns") == [("compare",)]
    blocks = rows(pytester, "SELECT block, GROUP_CONCAT(variant) FROM runs GROUP BY block")
    assert len(blocks) == 8
    assert all(sorted(str(v).split(",")) == ["bad", "base"] for _, v in blocks)
    orders = {str(v) for _, v in blocks}
    assert orders == {"base,bad", "bad,base"}  # shuffled per block from the seed
    # The environment is the test's again afterwards.
    again = run(pytester, "test_env.py::test_restored")
    again.assert_outcomes(passed=1)


def test_flakehunt_show_reads_the_campaigns(pytester: pytest.Pytester) -> None:
    import json
    import subprocess
    import sys

    pytester.makepyfile(test_x=EVERY_FIFTH, test_env="""
        import os

        def test_mode():
            assert os.environ.get("MODE") != "bad"
    """)
    run(pytester, "--flakehunt=10", "test_x.py")
    run(pytester, "--flakehunt=4", "--flakehunt-compare", "--flakehunt-variant", "base",
        "--flakehunt-variant", "bad=MODE=bad", "test_env.py")

    def show(*args: str) -> str:
        return subprocess.run([sys.executable, "-m", "flakehunt", "show", *args],
                              cwd=pytester.path, capture_output=True, text=True,
                              check=True).stdout

    hunt = show("1")
    assert "campaign 1 (pytest, finished)" in hunt
    assert "test_x.py::test_every_fifth     2/10" in hunt
    assert "AssertionError: call <n> lost · test_x.py:5  x2" in hunt
    data = json.loads(show("--json", "1"))
    assert data["variants"]["test_x.py::test_fine"]["runs"] == 10
    compare = show("2")
    assert "campaign 2 (compare, finished)" in compare
    assert "baseline" in compare and "bad " in compare


def test_inactive_plugin_changes_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_x=EVERY_FIFTH)
    result = run(pytester, "test_x.py")
    result.assert_outcomes(passed=2)
    assert not (pytester.path / ".flakehunt").exists()


@pytest.mark.parametrize("args, message", [
    (["--flakehunt=0"], "*give at least 1 repetition*"),
    (["--flakehunt=3", "--flakehunt-duration", "soon"], "*cannot read duration*"),
    (["--flakehunt-compare", "--flakehunt-variant", "a"], "*at least two --flakehunt-variant*"),
    (["--flakehunt-variant", "a=B=c"], "*needs --flakehunt-compare*"),
    (["--flakehunt-compare", "--flakehunt-variant", "a", "--flakehunt-variant", "b=x y"],
     "*write NAME=KEY=VALUE*"),
])
def test_bad_options_are_usage_errors(pytester: pytest.Pytester, args: list[str],
                                      message: str) -> None:
    pytester.makepyfile(test_x=EVERY_FIFTH)
    result = run(pytester, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_db_option_and_environment_choose_the_database(pytester: pytest.Pytester,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile(test_x=EVERY_FIFTH)
    run(pytester, "--flakehunt=2", "--flakehunt-db", "here.db")
    assert (pytester.path / "here.db").exists()
    monkeypatch.setenv("FLAKEHUNT_DB", str(pytester.path / "env.db"))
    run(pytester, "--flakehunt=2")
    assert (pytester.path / "env.db").exists()
    assert not (pytester.path / ".flakehunt").exists()
