"""A mock upstream for gateway tests: :class:`FakeOpenAIServer` plus broken streams,
streamed tool calls and ``/v1/embeddings``.

Scripting (each consumed by the next streaming request)::

    server.cut_stream_after(2)          # send 2 content chunks, then close the connection
    server.stall_stream_after(2, 5.0)   # send 2 chunks, then wait 5 s before the rest
    server.malformed_after(1)           # send 1 chunk, then a line that is not JSON
    server.fail_before_first_chunk()    # status 200, then close before any chunk
    server.tool_call_next("get_weather", '{"city": "Paris"}')
    server.tool_calls_next([("get_weather", '{"city": "Oslo"}'), ("now", "{}")], text="Hm.")

How it treats ``stream_options.include_usage`` (``GatewayUpstream(stream_usage=...)``)::

    "honour"   # the default: a final usage chunk (choices: []) when asked
    "openai"   # as OpenAI does: then also "usage": null on every other chunk
    "ignore"   # never a usage chunk
    "reject"   # a request naming stream_options at all gets 400

Holding a model (not consumed; for shadow calls and other background work)::

    server.hold_model("m-2")            # requests for m-2 wait once they arrived...
    server.waiting("m-2")               # ... (how many wait now) ...
    server.release_model("m-2")         # ... until released
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.support.openai_server import FakeOpenAIServer

__all__ = ["GatewayUpstream"]


@dataclass(slots=True)
class _StreamScript:
    kind: str  # "cut", "stall", "malformed", "early", "tool"
    after: int = 0
    seconds: float = 0.0
    calls: tuple[tuple[str, str], ...] = ()
    text: str | None = None


class GatewayUpstream(FakeOpenAIServer):
    """:class:`FakeOpenAIServer` with scripted stream faults, tool calls, embeddings."""

    def __init__(self, *, stream_usage: str = "honour", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        assert stream_usage in ("honour", "openai", "ignore", "reject")
        self.stream_usage = stream_usage
        self._streams: deque[_StreamScript] = deque()
        self._holds: dict[str, threading.Event] = {}
        self._waiting: Counter[str] = Counter()

    def hold_model(self, model: str) -> None:
        """Requests naming ``model`` wait, once received, until :meth:`release_model`."""
        self._holds[model] = threading.Event()

    def release_model(self, model: str) -> None:
        """Let the held requests for ``model`` (and later ones) through."""
        gate = self._holds.pop(model, None)
        if gate is not None:
            gate.set()

    def waiting(self, model: str) -> int:
        """Requests for ``model`` waiting now."""
        return self._waiting[model]

    async def _hold(self, request: web.Request) -> None:
        try:
            body = await request.json()  # aiohttp keeps the body: handlers read it again
        except json.JSONDecodeError:
            return
        model = str(body.get("model")) if isinstance(body, dict) else ""
        gate = self._holds.get(model)
        if gate is None:
            return
        self._waiting[model] += 1
        try:
            # A threading.Event, set from the test's thread: an asyncio.Event is not
            # thread-safe, and a blocking wait would stall this server's loop.
            while not gate.is_set():  # noqa: ASYNC110
                await asyncio.sleep(0.005)
        finally:
            self._waiting[model] -= 1

    def cut_stream_after(self, chunks: int) -> None:
        self._streams.append(_StreamScript("cut", after=chunks))

    def stall_stream_after(self, chunks: int, seconds: float) -> None:
        self._streams.append(_StreamScript("stall", after=chunks, seconds=seconds))

    def malformed_after(self, chunks: int) -> None:
        self._streams.append(_StreamScript("malformed", after=chunks))

    def fail_before_first_chunk(self) -> None:
        self._streams.append(_StreamScript("early"))

    def tool_call_next(self, name: str, arguments: str) -> None:
        """The next request (streaming or not) answers with one tool call."""
        self.tool_calls_next([(name, arguments)])

    def tool_calls_next(self, calls: list[tuple[str, str]], text: str | None = None) -> None:
        """The next request (streaming or not) answers with these ``(name, arguments)``
        calls (ids ``call_<request>_<i>``, parallel when several), after ``text`` if
        given. Streamed, the text comes first, then each call: its id and name with
        empty arguments, then its arguments in two pieces."""
        self._streams.append(_StreamScript("tool", calls=tuple(calls), text=text))

    def _app(self) -> web.Application:
        app = super()._app()
        app.router.add_post("/v1/embeddings", self._embeddings)
        return app

    async def _embeddings(self, request: web.Request) -> web.Response:
        body = await request.json()
        self._record(request, body)
        inputs = body.get("input")
        items = inputs if isinstance(inputs, list) else [inputs]
        data = [
            {"object": "embedding", "index": i, "embedding": [float(len(str(x))), 1.0, 0.5]}
            for i, x in enumerate(items)
        ]
        return web.json_response(
            {
                "object": "list",
                "data": data,
                "model": body.get("model"),
                "usage": {"prompt_tokens": len(items), "total_tokens": len(items)},
            }
        )

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        if self.stream_usage == "reject":
            body = await request.json()
            if isinstance(body, dict) and "stream_options" in body:
                self._record(request, body)
                return web.json_response(
                    {
                        "error": {
                            "message": "Unrecognized request argument: stream_options",
                            "type": "invalid_request_error",
                            "code": None,
                        }
                    },
                    status=400,
                )
        if self._holds:
            await self._hold(request)
        script = self._streams[0] if self._streams else None
        if script is not None and script.kind == "tool":
            self._streams.popleft()
            body = await request.json()
            self._record(request, body)
            return await self._tool(request, body, script)
        return await super()._chat(request)

    async def _tool(
        self, request: web.Request, body: dict[str, Any], script: _StreamScript
    ) -> web.StreamResponse:
        model = str(body.get("model") or self.model)
        ids = [f"call_{self.count}_{i}" for i in range(len(script.calls))]
        if not body.get("stream"):
            calls = [
                {"id": id_, "type": "function", "function": {"name": name, "arguments": args}}
                for id_, (name, args) in zip(ids, script.calls, strict=True)
            ]
            return web.json_response(
                {
                    "id": f"chatcmpl-fake-{self.count}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "tool_calls",
                            "message": {
                                "role": "assistant",
                                "content": script.text,
                                "tool_calls": calls,
                            },
                        }
                    ],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
                }
            )
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        base = {
            "id": f"chatcmpl-fake-{self.count}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
        }
        deltas: list[dict[str, Any]] = [{"role": "assistant", "content": script.text}]
        for i, (id_, (name, args)) in enumerate(zip(ids, script.calls, strict=True)):
            half = len(args) // 2
            opening = {"id": id_, "type": "function", "function": {"name": name, "arguments": ""}}
            deltas += [
                {"tool_calls": [{"index": i, **opening}]},
                {"tool_calls": [{"index": i, "function": {"arguments": args[:half]}}]},
                {"tool_calls": [{"index": i, "function": {"arguments": args[half:]}}]},
            ]
        for delta in deltas:
            chunk = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
            await resp.write(f"data: {json.dumps(chunk)}\n\n".encode())
        final = {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}
        await resp.write(f"data: {json.dumps(final)}\n\n".encode())
        options = body.get("stream_options")
        if isinstance(options, dict) and options.get("include_usage"):
            usage = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
            last = {**base, "choices": [], "usage": usage}
            await resp.write(f"data: {json.dumps(last)}\n\n".encode())
        await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()
        return resp

    async def _openai_stream(
        self, request: web.Request, model: str, text: str, usage: dict[str, int]
    ) -> web.StreamResponse:
        # OpenAI's shape with include_usage: "usage": null on every chunk, then the
        # usage chunk with no choices; compact JSON as OpenAI sends it.
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        base = {
            "id": f"chatcmpl-fake-{self.count}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
        }
        pieces = [text[i : i + 16] for i in range(0, len(text), 16)] or [""]
        chunks: list[dict[str, Any]] = []
        for i, piece in enumerate(pieces):
            delta = {"content": piece, **({"role": "assistant"} if i == 0 else {})}
            chunks.append(
                {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
            )
        chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        for chunk in chunks:
            line = json.dumps({**chunk, "usage": None}, separators=(",", ":"))
            await resp.write(f"data: {line}\n\n".encode())
        last = json.dumps({**base, "choices": [], "usage": usage}, separators=(",", ":"))
        await resp.write(f"data: {last}\n\n".encode())
        await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()
        return resp

    async def _stream(
        self, request: web.Request, model: str, text: str, usage: dict[str, int], body: Any
    ) -> web.StreamResponse:
        script = self._streams.popleft() if self._streams else None
        options = body.get("stream_options") if isinstance(body, dict) else None
        asked = isinstance(options, dict) and bool(options.get("include_usage"))
        if script is None and self.stream_usage == "openai" and asked:
            return await self._openai_stream(request, model, text, usage)
        if script is None:
            if self.stream_usage == "ignore" and isinstance(body, dict):
                body = {k: v for k, v in body.items() if k != "stream_options"}
            return await super()._stream(request, model, text, usage, body)
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        base = {
            "id": f"chatcmpl-fake-{self.count}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
        }
        if script.kind == "early":
            await resp.write(b": starting\n\n")
            assert request.transport is not None
            request.transport.close()
            return resp
        pieces = [f"piece{i} " for i in range(script.after + 3)]
        for i, piece in enumerate(pieces):
            if i == script.after:
                if script.kind == "cut":
                    # Let the client read what was sent: a reader may drop buffered
                    # data once it sees the connection fail.
                    await asyncio.sleep(0.1)
                    assert request.transport is not None
                    request.transport.close()
                    return resp
                if script.kind == "stall":
                    await asyncio.sleep(script.seconds)
                if script.kind == "malformed":
                    await resp.write(b"data: {not json\n\n")
            delta = {"content": piece, **({"role": "assistant"} if i == 0 else {})}
            chunk = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
            await resp.write(f"data: {json.dumps(chunk)}\n\n".encode())
        final = {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        await resp.write(f"data: {json.dumps(final)}\n\n".encode())
        await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()
        return resp
