"""Exit statuses read right: the story's codes, signals, shell 128+N, HRESULTs, bad input."""

from __future__ import annotations

import sys

import pytest

from flakehunt.errors import InputError
from flakehunt.status import ExitStatus
from flakehunt.triage import signals
from flakehunt.triage.decode import Kind, decode, status_label

CFG = "FAST_FAIL_GUARD_ICALL_CHECK_FAILURE"

# value as typed -> (kind, value, name) of the first reading
FIRST_READING = [
    (3221225477, (Kind.NTSTATUS, 0xC0000005, "STATUS_ACCESS_VIOLATION")),
    (-1073741819, (Kind.NTSTATUS, 0xC0000005, "STATUS_ACCESS_VIOLATION")),
    ("3221225477", (Kind.NTSTATUS, 0xC0000005, "STATUS_ACCESS_VIOLATION")),
    ("-1073741819", (Kind.NTSTATUS, 0xC0000005, "STATUS_ACCESS_VIOLATION")),
    ("0xC0000005", (Kind.NTSTATUS, 0xC0000005, "STATUS_ACCESS_VIOLATION")),
    ("0xc0000005", (Kind.NTSTATUS, 0xC0000005, "STATUS_ACCESS_VIOLATION")),
    ("C0000005", (Kind.NTSTATUS, 0xC0000005, "STATUS_ACCESS_VIOLATION")),
    ("STATUS_ACCESS_VIOLATION", (Kind.NTSTATUS, 0xC0000005, "STATUS_ACCESS_VIOLATION")),
    ("status_access_violation", (Kind.NTSTATUS, 0xC0000005, "STATUS_ACCESS_VIOLATION")),
    (-1073740791, (Kind.NTSTATUS, 0xC0000409, "STATUS_STACK_BUFFER_OVERRUN")),
    ("0xC0000409", (Kind.NTSTATUS, 0xC0000409, "STATUS_STACK_BUFFER_OVERRUN")),
    (-11, (Kind.SIGNAL, 11, "SIGSEGV")),
    (139, (Kind.SHELL_SIGNAL, 139, "SIGSEGV")),
    (134, (Kind.SHELL_SIGNAL, 134, "SIGABRT")),
    ("SIGSEGV", (Kind.SIGNAL, 11, "SIGSEGV")),
    ("segv", (Kind.SIGNAL, 11, "SIGSEGV")),
    ("0x80070005", (Kind.HRESULT, 0x80070005, "E_ACCESSDENIED")),
    ("80070005", (Kind.HRESULT, 0x80070005, "E_ACCESSDENIED")),
    ("E_ACCESSDENIED", (Kind.HRESULT, 0x80070005, "E_ACCESSDENIED")),
    ("E_FAIL", (Kind.HRESULT, 0x80004005, "E_FAIL")),
    ("ERROR_ACCESS_DENIED", (Kind.WIN32, 5, "ERROR_ACCESS_DENIED")),
    ("0xE06D7363", (Kind.NTSTATUS, 0xE06D7363, "MSVC_CPP_EXCEPTION")),
    ("FAST_FAIL_GUARD_ICALL_CHECK_FAILURE", (Kind.FAST_FAIL, 10, CFG)),
    (3, (Kind.EXIT, 3, "")),
    (0, (Kind.EXIT, 0, "")),
    (35584, (Kind.WAIT_STATUS, 35584, "")),
]


@pytest.mark.parametrize(("value", "expected"), FIRST_READING, ids=str)
def test_first_reading(value, expected):
    r = decode(value)[0]
    assert (r.kind, r.value, r.name) == expected


def test_the_story_codes_are_two_different_failures_with_hex_labels():
    av = decode(-1073741819)[0]
    bo = decode(-1073740791)[0]
    assert av.label == "0xC0000005 STATUS_ACCESS_VIOLATION"
    assert bo.label == "0xC0000409 STATUS_STACK_BUFFER_OVERRUN"
    assert av.details["signed"] == "-1073741819" and av.details["unsigned"] == "3221225477"
    assert av.details["severity"] == "error" and av.details["customer"] == "0"
    # The stack-buffer-overrun code is what __fastfail raises; say so, naming the CFG code.
    assert "__fastfail" in bo.description
    assert "FAST_FAIL_GUARD_ICALL_CHECK_FAILURE" in bo.description


def test_fast_fail_code_from_a_dump_is_attached():
    r = decode(0xC0000409, fast_fail_code=10)[0]
    assert r.details["fail-fast"] == "FAST_FAIL_GUARD_ICALL_CHECK_FAILURE (10)"
    ff = decode("FAST_FAIL_GUARD_ICALL_CHECK_FAILURE")
    assert "Control Flow Guard" in ff[0].description
    assert ff[1].label == "0xC0000409 STATUS_STACK_BUFFER_OVERRUN"


def test_hresult_names_the_win32_error_it_wraps():
    readings = decode("0x80070005")
    assert readings[0].details["wraps"] == "Win32 ERROR_ACCESS_DENIED (5)"
    assert (readings[1].kind, readings[1].name) == (Kind.WIN32, "ERROR_ACCESS_DENIED")
    assert readings[0].details["facility"] == "0x007 FACILITY_WIN32"


