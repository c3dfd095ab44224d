"""Calling a judge: structured-output requests, error mapping and token/cost tallies.

Shared by every model-graded check. A failed call (provider error, timeout, unreadable
answer) raises :class:`JudgeFailure`; the check turns it into an *unmeasured* score that
still carries the tokens and dollars spent before the failure.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from releasegate.errors import ProviderError
from releasegate.llm import ChatProvider, ChatRequest, EmbeddingProvider, Message, Usage
from releasegate.scorers._judge_parse import JudgeParseError, extract_json
from releasegate.scorers.base import Score
from releasegate.scorers.sample import Sample

__all__ = [
    "JudgeFailure",
    "JudgeTally",
    "ask_json",
    "ask_text",
    "cosine",
    "embed",
    "gather_all",
    "json_schema_format",
    "need_embedder",
    "need_judge",
    "option_float",
    "option_int",
]

T = TypeVar("T")


class JudgeFailure(Exception):
    """A judge or embedder call failed; the check is unmeasured with this reason."""


@dataclass(slots=True)
class JudgeTally:
    """Judge calls, tokens and cost spent by one check on one sample."""

    calls: int = 0
    usage: Usage = field(default_factory=Usage)
    cost_usd: float | None = None

    def add(self, usage: Usage, cost: float | None) -> None:
        self.calls += 1
        self.usage = self.usage + usage
        if cost is not None:
            self.cost_usd = (self.cost_usd or 0.0) + cost

    def measured(self, value: float, reason: str, **details: Any) -> Score:
        return Score.measured(
            value, reason, usage=self.usage, cost_usd=self.cost_usd, details=self._d(details)
        )

    def unmeasured(self, reason: str, **details: Any) -> Score:
        return Score.unmeasured(
            reason, usage=self.usage, cost_usd=self.cost_usd, details=self._d(details)
        )

    def not_applicable(self, reason: str, **details: Any) -> Score:
        return Score.not_applicable(
            reason, usage=self.usage, cost_usd=self.cost_usd, details=self._d(details)
        )

    def _d(self, details: dict[str, Any]) -> dict[str, Any]:
        return {"judge_calls": self.calls, **details}


def need_judge(check: str, judge: ChatProvider | None) -> ChatProvider:
    if judge is None:
        raise ValueError(f"check {check} needs a judge: set `judge:` in the suite")
    return judge


def need_embedder(check: str, embedder: EmbeddingProvider | None) -> EmbeddingProvider:
    if embedder is None:
        raise ValueError(f"check {check} needs an embedder: set `embedder:` in the suite")
    return embedder


def option_int(options: dict[str, Any], key: str, default: int, *, lo: int, hi: int) -> int:
    raw = options.get(key, default)
    if isinstance(raw, bool) or not isinstance(raw, int) or not lo <= raw <= hi:
        raise ValueError(f"option {key!r} must be an integer in [{lo}, {hi}], got {raw!r}")
    return raw


def option_float(
    options: dict[str, Any], key: str, default: float, *, lo: float, hi: float
) -> float:
    raw = options.get(key, default)
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not lo <= raw <= hi:
        raise ValueError(f"option {key!r} must be a number in [{lo}, {hi}], got {raw!r}")
    return float(raw)


def json_schema_format(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """An OpenAI-style ``response_format`` asking for JSON that matches ``schema``."""
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}}


async def ask_text(
    judge: ChatProvider,
    messages: Sequence[Message],
    *,
    sample: Sample,
    tally: JudgeTally,
    schema_name: str,
    schema: dict[str, Any],
    temperature: float,
    repeat: int | None = None,
    structured: bool = True,
) -> str:
    """One judge call asking for JSON that matches ``schema``; returns the raw answer.

    ``repeat`` distinguishes otherwise identical calls (judge samples) in the response
    cache; by default it is the sample's repeat index.

    Raises:
        JudgeFailure: provider error or timeout.
    """
    request = ChatRequest(
        messages=tuple(messages),
        model=judge.model or "",
        params={"temperature": temperature},
        response_format=json_schema_format(schema_name, schema) if structured else None,
        case_id=sample.id,
        repeat=sample.repeat if repeat is None else repeat,
    )
    try:
        response = await judge.complete(request)
    except ProviderError as exc:
        raise JudgeFailure(f"judge call failed: {exc}") from exc
    except TimeoutError as exc:
        raise JudgeFailure("judge call timed out") from exc
    tally.add(response.usage, response.cost_usd)
    return response.text


async def ask_json(
    judge: ChatProvider,
    messages: Sequence[Message],
    *,
    sample: Sample,
    tally: JudgeTally,
    schema_name: str,
    schema: dict[str, Any],
    temperature: float,
    repeat: int | None = None,
    structured: bool = True,
) -> dict[str, Any]:
    """Like :func:`ask_text`, but the answer must hold one JSON object, which is returned.

    Raises:
        JudgeFailure: provider error, timeout, or no readable JSON object.
    """
    text = await ask_text(
        judge,
        messages,
        sample=sample,
        tally=tally,
        schema_name=schema_name,
        schema=schema,
        temperature=temperature,
        repeat=repeat,
        structured=structured,
    )
    try:
        return extract_json(text)
    except JudgeParseError as exc:
        raise JudgeFailure(f"unreadable judge answer: {exc}") from exc


async def embed(embedder: EmbeddingProvider, texts: list[str]) -> list[list[float]]:
    """Embed ``texts``; failures become :class:`JudgeFailure`."""
    try:
        vectors = await embedder.embed(texts)
    except ProviderError as exc:
        raise JudgeFailure(f"embedding call failed: {exc}") from exc
    except TimeoutError as exc:
        raise JudgeFailure("embedding call timed out") from exc
    if len(vectors) != len(texts):
        raise JudgeFailure(f"embedder returned {len(vectors)} vectors for {len(texts)} texts")
    return vectors


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity in [-1, 1].

    Only rounding is clipped (a cosine can come out as 1.0000000000000002); a vector
    holding NaN or infinity is an embedder fault, never a similarity.

    Raises:
        JudgeFailure: empty, differently sized, zero or non-finite vectors.
    """
    if len(a) != len(b) or not a:
        raise JudgeFailure(f"embedding sizes differ or are empty ({len(a)} vs {len(b)})")
    try:
        # fsum raises on overflow and on inf - inf; a lone NaN or inf is caught below.
        dot = math.fsum(float(x) * float(y) for x, y in zip(a, b, strict=True))
        na = math.sqrt(math.fsum(float(x) * float(x) for x in a))
        nb = math.sqrt(math.fsum(float(y) * float(y) for y in b))
    except (OverflowError, TypeError, ValueError) as exc:
        raise JudgeFailure(f"an embedding holds a value that is not a number: {exc}") from None
    if not (math.isfinite(dot) and math.isfinite(na) and math.isfinite(nb)):
        raise JudgeFailure("an embedding holds NaN or infinite values")
    if na == 0.0 or nb == 0.0:
        raise JudgeFailure("an embedding is the zero vector")
    return max(-1.0, min(1.0, dot / na / nb))


async def gather_all(calls: Sequence[Awaitable[T]]) -> list[T]:
    """Run independent calls concurrently; if one fails, cancel the rest and re-raise it.

    The engine's provider wrapper bounds real concurrency, so starting all at once is fine.
    """
    tasks = [asyncio.ensure_future(c) for c in calls]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
