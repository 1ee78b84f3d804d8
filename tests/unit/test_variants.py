"""-V/-P/-e and campaign files into variants."""

from __future__ import annotations

from pathlib import Path

import pytest

from flakehunt.campaign.variants import build_variants, load_campaign_file, variants_from_file
from flakehunt.errors import InputError, UsageError


def sh(cmd: str) -> tuple[str, ...]:
    return ("sh", "-c", cmd)


def test_named_commands_run_through_the_shell() -> None:
    vs = build_variants(["normal=make", "sync=make && sync"], [], (), [], sh)
    assert [(v.name, v.argv) for v in vs] == [
        ("normal", ("sh", "-c", "make")), ("sync", ("sh", "-c", "make && sync"))]


def test_environment_only_variants_share_the_command() -> None:
    vs = build_variants(["plain", "checked"], [], ("./t", "-x"), ["checked:MALLOC_CHECK_=3"], sh)
    assert vs[0].argv == vs[1].argv == ("./t", "-x")
    assert vs[0].env == () and vs[1].env == (("MALLOC_CHECK_", "3"),)


def test_parameter_scan_makes_one_variant_per_value() -> None:
    vs = build_variants([], [("threads", "1,4,16")], ("./t", "--threads={threads}"), [], sh)
    assert [v.name for v in vs] == ["threads=1", "threads=4", "threads=16"]
    assert vs[2].argv == ("./t", "--threads=16")


@pytest.mark.parametrize(
    ("specs", "params", "shared", "env", "message"),
    [
        (["a=x"], [], (), [], "at least two variants"),
        (["a=x", "a=y"], [], (), [], "given twice"),
        (["a", "b"], [], (), [], "has no command"),
        (["a=x", "b=y"], [], (), ["c:K=V"], "not defined"),
        (["a=x", "b=y"], [], (), ["a-K=V"], "VARIANT:KEY=VALUE"),
        ([], [("n", "1,2")], ("./t",), [], "does not use {n}"),
        (["bad name=x", "b=y"], [], (), [], "not usable"),
        (["a=", "b=y"], [], (), [], "empty command"),
    ],
)
def test_bad_variant_specs_say_what_to_write(specs: list[str], params: list[tuple[str, str]],
                                             shared: tuple[str, ...], env: list[str],
                                             message: str) -> None:
    with pytest.raises((UsageError, InputError), match=message):
        build_variants(specs, params, shared, env, sh)


def test_campaign_file(tmp_path: Path) -> None:
    f = tmp_path / "flakehunt.toml"
    f.write_text("""
[compare]
baseline = "normal"
runs = 50
[[compare.variants]]
name = "normal"
command = "make"
[[compare.variants]]
name = "flushed"
command = ["flakehunt", "exec", "--flush", "out", "--", "make"]
env = { CC = "clang" }
""")
    section = load_campaign_file(f)
    assert section["runs"] == 50
    vs = variants_from_file(section, sh)
    assert vs[0].argv == ("sh", "-c", "make")
    assert vs[1].argv[0] == "flakehunt" and vs[1].env == (("CC", "clang"),)


def test_campaign_file_errors_are_one_line(tmp_path: Path) -> None:
    f = tmp_path / "flakehunt.toml"
    f.write_text("[compare\n")
    with pytest.raises(InputError, match="cannot read"):
        load_campaign_file(f)
    with pytest.raises(InputError, match="no campaign file"):
        load_campaign_file(tmp_path / "missing.toml")
