"""Tools through the openai provider, against a real local OpenAI-compatible server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from releasegate.config import ProviderConfig
from releasegate.providers import ChatRequest, PriceTable, build_provider
from releasegate.providers.openai import OpenAIProvider
from tests.support.openai_server import FakeOpenAIServer

TOOLS = (
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    },
)


@pytest.fixture(params=["direct", "aiohttp", "httpx"])
async def provider(
    request: pytest.FixtureRequest, openai_server: FakeOpenAIServer
) -> AsyncIterator[OpenAIProvider]:
    cfg = ProviderConfig.model_validate(
        {
            "type": "openai",
            "model": "m-2025-01-01",
            "base_url": openai_server.base_url,
            "client": request.param,
        }
    )
    p = build_provider("target", cfg, pricing=PriceTable(), root=Path("."))
    assert isinstance(p, OpenAIProvider)
    try:
        yield p
    finally:
        await p.aclose()


def req(**kwargs: Any) -> ChatRequest:
    return ChatRequest(
        messages=({"role": "user", "content": "Weather in Paris?"},), model="", **kwargs
    )


@pytest.mark.parametrize(
    "choice",
    [None, "auto", "none", "required", {"type": "function", "function": {"name": "get_weather"}}],
)
async def test_tools_and_choice_are_sent_as_given(
    provider: OpenAIProvider, openai_server: FakeOpenAIServer, choice: Any
) -> None:
    await provider.complete(req(tools=TOOLS, tool_choice=choice))
    body = openai_server.requests[-1].body
    assert body["tools"] == list(TOOLS)
    if choice is None:
        assert "tool_choice" not in body
    else:
        assert body["tool_choice"] == choice


async def test_no_tools_no_keys(provider: OpenAIProvider, openai_server: FakeOpenAIServer) -> None:
    response = await provider.complete(req())
    body = openai_server.requests[-1].body
    assert "tools" not in body and "tool_choice" not in body
    assert response.tool_calls == ()


@pytest.mark.parametrize(
    "calls",
    [
        [
            {
                "id": "call_a",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            }
        ],
        [
            {"id": "a", "type": "function", "function": {"name": "x", "arguments": "{"}},
            {"id": "b", "type": "function", "function": {"name": "y", "arguments": "[]"}},
        ],
        [{"id": "no-function", "type": "function"}],
        [{"id": "obj", "type": "function", "function": {"name": "x", "arguments": {"a": 1}}}],
    ],
)
async def test_tool_calls_come_back_as_received(
    provider: OpenAIProvider, openai_server: FakeOpenAIServer, calls: list[Any]
) -> None:
    openai_server.reply_next(None, tool_calls=calls)
    response = await provider.complete(req(tools=TOOLS))
    assert response.tool_calls == tuple(calls)
    assert response.text == ""


async def test_text_alongside_tool_calls(
    provider: OpenAIProvider, openai_server: FakeOpenAIServer
) -> None:
    calls = [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]
    openai_server.reply_next("Let me check.", tool_calls=calls)
    response = await provider.complete(req(tools=TOOLS))
    assert response.text == "Let me check." and response.tool_calls == tuple(calls)


@pytest.mark.parametrize(
    ("choice", "name"),
    [
        ({"type": "function", "function": {"name": "get_weather"}}, "get_weather"),
        ("required", "get_weather"),
        ("auto", None),
    ],
)
async def test_the_server_answers_a_forced_tool_choice_with_a_call(
    provider: OpenAIProvider, choice: Any, name: str | None
) -> None:
    response = await provider.complete(req(tools=TOOLS, tool_choice=choice))
    if name is None:
        assert response.tool_calls == () and response.text == "Weather in Paris?"
    else:
        (call,) = response.tool_calls
        assert call["function"] == {"name": name, "arguments": "{}"}
