"""The openai provider against a real local OpenAI-compatible server."""

from __future__ import annotations

import email.utils
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from releasegate.config import PriceEntry, ProviderConfig
from releasegate.errors import ConfigError, ProviderError
from releasegate.providers import ChatRequest, PriceTable, build_provider
from releasegate.providers.openai import OpenAIProvider
from tests.support.openai_server import FakeOpenAIServer

MODEL = "local-model-2025-01-01"
CLIENTS = ["aiohttp", "httpx", "direct"]
PRICING = PriceTable({MODEL: PriceEntry(input_per_mtok=2.0, output_per_mtok=8.0)})


def make(base_url: str, client: str = "aiohttp", **extra: Any) -> OpenAIProvider:
    cfg = ProviderConfig.model_validate(
        {"type": "openai", "model": MODEL, "base_url": base_url, "client": client, **extra}
    )
    provider = build_provider("target", cfg, pricing=PRICING, root=Path("."))
    assert isinstance(provider, OpenAIProvider)
    return provider


@pytest.fixture(params=CLIENTS)
async def provider(
    request: pytest.FixtureRequest, openai_server: FakeOpenAIServer
) -> AsyncIterator[OpenAIProvider]:
    p = make(openai_server.base_url, client=request.param, timeout_s=2.0)
    try:
        yield p
    finally:
        await p.aclose()


def req(text: str = "Hello there", **kwargs: Any) -> ChatRequest:
    return ChatRequest(
        messages=({"role": "system", "content": "Be kind."}, {"role": "user", "content": text}),
        model=kwargs.pop("model", ""),
        **kwargs,
    )


async def test_answer_usage_and_cost(
    provider: OpenAIProvider, openai_server: FakeOpenAIServer
) -> None:
    openai_server.reply_next("Hi!", usage={"prompt_tokens": 1000, "completion_tokens": 500})
    response = await provider.complete(req(params={"temperature": 0, "seed": 7, "stream": True}))
    assert response.text == "Hi!"
    assert response.usage.prompt_tokens == 1000 and response.usage.completion_tokens == 500
    assert response.cost_usd == pytest.approx((1000 * 2.0 + 500 * 8.0) / 1e6)
    assert response.model == MODEL
    assert response.latency_ms > 0
    sent = openai_server.requests[-1]
    assert sent.path == "/v1/chat/completions"
    assert sent.body["model"] == MODEL and sent.body["temperature"] == 0 and sent.body["seed"] == 7
    assert "stream" not in sent.body  # whole answers only
    assert sent.body["messages"][1] == {"role": "user", "content": "Hello there"}


async def test_echo_and_request_model_wins(openai_server: FakeOpenAIServer) -> None:
    p = make(openai_server.base_url, params={"temperature": 0.3}, headers={"X-Team": "search"})
    try:
        response = await p.complete(
            req("echo me", model="other-model", response_format={"type": "json_object"})
        )
    finally:
        await p.aclose()
    assert response.text == "echo me"
    assert response.model == "other-model" and response.cost_usd is None  # unknown price
    body = openai_server.requests[-1].body
    assert body["response_format"] == {"type": "json_object"} and body["temperature"] == 0.3
    headers = {k.lower(): v for k, v in openai_server.requests[-1].headers.items()}
    assert headers["x-team"] == "search"
    assert headers["authorization"].startswith("Bearer ")


async def test_429_with_retry_after_is_retryable(
    provider: OpenAIProvider, openai_server: FakeOpenAIServer
) -> None:
    openai_server.fail_next(429, retry_after=3, message="Rate limit reached")
    with pytest.raises(ProviderError) as info:
        await provider.complete(req())
    err = info.value
    assert err.retryable and err.status == 429 and err.retry_after == 3.0
    assert "Rate limit reached" in str(err) and "target" in str(err)
    assert openai_server.count == 1  # the SDK did not retry on its own
    assert (await provider.complete(req("after"))).text == "after"


async def test_retry_after_ms_and_http_date(
    provider: OpenAIProvider, openai_server: FakeOpenAIServer
) -> None:
    openai_server.fail_next(429, retry_after_ms=1500)
    with pytest.raises(ProviderError) as info:
        await provider.complete(req())
    assert info.value.retry_after == 1.5
    openai_server.fail_next(503, retry_after=email.utils.formatdate(time.time() + 120, usegmt=True))
    with pytest.raises(ProviderError) as info:
        await provider.complete(req())
    assert info.value.retryable and info.value.retry_after is not None
    assert 60 < info.value.retry_after <= 121


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_5xx_retryable(
    provider: OpenAIProvider, openai_server: FakeOpenAIServer, status: int
) -> None:
    openai_server.fail_next(status)
    with pytest.raises(ProviderError) as info:
        await provider.complete(req())
    assert info.value.retryable and info.value.status == status
    assert openai_server.count == 1


