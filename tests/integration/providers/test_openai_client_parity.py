"""The SDK-free client (the default) and the SDK client answer and fail alike.

A raw aiohttp server returns exactly the bytes each test chooses (JSON and non-JSON error
bodies, broken answers) so that every way an upstream can fail is seen by both clients;
the resulting :class:`ProviderError` (message, status, retryable, retry-after) and the
parsed answer must be identical.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from releasegate.config import ProviderConfig
from releasegate.errors import ProviderError
from releasegate.providers import ChatRequest, build_provider
from releasegate.providers.openai import OpenAIOptions, OpenAIProvider

ANSWER = {
    "id": "x",
    "object": "chat.completion",
    "model": "m-2025-01-01",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}}],
    "usage": {"prompt_tokens": 3, "completion_tokens": 1},
}


JSON = {"Content-Type": "application/json"}


class RawServer:
    """Answers every chat call with the next (status, headers, body) it was given."""

    def __init__(self) -> None:
        self.reply: tuple[int, dict[str, str], bytes] = (200, JSON, json.dumps(ANSWER).encode())
        self.runner: web.AppRunner | None = None
        self.base_url = ""

    async def _chat(self, request: web.Request) -> web.Response:
        await request.read()
        status, headers, body = self.reply
        return web.Response(status=status, headers=headers, body=body)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = self.runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}/v1"


@pytest.fixture
async def raw_server() -> AsyncIterator[RawServer]:
    server = RawServer()
    await server.start()
    try:
        yield server
    finally:
        assert server.runner is not None
        await server.runner.cleanup()


def make(base_url: str, client: str | None) -> OpenAIProvider:
    raw: dict[str, Any] = {"type": "openai", "model": "m-2025-01-01", "base_url": base_url}
    if client is not None:
        raw["client"] = client
    provider = build_provider(
        "target", ProviderConfig.model_validate(raw), pricing=None, root=Path(".")
    )
    assert isinstance(provider, OpenAIProvider)
    return provider


REQUEST = ChatRequest(messages=({"role": "user", "content": "hello"},), model="")

TEXT = {"Content-Type": "text/plain"}
HTML = {"Content-Type": "text/html"}
FAULTS = {
    "400-json": (400, JSON, b'{"error": {"message": "bad field temperature"}}'),
    "401-json-no-message": (401, JSON, b'{"error": {"code": "invalid_api_key"}}'),
    "404-text": (404, TEXT, b"no such route"),
    "413-empty": (413, TEXT, b""),
    "429-retry-after": (429, {**JSON, "Retry-After": "7"}, b'{"error": {"message": "slow"}}'),
    "429-retry-after-ms": (429, {**TEXT, "retry-after-ms": "1500"}, b"rate limited"),
    "500-html": (500, HTML, b"<html><body>Internal Server Error</body></html>"),
    "503-json-list": (503, JSON, b'["overloaded"]'),
    "200-not-json": (200, TEXT, b"this is not json"),
    "200-no-choices": (200, JSON, b'{"model": "m"}'),
    "200-empty-choices": (200, JSON, b'{"choices": []}'),
}


def _outcome(result: Any) -> Any:
    if isinstance(result, ProviderError):
        return ("error", str(result), result.status, result.retryable, result.retry_after)
    return ("answer", result.text, result.usage, result.model, result.raw)


@pytest.mark.parametrize("fault", sorted(FAULTS))
async def test_every_fault_maps_to_the_same_error(raw_server: RawServer, fault: str) -> None:
    raw_server.reply = FAULTS[fault]
    outcomes = {}
    for client in ("sdk", None):  # None: the default client
        provider = make(raw_server.base_url, client)
        try:
            outcomes[client] = _outcome(await provider.complete(REQUEST))
        except ProviderError as exc:
            outcomes[client] = _outcome(exc)
        finally:
            await provider.aclose()
    assert outcomes["sdk"][0] == "error", outcomes
    assert outcomes[None] == outcomes["sdk"]


async def test_answers_are_the_same(raw_server: RawServer) -> None:
    answers = []
    for client in ("sdk", "httpx", "direct", None):
        provider = make(raw_server.base_url, client)
        try:
            answers.append(_outcome(await provider.complete(REQUEST)))
        finally:
            await provider.aclose()
    assert all(a == answers[0] for a in answers)
    assert answers[0][1] == "hi"


def test_default_client_is_the_sdk_free_one() -> None:
    assert OpenAIOptions().client == "direct"
    default = make("http://127.0.0.1:1/v1", None)
    sdk = make("http://127.0.0.1:1/v1", "sdk")
    assert default._direct is not None and default._client is None
    assert sdk._direct is None and sdk._client is not None
    assert default.cache_identity() == sdk.cache_identity()


@pytest.mark.parametrize("client", ["sdk", None])
async def test_both_clients_go_through_the_environment_proxy(
    raw_server: RawServer, client: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The "upstream" does not resolve; only a client that uses HTTP_PROXY reaches an answer.
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    proxy = raw_server.base_url.removesuffix("/v1")
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.setenv("http_proxy", proxy)
    provider = make("http://upstream.invalid:9/v1", client)
    try:
        answer = await provider.complete(REQUEST)
    finally:
        await provider.aclose()
    assert answer.text == "hi"
    monkeypatch.setenv("NO_PROXY", "upstream.invalid")
    monkeypatch.setenv("no_proxy", "upstream.invalid")
    bypassing = make("http://upstream.invalid:9/v1", client)
    try:
        with pytest.raises(ProviderError, match="connection error"):
            await bypassing.complete(REQUEST)
    finally:
        await bypassing.aclose()
