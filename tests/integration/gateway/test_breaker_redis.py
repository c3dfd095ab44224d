"""Breakers shared through a real Redis: two "processes" (two connections, one key
prefix) make the decisions of one in-process breaker, on an injected clock."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from releasegate.gateway import BreakerPolicy, BreakerState, LocalBreaker
from releasegate.gateway.breaker_redis import RedisBreaker, SharedBreakers
from tests.support.servers import RedisServer


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    name = f"rgtest:breaker:{uuid.uuid4().hex[:10]}"
    yield name
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{name}:*"))
    if keys:
        client.delete(*keys)
    client.close()


def pair(
    redis_url: str, prefix: str, **kw: float
) -> tuple[RedisBreaker, RedisBreaker, Clock, list[SharedBreakers]]:
    """The same upstream's breaker in two processes, sharing one clock."""
    clock = Clock()
    policy = BreakerPolicy(**{"min_volume": 10, "open_s": 30.0, **kw})  # type: ignore[arg-type]
    stores = [SharedBreakers(redis_url, prefix=prefix, policy=policy, clock=clock) for _ in "ab"]
    return stores[0].breaker("up"), stores[1].breaker("up"), clock, stores


def test_failures_from_both_processes_open_it_for_both(redis_url: str, prefix: str) -> None:
    a, b, _, _ = pair(redis_url, prefix)
    for _ in range(5):
        a.failure()
    for _ in range(4):
        b.failure()
    assert a.state() is BreakerState.CLOSED and b.allow()
    b.failure()  # the tenth failure, counted across processes
    assert a.state() is BreakerState.OPEN and b.state() is BreakerState.OPEN
    assert not a.allow() and not b.allow()
    snap = a.snapshot()
    assert snap.shared and snap.failure_rate == 1.0 and snap.calls == 10


def test_opens_at_the_failure_rate_threshold(redis_url: str, prefix: str) -> None:
    a, b, _, _ = pair(redis_url, prefix, min_volume=20)
    for _ in range(17):
        a.success()
    a.failure()
    b.failure()
    assert b.state() is BreakerState.CLOSED  # 2/19 = 10.5%
    b.failure()  # 3/20 = 15%
    assert a.state() is BreakerState.OPEN


def test_window_slides(redis_url: str, prefix: str) -> None:
    a, b, clock, _ = pair(redis_url, prefix)
    for _ in range(9):
        a.failure()
    clock.now += 61  # those failures left the window
    b.failure()
    assert a.state() is BreakerState.CLOSED and a.snapshot().calls == 1


def test_exact_deadlines_one_probe_across_processes(redis_url: str, prefix: str) -> None:
    a, b, clock, _ = pair(redis_url, prefix)
    for _ in range(10):
        a.failure()
    opened = clock.now
    clock.now = opened + 29.999
    assert not b.allow() and b.retry_after() == pytest.approx(0.001, abs=1e-6)
    clock.now = opened + 20
    b.failure()  # an in-flight call failing while open: deadline now 20 + 30
    clock.now = opened + 49.999
    assert not a.allow()
    clock.now = opened + 50
    assert a.state() is BreakerState.HALF_OPEN
    assert b.allow()  # the probe, taken by process b ...
    assert not a.allow() and not b.allow()  # ... and nobody else's
    b.success()
    assert a.state() is BreakerState.CLOSED and a.allow()
    assert a.snapshot().calls == 0  # closing empties the window


def test_failed_probe_reopens_and_lost_probe_expires(redis_url: str, prefix: str) -> None:
    a, b, clock, _ = pair(redis_url, prefix, probe_timeout_s=5.0)
    for _ in range(10):
        a.failure()
    clock.now += 30
    assert a.allow()
    a.failure()
    assert b.state() is BreakerState.OPEN
    clock.now += 30
    assert a.allow()  # a probe whose caller never reports ...
    clock.now += 4.9
    assert not b.allow() and b.retry_after() == pytest.approx(0.1, abs=1e-6)
    clock.now += 0.1
    assert b.allow()  # ... frees the slot at its deadline


def test_success_from_before_opening_proves_nothing(redis_url: str, prefix: str) -> None:
    a, b, clock, _ = pair(redis_url, prefix)
    for _ in range(10):
        a.failure()
    clock.now += 1
    b.success()
    assert a.state() is BreakerState.OPEN


