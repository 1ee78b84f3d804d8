import pytest

from flakehunt.errors import InputError
from flakehunt.units import format_duration, format_size, parse_duration, parse_size


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90", 90),
        ("1.5s", 1.5),
        ("250ms", 0.25),
        ("30m", 1800),
        ("12h", 43200),
        ("1h30m", 5400),
        ("2d", 172800),
        (" 10s ", 10),
    ],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "abc", "10x", "-5s", "1h foo"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(InputError, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "n"),
    [
        ("512", 512),
        ("64k", 64000),
        ("64KiB", 65536),
        ("2GiB", 2 * 1024**3),
        ("500MB", 500 * 10**6),
        ("1.5MiB", 1572864),
    ],
)
def test_parse_size(text: str, n: int) -> None:
    assert parse_size(text) == n


@pytest.mark.parametrize("text", ["", "2 parsecs", "GiB", "-1"])
def test_parse_size_rejects(text: str) -> None:
    with pytest.raises(InputError, match="size"):
        parse_size(text)


@pytest.mark.parametrize(
    ("seconds", "text"), [(0.85, "850ms"), (4.21, "4.2s"), (185, "3m05s"), (7440, "2h04m")]
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_format_size() -> None:
    assert format_size(512) == "512 B"
    assert format_size(1536) == "1.5 KiB"
    assert format_size(2 * 1024**3) == "2.0 GiB"
