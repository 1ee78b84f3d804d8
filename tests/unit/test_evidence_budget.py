"""The evidence cap: reservations, refusals, one notice."""

from __future__ import annotations

from flakehunt.evidence.budget import EvidenceBudget


def test_reserve_until_full_then_refuse() -> None:
    b = EvidenceBudget(100)
    assert b.try_reserve(60)
    assert not b.try_reserve(50)
    assert b.try_reserve(40)
    assert b.remaining() == 0
    b.release(40)
    assert b.remaining() == 40


def test_notice_only_after_a_refusal_and_only_once() -> None:
    b = EvidenceBudget(10)
    assert b.take_notice() is None
    assert not b.try_reserve(11)
    assert not b.try_reserve(12)
    first = b.take_notice()
    assert first is not None and "--max-evidence" in first
    assert b.take_notice() is None


def test_unlimited() -> None:
    b = EvidenceBudget(None)
    assert b.try_reserve(10**15)
    assert b.remaining() is None
