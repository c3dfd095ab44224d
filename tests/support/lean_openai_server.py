"""A lean OpenAI-compatible server for throughput benchmarks.

It answers ``POST /v1/chat/completions`` (non-streaming) with the last user message,
after a fixed delay, and nothing else. It is built on a bare :class:`asyncio.Protocol`
because the benchmark needs the server's own CPU per request to be small next to the
clients': the aiohttp web server behind :mod:`tests.support.openai_server` spends about
0.3 ms of CPU per request, which at 32 calls in flight turns into several milliseconds
of queueing per answer, so "answers after 50 ms" became 53-55 ms and every client
measured against it looked slower than it is (see ``benchmarks/eval_throughput``).

HTTP/1.1 only as far as the benchmark's clients use it: keep-alive connections,
``Content-Length`` or chunked request bodies, answers in request order.

Standalone::

    python -m tests.support.lean_openai_server --port 8011 --delay-ms 50
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
from typing import Any

__all__ = ["LeanOpenAIServer", "main"]

_MAX_HEAD = 64 * 1024


def _tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4))


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def _http(status: int, reason: str, body: bytes, *, close: bool = False) -> bytes:
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n" + ("Connection: close\r\n" if close else "") + "\r\n"
    )
    return head.encode("latin-1") + body


def _error(status: int, reason: str, message: str) -> bytes:
    body = json.dumps({"error": {"message": message, "type": "invalid_request_error"}})
    return _http(status, reason, body.encode())


def completion(body: Any, counter: int) -> tuple[int, bytes]:
    """The HTTP status and JSON answer for one decoded request body."""
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        return 400, b'{"error":{"message":"\'messages\' is required"}}'
    messages = [m for m in body["messages"] if isinstance(m, dict)]
    users = [m for m in messages if m.get("role") == "user"]
    text = _text(users[-1].get("content")) if users else ""
    prompt = sum(_tokens(_text(m.get("content"))) for m in messages)
    out = _tokens(text)
    answer = {
        "id": f"chatcmpl-lean-{counter}",
        "object": "chat.completion",
        "created": 0,
        "model": str(body.get("model") or "lean-model"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": prompt, "completion_tokens": out, "total_tokens": prompt + out},
    }
    return 200, json.dumps(answer).encode()


class _Connection(asyncio.Protocol):
    def __init__(self, server: LeanOpenAIServer) -> None:
        self.server = server
        self.buf = bytearray()
        self.transport: asyncio.Transport | None = None
        self.closing = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while not self.closing:
            try:
                request = self._next_request()
            except ValueError:  # a length or chunk size that is not a number
                self._fail(_error(400, "Bad Request", "malformed framing"))
                return
            if request is None:
                return
            self._answer(*request)

    def _next_request(self) -> tuple[str, str, bool, bytes] | None:
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buf) > _MAX_HEAD:
                self._fail(_error(431, "Request Header Fields Too Large", "head too large"))
            return None
        lines = bytes(self.buf[:end]).decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3:
            self._fail(_error(400, "Bad Request", "malformed request line"))
            return None
        method, path, _version = parts
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        keep_alive = headers.get("connection", "").lower() != "close"
        start = end + 4
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body, consumed = self._chunked(start)
            if body is None:
                return None
            del self.buf[:consumed]
        else:
            length = int(headers.get("content-length") or 0)
            if len(self.buf) < start + length:
                return None
            body = bytes(self.buf[start : start + length])
            del self.buf[: start + length]
        return method, path.split("?", 1)[0], keep_alive, body

    def _chunked(self, pos: int) -> tuple[bytes | None, int]:
        out = bytearray()
        while True:
            eol = self.buf.find(b"\r\n", pos)
            if eol < 0:
                return None, 0
            size = int(bytes(self.buf[pos:eol]).split(b";")[0], 16)
            pos = eol + 2
            if size == 0:
                trailer_end = self.buf.find(b"\r\n", pos)
                if trailer_end < 0:
                    return None, 0
                return bytes(out), trailer_end + 2
            if len(self.buf) < pos + size + 2:
                return None, 0
            out += self.buf[pos : pos + size]
            pos += size + 2

    def _answer(self, method: str, path: str, keep_alive: bool, body: bytes) -> None:
        self.server.count += 1
        if method != "POST" or path != "/v1/chat/completions":
            self._send_now(_error(404, "Not Found", f"no route {method} {path}"))
            return
        try:
            decoded = json.loads(body)
        except ValueError:
            self._send_now(_error(400, "Bad Request", "request body is not JSON"))
            return
        status, payload = completion(decoded, self.server.count)
        reason = "OK" if status == 200 else "Bad Request"
        response = _http(status, reason, payload, close=not keep_alive)
        # Same delay for every request, so answers on one connection stay in order.
        asyncio.get_running_loop().call_later(
            self.server.delay_s, self._write, response, keep_alive
        )

    def _write(self, response: bytes, keep_alive: bool) -> None:
        if self.transport is None:
            return
        self.transport.write(response)
        if not keep_alive:
            self.closing = True
            self.transport.close()

    def _send_now(self, response: bytes) -> None:
        if self.transport is not None:
            self.transport.write(response)

    def _fail(self, response: bytes) -> None:
        """Answer a request that cannot be framed, then close: the rest is unreadable."""
        self._send_now(response)
        self.closing = True
        if self.transport is not None:
            self.transport.close()


class LeanOpenAIServer:
    """Serve chat completions on ``host:port`` after ``delay_ms``; :attr:`count` counts
    requests."""

    def __init__(self, *, delay_ms: float = 0.0, host: str = "127.0.0.1", port: int = 0) -> None:
        self.delay_s = delay_ms / 1000
        self.host = host
        self.port = port
        self.count = 0
        self._server: asyncio.Server | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    async def start(self) -> None:
        self._server = await asyncio.get_running_loop().create_server(
            lambda: _Connection(self), self.host, self.port
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> LeanOpenAIServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


def main(argv: list[str] | None = None) -> None:
    """Run standalone until interrupted; prints ``listening on URL`` once bound."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--delay-ms", type=float, default=0.0)
    args = ap.parse_args(argv)

    async def serve() -> None:
        server = LeanOpenAIServer(delay_ms=args.delay_ms, port=args.port)
        await server.start()
        print(f"listening on {server.base_url}", flush=True)
        await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


if __name__ == "__main__":
    main()
