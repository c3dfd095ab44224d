"""The upstream pool sends each upstream its own URL, key, headers and timeouts, built once
per upstream and never mixed between upstreams."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import web

from releasegate.gateway.upstream import Upstream, UpstreamError, UpstreamPool


async def _server(seen: list[dict[str, Any]], delay_s: float = 0.0) -> web.AppRunner:
    async def handler(request: web.Request) -> web.Response:
        seen.append(
            {"path": request.path, "headers": dict(request.headers), "raw": request.raw_headers}
        )
        await asyncio.sleep(delay_s)
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_route("POST", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner


def _base(runner: web.AppRunner, prefix: str) -> str:
    sockets = [s for site in runner.sites for s in site._server.sockets]  # type: ignore[union-attr]
    port = sockets[0].getsockname()[1]
    return f"http://127.0.0.1:{port}{prefix}"


@pytest.mark.parametrize("rounds", [1, 3])
def test_each_upstream_gets_its_own_key_headers_and_path(rounds: int) -> None:
    async def run() -> list[dict[str, Any]]:
        seen: list[dict[str, Any]] = []
        runner = await _server(seen)
        pool = UpstreamPool()
        try:
            a = Upstream("a", _base(runner, "/a/v1"), api_key="key-a", headers={"X-Team": "one"})
            b = Upstream("b", _base(runner, "/b/v1"), api_key=None, headers={"X-Other": "2"})
            c = Upstream(
                "c",
                _base(runner, "/c/v1"),
                api_key="key-c",
                headers={"user-agent": "mine/1", "content-type": "application/json; v=2"},
            )
            for _ in range(rounds):
                for up in (a, b, c):
                    await pool.request(up, "POST", "/chat/completions", b"{}")
                await pool.request(a, "POST", "/embeddings", b"{}")
        finally:
            await pool.close()
            await runner.cleanup()
        return seen

    seen = asyncio.run(run())
    assert len(seen) == 4 * rounds
    for entry in seen:
        names = [k.lower() for k, _ in entry["raw"]]
        assert len(names) == len(set(names)), entry["raw"]  # no header sent twice
    for i in range(rounds):
        a, b, c, emb = seen[4 * i : 4 * i + 4]
        assert a["path"] == "/a/v1/chat/completions"
        assert a["headers"]["Authorization"] == "Bearer key-a"
        assert a["headers"]["X-Team"] == "one"
        assert b["path"] == "/b/v1/chat/completions"
        assert "Authorization" not in b["headers"]
        assert b["headers"]["X-Other"] == "2" and "X-Team" not in b["headers"]
        assert c["headers"]["Authorization"] == "Bearer key-c"
        assert c["headers"]["User-Agent"] == "mine/1"  # a configured header wins, any case
        assert c["headers"]["Content-Type"] == "application/json; v=2"
        assert a["headers"]["User-Agent"].startswith("releasegate-gateway/")
        assert "X-Team" not in c["headers"] and "X-Other" not in c["headers"]
        assert emb["path"] == "/a/v1/embeddings"
        assert emb["headers"]["Authorization"] == "Bearer key-a"


def test_a_new_upstream_object_is_not_served_from_an_old_ones_cache() -> None:
    # Upstreams built again (a reloaded config) may reuse a freed object's id: the pool
    # must use the new object's key, not what it prepared for the old one.
    async def run() -> list[str]:
        seen: list[dict[str, Any]] = []
        runner = await _server(seen)
        pool = UpstreamPool()
        try:
            for i in range(5):
                up = Upstream("u", _base(runner, "/v1"), api_key=f"key-{i}")
                await pool.request(up, "POST", "/chat/completions", b"{}")
                del up
        finally:
            await pool.close()
            await runner.cleanup()
        return [s["headers"]["Authorization"] for s in seen]

    assert asyncio.run(run()) == [f"Bearer key-{i}" for i in range(5)]


@pytest.mark.parametrize("read_timeout_s", [0.05, 0.2])
def test_each_upstream_keeps_its_own_read_timeout(read_timeout_s: float) -> None:
    async def run() -> tuple[str | None, bool]:
        seen: list[dict[str, Any]] = []
        runner = await _server(seen, delay_s=read_timeout_s * 3)
        pool = UpstreamPool()
        try:
            slow_ok = Upstream("patient", _base(runner, "/v1"), read_timeout_s=30.0)
            quick = Upstream("quick", _base(runner, "/v1"), read_timeout_s=read_timeout_s)
            await pool.request(slow_ok, "POST", "/chat/completions", b"{}")
            try:
                await pool.request(quick, "POST", "/chat/completions", b"{}")
            except UpstreamError as exc:
                kind: str | None = exc.kind
            else:
                kind = None
            await pool.request(slow_ok, "POST", "/chat/completions", b"{}")  # still patient
            return kind, True
        finally:
            await pool.close()
            await runner.cleanup()

    assert asyncio.run(run()) == ("timeout", True)


@pytest.mark.parametrize(
    "cookie",
    [
        "session=abc123",
        "session=abc123; Path=/; HttpOnly",
        "AWSALB=xyz; Expires=Wed, 09 Jun 2100 10:18:14 GMT; Path=/",
        "lb=node-2; Domain=localhost; Max-Age=3600",
    ],
)
def test_an_upstreams_cookie_never_reaches_a_later_request(cookie: str) -> None:
    # One session serves every caller: a cookie kept from one answer would be sent with
    # other callers' requests (a sticky load-balancer cookie, a session of someone else).
    async def run() -> list[str | None]:
        sent: list[str | None] = []

        async def handler(request: web.Request) -> web.Response:
            sent.append(request.headers.get("Cookie"))
            response = web.json_response({"ok": True})
            response.headers["Set-Cookie"] = cookie
            return response

        app = web.Application()
        app.router.add_route("POST", "/{tail:.*}", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        pool = UpstreamPool()
        try:
            # A host name: cookies from a bare IP address are refused by the client anyway.
            up = Upstream("a", _base(runner, "/v1").replace("127.0.0.1", "localhost"), api_key="k")
            for _ in range(3):
                await pool.request(up, "POST", "/chat/completions", b"{}")
            async with await pool.open_stream(up, b"{}") as resp:
                await resp.read()
        finally:
            await pool.close()
            await runner.cleanup()
        return sent

    assert asyncio.run(run()) == [None, None, None, None]
