"""An eval case and the target's output make the checks' :class:`Sample`: the same fields
online scoring fills from a production interaction."""

from __future__ import annotations

import pytest

from releasegate.datasets.case import Case
from releasegate.evals._scoring import CaseScorer, case_sample
from releasegate.llm import ChatProvider, ChatRequest, ChatResponse, Usage


def test_a_case_maps_onto_the_sample_fields() -> None:
    case = Case.model_validate(
        {
            "id": "c1",
            "input": {"question": "Capital of France?", "country": "France"},
            "context": ["Paris is the capital.", "France is in Europe."],
            "reference": "Paris",
            "expected_behavior": "Names Paris.",
            "metadata": {"source": "atlas"},
            "tags": ["geo"],
        }
    )
    sample = case_sample(case, "Paris", repeat=2, latency_ms=12.0, cost_usd=0.001)
    assert sample.output == "Paris" and sample.input == "Capital of France?"
    assert sample.variables == {"question": "Capital of France?", "country": "France"}
    assert sample.context == ("Paris is the capital.", "France is in Europe.")
    assert (sample.reference, sample.expected_behavior) == ("Paris", "Names Paris.")
    assert sample.metadata == {"source": "atlas"} and sample.tags == ("geo",)
    assert (sample.id, sample.repeat, sample.latency_ms, sample.cost_usd) == ("c1", 2, 12.0, 0.001)


@pytest.mark.parametrize(
    ("context", "chunks"),
    [(None, ()), ("", ()), ([], ()), ("one text", ("one text",)), ([""], ("",))],
)
def test_context_becomes_chunks_and_an_empty_text_is_no_context(
    context: object, chunks: tuple[str, ...]
) -> None:
    case = Case.model_validate({"id": "c", "input": "q", "context": context})
    assert case_sample(case, "a").context == chunks


class NeverCalled(ChatProvider):
    async def complete(self, request: ChatRequest) -> ChatResponse:
        raise AssertionError("the judge must not be called")


async def test_a_check_needing_context_is_not_applicable_on_a_case_without_it() -> None:
    case = Case.model_validate(
        {"id": "c", "input": "q", "context": "", "assert": [{"type": "faithfulness"}]}
    )
    scorer = CaseScorer(judge=NeverCalled())
    result = await scorer.score(case, 0, ChatResponse(text="a", usage=Usage()))
    [check] = result.checks
    assert (check.status, check.reason) == ("not_applicable", "needs context")
