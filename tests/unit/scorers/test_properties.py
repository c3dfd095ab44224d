"""Property-based tests of the deterministic checks."""

from __future__ import annotations

import json
import math
import re
import unicodedata
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from releasegate.scorers import InvalidScoreError, Sample, Score, Scorer, ScoreStatus
from releasegate.scorers._check import Check

from ._support import CASE, build, score_now
from .test_robustness import SPECS

# Built once: hypothesis calls each test body many times.
SCORERS = {name: build({"type": name, **spec}) for name, spec in SPECS.items()}
NEGATIONS = {
    "equals": "not-equals",
    "regex": "not-regex",
    "starts-with": "not-starts-with",
    "is-json": "not-is-json",
    "is-refusal": "not-refusal",
    "contains-any": "not-contains",
    "icontains-any": "not-icontains",
}
texts = st.text(max_size=300)
terms = st.text(min_size=1, max_size=8)
ascii_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=200)


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def run(name_or_spec: str | dict[str, Any], output: str, **sample: Any) -> Score:
    scorer = SCORERS[name_or_spec] if isinstance(name_or_spec, str) else build(name_or_spec)
    return score_now(scorer, Sample(**CASE, output=output, **sample))


def assert_in_unit_interval(name: str, scorer: Scorer, sample: Sample) -> Score:
    """Score ``sample`` and check the range of the value the check itself computed.

    :class:`Score` refuses a value outside [0, 1] instead of clamping it, so a check
    that computes 1.7 or NaN raises here with that raw value in the message; the range
    assertion also catches a Score whose value was changed after construction.
    """
    try:
        res = score_now(scorer, sample)
    except InvalidScoreError as exc:
        raise AssertionError(f"{name} computed an invalid score: {exc}") from exc
    if res.status is ScoreStatus.NOT_APPLICABLE:
        assert name in {"latency", "cost"} and res.value is None, (name, res)
    else:
        value = res.value
        assert type(value) is float and math.isfinite(value), (name, res)
        assert 0.0 <= value <= 1.0, (name, res)
    return res


@given(output=texts, latency=st.none() | st.floats(0, 1e6), cost=st.none() | st.floats(0, 10))
def test_every_score_is_in_unit_interval(
    output: str, latency: float | None, cost: float | None
) -> None:
    for name, scorer in SCORERS.items():
        sample = Sample(**CASE, output=output, latency_ms=latency, cost_usd=cost)
        assert_in_unit_interval(name, scorer, sample)


class _Broken(Check):
    """A check computing ``value`` whatever the output, as a bug in a formula would."""

    def __init__(self, value: float, *, forge: bool = False) -> None:
        super().__init__("broken")
        self.value = value
        self.forge = forge

    def evaluate(self, sample: Sample) -> Score:
        if self.forge:  # a value slipped past the constructor
            res = Score.measured(0.5)
            object.__setattr__(res, "value", self.value)
            return res
        return Score.measured(self.value)


@pytest.mark.parametrize("forge", [False, True])
@pytest.mark.parametrize("value", [1.7, -0.2, float("nan"), float("inf"), 1.0000000000000002])
def test_the_range_property_fails_on_a_check_out_of_range(value: float, forge: bool) -> None:
    """The property above can fail: it sees the raw value, not a clamped one."""
    with pytest.raises(AssertionError, match=re.escape(repr(value))):
        assert_in_unit_interval("broken", _Broken(value, forge=forge), Sample("x", **CASE))


@given(output=texts)
def test_negations_are_complements(output: str) -> None:
    for positive, negative in NEGATIONS.items():
        spec = {"type": positive, **SPECS[negative]}
        pos = run(spec, output)
        neg = run(negative, output)
        assert pos.value is not None and neg.value is not None
        assert pos.value + neg.value == 1.0, (positive, output)


@given(needles=st.lists(terms, min_size=1, max_size=6), output=texts, extra=texts)
def test_contains_all_is_monotone_in_the_output(
    needles: list[str], output: str, extra: str
) -> None:
    spec = {"type": "contains-all", "value": needles}
    # The space keeps Unicode composition from joining the two parts (e + U+0301 -> é).
    before, after = run(spec, output), run(spec, output + " " + extra)
    assert before.value is not None and after.value is not None
    assert after.value >= before.value
    # and it is exactly the share of terms present (compared in NFC, as the check does)
    found = sum(1 for t in needles if _nfc(t) in _nfc(output))
    assert before.value == pytest.approx(found / len(needles))


@given(needles=st.lists(terms, min_size=1, max_size=6), output=texts)
def test_any_all_none_agree(needles: list[str], output: str) -> None:
    all_ = run({"type": "contains-all", "value": needles}, output).value
    any_ = run({"type": "contains-any", "value": needles}, output).value
    none_ = run({"type": "not-contains", "value": needles}, output).value
    assert any_ == (1.0 if all_ else 0.0)
    assert none_ == 1.0 - any_


# ASCII only: full Unicode folding can recompose characters (J + U+030C -> U+01F0 after
# lower-casing), so "case-insensitive finds at least what case-sensitive finds" is an
# ASCII law, not a Unicode one.
@given(needle=ascii_text.filter(bool), output=ascii_text)
def test_case_insensitive_is_weaker_than_case_sensitive(needle: str, output: str) -> None:
    cs = run({"type": "contains", "value": needle}, output).value
    ci = run({"type": "icontains", "value": needle}, output).value
    assert ci is not None and cs is not None and ci >= cs
    assert ci == run({"type": "icontains", "value": needle.swapcase()}, output).value
    assert ci == (1.0 if needle.lower() in output.lower() else 0.0)


@given(text=texts)
def test_equals_is_reflexive(text: str) -> None:
    assert run({"type": "equals", "value": text}, text).value == 1.0
    assert run({"type": "equals", "value": text, "case_sensitive": False}, text).value == 1.0


# ASCII again: dotless i (U+0131) upper-cases to "I", which folds to "i", so case
# changes do not round-trip through Unicode case folding in general.
@given(text=ascii_text)
def test_equals_ignores_ascii_case_when_asked(text: str) -> None:
    spec = {"type": "equals", "value": text, "case_sensitive": False}
    assert run(spec, text.swapcase()).value == 1.0


@given(text=texts, k=st.integers(0, 80))
def test_max_and_min_words_partition(text: str, k: int) -> None:
    at_most = run({"type": "max-words", "value": k}, text).value
    more = run({"type": "min-words", "value": k + 1}, text).value
    assert at_most is not None and more is not None and at_most + more == 1.0


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(value=json_values, indent=st.none() | st.integers(0, 4))
def test_serialized_json_is_json(value: Any, indent: int | None) -> None:
    text = json.dumps(value, indent=indent, ensure_ascii=False)
    assert run({"type": "is-json"}, text).value == 1.0
    assert run({"type": "is-json", "allow_fenced": True}, f"```json\n{text}\n```").value == 1.0


@given(
    words=st.lists(
        st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8), min_size=3, max_size=8
    ),
    copies=st.integers(3, 30),
)
@settings(max_examples=50)
def test_a_sentence_repeated_scores_at_most_one_over_copies(words: list[str], copies: int) -> None:
    sentence = " ".join(words) + ". "
    res = run("repetition", sentence * copies)
    assert res.value is not None
    # with the default max_repeats of 2, every copy after the first is excess
    assert res.value <= 1.0 / copies + 1e-9