def test_shell_convention_keeps_the_plain_exit_reading_too():
    kinds = [r.kind for r in decode(139)]
    assert kinds[:2] == [Kind.SHELL_SIGNAL, Kind.EXIT]
    assert decode(139)[0].label == "exit 139 (SIGSEGV by shell convention?)"


def test_signal_numbers_that_differ_between_linux_and_macos_show_both():
    readings = decode(-10)
    names = {(r.name, r.platform) for r in readings if r.kind is Kind.SIGNAL}
    assert names == {("SIGUSR1", "linux"), ("SIGBUS", "macos")}
    here = "macos" if sys.platform == "darwin" else "linux"
    assert readings[0].platform == here


def test_platform_puts_its_readings_first():
    assert decode(5, platform="windows")[0].kind is Kind.EXIT
    assert decode("80000003", platform="windows")[0].name == "STATUS_BREAKPOINT"
    assert decode(-10, platform="macos")[0].name == "SIGBUS"
    assert decode(-10, platform="linux")[0].name == "SIGUSR1"


def test_unknown_large_value_shows_its_structure():
    r = decode("0xC0FF0123")[0]
    assert r.kind is Kind.NTSTATUS and r.name == ""
    assert r.details["facility"].startswith("0x0FF") and r.details["code"] == "0x0123"


BAD = ["bogus", "0xZZ", "", "12.5", "0x1FFFFFFFF", "-2147483649", "SIGNOPE"]


@pytest.mark.parametrize("bad", BAD)
def test_unparseable_value_names_the_accepted_forms(bad):
    with pytest.raises(InputError) as err:
        decode(bad)
    assert err.value.status is ExitStatus.USAGE
    text = str(err.value)
    for form in ("decimal", "hex", "0xC0000005", "STATUS_ACCESS_VIOLATION", "SIGSEGV"):
        assert form in text


STATUS_LABELS = [
    ((3221225477, "windows"), "0xC0000005 STATUS_ACCESS_VIOLATION"),
    ((-1073741819, "windows"), "0xC0000005 STATUS_ACCESS_VIOLATION"),
    ((-1073740791, "windows"), "0xC0000409 STATUS_STACK_BUFFER_OVERRUN"),
    ((0x80070005, "windows"), "0x80070005 E_ACCESSDENIED"),
    ((0xC0FF0123, "windows"), "0xC0FF0123"),
    ((1, "windows"), "exit 1"),
    ((-11, "posix"), "SIGSEGV (-11)"),
    ((-6, "linux"), "SIGABRT (-6)"),
    ((-10, "macos"), "SIGBUS (-10)"),
    ((-10, "linux"), "SIGUSR1 (-10)"),
    ((3, "posix"), "exit 3"),
    ((0, "posix"), "exit 0"),
    ((139, "posix"), "exit 139 (SIGSEGV by shell convention?)"),
    ((134, "posix"), "exit 134 (SIGABRT by shell convention?)"),
    ((127, "posix"), "exit 127 (command not found?)"),
    ((None, "posix"), "no status"),
]


@pytest.mark.parametrize(("args", "label"), STATUS_LABELS, ids=[c[1] for c in STATUS_LABELS])
def test_status_label(args, label):
    assert status_label(*args) == label


def test_status_label_with_fast_fail_code():
    label = status_label(-1073740791, "windows", fast_fail_code=10)
    assert label == "0xC0000409 STATUS_STACK_BUFFER_OVERRUN (FAST_FAIL_GUARD_ICALL_CHECK_FAILURE)"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="compares with Linux's signals")
def test_fixed_linux_table_matches_the_running_signal_module():
    import signal

    for num, name in signals.LINUX.items():
        assert signal.Signals(num).name == name, num
    assert signal.SIGRTMIN == signals.LINUX_RTMIN and signal.SIGRTMAX == signals.LINUX_RTMAX


def test_bsd_table_differs_where_macos_differs():
    assert signals.signal_name(10, "macos") == "SIGBUS"
    assert signals.signal_name(30, "darwin") == "SIGUSR1"
    assert signals.signal_number("SIGINFO", "macos") == 29
    assert signals.signal_name(35, "linux") == "SIGRTMIN+1"
    names = ("SIGRTMIN+1", "SIGRTMAX-2", "RTMIN+99")
    assert [signals.signal_number(n, "linux") for n in names] == [35, 62, None]


from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@given(st.integers(min_value=0x10000, max_value=0xFFFFFF00))
def test_signed_unsigned_and_hex_spellings_read_the_same(u):
    signed = u - (1 << 32) if u & 0x80000000 else u
    spellings = [u, signed, str(u), str(signed), f"0x{u:08X}", f"0x{u:x}"]
    if any(c in "abcdef" for c in f"{u:x}"):  # bare digits-only hex reads as decimal
        spellings.append(f"{u:x}")
    firsts = {(decode(s)[0].kind, decode(s)[0].value, decode(s)[0].name) for s in spellings}
    assert len(firsts) == 1
    assert status_label(u, "windows") == status_label(signed, "windows")


@given(st.integers(min_value=-(2**31), max_value=2**32 - 1))
def test_every_32_bit_value_has_a_reading_and_a_label(v):
    assert decode(v)
    assert status_label(v, "windows") and status_label(v, "posix")
