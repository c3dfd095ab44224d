"""The RAG checks read their judges' verdicts as strictly as llm-judge reads a score: a
verdict is a yes/no value, given once; anything else is unmeasured, never 0 or 1."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from releasegate.scorers import ScoreStatus
from releasegate.scorers._judge_parse import JudgeParseError, parse_bool
from releasegate.scorers._judge_verdicts import in_claim_order, verdict_list

from ._fakes import FixedEmbedder, ScriptedJudge, answers, make, sample

CHUNKS = ["Paris is the capital of France.", "France uses the euro."]
YES_WORDS = {
    *("true", "yes", "y", "1", "pass", "passed", "supported", "relevant", "attributed"),
    *("entailed", "correct", "noncommittal", "non-committal"),
}


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([{"supported": True}, {"supported": False}], [True, False]),
        ([{"supported": "yes"}, {"supported": "No."}], [True, False]),
        ([{"Supported": 1}, {"SUPPORTED": 0}], [True, False]),
        ([{"supported": 1.0}, {"supported": "not  supported"}], [True, False]),
        ([{"verdict": "supported"}, {"verdict": "unsupported"}], [True, False]),
        ([{"supported": True, "verdict": "yes"}], [True]),  # both given, and agreeing
        ([{"supported": None, "verdict": "no"}], [False]),
    ],
)
def test_well_formed_verdicts(items: list[Any], expected: list[bool]) -> None:
    assert verdict_list(items, "supported", len(items), "claim") == expected


@pytest.mark.parametrize(
    ("items", "why"),
    [
        ([{"supported": "maybe"}], "yes/no"),
        ([{"supported": "yes, but only partly"}], "yes/no"),
        ([{"supported": 0.5}], "yes/no"),
        ([{"supported": 2}], "yes/no"),
        ([{"supported": "1.0"}], "yes/no"),
        ([{"supported": "idk"}], "yes/no"),
        ([{"supported": [True]}], "yes/no"),
        ([{"supported": True, "verdict": "no"}], "both yes and no"),
        ([{"supported": True, "Supported": False}], "twice"),
        ([{}], "has no"),
        ([{"supported": None}], "has no"),
        (["yes"], "not an object"),
        ([{"supported": True}, {"supported": True}], "expected 1"),
    ],
)
def test_malformed_verdicts_are_refused(items: list[Any], why: str) -> None:
    with pytest.raises(JudgeParseError, match=why):
        verdict_list(items, "supported", 1, "claim")


@pytest.mark.parametrize(
    ("numbers", "order"),
    [([1, 2, 3], [0, 1, 2]), ([3, 1, 2], [1, 2, 0]), (["2", "1"], [1, 0]), ([2.0, 1.0], [1, 0])],
)
def test_claim_numbers_put_verdicts_in_claim_order(numbers: list[Any], order: list[int]) -> None:
    items = [{"claim": n, "supported": i} for i, n in enumerate(numbers)]
    assert [item["supported"] for item in in_claim_order(items)] == order


@pytest.mark.parametrize(
    "numbers",
    [[1, 1], [0, 1], [1, 3], [1, None], [True, 2], ["first", "second"], [1.5, 2], ["٢", "1"]],
)
def test_claim_numbers_that_do_not_pair_up_are_refused(numbers: list[Any]) -> None:
    items = [{"claim": n, "supported": True} for n in numbers]
    with pytest.raises(JudgeParseError):
        in_claim_order(items)


@settings(deadline=None)
@given(
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["yes", "No", "true.", "supported", "not supported", "maybe", "y es"])
)
def test_a_verdict_is_read_only_from_what_it_literally_says(value: Any) -> None:
    try:
        verdict = parse_bool(value)
    except JudgeParseError:
        return
    if isinstance(value, bool):
        assert verdict is value
    elif isinstance(value, int | float):
        assert value in (0, 1) and verdict is (value == 1)
    else:
        word = " ".join(value.split()).strip(".!").lower()
        assert word, value
        assert verdict is (word in YES_WORDS)


# --- end to end ----------------------------------------------------------------------


def j(**obj: object) -> str:
    return json.dumps(obj)


async def test_faithfulness_pairs_verdicts_with_claims_by_number() -> None:
    got = j(
        verdicts=[
            {"claim": 2, "reason": "", "supported": False},
            {"claim": 1, "reason": "", "supported": True},
        ]
    )
    judge = ScriptedJudge(answers(j(claims=["Paris is the capital.", "It has 90 M people."]), got))
    s = await make("faithfulness", judge).score(sample("x", context=CHUNKS))
    assert s.status is ScoreStatus.MEASURED and s.value == 0.5
    assert s.details["verdicts"] == [True, False]
    assert "first unsupported: 'It has 90 M people.'" in s.reason


@pytest.mark.parametrize(
    "second",
    [
        j(verdicts=[{"claim": 1, "supported": True}, {"claim": 1, "supported": False}]),
        j(verdicts=[{"supported": True, "verdict": "no"}, {"supported": True}]),
        j(verdicts=[{"supported": "perhaps"}, {"supported": True}]),
        '{"verdicts": [{"supported": true}, {"supported": true}], '
        '"verdicts": [{"supported": false}, {"supported": false}]}',
        '{"verdicts": [{"supported": true, "supported": false}, {"supported": true}]}',
    ],
)
async def test_faithfulness_ambiguous_verdicts_are_unmeasured(second: str) -> None:
    judge = ScriptedJudge(answers(j(claims=["a", "b"]), second))
    s = await make("faithfulness", judge).score(sample("x", context=CHUNKS))
    assert s.status is ScoreStatus.UNMEASURED and s.value is None
    assert "unreadable judge answer" in s.reason
    assert s.details["judge_calls"] == 2  # tokens spent are still reported


@pytest.mark.parametrize(
    "answer",
    [
        '{"reason": "", "relevant": true, "relevant": false}',
        j(reason="", relevant="somewhat"),
        j(reason="", relevant=0.5),
        j(reason="", relevant=True, verdict="irrelevant"),
    ],
)
async def test_context_precision_ambiguous_relevance_is_unmeasured(answer: str) -> None:
    judge = ScriptedJudge(lambda _: answer)
    s = await make("context-precision", judge).score(sample("x", context=CHUNKS))
    assert s.status is ScoreStatus.UNMEASURED and s.value is None


@pytest.mark.parametrize(
    "answer",
    [
        j(statements=[{"statement": "a", "attributed": "partly"}]),
        j(statements=[{"statement": "a", "attributed": True, "Attributed": False}]),
        j(statements=[{"statement": "a", "attributed": True}], Statements=[]),
    ],
)
async def test_context_recall_ambiguous_attribution_is_unmeasured(answer: str) -> None:
    judge = ScriptedJudge(answers(answer))
    s = await make("context-recall", judge).score(sample("x", context=CHUNKS, reference="r"))
    assert s.status is ScoreStatus.UNMEASURED and s.value is None


@pytest.mark.parametrize(
    ("flag", "status"),
    [
        ('"idk"', ScoreStatus.UNMEASURED),
        ('"sometimes"', ScoreStatus.UNMEASURED),
        ("0.5", ScoreStatus.UNMEASURED),
        ('"yes"', ScoreStatus.MEASURED),  # readable: non-committal, scores 0
    ],
)
async def test_answer_relevancy_reads_the_noncommittal_flag_strictly(
    flag: str, status: ScoreStatus
) -> None:
    answer = f'{{"noncommittal": {flag}, "questions": ["q"]}}'
    emb = FixedEmbedder({"What is the capital of France?": [1.0, 0.0], "q": [1.0, 0.0]})
    s = await make("answer-relevancy", ScriptedJudge(answers(answer)), emb).score(sample("x"))
    assert s.status is status
    assert s.value == (0.0 if status is ScoreStatus.MEASURED else None)


@pytest.mark.parametrize(
    "vectors",
    [
        ([float("nan"), 1.0], [1.0, 0.0]),
        ([float("inf"), 1.0], [1.0, 0.0]),
        ([1e200, 1e200], [1e200, 1e200]),
    ],
)
async def test_similarity_of_non_finite_embeddings_is_unmeasured(
    vectors: tuple[list[float], list[float]],
) -> None:
    emb = FixedEmbedder({"answer": vectors[0], "reference": vectors[1]})
    s = await make("similar", None, emb).score(sample("answer", reference="reference"))
    assert s.status is ScoreStatus.UNMEASURED and s.value is None and "embedding" in s.reason


RELEVANT = '{"reason": "names the capital", "relevant": true}'
IRRELEVANT = '{"reason": "off topic", "relevant": false}'


@pytest.mark.parametrize(
    ("answer", "value"),
    [
        (RELEVANT, 1.0),
        (f"Here is my verdict:\n```json\n{RELEVANT}\n```", 1.0),
        (f"<think>maybe {IRRELEVANT}</think>{RELEVANT}", 1.0),
        (f"{IRRELEVANT} As said: {IRRELEVANT}", 0.0),  # the same object twice
        (f"{RELEVANT}\n{IRRELEVANT}", None),  # two different objects
        (f"First {IRRELEVANT}, on reflection {RELEVANT}", None),
        ('{"reason": "x", "relevant": "true, mostly"}', None),
        ("Relevant: yes", None),  # no JSON: verdicts are never guessed from prose
        ('{"reason": "x", "relevant": tru}', None),
    ],
)
async def test_context_precision_reads_json_in_prose_but_never_guesses(
    answer: str, value: float | None
) -> None:
    judge = ScriptedJudge(lambda _: answer)
    s = await make("context-precision", judge).score(sample("x", context=CHUNKS[:1]))
    assert s.value == value
    assert s.status is (ScoreStatus.MEASURED if value is not None else ScoreStatus.UNMEASURED)
