"""JUnit XML: one failing test among many is named, in every shape real tools write."""

from __future__ import annotations

from pathlib import Path

import pytest

from flakehunt.errors import FormatError, NotFound
from flakehunt.triage.junit import (
    case_id,
    failing_tests,
    failures_for_run,
    parse_junit,
    read_junit,
)

DATA = Path(__file__).parents[1] / "data" / "triage" / "junit"


def _pytest_xml(n: int, failing: int) -> bytes:
    cases = []
    for i in range(n):
        body = ""
        if i == failing:
            body = '<failure message="assert 41 == 42">test_store.py:88: AssertionError</failure>'
        cls = "tests.unit.test_store.TestWrites" if i % 2 else "tests.unit.test_store"
        case = f'<testcase classname="{cls}" name="test_case[{i}]" time="0.001">'
        cases.append(f"{case}{body}</testcase>")
    return (
        '<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="0" '
        f'failures="1" skipped="0" tests="{n}">' + "".join(cases) + "</testsuite></testsuites>"
    ).encode()


def test_one_failing_test_among_thousands_is_named():
    report = parse_junit(_pytest_xml(3000, failing=1733))
    assert report.tests == 3000
    assert report.failing_ids == ("tests/unit/test_store.py::TestWrites::test_case[1733]",)
    assert report.failures[0].message == "assert 41 == 42"


SHAPES = [
    ("go-junit-report.xml", 4, ("example.com/flaky/store.TestConcurrentWrite",)),
    ("gradle", 5, ("com.example.CacheTest.survivesConcurrentPut()",)),
    ("bazel-test.xml", 1, ("//net/http:client_test",)),
    ("maven-flaky.xml", 2, ("com.example.NetTest.timesOut",)),
]


@pytest.mark.parametrize(("name", "tests", "failing"), SHAPES, ids=[s[0] for s in SHAPES])
def test_shapes(name, tests, failing):
    report = read_junit(DATA / name)
    assert report.tests == tests
    assert report.failing_ids == failing
    assert failing_tests(DATA / name) == failing


def test_maven_flaky_failure_is_reported_but_not_failing():
    report = read_junit(DATA / "maven-flaky.xml")
    flaky = [f for f in report.failures if f.kind == "flaky"]
    assert [f.id for f in flaky] == ["com.example.NetTest.retriesOnReset"]


def test_entity_declarations_are_refused():
    with pytest.raises(FormatError, match="document type declaration"):
        read_junit(DATA / "billion-laughs.xml")


def test_truncated_file_is_a_format_error_with_a_hint():
    with pytest.raises(FormatError) as err:
        read_junit(DATA / "truncated.xml")
    assert "not well-formed" in err.value.message and err.value.hint


def test_missing_file_is_not_found(tmp_path):
    with pytest.raises(NotFound):
        read_junit(tmp_path / "nope.xml")


@pytest.mark.parametrize(
    ("classname", "name", "file", "pytest_shape", "expected"),
    [
        ("tests.test_x", "test_y", "", True, "tests/test_x.py::test_y"),
        ("tests.test_x.TestK", "test_y[a-1]", "", True, "tests/test_x.py::TestK::test_y[a-1]"),
        ("tests.test_x.TestK", "test_y", "tests/test_x.py", True, "tests/test_x.py::TestK::test_y"),
        ("com.example.FooTest", "testBar", "", False, "com.example.FooTest.testBar"),
        ("", "//pkg:target", "", False, "//pkg:target"),
    ],
)
def test_ids(classname, name, file, pytest_shape, expected):
    assert case_id(classname, name, file, pytest_shape) == expected


def test_failures_for_run_never_raises_and_ignores_a_stale_file(tmp_path):
    import os
    import shutil
    import time

    f = tmp_path / "out.xml"
    assert failures_for_run(f)[0] == () and "no JUnit file" in failures_for_run(f)[1]
    shutil.copy(DATA / "go-junit-report.xml", f)
    now = time.time()
    assert failures_for_run(f, started=now - 5) == (
        ("example.com/flaky/store.TestConcurrentWrite",),
        "",
    )
    os.utime(f, (now - 100, now - 100))
    ids, problem = failures_for_run(f, started=now)
    assert ids == () and "older than the run" in problem
    shutil.copy(DATA / "truncated.xml", f)
    ids, problem = failures_for_run(f)
    assert ids == () and "not well-formed" in problem