def test_hold_is_shared(redis_url: str, prefix: str) -> None:
    a, b, clock, _ = pair(redis_url, prefix)
    a.hold(2.5)
    assert not b.allow() and b.retry_after() == pytest.approx(2.5)
    a.hold(1.0)  # a shorter hold never shortens a longer one
    clock.now += 2.5
    assert b.allow() and a.allow()


def test_same_decisions_as_the_local_breaker(redis_url: str, prefix: str) -> None:
    """A scripted sequence of outcomes and clock steps: identical answers."""
    a, _, clock, _ = pair(redis_url, prefix, probe_timeout_s=3.0)
    local = LocalBreaker(a.shared.policy, clock=clock)
    steps = "fffffsffffff" + "t" * 31 + "afa" + "t" * 31 + "asa" + "ssfff"
    for step in steps:
        if step == "t":
            clock.now += 1
        elif step == "a":
            assert a.allow() == local.allow()
        else:
            for br in (a, local):
                br.success() if step == "s" else br.failure()
        assert a.state() is local.state(), step
        assert a.retry_after() == pytest.approx(local.retry_after(), abs=1e-6)


def test_the_redis_clock_by_default(redis_url: str, prefix: str) -> None:
    shared = SharedBreakers(redis_url, prefix=prefix, policy=BreakerPolicy(min_volume=2))
    b = shared.breaker("up")
    b.failure()
    b.failure()
    assert b.state() is BreakerState.OPEN
    assert 0 < b.retry_after() <= 30.0


def test_unreachable_redis_falls_back_and_recovers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    own = RedisServer()
    clock = Clock()
    policy = BreakerPolicy(min_volume=3, open_s=30.0)
    shared = SharedBreakers(own.url, policy=policy, clock=clock, retry_s=0.0, timeout_s=0.5)
    b = shared.breaker("up")
    with caplog.at_level(logging.WARNING, logger="releasegate.gateway"):
        assert b.allow()  # nothing listens: the local breaker decides
        assert not shared.healthy and shared.errors >= 1
        for _ in range(3):
            b.failure()
        snap = b.snapshot()
        assert snap.state is BreakerState.OPEN and not snap.shared and not b.allow()
        assert "decides alone" in caplog.text
        own.start()
        try:
            # Redis is back: the shared state (empty: closed) decides again
            assert b.allow()
            assert shared.healthy and b.snapshot().shared
            assert "reachable again" in caplog.text
            for _ in range(3):
                b.failure()
            assert b.state() is BreakerState.OPEN and b.snapshot().shared
            own.stop()
            assert not b.allow()  # the local breaker, which counted all along, is open
            assert not shared.healthy
        finally:
            own.close()


async def test_on_an_event_loop_outcomes_go_in_the_background(redis_url: str, prefix: str) -> None:
    a, b, clock, stores = pair(redis_url, prefix)
    assert (await a.admit()).allowed
    for _ in range(25):  # queued while the loop runs; sent in pipelined batches
        a.failure()
    # nothing was awaited: the failures are still on their way ...
    await stores[0].drain()
    # ... and now the other process sees the breaker open, until the exact deadline
    refused = await b.admit()
    assert not refused.allowed and refused.state is BreakerState.OPEN
    assert refused.retry_after_s == pytest.approx(30.0, abs=1e-6)
    clock.now += 30
    probe = await b.admit()
    assert probe.allowed and probe.state is BreakerState.HALF_OPEN
    assert not (await a.admit()).allowed
    b.success()
    await stores[1].drain()
    assert (await a.admit()).allowed and a.state() is BreakerState.CLOSED
    for store in stores:
        await store.aclient.aclose()


async def test_on_an_event_loop_an_unreachable_redis_falls_back(tmp_path: Path) -> None:
    own = RedisServer()  # never started: nothing listens on its port
    shared = SharedBreakers(own.url, policy=BreakerPolicy(min_volume=2), retry_s=60.0)
    b = shared.breaker("up")
    assert (await b.admit()).allowed
    b.failure()
    b.failure()
    await shared.drain()
    refused = await b.admit()
    assert not refused.allowed and refused.state is BreakerState.OPEN
    assert not shared.healthy and shared.errors == 1  # then resting: not asked again
    await shared.aclient.aclose()
    own.close()
