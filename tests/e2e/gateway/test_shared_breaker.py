"""Several gateway processes: breakers shared through a real Redis (two separate
``serve`` processes, driven by the official ``openai`` SDK), and one ``serve
--workers 2`` whose workers route alike and publish their breaker states."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import openai
import pytest
import redis

from releasegate.control.router import Router
from releasegate.store.database import open_database
from tests.e2e.gateway._process import Served, make_project, serve
from tests.support.gateway_upstream import GatewayUpstream
from tests.support.servers import RedisServer


@pytest.fixture
def key_prefix(redis_url: str) -> Iterator[str]:
    prefix = f"rgtest:e2e-breaker:{uuid.uuid4().hex[:10]}"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


def ask(g: Served, unit: str = "u-faq") -> dict[str, str]:
    client = openai.OpenAI(
        base_url=g.url + "/v1",
        api_key="unused",
        max_retries=0,
        default_headers={"X-Releasegate-Unit": unit},
    )
    try:
        raw = client.chat.completions.with_raw_response.create(
            model="faq", messages=[{"role": "user", "content": "x"}]
        )
        return dict(raw.headers)
    finally:
        client.close()


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.05)


def test_two_processes_open_probe_and_close_together(
    tmp_path: Path, redis_url: str, key_prefix: str
) -> None:
    with (
        GatewayUpstream.run_in_thread(record=True) as up,
        GatewayUpstream.run_in_thread(record=True) as backup,
    ):
        config = {
            "version": 1,
            "providers": {
                "backup": {"type": "openai", "base_url": backup.base_url, "model": "m-b"},
                "flaky": {"type": "openai", "base_url": up.base_url, "model": "m-3"},
            },
            "gateway": {
                "default_provider": "backup",
                "fallbacks": {"faq": {"models": ["m-b"]}},
                "breaker": {
                    "min_volume": 4,
                    "failure_rate": 0.5,
                    "open_s": 4.0,  # long enough for the checks below on a busy machine
                    "key_prefix": key_prefix,
                },
                "redis_url": redis_url,
            },
        }
        db_url = make_project(tmp_path, config)
        with (
            serve(tmp_path, db_url, name="a") as a,
            serve(tmp_path, db_url, name="b") as b,
        ):
            assert "releasegate_gateway_breaker_shared 1.0" in a.metrics()
            # Four failures, two seen by each process: alone, neither would reach the
            # minimum volume of 4; together they open the shared breaker.
            up.fail_next(500, times=4)
            for g in (a, b, a, b):
                headers = ask(g)
                assert headers["x-releasegate-fallback-depth"] == "1"
                assert headers["x-releasegate-served-model"] == "m-b"
            assert a.breaker("flaky") == "2.0" and b.breaker("flaky") == "2.0"
            before = up.count
            assert ask(b)["x-releasegate-fallback-depth"] == "1"
            assert up.count == before  # open: "flaky" is skipped without a call

            # Half-open: exactly one probe across both processes. A's probe hangs at the
            # upstream while B is asked; B must not send a second one.
            wait_for(lambda: b.breaker("flaky") == "1.0", "half-open")
            up.hang_next(2.0)
            probe: dict[str, str] = {}
            thread = threading.Thread(target=lambda: probe.update(ask(a)))
            thread.start()
            wait_for(lambda: up.count == before + 1, "the probe to reach the upstream")
            assert ask(b)["x-releasegate-fallback-depth"] == "1"
            assert up.count == before + 1
            thread.join(timeout=30)
            assert probe["x-releasegate-fallback-depth"] == "0"  # the probe succeeded ...
            assert a.breaker("flaky") == "0.0" and b.breaker("flaky") == "0.0"  # ... closed
            assert ask(b)["x-releasegate-fallback-depth"] == "0"
            assert up.count == before + 2


def test_serve_with_two_workers_routes_alike_and_publishes_health(tmp_path: Path) -> None:
    with GatewayUpstream.run_in_thread(record=True) as up:
        config = {
            "version": 1,
            "providers": {
                "main": {"type": "openai", "base_url": up.base_url, "model": "m-1"},
                "main2": {"type": "openai", "base_url": up.base_url, "model": "m-2"},
            },
            "gateway": {"default_provider": "main"},
        }
        db_url = make_project(tmp_path, config)
        db = open_database(db_url)
        try:
            router = Router(lambda: db.uow(write=False))
            expected = {f"unit-{i}": router.route("chat", f"unit-{i}").version for i in range(12)}

            def instances() -> set[str]:
                since = datetime.now(UTC) - timedelta(minutes=5)
                with db.uow(write=False) as uow:
                    return {r.instance for r in uow.upstream_health.recent(since=since)}

            with serve(tmp_path, db_url, "--workers", "2") as g:
                # each worker publishes its breakers from its start-up on
                wait_for(lambda: len(instances()) == 2, "both workers' breaker states")
                for _ in range(3):
                    for unit, version in expected.items():
                        # a new connection each time, so either worker may answer
                        r = httpx.post(
                            g.url + "/v1/chat/completions",
                            json={"model": "chat", "messages": [{"role": "user", "content": "hi"}]},
                            headers={"X-Releasegate-Unit": unit, "Connection": "close"},
                        )
                        assert r.status_code == 200, r.text
                        assert r.headers["x-releasegate-version"] == version
                with db.uow(write=False) as uow:
                    rows = uow.upstream_health.current(since=datetime.now(UTC) - timedelta(1))
                assert {r.upstream for r in rows} == {"main", "main2"}
                assert all(r.state == "closed" and not r.shared for r in rows)
        finally:
            db.close()
        assert set(expected.values()) == {"v1", "v2"}


def test_redis_going_away_degrades_to_local_breakers_and_back(tmp_path: Path) -> None:
    own = RedisServer()
    own.start()
    try:
        with GatewayUpstream.run_in_thread(record=True) as up:
            config = {
                "version": 1,
                "providers": {"flaky": {"type": "openai", "base_url": up.base_url, "model": "m-3"}},
                "gateway": {"default_provider": "flaky", "redis_url": own.url},
            }
            db_url = make_project(tmp_path, config)
            with serve(tmp_path, db_url) as g:
                assert ask(g)["x-releasegate-fallback-depth"] == "0"
                assert "releasegate_gateway_breaker_shared 1.0" in g.metrics()
                own.stop()
                # Redis is gone: requests are still served, decided by this process alone
                assert ask(g)["x-releasegate-fallback-depth"] == "0"
                metrics = g.metrics()
                assert "releasegate_gateway_breaker_shared 0.0" in metrics
                assert "releasegate_gateway_breaker_store_errors 0.0" not in metrics
                assert "decides alone" in g.log.read_text()
                own.start()  # back, same port: shared again without a restart

                def shared_again() -> bool:
                    ask(g)
                    return "releasegate_gateway_breaker_shared 1.0" in g.metrics()

                wait_for(shared_again, "the breakers to use Redis again")
                assert "reachable again" in g.log.read_text()
    finally:
        own.close()
