"""uvicorn with the stamping protocols puts each request's arrival in its scope."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
import uvicorn

from releasegate.gateway._timing import ARRIVAL_KEY, StampedH11Protocol, stamped_protocol
from tests.e2e.deploy._cli import free_port


@pytest.mark.parametrize("http", ["h11", "auto"])
async def test_arrival_is_stamped_before_the_handler_runs(http: str) -> None:
    seen: list[tuple[float | None, float]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        seen.append((scope["state"].get(ARRIVAL_KEY), time.perf_counter()))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    protocol = stamped_protocol(http)
    if http == "h11":
        assert protocol is StampedH11Protocol
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, port=port, http=protocol, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(1000):  # uvicorn exposes no start event, only this flag
            if server.started:
                break
            await asyncio.sleep(0.01)
        async with httpx.AsyncClient() as client:
            for _ in range(3):  # one keep-alive connection: each request is stamped anew
                assert (await client.get(f"http://127.0.0.1:{port}/")).status_code == 200
    finally:
        server.should_exit = True
        await task
    assert len(seen) == 3
    stamps = [arrival for arrival, _ in seen]
    assert all(a is not None for a in stamps) and len(set(stamps)) == 3
    assert all(a is not None and a <= start for a, start in seen)
