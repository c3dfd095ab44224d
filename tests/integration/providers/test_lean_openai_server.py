"""The lean benchmark server speaks enough HTTP/1.1 and chat completions for every client
the throughput benchmark runs (the SDK, ``client: direct``, raw sockets)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from releasegate.config import ProviderConfig
from releasegate.providers import ChatRequest, PriceTable, build_provider
from tests.support.lean_openai_server import LeanOpenAIServer, completion


@pytest.fixture
async def lean() -> AsyncIterator[LeanOpenAIServer]:
    async with LeanOpenAIServer(delay_ms=5) as server:
        yield server


async def _raw(server: LeanOpenAIServer, payload: bytes, n_answers: int) -> list[bytes]:
    reader, writer = await asyncio.open_connection(server.host, server.port)
    writer.write(payload)
    await writer.drain()
    answers = []
    for _ in range(n_answers):
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(
            next(
                line.split(b":")[1]
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
        )
        answers.append(head + await reader.readexactly(length))
    writer.close()
    return answers


def _post(body: bytes, *, chunked: bool = False, close: bool = False) -> bytes:
    head = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    if close:
        head += "Connection: close\r\n"
    if chunked:
        mid = len(body) // 2
        parts = [body[:mid], body[mid:]]
        encoded = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"
        return (head + "Transfer-Encoding: chunked\r\n\r\n").encode() + encoded
    return (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def _body(text: str) -> bytes:
    return json.dumps({"model": "m", "messages": [{"role": "user", "content": text}]}).encode()


@pytest.mark.parametrize("client", ["aiohttp", "httpx", "direct"])
async def test_openai_provider_gets_the_echo(lean: LeanOpenAIServer, client: str) -> None:
    cfg = ProviderConfig.model_validate(
        {"type": "openai", "model": "m-2025-01-01", "base_url": lean.base_url, "client": client}
    )
    provider = build_provider("t", cfg, pricing=PriceTable(), root=Path("."))
    try:
        answers = await asyncio.gather(
            *(
                provider.complete(
                    ChatRequest(messages=({"role": "user", "content": f"q{i}"},), model="")
                )
                for i in range(20)
            )
        )
    finally:
        await provider.aclose()
    assert [a.text for a in answers] == [f"q{i}" for i in range(20)]
    assert answers[0].usage.prompt_tokens == 1 and answers[0].usage.completion_tokens == 1
    assert lean.count == 20


async def test_pipelined_requests_answer_in_order(lean: LeanOpenAIServer) -> None:
    payload = _post(_body("first")) + _post(_body("second"), chunked=True) + _post(_body("3"))
    answers = await _raw(lean, payload, 3)
    texts = [
        json.loads(a.split(b"\r\n\r\n", 1)[1])["choices"][0]["message"]["content"] for a in answers
    ]
    assert texts == ["first", "second", "3"]
    assert all(a.startswith(b"HTTP/1.1 200 OK") for a in answers)


async def test_bad_requests_get_clear_errors(lean: LeanOpenAIServer) -> None:
    [not_json] = await _raw(lean, _post(b"{nope"), 1)
    assert not_json.startswith(b"HTTP/1.1 400") and b"not JSON" in not_json
    [no_route] = await _raw(lean, b"GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n", 1)
    assert no_route.startswith(b"HTTP/1.1 404")
    [bad_len] = await _raw(
        lean, b"POST /v1/chat/completions HTTP/1.1\r\nContent-Length: x\r\n\r\n", 1
    )
    assert bad_len.startswith(b"HTTP/1.1 400")
    [closing] = await _raw(lean, _post(_body("bye"), close=True), 1)
    assert b"Connection: close" in closing


def test_completion_rejects_a_body_without_messages() -> None:
    status, _ = completion({"model": "m"}, 1)
    assert status == 400
    status, payload = completion(
        {"messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]}, 2
    )
    assert status == 200 and json.loads(payload)["choices"][0]["message"]["content"] == "hi"
