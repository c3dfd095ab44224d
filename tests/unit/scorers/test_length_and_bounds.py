"""max/min words and characters, latency and cost bounds."""

from __future__ import annotations

import pytest

from releasegate.scorers import ScoreStatus

from ._support import check


@pytest.mark.parametrize(
    ("spec", "output", "expected"),
    [
        ({"type": "max-words", "value": 3}, "one two three", 1.0),
        ({"type": "max-words", "value": 3}, "one two three four", 0.0),
        ({"type": "min-words", "value": 3}, "one two", 0.0),
        ({"type": "min-words", "value": 3}, "one\ttwo\nthree", 1.0),
        ({"type": "max-words", "value": 0}, "   ", 1.0),
        ({"type": "min-words", "value": 0}, "", 1.0),
        ({"type": "max-chars", "value": 5}, "  hello \n", 1.0),
        ({"type": "max-chars", "value": 5, "strip": False}, "  hello \n", 0.0),
        ({"type": "max-chars", "value": 5}, "hello!", 0.0),
        ({"type": "min-chars", "value": 6}, "hello!", 1.0),
        ({"type": "min-chars", "value": 7}, "hello!", 0.0),
        ({"type": "max-words", "value": 2.0}, "a b", 1.0),
    ],
)
def test_length_bounds(spec: dict[str, object], output: str, expected: float) -> None:
    assert check(spec, output).value == expected


def test_length_reason_states_count_and_bound() -> None:
    res = check({"type": "max-words", "value": 3}, "one two three four")
    assert res.reason == "4 words > max 3"
    assert res.details["n"] == 4


def test_words_split_on_unicode_whitespace() -> None:
    # NO-BREAK SPACE, IDEOGRAPHIC SPACE and EM SPACE separate words like a plain space.
    text = "alpha\u00a0beta\u3000gamma\u2003delta"
    assert check({"type": "max-words", "value": 4}, text).value == 1.0
    assert check({"type": "max-words", "value": 3}, text).value == 0.0


def test_chars_count_composed_characters_once() -> None:
    decomposed = "e\u0301" * 3  # three "é" written as letter + combining accent
    assert check({"type": "max-chars", "value": 3}, decomposed).value == 1.0
    assert check({"type": "max-chars", "value": 2}, decomposed).value == 0.0
    assert check({"type": "max-chars", "value": 1}, "\U0001f600").value == 1.0


def test_latency_bound() -> None:
    spec = {"type": "latency", "value": 1000}
    assert check(spec, "x", latency_ms=999.5).value == 1.0
    assert check(spec, "x", latency_ms=1000).value == 1.0
    res = check(spec, "x", latency_ms=1500)
    assert res.value == 0.0 and res.reason == "latency 1500 ms > max 1000 ms"


def test_cost_bound() -> None:
    spec = {"type": "cost", "value": 0.002}
    assert check(spec, "x", cost_usd=0.0015).value == 1.0
    res = check(spec, "x", cost_usd=0.0031)
    assert res.value == 0.0 and res.reason == "cost $0.0031 > max $0.002"
    assert check({"type": "cost", "value": 0}, "x", cost_usd=0.0).value == 1.0


@pytest.mark.parametrize("check_type", ["latency", "cost"])
def test_missing_measurement_is_not_applicable(check_type: str) -> None:
    res = check({"type": check_type, "value": 1}, "x")
    assert res.status is ScoreStatus.NOT_APPLICABLE
    assert res.value is None
    assert check_type in res.reason
