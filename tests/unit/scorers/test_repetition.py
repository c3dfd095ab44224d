"""repetition (no-repetition, loop)."""

from __future__ import annotations

import pytest

from releasegate.scorers import ScorerContext
from releasegate.scorers._check import negate
from releasegate.scorers.repetition import build_repetition, repetition_stats
from releasegate.scorers.spec import AssertSpec

from ._support import build, check

PROSE = (
    "Refunds are available within thirty days of purchase. Bring the original receipt "
    "to any store, or start a return online from your order history. Items that were "
    "opened can be exchanged but not refunded, unless they arrived damaged. Gift cards "
    "are final sale. If you paid by card, the money reaches your account in five to "
    "seven business days; cash purchases are refunded on the spot."
)


def test_prose_scores_one() -> None:
    res = check({"type": "repetition"}, PROSE)
    assert res.value == 1.0
    assert res.reason.startswith("4-gram repetition 0% (max 30%); no line or sentence")


def test_looping_output_scores_low() -> None:
    looping = PROSE + " " + "I will check that for you. " * 12
    res = check({"type": "repetition"}, looping)
    assert res.value is not None and res.value < 0.5
    assert "'i will check that for you' x12" in res.reason


def test_short_repeated_sentence_caught_by_unit_rule() -> None:
    res = check({"type": "loop"}, "I don't know. I don't know. I don't know.")
    # three copies of one unit: two are excess, so 1 - 2/3
    assert res.value == pytest.approx(1 / 3)


def test_two_copies_allowed_by_default_three_not() -> None:
    line = "Please contact support for help."
    assert check({"type": "repetition", "max_ratio": 0.9}, f"{line}\n{line}").value == 1.0
    assert check({"type": "repetition", "max_ratio": 0.9}, f"{line}\n{line}\n{line}").value < 1


def test_score_decreases_with_more_repetition() -> None:
    values = [
        check({"type": "no-repetition"}, PROSE + " Thanks for asking today." * k).value
        for k in (0, 3, 10, 40)
    ]
    assert values == sorted(values, reverse=True)
    assert values[0] == 1.0 and values[-1] is not None and values[-1] < 0.2


def test_short_units_are_not_counted() -> None:
    # "Yes." three times is an answer style, not a loop (fewer than min_words words).
    assert check({"type": "repetition"}, "Yes.\nYes.\nYes.").value == 1.0
    spec = {"type": "repetition", "min_words": 1}
    assert check(spec, "Yes.\nYes.\nYes.").value < 1.0


def test_options_change_the_measure() -> None:
    text = "the cat sat on the mat and the cat sat on the rug"
    stats = repetition_stats(text, n=3)
    # 13 words give 11 3-grams; "the cat sat", "cat sat on", "sat on the" recur -> 8 distinct
    assert (stats.ngram_total, stats.ngram_distinct) == (11, 8)
    assert stats.ngram_ratio == pytest.approx(3 / 11)
    assert check({"type": "repetition", "n": 3, "max_ratio": 0.3}, text).value == 1.0
    strict = check({"type": "repetition", "n": 3, "max_ratio": 0.1}, text)
    assert strict.value == pytest.approx((1 - 3 / 11) / (1 - 0.1))
    assert check({"type": "repetition", "max_repeats": 5}, "I don't know. " * 5).value < 1.0


def test_cjk_loop_detected_by_sentences() -> None:
    text = "我不知道答案。" * 5
    res = check({"type": "repetition", "min_words": 1}, text)
    assert res.value is not None and res.value < 0.5


def test_empty_output_has_no_repetition() -> None:
    res = check({"type": "repetition"}, "")
    assert res.value == 1.0


def test_repetition_is_graded_so_it_cannot_be_negated() -> None:
    assert build({"type": "repetition"}).default_threshold == 1.0
    with pytest.raises(TypeError, match="not binary"):
        negate(build_repetition)(AssertSpec(type="not-loop"), ScorerContext())
