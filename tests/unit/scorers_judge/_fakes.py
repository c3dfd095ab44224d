"""Test doubles for model-graded checks: a judge answering from a script, an embedder
with fixed vectors."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from releasegate.errors import ProviderError
from releasegate.llm import (
    ChatProvider,
    ChatRequest,
    ChatResponse,
    EmbeddingProvider,
    Usage,
)
from releasegate.scorers import Sample, Scorer, ScorerContext, build_scorer
from releasegate.scorers import judge as _judge  # noqa: F401 - registers the checks
from releasegate.scorers import rag as _rag  # noqa: F401
from releasegate.scorers import similarity as _similarity  # noqa: F401
from releasegate.scorers.spec import AssertSpec

Answer = str | BaseException
Script = Callable[[ChatRequest], Answer]


class ScriptedJudge(ChatProvider):
    """Answers each request with ``script(request)``; raises it when it is an exception.

    Every answered call reports 100 prompt and 10 completion tokens and costs $0.001.
    """

    type = "scripted-judge"

    def __init__(self, script: Script, *, delay: float = 0.0) -> None:
        self.script = script
        self.delay = delay
        self.requests: list[ChatRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0

    @property
    def model(self) -> str | None:
        return "judge-model-2024-01-01"

    async def complete(self, request: ChatRequest) -> ChatResponse:
        self.requests.append(request)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            answer = self.script(request)
        finally:
            self.in_flight -= 1
        if isinstance(answer, BaseException):
            raise answer
        return ChatResponse(text=answer, usage=Usage(100, 10), cost_usd=0.001)


def answers(*texts: Answer) -> Script:
    """A script that gives ``texts`` in order, one per call."""
    queue = list(texts)

    def script(_: ChatRequest) -> Answer:
        if not queue:
            return ProviderError("script exhausted")
        return queue.pop(0)

    return script


def user_text(request: ChatRequest) -> str:
    return str(request.messages[-1]["content"])


class FixedEmbedder(EmbeddingProvider):
    """Looks texts up in a table of vectors; unknown texts raise ProviderError."""

    type = "fixed"

    def __init__(self, table: dict[str, list[float]]) -> None:
        self.table = table
        self.calls: list[list[str]] = []

    async def embed(self, texts: list[str]) -> list[list[float]]:
        self.calls.append(list(texts))
        try:
            return [self.table[t] for t in texts]
        except KeyError as exc:
            raise ProviderError(f"no vector for {exc}") from exc


def make(
    check: str,
    judge: ChatProvider | None = None,
    embedder: EmbeddingProvider | None = None,
    **spec: Any,
) -> Scorer:
    return build_scorer(
        AssertSpec(type=check, **spec), ScorerContext(judge=judge, embedder=embedder)
    )


def sample(output: str, **inputs: Any) -> Sample:
    """A sample answering the capital-of-France question (no dataset case involved)."""
    inputs.setdefault("id", "c1")
    inputs.setdefault("input", "What is the capital of France?")
    return Sample(output, **inputs)
