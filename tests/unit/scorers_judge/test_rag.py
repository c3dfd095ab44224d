from __future__ import annotations

import json

import pytest

from releasegate.errors import ConfigError, ProviderError
from releasegate.llm import ChatRequest
from releasegate.scorers import ScoreStatus
from releasegate.scorers.rag import average_precision

from ._fakes import FixedEmbedder, ScriptedJudge, answers, make, sample, user_text

CHUNKS = ["Paris is the capital of France.", "France uses the euro.", "Lyon is in France."]


def j(**obj: object) -> str:
    return json.dumps(obj)


def claims(*cs: str) -> str:
    return j(claims=list(cs))


def verdicts(*oks: bool) -> str:
    return j(verdicts=[{"claim": i, "reason": "", "supported": ok} for i, ok in enumerate(oks, 1)])


# --- faithfulness -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("oks", "expected"),
    [
        ((True, True, True, True), 1.0),
        ((True, False, True, False), 0.5),
        ((False, False, False), 0.0),
        ((True, True, False), 2 / 3),
    ],
)
async def test_faithfulness_is_supported_over_total(oks: tuple[bool, ...], expected: float) -> None:
    cs = [f"claim {i}" for i in range(len(oks))]
    judge = ScriptedJudge(answers(claims(*cs), verdicts(*oks)))
    s = await make("faithfulness", judge).score(sample("answer", context=CHUNKS))
    assert s.status is ScoreStatus.MEASURED
    assert s.value == pytest.approx(expected)
    assert s.usage is not None and s.usage.total_tokens == 220
    assert s.details["judge_calls"] == 2
    second = user_text(judge.requests[1])
    assert all(c in second for c in CHUNKS) and "1. claim 0" in second


async def test_faithfulness_accepts_string_verdicts() -> None:
    v = j(verdicts=[{"verdict": "yes"}, {"verdict": "no"}])
    judge = ScriptedJudge(answers(claims("a", "b"), v))
    s = await make("faithfulness", judge).score(sample("x", context="ctx"))
    assert s.value == pytest.approx(0.5)


async def test_faithfulness_without_claims_is_not_applicable() -> None:
    judge = ScriptedJudge(answers(claims()))
    s = await make("faithfulness", judge).score(sample("I cannot help.", context=CHUNKS))
    assert s.status is ScoreStatus.NOT_APPLICABLE
    assert len(judge.requests) == 1


@pytest.mark.parametrize(
    "script",
    [
        (claims("a", "b"), verdicts(True)),  # wrong count
        (claims("a"), j(verdicts=[{"supported": "perhaps"}])),
        ("no json",),
        (j(claims="a single string"),),
        (claims("a"), ProviderError("500")),
        (TimeoutError(),),
        (j(claims=[1, 2]),),
    ],
)
async def test_faithfulness_failures_are_unmeasured(script: tuple[object, ...]) -> None:
    judge = ScriptedJudge(answers(*script))  # type: ignore[arg-type]
    s = await make("faithfulness", judge).score(sample("x", context=CHUNKS))
    assert s.status is ScoreStatus.UNMEASURED and s.value is None and s.reason


def test_faithfulness_requires_context() -> None:
    assert make("faithfulness", ScriptedJudge(answers())).requires == frozenset({"context"})


# --- context precision --------------------------------------------------------------


@pytest.mark.parametrize(
    ("relevant", "expected"),
    [
        ([True, False, True], (1 / 1 + 2 / 3) / 2),
        ([False, True, True], (1 / 2 + 2 / 3) / 2),
        ([True, True, False], 1.0),
        ([False, False, True], 1 / 3),
        ([False, False, False], 0.0),
        ([True], 1.0),
    ],
)
def test_average_precision(relevant: list[bool], expected: float) -> None:
    assert average_precision(relevant) == pytest.approx(expected)


def _by_chunk(relevance: dict[str, bool]) -> ScriptedJudge:
    def script(req: ChatRequest) -> str:
        text = user_text(req)
        for chunk, rel in relevance.items():
            if chunk in text:
                return j(reason="", relevant=rel)
        return "?"

    return ScriptedJudge(script, delay=0.01)


async def test_context_precision_one_concurrent_call_per_chunk() -> None:
    judge = _by_chunk(dict(zip(CHUNKS, [False, True, True], strict=True)))
    s = await make("context-precision", judge).score(
        sample("Paris", context=CHUNKS, reference="Paris is the capital.")
    )
    assert s.value == pytest.approx((1 / 2 + 2 / 3) / 2)
    assert len(judge.requests) == 3 and judge.max_in_flight == 3
    assert "REFERENCE" in user_text(judge.requests[0])
    assert s.usage is not None and s.usage.total_tokens == 330


