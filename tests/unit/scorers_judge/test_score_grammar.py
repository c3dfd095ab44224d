"""How a judge's score is read: a well-formed number (decimal point or comma, a
percentage, a fraction) in [0, 1], followed by allowed text; anything else is
unmeasured with the reason, never the number the text happens to start with."""

from __future__ import annotations

import json
import math
import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from releasegate.scorers import ScoreStatus
from releasegate.scorers._judge_parse import JudgeParseError, parse_score, parse_unit_float
from releasegate.scorers._judge_score import parse_score_expression

from ._fakes import ScriptedJudge, answers, make, sample


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Score: 0.9", 0.9),
        ("Score: 0,9", 0.9),  # decimal comma: read as the judge meant it
        ("Score: 0,75", 0.75),
        ("Score: 0,125", 0.125),  # a zero whole part cannot be a thousands group
        ("Score: 1,0", 1.0),
        ("Score: .5", 0.5),
        ("Score: +0.5", 0.5),
        ("Score: -0", 0.0),
        ("Score: 5e-1", 0.5),
        ("Score: 1", 1.0),
        ("Score: 0", 0.0),
        ("Score: 9/10", 0.9),
        ("Score: 8 / 10", 0.8),
        ("Score: 0.8/1.0", 0.8),
        ("Score: 1,5/10", 0.15),
        ("Score: 4 out of 5", 0.8),
        ("Score: 4 of 5", 0.8),
        ("Score: 80%", 0.8),
        ("Score: 80 %", 0.8),
        ("Score: 80 percent", 0.8),
        ("Score: 0.8.", 0.8),
        ("Score: 0.8, mostly right", 0.8),
        ("Score: 0.8 - mostly right", 0.8),
        ("Score: 0.8 (good enough)", 0.8),
        ("Score: 4/5 stars", 0.8),
        ("**Score:** **0.8**", 0.8),
        ("> **Final score**: _0.7_", 0.7),
        ("Overall rating = 3 out of 4", 0.75),
        ("SCORE=1", 1.0),
        ("Score: 0.9\nScore: 0,9\nScore: 90%", 0.9),  # the same score, three spellings
        ('{"score": 0.9}\nScore: 0.9', 0.9),
    ],
)
def test_well_formed_scores_are_read(text: str, value: float) -> None:
    assert parse_score(text)[0] == pytest.approx(value)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("Score: 0.9.1", "well-formed"),
        ("Score: 0,9,1", "well-formed"),
        ("Score: 0.9,1", "well-formed"),
        ("Score: 1.000,5", "well-formed"),
        ("Score: 1e", "well-formed"),
        ("Score: 1e5", "outside"),
        ("Score: 0.9abc", "well-formed"),
        ("Score: 0.8-ish", "well-formed"),
        ("Score: 1.x", "well-formed"),
        ("Score: 0.8 0.9", "another number"),
        ("Score: 0.8 because 3 of 4 claims hold", "another number"),
        ("Score: 1 point out of 5", "another number"),
        ("Score: 1 out of five", "fraction"),
        ("Score: 1 / ten", "fraction"),
        ("Score: 4/5%", "well-formed"),
        ("Score: 1,000", "ambiguous"),
        ("Score: 1/1,000", "ambiguous"),
        ("Score: 0,5e1", "exponent"),
        ("Score: 3/0", "denominator"),
        ("Score: 3/-1", "denominator"),
        ("Score: 6/5", "outside"),
        ("Score: 120%", "outside"),
        ("Score: -0.1", "outside"),
        ("Score: 12", "outside"),
        ("Score: N/A", "not a number"),
        ("Score: high", "not a number"),
        ("Score:", "not a number"),
        ("Score: about 0.8", "not a number"),
        ("Score: \u0660\u066b\u0669", "not a number"),  # Arabic-Indic 0.9: digits must be ASCII
        ("Score: 0.2\nScore: 0.9", "conflicting"),
        ("Score: 0.9\nScore: 0.9.1", "well-formed"),
        ('{"score": 0.9}\nScore: 0.2', "conflicting"),
        ('{"score": 0.9}\nScore: 0.9.1', "well-formed"),
        ('{"score": "0.9.1"}', "well-formed"),
        ('{"score": "0,9,1"}', "well-formed"),
        ('{"score": "1e"}', "well-formed"),
        ('{"score": "0.9 (good)"}', "text after"),
        ('{"score": "high"}', "not a number"),
        ('{"score": 1e400}', "outside"),
        ('{"score": ' + "9" * 5001 + "}", "outside"),
        ('{"score": 0.9, "score": 0.1}', "twice"),
        ('{"Score": 0.9, "score": 0.1}', "twice"),
        ('{"score": 0.8, "rating": 0.3}', "conflicting"),
        ('{"verdicts": {"a": 1, "a": 2}, "score": 0.5}', "twice"),
    ],
)
def test_malformed_scores_are_unmeasured_with_the_reason(text: str, why: str) -> None:
    with pytest.raises(JudgeParseError, match=why):
        parse_score(text)


