"""A real, scriptable OpenAI-compatible HTTP server for tests and benchmarks.

:class:`FakeOpenAIServer` listens on 127.0.0.1 (an ephemeral port by default) and speaks
the chat-completions protocol: non-streaming JSON and ``stream: true`` server-sent
events, plus ``GET /v1/models``. It answers with the last user message (or a configured
reply) and keeps a log of every request. Failures are scripted in a queue consumed one
request at a time::

    server.fail_next(429, retry_after=1)   # next request: 429 with Retry-After: 1
    server.fail_next(500)                  # the one after: 500
    server.hang_next(5.0)                  # then one that answers only after 5 s

Use it as the ``openai_server`` pytest fixture (async; started and stopped per test),
from synchronous code with :meth:`FakeOpenAIServer.run_in_thread`, or standalone::

    python -m tests.support.openai_server --port 8011 --delay-ms 50
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

__all__ = ["FakeOpenAIServer", "RecordedRequest", "main", "openai_server"]


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass(slots=True)
class _Behavior:
    kind: str  # "fail", "hang", "reply"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    seconds: float = 0.0
    text: str | None = None
    usage: dict[str, int] | None = None
    tool_calls: list[Any] | None = None


def _tokens(text: str) -> int:
    # About four characters per token: deterministic, so tests can predict cost.
    return max(1, math.ceil(len(text) / 4))


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: [{"type": "text", "text": ...}]
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


class FakeOpenAIServer:
    """A local OpenAI-compatible server with a request log and scripted failures.

    Args:
        delay_ms: fixed delay before every answer (simulates model latency).
        reply: fixed answer text; ``None`` echoes the last user message.
        model: model name reported when the request names none.
        host: interface to bind.
        port: port to bind; 0 picks a free one.
        record: keep every request in :attr:`requests` (off for long benchmark runs;
            :attr:`count` is kept either way).
    """

    def __init__(
        self,
        *,
        delay_ms: float = 0.0,
        reply: str | None = None,
        model: str = "fake-model-2025-01-01",
        host: str = "127.0.0.1",
        port: int = 0,
        record: bool = True,
    ) -> None:
        self.delay_ms = delay_ms
        self.reply = reply
        self.model = model
        self.host = host
        self._port = port
        self.requests: list[RecordedRequest] = []
        self._script: deque[_Behavior] = deque()
        self._runner: web.AppRunner | None = None
        self._record_requests = record
        self._count = 0

    # -- scripting -----------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        *,
        retry_after: float | str | None = None,
        retry_after_ms: float | None = None,
        message: str | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` requests fail with HTTP ``status``.

        ``retry_after`` is sent verbatim as ``Retry-After`` (seconds or an HTTP date).
        """
        headers: dict[str, str] = {}
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        if retry_after_ms is not None:
            headers["retry-after-ms"] = str(retry_after_ms)
        body = {
            "error": {
                "message": message or f"scripted failure {status}",
                "type": "rate_limit_error" if status == 429 else "server_error",
                "code": None,
            }
        }
        for _ in range(times):
            self._script.append(_Behavior("fail", status=status, headers=headers, body=body))

    def hang_next(self, seconds: float, *, times: int = 1) -> None:
        """Make the next ``times`` requests wait ``seconds`` before answering normally."""
        for _ in range(times):
            self._script.append(_Behavior("hang", seconds=seconds))

    def reply_next(
        self,
        text: str | None,
        *,
        usage: dict[str, int] | None = None,
        tool_calls: list[Any] | None = None,
    ) -> None:
        """Answer the next request with ``text`` (and optionally these usage numbers).

        Without a scripted reply, a request whose ``tool_choice`` names a function (or
        is ``required``: the first tool) is answered with one call to it, arguments
        ``{}``.

        With ``tool_calls`` (entries sent exactly as given, OpenAI shape ``{"id",
        "type": "function", "function": {"name", "arguments"}}``) the answer carries
        them, ``content`` is ``text`` (``None`` allowed) and ``finish_reason`` is
        ``"tool_calls"``; non-streaming requests only.
        """
        self._script.append(_Behavior("reply", text=text, usage=usage, tool_calls=tool_calls))

    def reset(self) -> None:
        """Forget the request log and any scripted behavior not yet used."""
        self.requests.clear()
        self._script.clear()
        self._count = 0

    @property
    def count(self) -> int:
        """Requests received so far."""
        return self._count

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        """``http://host:port`` (no path)."""
        return f"http://{self.host}:{self._port}"

    @property
    def base_url(self) -> str:
        """The OpenAI base URL, ``http://host:port/v1``."""
        return self.url + "/v1"

    # -- lifecycle -------------------------------------------------------------------

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        return app

    async def start(self) -> None:
        """Bind and start serving on the current event loop."""
        # A short shutdown grace: a test that scripted a hang should not wait it out.
        self._runner = web.AppRunner(self._app(), access_log=None, shutdown_timeout=0.25)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self._port)
        await site.start()
        server = site._server  # aiohttp exposes no public accessor for the bound port
        assert isinstance(server, asyncio.base_events.Server)
        self._port = server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop serving and close connections."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeOpenAIServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @classmethod
    @contextmanager
    def run_in_thread(cls, **kwargs: Any) -> Iterator[FakeOpenAIServer]:
        """Run a server on its own event loop in a daemon thread (for sync callers).

        Scripting methods may be called from the caller's thread between requests.
        """
        server = cls(**kwargs)
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(server.start())
            ready.set()
            loop.run_forever()
            loop.run_until_complete(server.stop())
            loop.close()

        thread = threading.Thread(target=serve, name="fake-openai-server", daemon=True)
        thread.start()
        ready.wait()
        try:
            yield server
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join()

    # -- handlers --------------------------------------------------------------------

    async def _models(self, request: web.Request) -> web.Response:
        self._record(request, None)
        return web.json_response(
            {"object": "list", "data": [{"id": self.model, "object": "model", "owned_by": "fake"}]}
        )

    def _record(self, request: web.Request, body: Any) -> None:
        self._count += 1
        if not self._record_requests:
            return
        self.requests.append(
            RecordedRequest(request.method, request.path, dict(request.headers), body)
        )

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            self._record(request, None)
            return _error(400, "request body is not JSON")
        self._record(request, body)
        behavior = self._script.popleft() if self._script else None
        if self.delay_ms:
            await asyncio.sleep(self.delay_ms / 1000)
        if behavior is not None and behavior.kind == "hang":
            await asyncio.sleep(behavior.seconds)
        if behavior is not None and behavior.kind == "fail":
            return web.json_response(
                behavior.body, status=behavior.status, headers=behavior.headers
            )
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return _error(400, "'messages' is required")
        messages = [m for m in body["messages"] if isinstance(m, dict)]
        text = self.reply
        usage = None
        tool_calls = None
        if behavior is not None and behavior.kind == "reply":
            text, usage, tool_calls = behavior.text, behavior.usage, behavior.tool_calls
        if tool_calls is None and behavior is None:
            tool_calls = _forced_call(body, self.count)
        if tool_calls is not None and not body.get("stream"):
            return self._tool_answer(body, text, tool_calls)
        if text is None:
            users = [m for m in messages if m.get("role") == "user"]
            text = _content_text(users[-1].get("content")) if users else ""
        prompt_text = "".join(_content_text(m.get("content")) for m in messages)
        usage = usage or {
            "prompt_tokens": _tokens(prompt_text),
            "completion_tokens": _tokens(text),
        }
        usage = {**usage, "total_tokens": usage["prompt_tokens"] + usage["completion_tokens"]}
        model = str(body.get("model") or self.model)
        if body.get("stream"):
            return await self._stream(request, model, text, usage, body)
        return web.json_response(
            {
                "id": f"chatcmpl-fake-{self.count}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": "stop",
                    }
                ],
                "usage": usage,
            }
        )

    def _tool_answer(self, body: Any, text: str | None, tool_calls: list[Any]) -> web.Response:
        message = {"role": "assistant", "content": text, "tool_calls": tool_calls}
        completion = _tokens(text or "") + _tokens(json.dumps(tool_calls))
        return web.json_response(
            {
                "id": f"chatcmpl-fake-{self.count}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": str(body.get("model") or self.model),
                "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}],
                "usage": {
                    "prompt_tokens": 1,
                    "completion_tokens": completion,
                    "total_tokens": 1 + completion,
                },
            }
        )

    async def _stream(
        self, request: web.Request, model: str, text: str, usage: dict[str, int], body: Any
    ) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        base = {
            "id": f"chatcmpl-fake-{self.count}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
        }
        # Split the answer into a few chunks so clients see a real stream.
        pieces = [text[i : i + 16] for i in range(0, len(text), 16)] or [""]
        for i, piece in enumerate(pieces):
            delta: dict[str, Any] = {"content": piece}
            if i == 0:
                delta["role"] = "assistant"
            chunk = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
            await resp.write(f"data: {json.dumps(chunk)}\n\n".encode())
        final = {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        await resp.write(f"data: {json.dumps(final)}\n\n".encode())
        options = body.get("stream_options") if isinstance(body, dict) else None
        if isinstance(options, dict) and options.get("include_usage"):
            await resp.write(
                f"data: {json.dumps({**base, 'choices': [], 'usage': usage})}\n\n".encode()
            )
        await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()
        return resp


def _forced_call(body: dict[str, Any], n: int) -> list[Any] | None:
    """The call a request forces: ``tool_choice`` naming a function, or ``required``
    (the first tool); arguments ``{}``. ``None`` when the request forces none."""
    choice = body.get("tool_choice")
    tools = body.get("tools") if isinstance(body.get("tools"), list) else []
    name = None
    if isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        name = choice["function"].get("name")
    elif choice == "required" and tools and isinstance(tools[0], dict):
        name = (tools[0].get("function") or {}).get("name")
    if not isinstance(name, str):
        return None
    return [
        {
            "id": f"call_fake_{n}",
            "type": "function",
            "function": {"name": name, "arguments": "{}"},
        }
    ]


def _error(status: int, message: str, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.json_response(
        {"error": {"message": message, "type": "invalid_request_error", "code": None}},
        status=status,
        headers=dict(headers or {}),
    )


@pytest.fixture
async def openai_server() -> AsyncIterator[FakeOpenAIServer]:
    """A started :class:`FakeOpenAIServer` on an ephemeral port, stopped after the test."""
    server = FakeOpenAIServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> None:
    """Run the server in the foreground until interrupted."""
    parser = argparse.ArgumentParser(description="Fake OpenAI-compatible server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay-ms", type=float, default=0.0)
    parser.add_argument("--reply", default=None, help="fixed answer (default: echo)")
    args = parser.parse_args(argv)

    async def serve() -> None:
        server = FakeOpenAIServer(
            delay_ms=args.delay_ms,
            reply=args.reply,
            host=args.host,
            port=args.port,
            record=False,
        )
        await server.start()
        # The port line lets a parent process that asked for port 0 find the server.
        print(f"listening on {server.url}", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await server.stop()

    with suppress(KeyboardInterrupt):
        asyncio.run(serve())


if __name__ == "__main__":
    main()
