"""The pytest plugin's pure parts: repetition ids, selection, variants, signatures."""

from __future__ import annotations

from pathlib import Path

import pytest

from flakehunt.pytest_plugin.items import (
    Rep,
    Wanted,
    repetitions,
    selected,
    split_nodeid,
    split_selection,
)
from flakehunt.pytest_plugin.options import parse_variants
from flakehunt.pytest_plugin.recorder import slot_of
from flakehunt.pytest_plugin.signature import RepFailure, crash_signature, signature_of


@pytest.mark.parametrize("nodeid, path, wanted, kept", [
    ("t.py::test_p[b-fh1]", "/r/t.py", [Wanted("/r/t.py", "test_p[b]")], True),
    ("t.py::test_p[a-fh1]", "/r/t.py", [Wanted("/r/t.py", "test_p[b]")], False),
    ("t.py::test_q[a-fh1]", "/r/t.py", [Wanted("/r/t.py", "test_p[b]")], True),
    ("t.py::test_p[a-fh1]", "/r/u.py", [Wanted("/r/t.py", "test_p[b]")], True),
    ("t.py::C::test_p[a-1-fh2]", "/r/t.py", [Wanted("/r/t.py", "C::test_p[a-1]")], True),
])
def test_selected_parameter_sets(nodeid: str, path: str, wanted: list[Wanted],
                                 kept: bool) -> None:
    assert selected(nodeid, path, wanted) is kept


def test_split_selection_strips_parameter_ids(tmp_path: Path) -> None:
    args, wanted = split_selection(["t.py::test_p[b]", "u.py::test_q", "dir"], str(tmp_path))
    assert args == ["t.py::test_p", "u.py::test_q", "dir"]
    assert wanted == [Wanted(str((tmp_path / "t.py").resolve()), "test_p[b]")]


@pytest.mark.parametrize("nodeid, expected", [
    ("t.py::test_y[fh3]", ("t.py::test_y", Rep(3))),
    ("t.py::test_y[a-1-fh12]", ("t.py::test_y[a-1]", Rep(12))),
    ("t.py::test_y[fh2@fix]", ("t.py::test_y", Rep(2, "fix"))),
    ("t.py::test_y[x-fh3-fh1@a-b]", ("t.py::test_y[x-fh3]", Rep(1, "a-b"))),
    ("t.py::C::test_y[fh1]", ("t.py::C::test_y", Rep(1))),
    ("t.py::test_y[a]", None),
    ("t.py::test_y", None),
])
def test_split_nodeid(nodeid: str, expected: tuple[str, Rep] | None) -> None:
    assert split_nodeid(nodeid) == expected


def test_repetition_ids_round_trip() -> None:
    for rep in repetitions(3) + repetitions(3, ["a", "b"], seed=1):
        assert split_nodeid(f"t.py::f[{rep.id}]") == ("t.py::f", rep)


def test_parse_variants_merges_keys_of_one_name() -> None:
    assert parse_variants(["base", "fix=A=1", "fix=B=x=y"]) == (
        ("base", ()), ("fix", (("A", "1"), ("B", "x=y"))))


def test_slot_of_worker() -> None:
    assert [slot_of(w) for w in ("main", "gw0", "gw11")] == [0, 0, 11]


def test_signature_masks_numbers_but_keeps_type_and_frame() -> None:
    a = signature_of(RepFailure("call", "ValueError", "got 17 after 3.5s", "t.py:9"))
    b = signature_of(RepFailure("call", "ValueError", "got 18 after 4.25s", "t.py:9"))
    assert a == b
    assert a[1] == "ValueError: got <n> after <dur> · t.py:9"
    assert signature_of(RepFailure("call", "KeyError", "got 17 after 3.5s", "t.py:9")) != a
    assert signature_of(RepFailure("call", "ValueError", "got 17 after 3.5s", "t.py:10")) != a
    setup = signature_of(RepFailure("setup", "ValueError", "got 1", "conftest.py:3"))
    assert setup[1].startswith("error in setup: ValueError")


def test_plugin_module_imports_no_flakehunt_core() -> None:
    import subprocess
    import sys

    code = ("import sys, flakehunt.pytest_plugin; "
            "print(sorted(m for m in sys.modules if m.startswith('flakehunt')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == str(sorted(["flakehunt", "flakehunt.pytest_plugin",
                                      "flakehunt.pytest_plugin.options"]))




def test_crash_signature_is_stable_and_distinct() -> None:
    assert crash_signature() == crash_signature()
    assert crash_signature()[0] != signature_of(RepFailure("call", "", "", ""))[0]
