"""Shared pieces of the managed-provider tests: a scripted upstream, a request, a sleep
that records the waits it is asked for, and upstreams that hang or hold calls open."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from releasegate.config import ProviderConfig
from releasegate.llm import ChatProvider, ChatRequest, ChatResponse
from releasegate.providers import PriceTable, build_provider
from releasegate.providers.scripted import ScriptedProvider


def scripted(pricing: PriceTable | None = None, **options: Any) -> ScriptedProvider:
    """A ``scripted`` provider built from config, as a project would build it."""
    cfg = ProviderConfig.model_validate({"type": "scripted", **options})
    provider = build_provider("upstream", cfg, pricing=pricing or PriceTable(), root=Path("."))
    assert isinstance(provider, ScriptedProvider)
    return provider


def req(text: str = "hello", case_id: str = "c1", repeat: int = 0) -> ChatRequest:
    return ChatRequest(
        messages=({"role": "user", "content": text},),
        model="scripted",
        case_id=case_id,
        repeat=repeat,
    )


def exact(ceiling_s: float) -> float:
    """A jitter that waits the whole ceiling, so the backoff can be asserted exactly."""
    return ceiling_s


class RecordingSleep:
    """Stands in for ``asyncio.sleep`` in the retry loop: records, never waits."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


class Hangs(ChatProvider):
    """Never answers its first ``hangs`` calls (a stalled upstream), then answers."""

    type = "hangs"

    def __init__(self, hangs: int) -> None:
        self.hangs = hangs
        self.calls = 0

    async def complete(self, request: ChatRequest) -> ChatResponse:
        self.calls += 1
        if self.calls <= self.hangs:
            await asyncio.Event().wait()
        return ChatResponse(text="late but fine")


class Held(ChatProvider):
    """Holds every call open until :attr:`release` is set; counts calls in flight."""

    type = "held"

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.in_flight = 0
        self.most_in_flight = 0
        self.started = 0

    async def complete(self, request: ChatRequest) -> ChatResponse:
        self.started += 1
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await self.release.wait()
        finally:
            self.in_flight -= 1
        return ChatResponse(text=str(request.messages[-1]["content"]))


async def settle(rounds: int = 20) -> None:
    """Let every ready task run until it blocks (no wall-clock wait)."""
    for _ in range(rounds):
        await asyncio.sleep(0)