async def test_context_precision_uses_answer_without_reference() -> None:
    judge = _by_chunk({CHUNKS[0]: True, CHUNKS[1]: False, CHUNKS[2]: False})
    check = make("context-precision", judge)
    assert check.requires == frozenset({"context"})
    s = await check.score(sample("It is Paris.", context=CHUNKS))
    assert s.value == 1.0
    assert "It is Paris." in user_text(judge.requests[0])


async def test_context_precision_one_bad_chunk_verdict_makes_it_unmeasured() -> None:
    judge = _by_chunk({CHUNKS[0]: True, CHUNKS[1]: False})  # third chunk answers "?"
    s = await make("context-precision", judge).score(sample("x", context=CHUNKS))
    assert s.status is ScoreStatus.UNMEASURED


def test_context_precision_against_reference_requires_it() -> None:
    check = make("context-precision", ScriptedJudge(answers()), against="reference")
    assert check.requires == frozenset({"context", "reference"})
    with pytest.raises(ConfigError, match="against"):
        make("context-precision", ScriptedJudge(answers()), against="both")


# --- context recall -----------------------------------------------------------------


async def test_context_recall_is_attributed_over_total() -> None:
    stmts = j(
        statements=[
            {"statement": s, "reason": "", "attributed": a}
            for s, a in [("a", True), ("b", False), ("c", True), ("d", True)]
        ]
    )
    judge = ScriptedJudge(answers(stmts))
    check = make("context-recall", judge)
    assert check.requires == frozenset({"context", "reference"})
    s = await check.score(sample("x", context=CHUNKS, reference="a. b. c. d."))
    assert s.value == pytest.approx(0.75)
    assert len(judge.requests) == 1


async def test_context_recall_empty_statements_is_unmeasured() -> None:
    judge = ScriptedJudge(answers(j(statements=[])))
    s = await make("context-recall", judge).score(sample("x", context=CHUNKS, reference="r"))
    assert s.status is ScoreStatus.UNMEASURED


# --- answer relevancy ---------------------------------------------------------------

Q = "What is the capital of France?"
EMB = FixedEmbedder(
    {
        Q: [1.0, 0.0],
        "Which city is France's capital?": [1.0, 0.0],
        "What is Paris?": [0.6, 0.8],
        "What is the weather?": [-1.0, 0.0],
    }
)


async def test_answer_relevancy_mean_cosine() -> None:
    gen = j(noncommittal=False, questions=["Which city is France's capital?", "What is Paris?"])
    judge = ScriptedJudge(answers(gen))
    check = make("answer-relevancy", judge, EMB, questions=2)
    s = await check.score(sample("Paris is the capital."))
    assert s.value == pytest.approx((1.0 + 0.6) / 2)
    assert "2 different questions" in str(judge.requests[0].messages[0]["content"])


async def test_answer_relevancy_negative_mean_clips_to_zero() -> None:
    judge = ScriptedJudge(answers(j(noncommittal=False, questions=["What is the weather?"])))
    s = await make("answer-relevancy", judge, EMB).score(sample("Sunny."))
    assert s.status is ScoreStatus.MEASURED and s.value == 0.0


async def test_answer_relevancy_noncommittal_scores_zero_without_embedding() -> None:
    emb = FixedEmbedder({})
    judge = ScriptedJudge(answers(j(noncommittal=True, questions=["What is Paris?"])))
    s = await make("answer-relevancy", judge, emb).score(sample("I don't know."))
    assert s.value == 0.0 and "non-committal" in s.reason
    assert emb.calls == []


async def test_answer_relevancy_embedder_failure_is_unmeasured() -> None:
    judge = ScriptedJudge(answers(j(noncommittal=False, questions=["unknown question"])))
    s = await make("answer-relevancy", judge, EMB).score(sample("x"))
    assert s.status is ScoreStatus.UNMEASURED and "embedding" in s.reason


def test_answer_relevancy_needs_an_embedder() -> None:
    with pytest.raises(ConfigError, match="needs an embedder"):
        make("answer-relevancy", ScriptedJudge(answers()))
    with pytest.raises(ConfigError, match="needs a judge"):
        make("context-recall", None)