def test_duplicate_keys_that_agree_and_unrelated_keys_are_fine() -> None:
    assert parse_score('{"score": 0.4, "score": 0.4}')[0] == pytest.approx(0.4)
    assert parse_score('{"score": 0.8, "grade": "B"}')[0] == pytest.approx(0.8)
    assert parse_score('{"score": 0.8, "rating": "80%"}')[0] == pytest.approx(0.8)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0,9", 0.9), (" 0.25 ", 0.25), ("25%", 0.25), ("1/4", 0.25), ("1 out of 4", 0.25)],
)
def test_json_score_strings(value: str, expected: float) -> None:
    assert parse_unit_float(value) == pytest.approx(expected)


@pytest.mark.parametrize("value", ["0.9.1", "0.9 x", "", "nan", "inf", "1_0", "0x1", "½"])
def test_json_score_strings_refused(value: str) -> None:
    with pytest.raises(JudgeParseError):
        parse_unit_float(value)


# --- end to end: the llm-judge check -----------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "value"),
    [("Score: 0,9\nReason: ok", 0.9), ('{"score": "0,9", "reason": "ok"}', 0.9)],
)
async def test_llm_judge_reads_a_decimal_comma(answer: str, value: float) -> None:
    s = await make("llm-judge", ScriptedJudge(answers(answer)), value="be right").score(
        sample("Paris")
    )
    assert s.status is ScoreStatus.MEASURED and s.value == pytest.approx(value)


@pytest.mark.parametrize(
    "answer",
    [
        "Score: 0.9.1",
        "Score: 0,9,1",
        "Score: 1e",
        "Score: 0.8 0.3",
        "Score: 0.9 trailing 7",
        '{"score": 0.9, "score": 0.2}',
    ],
)
async def test_llm_judge_malformed_score_is_unmeasured(answer: str) -> None:
    s = await make("llm-judge", ScriptedJudge(answers(answer)), value="be right").score(
        sample("Paris")
    )
    assert s.status is ScoreStatus.UNMEASURED and s.value is None
    assert s.reason.startswith("unreadable judge answer")


# --- properties --------------------------------------------------------------------------

_NUMBER = re.compile(r"[-+]?(?:\d+(?:[.,]\d+)?|[.,]\d+)(?:[eE][-+]?\d+)?")
_VERDICT_WORD = re.compile(r"true|false|pass|fail|yes|no\b|correct", re.IGNORECASE)


def _candidates(text: str) -> list[float]:
    """Every value a reading of ``text`` could honestly give: a number written in it,
    that number as a percentage, or one number over another; 0 and 1 when it holds a
    verdict word."""
    numbers: list[float] = []
    for token in _NUMBER.findall(text):
        try:
            numbers.append(float(token.replace(",", ".")))
        except ValueError:
            continue
    out = [*numbers, *(n / 100 for n in numbers)]
    out += [a / b for a in numbers for b in numbers if b > 0]
    if _VERDICT_WORD.search(text):
        out += [0.0, 1.0]
    return out


_FRAGMENTS = [
    "Score",
    "score",
    "Final score",
    "RATING",
    ":",
    "=",
    " ",
    "\n",
    "**",
    "0",
    "1",
    "9",
    "75",
    ".",
    ",",
    "/",
    "%",
    " out of ",
    " of ",
    "e",
    "-",
    "+",
    "{",
    "}",
    '"score"',
    '"rating"',
    '"verdict"',
    '"pass"',
    '"0,9"',
    "true",
    "null",
    "Reason: fine",
    "<think>",
    "</think>",
    "```",
    "abc",
]
judge_like_text = st.lists(
    st.sampled_from(_FRAGMENTS) | st.text(st.characters(exclude_characters="\\"), max_size=6),
    max_size=25,
).map("".join)


@settings(deadline=None, max_examples=400)
@given(judge_like_text)
@example("Score: 0,9")
@example("Score: 0.9.1")
@example('{"score": "0,9"}')
def test_any_text_reads_as_a_value_it_contains_or_is_unmeasured(text: str) -> None:
    try:
        value, reason = parse_score(text)
    except JudgeParseError as exc:
        assert str(exc)  # the reason is never empty
        return
    assert 0.0 <= value <= 1.0 and isinstance(reason, str)
    assert any(math.isclose(value, c, rel_tol=1e-9, abs_tol=1e-12) for c in _candidates(text)), (
        text,
        value,
    )


@settings(deadline=None)
@given(st.floats(0.0, 1.0))
def test_a_score_in_range_round_trips_in_every_spelling(v: float) -> None:
    spellings = [
        f"Score: {v!r}",
        f"Score: {v!r}\nReason: because",
        f"**Final score:** {v!r}.",
        json.dumps({"score": v, "reason": "r"}),
        json.dumps({"score": repr(v)}),
        f"Score: {v!r} / 1",
    ]
    if "e" not in repr(v):
        spellings.append(f"Score: {repr(v).replace('.', ',', 1)}")
    for text in spellings:
        assert parse_score(text)[0] == pytest.approx(v, rel=1e-12, abs=1e-15), text
    assert parse_score_expression(f"{v * 100!r}%") == pytest.approx(v, rel=1e-9, abs=1e-12)


@settings(deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True).filter(lambda x: not 0.0 <= x <= 1.0))
def test_a_score_out_of_range_is_never_read(v: float) -> None:
    for text in (f"Score: {v!r}", json.dumps({"score": v}), json.dumps({"score": repr(v)})):
        with pytest.raises(JudgeParseError):
            parse_score(text)