@pytest.mark.parametrize(
    ("status", "hint"),
    [(400, "bad request"), (401, "API key"), (403, "permission"), (404, "not found")],
)
async def test_client_errors_not_retryable(
    provider: OpenAIProvider, openai_server: FakeOpenAIServer, status: int, hint: str
) -> None:
    openai_server.fail_next(status, retry_after=1, message="upstream detail")
    with pytest.raises(ProviderError) as info:
        await provider.complete(req())
    assert not info.value.retryable and info.value.status == status
    assert info.value.retry_after is None
    assert hint in str(info.value) and "upstream detail" in str(info.value)


@pytest.mark.parametrize("client", CLIENTS)
async def test_timeout_is_retryable(openai_server: FakeOpenAIServer, client: str) -> None:
    p = make(openai_server.base_url, client=client, timeout_s=0.3)
    openai_server.hang_next(2.0)
    try:
        with pytest.raises(ProviderError, match="timed out") as info:
            await p.complete(req())
        assert info.value.retryable and info.value.status is None
        assert (await p.complete(req("fine"))).text == "fine"
    finally:
        await p.aclose()


@pytest.mark.parametrize("client", CLIENTS)
async def test_connection_refused_is_retryable(client: str) -> None:
    with socket.socket() as s:  # a port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    p = make(f"http://127.0.0.1:{port}/v1", client=client, timeout_s=2.0)
    try:
        with pytest.raises(ProviderError, match="connection error") as info:
            await p.complete(req())
        assert info.value.retryable
    finally:
        await p.aclose()


async def test_many_concurrent_calls(openai_server: FakeOpenAIServer) -> None:
    import asyncio

    openai_server.delay_ms = 5
    p = make(openai_server.base_url)
    try:
        results = await asyncio.gather(*(p.complete(req(f"q{i}")) for i in range(100)))
    finally:
        await p.aclose()
    assert [r.text for r in results] == [f"q{i}" for i in range(100)]
    assert openai_server.count == 100


def test_api_key_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("TEAM_KEY", raising=False)
    with pytest.raises(ConfigError, match="no API key"):
        build_provider(
            "t", ProviderConfig(type="openai", model=MODEL), pricing=PRICING, root=Path(".")
        )
    cfg = ProviderConfig(type="openai", model=MODEL, api_key_env="TEAM_KEY")
    with pytest.raises(ConfigError, match="TEAM_KEY"):
        build_provider("t", cfg, pricing=PRICING, root=Path("."))
    with pytest.raises(ConfigError, match="option 'client'"):
        make("http://127.0.0.1:1/v1", client="curl")


async def test_no_model_anywhere_is_a_clear_error(openai_server: FakeOpenAIServer) -> None:
    cfg = ProviderConfig(type="openai", base_url=openai_server.base_url)
    p = build_provider("t", cfg, pricing=PRICING, root=Path("."))
    try:
        with pytest.raises(ProviderError, match="no model"):
            await p.complete(req())
    finally:
        await p.aclose()
    assert openai_server.count == 0


@pytest.mark.parametrize(
    "base_url",
    [
        "http://127.0.0.1:8811/v1",
        "HTTP://LocalHost:80/v1/",
        "https://api.openai.com/v1",
        "https://user:secret@Example.COM:8443/openai/v1?api-version=1",
        "http://[::1]:9000/v1",
        None,
    ],
)
def test_cache_identity_is_the_same_for_every_client(
    base_url: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import openai

    from releasegate.providers.identity import url_identity
    from releasegate.providers.openai import sdk_base_url

    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    expected = str(openai.AsyncOpenAI(api_key="k", base_url=base_url).base_url)
    assert sdk_base_url(base_url) == expected
    identities = {
        OpenAIProvider(base_url=base_url, client=client).cache_identity()["base_url"]  # type: ignore[arg-type]
        for client in CLIENTS
    }
    # The URL as the SDK normalises it, its password held only as a digest.
    assert identities == {url_identity(expected)}
    assert all("secret" not in url for url in identities)


def test_base_url_from_environment_like_the_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    import openai

    from releasegate.providers.openai import sdk_base_url

    monkeypatch.setenv("OPENAI_BASE_URL", "http://10.0.0.5:8000/v1")
    assert sdk_base_url(None) == str(openai.AsyncOpenAI(api_key="k").base_url)


def test_direct_client_does_not_import_the_sdk(tmp_path: Path) -> None:
    # The SDK costs about 0.9 s of imports; `client: direct` must not pay for it.
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from releasegate.providers.openai import OpenAIProvider\n"
        "OpenAIProvider(base_url='http://127.0.0.1:1/v1', client='direct')\n"
        "print('openai' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert out.stdout.strip() == "False"
