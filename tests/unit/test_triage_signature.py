"""Signatures: kinds, stable ids, titles, OOM evidence, JUnit ids, the summary line."""

from __future__ import annotations

import re

from flakehunt.campaign.model import Outcome
from flakehunt.triage.signature import Signature, signature_for, signature_summary

FAIL, TIMEOUT = Outcome.FAIL, Outcome.TIMEOUT


def test_story_codes_signed_and_unsigned_are_one_signature_and_two_bugs():
    a = signature_for(FAIL, 3221225477, "windows", b"")
    b = signature_for(FAIL, -1073741819, "windows", b"")
    c = signature_for(FAIL, -1073740791, "windows", b"")
    assert a == b
    assert a.id != c.id
    assert a.title == "0xC0000005 STATUS_ACCESS_VIOLATION"
    assert c.title == "0xC0000409 STATUS_STACK_BUFFER_OVERRUN"
    assert a.kind == "crash"


def test_title_joins_status_and_fingerprint():
    sig = signature_for(FAIL, 0xC0000005, "windows", b"starting\nerror: null deref at 0x7ff6a000\n")
    assert sig.title == "0xC0000005 STATUS_ACCESS_VIOLATION · error: null deref at <addr>"
    assert len(sig.id) == 10 and re.fullmatch(r"[0-9a-f]+", sig.id)


def test_id_is_stable_across_processes_and_calls():
    # A literal id: changing the parts or normalisation must be a deliberate ID_VERSION bump.
    sig = signature_for(FAIL, -11, "linux", b"error: null deref at 0x10\n")
    assert sig == signature_for(FAIL, -11, "linux", b"error: null deref at 0x99\n")
    assert (sig.kind, sig.status, sig.fingerprint) == (
        "signal",
        "SIGSEGV (-11)",
        "error: null deref at <addr>",
    )


def test_kinds():
    assert signature_for(FAIL, 1, "posix", b"").kind == "fail"
    assert signature_for(FAIL, -11, "posix", b"").kind == "signal"
    assert signature_for(TIMEOUT, -9, "posix", b"").kind == "timeout"
    cns = signature_for(
        Outcome.COULD_NOT_START,
        None,
        "posix",
        b"",
        start_error="No such file or directory: './buidl.sh'",
    )
    assert cns.kind == "could-not-start"
    assert cns.title == "could not start: No such file or directory: './buidl.sh'"


def test_timeout_ignores_the_status_of_our_own_kill():
    a = signature_for(TIMEOUT, -9, "posix", b"waiting for lock\n")
    b = signature_for(TIMEOUT, -15, "posix", b"waiting for lock\n")
    assert a == b and a.title == "timeout"


def test_oom_needs_evidence_not_just_sigkill():
    plain = signature_for(FAIL, -9, "linux", b"Killed\n")
    assert plain.kind == "signal"
    hinted = signature_for(FAIL, -9, "linux", b"Out of memory: Killed process 4242 (cc1plus)\n")
    assert hinted.kind == "oom" and hinted.title.startswith("out of memory (SIGKILL (-9))")
    told = signature_for(FAIL, 137, "linux", b"", oom=True)
    assert told.kind == "oom" and told.id != plain.id


def test_junit_failures_name_the_test_and_split_clusters():
    a = signature_for(FAIL, 1, "posix", b"", junit_failures=["tests/test_x.py::test_y"])
    b = signature_for(FAIL, 1, "posix", b"", junit_failures=["tests/test_x.py::test_z"])
    assert a.id != b.id
    assert a.title == "exit 1 · test tests/test_x.py::test_y"
    many = signature_for(FAIL, 1, "posix", b"", junit_failures=["b", "a", "a"])
    assert many.tests == ("a", "b") and "test a (+1 more)" in many.title


def test_signature_regex_replaces_builtin_patterns():
    tail = b"error: noisy log line\nRESULT: shard 3 lost\n"
    rx = re.compile(r"RESULT: (.*)")
    sig = signature_for(FAIL, 1, "posix", tail, signature_regex=rx)
    assert sig.fingerprint == "shard <n> lost"


def test_fast_fail_code_from_a_dump_splits_the_overrun_status():
    cfg = signature_for(FAIL, 0xC0000409, "windows", b"", fast_fail_code=10)
    gs = signature_for(FAIL, 0xC0000409, "windows", b"", fast_fail_code=2)
    assert cfg.id != gs.id
    assert "FAST_FAIL_GUARD_ICALL_CHECK_FAILURE" in cfg.title


def test_summary_line():
    av = Signature("a", "0xC0000005 STATUS_ACCESS_VIOLATION")
    bo = Signature("b", "0xC0000409 STATUS_STACK_BUFFER_OVERRUN")
    assert signature_summary({bo: 3, av: 9}) == (
        "2 distinct failures: 0xC0000005 STATUS_ACCESS_VIOLATION x9 · "
        "0xC0000409 STATUS_STACK_BUFFER_OVERRUN x3"
    )
    assert signature_summary({"exit 1": 1}) == "1 distinct failure: exit 1 x1"
    assert signature_summary({}) == "no failures"
    many = {f"f{i}": 10 - i for i in range(7)}
    expected = "7 distinct failures: f0 x10 · f1 x9 · 5 more (30 runs)"
    assert signature_summary(many, limit=2) == expected
