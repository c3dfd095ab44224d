"""The anthropic provider against a fake Messages API at the HTTP transport layer."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import pytest

from releasegate.config import ProviderConfig
from releasegate.errors import ConfigError, ProviderError
from releasegate.providers import ChatRequest, PriceTable, build_provider
from releasegate.providers.anthropic import AnthropicProvider, split_system

Handler = Callable[[httpx2.Request], httpx2.Response]


def messages_api(seen: list[dict[str, Any]], text: str = "Bonjour") -> Handler:
    def handle(request: httpx2.Request) -> httpx2.Response:
        assert request.url.path == "/v1/messages"
        body = json.loads(request.content)
        # SDK versions differ in how they send the key (x-api-key or a bearer token).
        key = request.headers.get("x-api-key") or request.headers.get("authorization", "")
        seen.append({"body": body, "api_key": key.removeprefix("Bearer ")})
        return httpx2.Response(
            200,
            json={
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": body["model"],
                "content": [{"type": "text", "text": text}],
                "stop_reason": "end_turn",
                "usage": {"input_tokens": 1_000_000, "output_tokens": 100_000},
            },
        )

    return handle


def provider(handler: Handler, **kwargs: Any) -> AnthropicProvider:
    return AnthropicProvider(
        api_key="test-key",
        model="claude-sonnet-4-5-20250929",
        http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(handler)),
        **kwargs,
    )


REQUEST = ChatRequest(
    messages=(
        {"role": "system", "content": "Answer in French."},
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hello"},
    ),
    model="",
    params={"temperature": 0, "stop": "\n\n", "seed": 1},
)


async def test_system_split_usage_and_cost() -> None:
    seen: list[dict[str, Any]] = []
    p = provider(messages_api(seen), params={"max_tokens": 64})
    response = await p.complete(REQUEST)
    await p.aclose()
    body = seen[0]["body"]
    assert body["system"] == "Answer in French.\n\nBe brief."
    assert body["messages"] == [{"role": "user", "content": "Hello"}]
    assert body["max_tokens"] == 64 and body["temperature"] == 0
    assert body["stop_sequences"] == ["\n\n"] and "seed" not in body and "stop" not in body
    assert seen[0]["api_key"] == "test-key"
    assert response.text == "Bonjour"
    assert response.usage.prompt_tokens == 1_000_000
    # claude-sonnet-4-5: $3 in, $15 out per million tokens.
    assert response.cost_usd == pytest.approx(3.0 + 1.5)
    assert response.model == "claude-sonnet-4-5-20250929"


async def test_default_max_tokens_is_sent() -> None:
    seen: list[dict[str, Any]] = []
    p = provider(messages_api(seen), max_tokens=77)
    await p.complete(ChatRequest(messages=({"role": "user", "content": "x"},), model="m"))
    await p.aclose()
    assert seen[0]["body"]["max_tokens"] == 77 and "system" not in seen[0]["body"]


def error_api(status: int, headers: dict[str, str] | None = None) -> Handler:
    def handle(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(
            status,
            headers=headers or {},
            json={"type": "error", "error": {"type": "x", "message": f"upstream said {status}"}},
        )

    return handle


@pytest.mark.parametrize(
    ("status", "headers", "retryable", "retry_after"),
    [
        (429, {"retry-after": "12"}, True, 12.0),
        (529, {}, True, None),
        (500, {}, True, None),
        (401, {}, False, None),
        (400, {}, False, None),
    ],
)
async def test_error_mapping(
    status: int, headers: dict[str, str], retryable: bool, retry_after: float | None
) -> None:
    p = provider(error_api(status, headers))
    with pytest.raises(ProviderError) as info:
        await p.complete(REQUEST)
    await p.aclose()
    assert info.value.status == status
    assert info.value.retryable is retryable
    assert info.value.retry_after == retry_after
    assert f"upstream said {status}" in str(info.value)


async def test_timeout_and_connection_errors_are_retryable() -> None:
    def timeout(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("slow", request=request)

    def refused(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("refused", request=request)

    for handler, match in ((timeout, "timed out"), (refused, "connection error")):
        p = provider(handler)
        with pytest.raises(ProviderError, match=match) as info:
            await p.complete(REQUEST)
        await p.aclose()
        assert info.value.retryable


async def test_malformed_body_is_not_retryable() -> None:
    p = provider(lambda request: httpx2.Response(200, json={"unexpected": True}))
    with pytest.raises(ProviderError, match="malformed") as info:
        await p.complete(REQUEST)
    await p.aclose()
    assert not info.value.retryable


def test_from_config_needs_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MY_CLAUDE_KEY", raising=False)
    cfg = ProviderConfig(
        type="anthropic", model="claude-haiku-4-5-20251001", api_key_env="MY_CLAUDE_KEY"
    )
    with pytest.raises(ConfigError, match="MY_CLAUDE_KEY is not set"):
        build_provider("judge", cfg, pricing=PriceTable(), root=Path("."))
    monkeypatch.setenv("MY_CLAUDE_KEY", "k")
    built = build_provider("judge", cfg, pricing=PriceTable(), root=Path("."))
    assert isinstance(built, AnthropicProvider) and built.model == "claude-haiku-4-5-20251001"


def test_missing_sdk_gives_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "anthropic", None)  # import now fails
    monkeypatch.setenv("ANTHROPIC_API_KEY", "k")
    with pytest.raises(ConfigError, match=r"pip install 'releasegate\[anthropic\]'"):
        build_provider(
            "judge", ProviderConfig(type="anthropic"), pricing=PriceTable(), root=Path(".")
        )


def test_split_system_keeps_order_of_the_rest() -> None:
    system, rest = split_system(
        [
            {"role": "user", "content": "a"},
            {"role": "system", "content": [{"type": "text", "text": "S"}]},
            {"role": "assistant", "content": "b"},
        ]
    )
    assert system == "S"
    assert [m["content"] for m in rest] == ["a", "b"]
