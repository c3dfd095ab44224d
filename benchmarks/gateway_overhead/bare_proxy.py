"""A bare pass-through proxy: the ceiling for any Python gateway on this machine.

An ASGI app that forwards ``POST /v1/chat/completions`` to one upstream with a pooled
keep-alive client and returns its answer, with no routing, recording or headers of its
own. ``BARE_CLIENT=aiohttp`` (default) or ``httpx`` picks the upstream client.

    BARE_UPSTREAM=http://127.0.0.1:8011 uvicorn benchmarks.gateway_overhead.bare_proxy:app
"""

from __future__ import annotations

import os
from typing import Any

UPSTREAM = os.environ.get("BARE_UPSTREAM", "http://127.0.0.1:8011")
CLIENT = os.environ.get("BARE_CLIENT", "aiohttp")
_state: dict[str, Any] = {}


async def _body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _forward(body: bytes) -> tuple[int, bytes]:
    if CLIENT == "httpx":
        import httpx

        client = _state.get("httpx")
        if client is None:
            limits = httpx.Limits(max_connections=1000, max_keepalive_connections=1000)
            client = _state["httpx"] = httpx.AsyncClient(limits=limits, timeout=30)
        r = await client.post(
            UPSTREAM + "/v1/chat/completions",
            content=body,
            headers={"content-type": "application/json"},
        )
        return r.status_code, r.content
    import aiohttp

    session = _state.get("aiohttp")
    if session is None:
        connector = aiohttp.TCPConnector(limit=0)
        session = _state["aiohttp"] = aiohttp.ClientSession(connector=connector)
    async with session.post(
        UPSTREAM + "/v1/chat/completions",
        data=body,
        headers={"content-type": "application/json"},
    ) as resp:
        return resp.status, await resp.read()


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        return
    status, payload = await _forward(await _body(receive))
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
