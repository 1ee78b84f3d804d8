import pytest

from flakehunt.report.summary import rate_sentence
from flakehunt.stats.intervals import wilson, zero_failure_upper_bound


def test_wilson_matches_published_value() -> None:
    # Newcombe (1998), table I: 81/263 -> 0.2553 to 0.3662.
    lo, hi = wilson(81, 263)
    assert lo == pytest.approx(0.2553, abs=1e-4)
    assert hi == pytest.approx(0.3662, abs=1e-4)


def test_wilson_edges() -> None:
    assert wilson(0, 10)[0] == 0.0
    assert wilson(10, 10)[1] == 1.0
    assert wilson(0, 0) == (0.0, 1.0)


def test_zero_failure_bound_is_exact() -> None:
    # 600 clean runs: the rate is below 0.50% with 95% confidence (the example).
    b = zero_failure_upper_bound(600)
    assert (1 - b) ** 600 == pytest.approx(0.05)
    assert b < 0.005
    assert zero_failure_upper_bound(597) > 0.005  # 598 is the first n below 0.5%
    assert zero_failure_upper_bound(598) < 0.005


def test_rate_sentence_in_words() -> None:
    assert rate_sentence(0, 600) == (
        "no failure in 600 runs: the rate is below 0.50% with 95% confidence"
    )
    assert rate_sentence(12, 333).startswith("12 of 333 runs failed: 3.6% [")
