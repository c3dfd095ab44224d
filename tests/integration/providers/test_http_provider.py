"""The http provider against real local HTTP servers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from releasegate.config import PriceEntry, ProviderConfig
from releasegate.errors import ConfigError, ProviderError
from releasegate.providers import ChatRequest, PriceTable, build_provider
from releasegate.providers.http import HttpProvider
from tests.support.openai_server import FakeOpenAIServer


class AppServer:
    """A tiny user app: records requests, answers what the test queued."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        self.answers: list[web.Response] = []
        self.delay = 0.0
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.text()
        self.seen.append({"method": request.method, "headers": dict(request.headers), "body": raw})
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.answers:
            return self.answers.pop(0)
        body = json.loads(raw) if raw else {}
        return web.json_response(
            {
                "data": {"answer": f"you said: {body.get('question')}"},
                "meta": {"tokens": {"input_tokens": 10, "output_tokens": 5}},
            }
        )

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/chat", self.handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.25)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/chat"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def app_server() -> AsyncIterator[AppServer]:
    server = AppServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


PRICING = PriceTable({"app-1": PriceEntry(input_per_mtok=1e6, output_per_mtok=1e6)})


def make(**options: Any) -> HttpProvider:
    cfg = ProviderConfig.model_validate({"type": "http", **options})
    provider = build_provider("app", cfg, pricing=PRICING, root=Path("."))
    assert isinstance(provider, HttpProvider)
    return provider


REQUEST = ChatRequest(
    messages=({"role": "system", "content": "sys"}, {"role": "user", "content": "rendered q"}),
    model="",
    case_id="c-7",
    vars={"input": "raw q", "lang": "fr"},
)


async def test_body_template_json_path_usage_and_headers(
    app_server: AppServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APP_TOKEN", "s3cret")
    p = make(
        url=app_server.url,
        model="app-1",
        headers={"Authorization": "Bearer {{ env.APP_TOKEN }}"},
        body={
            "question": "{{ input }}",
            "history": "{{ messages }}",
            "meta": {"case": "case={{ case_id }}", "lang": "{{ vars.lang | upper }}", "n": 3},
            "as_text": "{{ messages | tojson }}",
        },
        json_path="$.data.answer",
        usage_path="meta.tokens",
    )
    try:
        response = await p.complete(REQUEST)
    finally:
        await p.aclose()
    assert response.text == "you said: raw q"
    assert response.usage.prompt_tokens == 10 and response.usage.completion_tokens == 5
    assert response.cost_usd == pytest.approx(15.0)
    sent = json.loads(app_server.seen[0]["body"])
    assert sent["history"] == [dict(m) for m in REQUEST.messages]  # kept as a JSON list
    assert sent["meta"] == {"case": "case=c-7", "lang": "FR", "n": 3}
    assert json.loads(sent["as_text"])[1]["content"] == "rendered q"
    assert app_server.seen[0]["headers"]["Authorization"] == "Bearer s3cret"


async def test_openai_shaped_app_via_fake_server(openai_server: FakeOpenAIServer) -> None:
    p = make(
        url=openai_server.base_url + "/chat/completions",
        body={"model": "{{ model }}", "messages": "{{ messages }}"},
        model="app-model",
        json_path="choices.0.message.content",
        usage_path="usage",
    )
    try:
        response = await p.complete(REQUEST)
    finally:
        await p.aclose()
    assert response.text == "rendered q"
    assert response.usage.completion_tokens == 3
    assert openai_server.requests[0].body["model"] == "app-model"


async def test_plain_text_answer_without_json_path(app_server: AppServer) -> None:
    app_server.answers.append(web.Response(text="just text"))
    p = make(url=app_server.url)
    try:
        response = await p.complete(REQUEST)
    finally:
        await p.aclose()
    assert response.text == "just text"
    assert json.loads(app_server.seen[0]["body"]) == {"input": "raw q"}  # the default body


async def test_get_sends_no_body(app_server: AppServer) -> None:
    app_server.answers.append(web.json_response({"answer": ["a", "b"]}))
    p = make(url=app_server.url, method="GET", json_path="answer")
    try:
        response = await p.complete(REQUEST)
    finally:
        await p.aclose()
    assert app_server.seen[0]["method"] == "GET" and app_server.seen[0]["body"] == ""
    assert response.text == '["a", "b"]'  # non-string answers are returned as JSON text


@pytest.mark.parametrize(
    ("status", "headers", "retryable", "retry_after"),
    [
        (429, {"Retry-After": "4"}, True, 4.0),
        (503, {}, True, None),
        (500, {}, True, None),
        (400, {"Retry-After": "4"}, False, None),
        (401, {}, False, None),
    ],
)
async def test_status_mapping(
    app_server: AppServer,
    status: int,
    headers: dict[str, str],
    retryable: bool,
    retry_after: float | None,
) -> None:
    app_server.answers.append(web.Response(status=status, text="app said no", headers=headers))
    p = make(url=app_server.url, json_path="data.answer")
    try:
        with pytest.raises(ProviderError) as info:
            await p.complete(REQUEST)
    finally:
        await p.aclose()
    assert info.value.status == status and info.value.retryable is retryable
    assert info.value.retry_after == retry_after
    assert "app said no" in str(info.value)


async def test_missing_json_path_and_non_json(app_server: AppServer) -> None:
    app_server.answers.append(web.json_response({"data": {"text": "x"}}))
    app_server.answers.append(web.Response(text="<html>oops</html>", content_type="text/html"))
    p = make(url=app_server.url, json_path="data.answer")
    try:
        with pytest.raises(ProviderError, match=r"json_path 'data\.answer' not found") as info:
            await p.complete(REQUEST)
        assert not info.value.retryable and "'text'" in str(info.value)
        with pytest.raises(ProviderError, match="not JSON"):
            await p.complete(REQUEST)
    finally:
        await p.aclose()


async def test_timeout_and_refused_are_retryable(app_server: AppServer) -> None:
    app_server.delay = 2.0
    p = make(url=app_server.url, timeout_s=0.2)
    try:
        with pytest.raises(ProviderError, match="timed out") as info:
            await p.complete(REQUEST)
        assert info.value.retryable
    finally:
        await p.aclose()
    await app_server.stop()
    p = make(url=app_server.url)
    try:
        with pytest.raises(ProviderError, match="connection error") as info:
            await p.complete(REQUEST)
        assert info.value.retryable
    finally:
        await p.aclose()


def test_config_errors() -> None:
    with pytest.raises(ConfigError, match="must start with http"):
        make(url="ftp://x")
    with pytest.raises(ConfigError, match="json_path"):
        make(url="http://x", json_path="a..b")
    with pytest.raises(ConfigError, match=r"template error in body\.q"):
        make(url="http://x", body={"q": "{{ input "})
    with pytest.raises(ConfigError, match="option 'method'"):
        make(url="http://x", method="DELETE")
    with pytest.raises(ConfigError, match="option 'url'"):
        make()


async def test_undefined_template_variable_is_a_provider_error(app_server: AppServer) -> None:
    p = make(url=app_server.url, body={"q": "{{ nope }}", "r": "x {{ also_nope }}"})
    try:
        with pytest.raises(ProviderError, match="nope"):
            await p.complete(REQUEST)
    finally:
        await p.aclose()
    assert app_server.seen == []
