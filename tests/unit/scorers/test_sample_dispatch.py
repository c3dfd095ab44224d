"""Checks score a :class:`Sample` built with no dataset case: an online interaction is
scored by the same checks with the same rules (*not applicable* when a required input is
missing, *unmeasured* when a check raises) through one call, ``score_sample``."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from releasegate.llm import ChatProvider, ChatRequest, ChatResponse, Usage
from releasegate.scorers import (
    AssertSpec,
    CheckBuilder,
    Sample,
    Score,
    ScorerContext,
    ScoreStatus,
    missing_inputs,
    run_check,
    score_sample,
)


class Judge(ChatProvider):
    """A judge that gives every answer 0.8 and records what it was asked."""

    type = "test-judge"

    def __init__(self) -> None:
        self.requests: list[ChatRequest] = []

    async def complete(self, request: ChatRequest) -> ChatResponse:
        self.requests.append(request)
        return ChatResponse(
            text=json.dumps({"score": 0.8, "reason": "mostly right"}),
            usage=Usage(prompt_tokens=10, completion_tokens=5),
        )


class Raises:
    name = "raises"
    requires: frozenset[str] = frozenset()
    default_threshold = 1.0
    expensive = True

    async def score(self, sample: Sample) -> Score:
        raise RuntimeError("vector store unreachable")


class Needs:
    """Counts its calls; needs whatever it is told to."""

    name = "needs"
    default_threshold = 1.0
    expensive = False

    def __init__(self, *fields: str) -> None:
        self.requires = frozenset(fields)
        self.calls = 0

    async def score(self, sample: Sample) -> Score:
        self.calls += 1
        return Score.passed(True)


def interaction(**fields: Any) -> Sample:
    """A production interaction as online scoring would see it."""
    base: dict[str, Any] = {
        "input": "How do I reset my password?",
        "variables": {"question": "How do I reset my password?", "product": "acme"},
        "id": "req-7f3a",
        "latency_ms": 850.0,
        "cost_usd": 0.0004,
        "metadata": {"feature": "support-bot", "arm": "canary"},
        "tags": ["online"],
    }
    base.update(fields)
    output = base.pop("output", "Open Settings, choose Security, then Reset password.")
    return Sample(output, **base)


def built(*specs: dict[str, Any], judge: ChatProvider | None = None) -> list[Any]:
    builder = CheckBuilder(ScorerContext(judge=judge))
    return [builder.build(AssertSpec.model_validate(spec)) for spec in specs]


async def test_several_check_types_score_a_sample_without_a_case() -> None:
    judge = Judge()
    checks = built(
        {"type": "contains", "value": "Reset password"},
        {"type": "max-words", "value": 5},
        {"type": "latency", "value": 1000},
        {"type": "not-refusal"},
        {"type": "llm-judge", "value": "Explains how to reset the password."},
        judge=judge,
    )
    scores = await score_sample(interaction(), checks)
    assert [s.status for s in scores] == [ScoreStatus.MEASURED] * 5
    assert [s.value for s in scores] == [1.0, 0.0, 1.0, 1.0, 0.8]
    assert "words" in scores[1].reason
    # the judge saw the interaction's input and id, as it would a case's
    [request] = judge.requests
    assert request.case_id == "req-7f3a"
    assert "How do I reset my password?" in json.dumps(request.messages)


async def test_a_missing_input_is_not_applicable_and_the_check_is_not_called() -> None:
    needs_reference, needs_nothing = Needs("reference", "context"), Needs()
    sample = interaction(context=["Passwords are reset from Settings."])
    scores = await score_sample(sample, [needs_reference, needs_nothing])
    assert scores[0] == Score.not_applicable("needs reference")
    assert needs_reference.calls == 0
    assert scores[1].value == 1.0 and needs_nothing.calls == 1


async def test_a_judge_check_without_its_rubric_input_is_not_applicable() -> None:
    judge = Judge()
    [check] = built({"type": "llm-judge"}, judge=judge)  # rubric comes from the sample
    [score] = await score_sample(interaction(), [check])
    assert score.status is ScoreStatus.NOT_APPLICABLE
    assert score.reason == "needs expected_behavior"
    assert judge.requests == []
    [score] = await score_sample(interaction(expected_behavior="Explains the steps."), [check])
    assert score.value == 0.8


async def test_a_raising_check_is_unmeasured_with_its_reason_and_blocks_nothing() -> None:
    [contains] = built({"type": "contains", "value": "Settings"})
    scores = await score_sample(interaction(), [Raises(), contains])
    assert scores[0].status is ScoreStatus.UNMEASURED and scores[0].value is None
    assert scores[0].reason == "RuntimeError: vector store unreachable"
    assert scores[1].value == 1.0


async def test_a_failed_call_scores_zero_on_deterministic_checks() -> None:
    [contains] = built({"type": "contains", "value": "Settings"})
    [score] = await score_sample(interaction(output="", error="HTTP 503"), [contains])
    assert score.value == 0.0 and "HTTP 503" in score.reason


async def test_a_bound_without_its_measurement_is_not_applicable() -> None:
    [cost] = built({"type": "cost", "value": 0.01})
    [score] = await score_sample(interaction(cost_usd=None), [cost])
    assert score.status is ScoreStatus.NOT_APPLICABLE


def test_missing_inputs_treats_none_and_empty_alike() -> None:
    requires = frozenset({"context", "reference", "expected_behavior"})
    assert missing_inputs(interaction(), requires) == ["context", "expected_behavior", "reference"]
    full = interaction(context="one chunk", reference="", expected_behavior="Helps.")
    assert full.context == ("one chunk",)
    assert missing_inputs(full, requires) == ["reference"]


def test_context_is_normalised_to_chunks() -> None:
    assert interaction(context=None).context == ()
    assert interaction(context="").context == ()
    assert interaction(context=["a", "b"]).context == ("a", "b")
    assert interaction(context=[""]).context == ("",)  # retrieved, though empty


async def test_run_check_is_score_sample_for_one_check() -> None:
    needs = Needs("reference")
    assert (await run_check(needs, interaction())).status is ScoreStatus.NOT_APPLICABLE
    assert (await run_check(needs, interaction(reference="x"))).value == 1.0


async def test_slow_checks_run_concurrently() -> None:
    started: list[str] = []
    release = asyncio.Event()

    class Slow:
        requires: frozenset[str] = frozenset()
        default_threshold = 1.0

        def __init__(self, name: str) -> None:
            self.name = name

        async def score(self, sample: Sample) -> Score:
            started.append(self.name)
            if len(started) == 2:
                release.set()
            await release.wait()  # would wait forever if run one after the other
            return Score.passed(True)

    scores = await asyncio.wait_for(score_sample(interaction(), [Slow("a"), Slow("b")]), 30)
    assert [s.value for s in scores] == [1.0, 1.0]
