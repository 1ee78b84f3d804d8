"""Every generated table entry round-trips: name -> value -> name, aliases included."""

from __future__ import annotations

import pytest

from flakehunt.triage import fastfail_table, ntstatus_table, winerror_table
from flakehunt.triage.decode import (
    Kind,
    decode,
    fast_fail_reading,
    hresult_reading,
    ntstatus_reading,
    win32_reading,
)
from flakehunt.triage.parse import parse_value

TABLES = [
    ("ntstatus", Kind.NTSTATUS, ntstatus_table.NTSTATUS, ntstatus_reading),
    ("hresult", Kind.HRESULT, winerror_table.HRESULTS, hresult_reading),
    ("win32", Kind.WIN32, winerror_table.WIN32_ERRORS, win32_reading),
    ("fast-fail", Kind.FAST_FAIL, fastfail_table.FAST_FAIL, fast_fail_reading),
]


@pytest.mark.parametrize(("table", "kind", "codes", "reader"), TABLES, ids=[t[0] for t in TABLES])
def test_every_name_round_trips(table, kind, codes, reader):
    for value, names in codes.items():
        back = reader(value)
        # value -> name: the primary name, with every other name of that value as an alias.
        assert (back.name, *back.aliases) == names, hex(value)
        for name in names:
            # name -> value: the parser finds the name in this table with this value...
            parsed = parse_value(name)
            assert any(n.table == table and n.value == value for n in parsed.names), name
            # ...and decode(name) yields a reading of this kind that knows the name.
            readings = decode(name)
            assert any(
                r.kind is kind and r.value == value and name in (r.name, *r.aliases)
                for r in readings
            ), name


def test_tables_have_the_expected_size():
    # ntstatus.h has about 1,677 STATUS_ codes; a parser regression would lose many.
    status_names = [n for names in ntstatus_table.NTSTATUS.values() for n in names]
    assert sum(n.startswith("STATUS_") for n in status_names) >= 1600
    assert len(winerror_table.WIN32_ERRORS) >= 1500
    assert len(winerror_table.HRESULTS) >= 1000
    assert fastfail_table.FAST_FAIL[10] == ("FAST_FAIL_GUARD_ICALL_CHECK_FAILURE",)


def test_aliases_share_a_value_and_keep_the_header_name_first():
    assert ntstatus_table.NTSTATUS[0xC0000005] == (
        "STATUS_ACCESS_VIOLATION",
        "EXCEPTION_ACCESS_VIOLATION",
    )
    r = decode("EXCEPTION_ACCESS_VIOLATION")[0]
    assert (r.kind, r.value, r.name) == (Kind.NTSTATUS, 0xC0000005, "STATUS_ACCESS_VIOLATION")
    assert "EXCEPTION_ACCESS_VIOLATION" in r.aliases


def test_numeric_decode_finds_every_large_ntstatus_and_hresult():
    for value, names in ntstatus_table.NTSTATUS.items():
        if value > 0xFFFF:
            assert any(r.kind is Kind.NTSTATUS and r.name == names[0] for r in decode(value))
    for value, names in winerror_table.HRESULTS.items():
        if value > 0xFFFF:
            assert any(r.kind is Kind.HRESULT and r.name == names[0] for r in decode(value))


def test_generated_modules_are_current(tmp_path):
    import importlib.util
    from pathlib import Path

    gen = Path(__file__).parents[2] / "tools" / "gen_status_tables.py"
    include = Path("/usr/share/mingw-w64/include")
    if not (include / "ntstatus.h").is_file():
        pytest.skip("mingw-w64-common headers not installed")
    spec = importlib.util.spec_from_file_location("gen_status_tables", gen)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--check"]) == 0
