"""The demo image format and the run step's two failure signatures."""

from __future__ import annotations

import pytest

from flakehunt.demo.image import (
    PAGE,
    Finding,
    FormatProblem,
    Layout,
    decode_header,
    encode_header,
    inspect,
    make_page,
)
from flakehunt.demo.runstep import message

LAYOUT = Layout(code_pages=6, guard_pages=3, seed=7)


def full_image(layout: Layout = LAYOUT) -> bytearray:
    img = bytearray(encode_header(layout))
    for p in range(1, layout.pages):
        img += make_page(layout, p)
    return img


def zero(img: bytearray, page: int) -> bytearray:
    img[page * PAGE : (page + 1) * PAGE] = bytes(PAGE)
    return img


def test_header_round_trips() -> None:
    assert decode_header(encode_header(LAYOUT)) == LAYOUT
    assert LAYOUT.size == 10 * PAGE


@pytest.mark.parametrize(
    "bad", [bytes(PAGE), b"short", b"NOTDEMO!" + encode_header(LAYOUT)[8:],
            encode_header(LAYOUT)[:20] + b"\x01" + encode_header(LAYOUT)[21:]],
)
def test_bad_headers_are_format_problems(bad: bytes) -> None:
    with pytest.raises(FormatProblem):
        decode_header(bad)


def test_complete_image_loads() -> None:
    assert inspect(full_image(), LAYOUT).finding is Finding.OK


@pytest.mark.parametrize(
    ("zeroed", "finding", "page"),
    [
        ([3, 4, 5, 6, 7, 8, 9], Finding.ZERO_CODE, 3),  # writer still in the code
        ([6, 7, 8, 9], Finding.ZERO_CODE, 6),
        ([8, 9], Finding.ZERO_GUARD, 8),  # code done, guard table still zero
        ([9], Finding.ZERO_GUARD, 9),
    ],
)
def test_zero_pages_give_the_two_signatures(zeroed: list[int], finding: Finding, page: int) -> None:
    img = full_image()
    for p in zeroed:
        zero(img, p)
    verdict = inspect(img, LAYOUT)
    assert (verdict.finding, verdict.page, verdict.zero_pages) == (finding, page, len(zeroed))


def test_a_torn_code_page_is_an_access_violation_too() -> None:
    img = full_image()
    img[2 * PAGE + 100 : 2 * PAGE + 200] = bytes(100)
    assert inspect(img, LAYOUT).finding is Finding.TORN_CODE


def test_pages_differ_and_none_is_zero() -> None:
    pages = {make_page(LAYOUT, p) for p in range(1, LAYOUT.pages)}
    assert len(pages) == LAYOUT.pages - 1
    assert all(any(p) for p in pages)


def test_rounds_change_content_not_validity() -> None:
    assert make_page(LAYOUT, 2, rounds=5) != make_page(LAYOUT, 2)


def test_messages_use_the_story_codes() -> None:
    img = zero(full_image(), 2)
    assert "0xC0000005" in message(inspect(img, LAYOUT), LAYOUT.pages)
    img = zero(full_image(), 9)
    assert "0xC0000409" in message(inspect(img, LAYOUT), LAYOUT.pages)
