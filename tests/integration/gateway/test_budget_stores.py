"""The two token-budget stores (in process, and a real Redis) keep the same sliding
window on a settable clock: edges, Retry-After, settling up and down, releasing, and no
overshoot under concurrent reservations."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable

import pytest

from releasegate.gateway.budget import BudgetStore, Denied, Reservation
from releasegate.gateway.budget_redis import RedisBudgetStore
from tests.support.budget_stores import StepClock, make_store

Maker = Callable[..., BudgetStore]


@pytest.fixture(params=["local", "redis"])
async def maker(request: pytest.FixtureRequest) -> AsyncIterator[Maker]:
    kind = str(request.param)
    url = request.getfixturevalue("redis_url") if kind == "redis" else ""
    made: list[BudgetStore] = []
    prefix = f"rg-test:{uuid.uuid4().hex}:"  # every store of one test shares its keys

    def build(clock: StepClock) -> BudgetStore:
        store = make_store(kind, clock, redis_url=url, prefix=prefix)
        made.append(store)
        return store

    yield build
    for store in made:
        await store.close()


async def test_admits_up_to_the_limit_then_denies(maker: Maker) -> None:
    clock = StepClock(1000.5)
    store = maker(clock)
    first = await store.reserve("t", 6, 10)
    assert isinstance(first, Reservation) and first.tokens == 6
    assert isinstance(await store.reserve("t", 4, 10), Reservation)  # exactly the limit
    denied = await store.reserve("t", 1, 10)
    assert isinstance(denied, Denied)
    assert (denied.used, denied.limit) == (10, 10)
    # Bucket 1000 holds all 10 tokens; it leaves the window at t = 1060.
    assert denied.retry_after_s == pytest.approx(59.5)
    assert isinstance(await store.reserve("other", 10, 10), Reservation)  # per tenant


@pytest.mark.parametrize(
    ("at", "admitted"),
    [(1059.5, False), (1059.75, False), (1060.0, True), (1060.25, True), (1200.0, True)],
)
async def test_window_edge(maker: Maker, at: float, admitted: bool) -> None:
    clock = StepClock(1000.25)
    store = maker(clock)
    assert isinstance(await store.reserve("t", 8, 10), Reservation)
    clock.now = at
    outcome = await store.reserve("t", 5, 10)
    assert isinstance(outcome, Reservation) is admitted
    if isinstance(outcome, Denied):
        assert outcome.retry_after_s == pytest.approx(1060.0 - at)


async def test_retry_after_counts_only_the_buckets_that_must_leave(maker: Maker) -> None:
    clock = StepClock(1000.0)
    store = maker(clock)
    await store.reserve("t", 3, 10)  # bucket 1000, leaves at 1060
    clock.now = 1010.0
    await store.reserve("t", 4, 10)  # bucket 1010, leaves at 1070
    clock.now = 1020.0
    await store.reserve("t", 3, 10)  # bucket 1020, leaves at 1080
    clock.now = 1030.0
    denied = await store.reserve("t", 3, 10)  # needs 3 freed: bucket 1000 is enough
    assert isinstance(denied, Denied) and denied.retry_after_s == pytest.approx(30.0)
    denied = await store.reserve("t", 5, 10)  # needs 5: buckets 1000 and 1010
    assert isinstance(denied, Denied) and denied.retry_after_s == pytest.approx(40.0)


@pytest.mark.parametrize(("actual", "room"), [(0, 10), (2, 8), (6, 4), (9, 1), (10, 0)])
async def test_settle_replaces_the_reservation(maker: Maker, actual: int, room: int) -> None:
    clock = StepClock()
    store = maker(clock)
    held = await store.reserve("t", 6, 10)
    assert isinstance(held, Reservation)
    await store.settle(held, actual)  # down (released, smaller) or up (larger)
    if room:
        assert isinstance(await store.reserve("t", room, 10), Reservation)
    assert isinstance(await store.reserve("t", 1, 10), Denied)


async def test_settling_up_past_the_limit_delays_the_next_requests(maker: Maker) -> None:
    clock = StepClock(1000.0)
    store = maker(clock)
    held = await store.reserve("t", 5, 10)
    assert isinstance(held, Reservation)
    await store.settle(held, 14)  # the upstream used more than was reserved
    clock.now = 1030.0
    denied = await store.reserve("t", 1, 10)
    assert isinstance(denied, Denied) and denied.used == 14
    assert denied.retry_after_s == pytest.approx(30.0)


async def test_settling_after_the_window_changes_nothing(maker: Maker) -> None:
    clock = StepClock(1000.0)
    store = maker(clock)
    held = await store.reserve("t", 6, 10)
    assert isinstance(held, Reservation)
    clock.now = 1100.0
    assert isinstance(await store.reserve("t", 10, 10), Reservation)  # old bucket dropped
    await store.settle(held, 0)  # must not give back tokens of the new window
    assert isinstance(await store.reserve("t", 1, 10), Denied)


async def test_concurrent_reservations_never_overshoot(maker: Maker) -> None:
    clock = StepClock()
    stores = [maker(clock), maker(clock)]  # two Redis clients on the same keys
    if not isinstance(stores[0], RedisBudgetStore):
        stores[1] = stores[0]  # in process: one store, many tasks
    results = await asyncio.gather(*(stores[i % 2].reserve("t", 1, 10) for i in range(50)))
    assert sum(isinstance(r, Reservation) for r in results) == 10


async def test_redis_keys_expire_after_a_window(redis_url: str) -> None:
    store = RedisBudgetStore(redis_url, 2.0, prefix="rg-test:ttl:", clock=StepClock())
    try:
        await store.reserve("t-ttl", 1, 10)
        ttl = await store._redis.pttl(store.prefix + "t-ttl")
        assert 0 < ttl <= 2000 * 61 / 60 + 1
        assert await store.used("t-ttl") >= 1
    finally:
        await store._redis.delete(store.prefix + "t-ttl")
        await store.close()
