"""A request cancelled at any await point never keeps its token reservation: cancelled
while its reservation is on the way, while the upstream answers or streams, or while
its settlement is on the way, with the in-process store and a real Redis."""

from __future__ import annotations

import asyncio
import contextlib
import math
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from releasegate.gateway._budget_gate import TokenBudgets
from releasegate.gateway.budget import (
    BudgetPolicy,
    BudgetStore,
    Denied,
    LocalBudgetStore,
    Reservation,
)
from releasegate.gateway.budget_redis import RedisBudgetStore
from tests.integration.gateway.conftest import Rig

PROMPT_TEXT = "You are v1." + "Q: hello"
MAX_TOKENS = 500
RESERVED = math.ceil(len(PROMPT_TEXT) / 4) + MAX_TOKENS


def tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


class Paused:
    """A real store whose calls stop before and after the store's own work, at the
    stage named by :meth:`pause_at`, until :meth:`go` (an await point to cancel at)."""

    def __init__(self, inner: BudgetStore) -> None:
        self.inner = inner
        self.stage: str | None = None
        self.reached = asyncio.Event()
        self._go = asyncio.Event()

    def pause_at(self, stage: str) -> None:
        self.stage = stage

    def go(self) -> None:
        self._go.set()

    async def _point(self, stage: str) -> None:
        if stage == self.stage:
            self.reached.set()
            await self._go.wait()

    async def reserve(self, tenant: str, tokens: int, limit: int) -> Reservation | Denied:
        await self._point("reserve:before")
        held = await self.inner.reserve(tenant, tokens, limit)
        await self._point("reserve:after")  # Redis: the script ran, its reply not read
        return held

    async def settle(self, reservation: Reservation, tokens: int) -> None:
        await self._point("settle:before")
        await self.inner.settle(reservation, tokens)
        await self._point("settle:after")

    async def close(self) -> None:
        await self.inner.close()


@pytest.fixture(params=["local", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[BudgetStore]:
    made: BudgetStore
    if request.param == "local":
        made = LocalBudgetStore(60.0)
    else:
        url = request.getfixturevalue("redis_url")
        made = RedisBudgetStore(url, 60.0, prefix=f"rg-test:{uuid.uuid4().hex}:")
    yield made
    await made.close()


async def used(store: BudgetStore, tenant: str) -> int:
    if isinstance(store, Paused):
        store = store.inner
    value = store.used(tenant)  # type: ignore[attr-defined]
    return int(await value if asyncio.iscoroutine(value) else value)


def install(rig: Rig, store: Any) -> TokenBudgets:
    budgets = TokenBudgets(BudgetPolicy(tokens_per_window=100_000), store)
    rig.gateway.deps.budgets = budgets
    return budgets


async def drained(budgets: TokenBudgets) -> None:
    for _ in range(2000):
        if budgets.pending == 0:
            return
        await asyncio.sleep(0.005)
    raise AssertionError("store calls of cancelled requests did not end")


async def cancel(task: asyncio.Task[Any]) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def request(rig: Rig, tenant: str, *, stream: bool = False) -> asyncio.Task[Any]:
    headers = {"X-Releasegate-Unit": "u1", "X-Releasegate-Tenant": tenant}
    return asyncio.ensure_future(
        rig.chat("hello", headers=headers, max_tokens=MAX_TOKENS, stream=stream)
    )


@pytest.mark.parametrize(
    ("stage", "settled"),
    [
        ("reserve:before", "none"),
        ("reserve:after", "none"),
        ("settle:before", "usage"),
        ("settle:after", "usage"),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
async def test_cancelled_at_a_store_call(
    make_rig: Callable[..., Any], store: BudgetStore, stage: str, settled: str, stream: bool
) -> None:
    rig: Rig = await make_rig()
    paused = Paused(store)
    budgets = install(rig, paused)
    paused.pause_at(stage)
    task = request(rig, "t", stream=stream)
    await paused.reached.wait()
    await cancel(task)
    paused.go()
    await drained(budgets)
    if settled == "none":  # cancelled before it was sent: what was reserved is released
        assert await used(store, "t") == 0 and rig.primary.count == 0
    else:  # the answer was complete: its settlement went through
        (record,) = rig.recorder.records
        assert await used(store, "t") == record["prompt_tokens"] + record["completion_tokens"]
    assert 0 <= await used(store, "t") < RESERVED
    # and the next request of the tenant is budgeted as usual
    paused.pause_at("")
    assert (await request(rig, "t")).status_code == 200


@pytest.mark.parametrize("stream", [False, True])
async def test_cancelled_while_the_upstream_answers(
    make_rig: Callable[..., Any], store: BudgetStore, stream: bool
) -> None:
    rig: Rig = await make_rig()
    budgets = install(rig, store)
    rig.primary.hold_model("m-1")
    task = request(rig, "t", stream=stream)
    for _ in range(2000):
        if rig.primary.waiting("m-1"):
            break
        await asyncio.sleep(0.005)
    assert await used(store, "t") == RESERVED  # held while it runs
    await cancel(task)
    rig.primary.release_model("m-1")
    await drained(budgets)
    assert await used(store, "t") == 0  # no model answered: nothing used


async def test_cancelled_mid_stream_settles_on_what_was_relayed(
    make_rig: Callable[..., Any], store: BudgetStore
) -> None:
    rig: Rig = await make_rig()
    budgets = install(rig, store)
    rig.primary.stall_stream_after(2, 30.0)  # two chunks, then nothing for long
    task = request(rig, "t", stream=True)
    for _ in range(2000):
        if rig.primary.count and await used(store, "t") == RESERVED:
            break
        await asyncio.sleep(0.005)
    await asyncio.sleep(0.2)  # the two chunks relayed, the gateway waits for more
    await cancel(task)
    await drained(budgets)
    (record,) = rig.recorder.records
    content = record["response"]["content"] or ""
    assert content.startswith("piece0")
    assert await used(store, "t") == tokens(PROMPT_TEXT) + tokens(content)
    assert record["usage_estimated"] is True


@pytest.mark.parametrize("stream", [False, True])
async def test_cancelled_after_any_number_of_loop_turns_or_seconds(
    make_rig: Callable[..., Any], store: BudgetStore, stream: bool
) -> None:
    rig: Rig = await make_rig()
    budgets = install(rig, store)
    waits: list[tuple[int, float]] = [(turns, 0.0) for turns in range(0, 60, 2)]
    waits += [(0, s) for s in (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.5)]
    outcomes = []
    for i, (turns, seconds) in enumerate(waits):
        tenant = f"t{i}"
        task = request(rig, tenant, stream=stream)
        for _ in range(turns):
            await asyncio.sleep(0)
        if seconds:
            await asyncio.sleep(seconds)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await drained(budgets)
        left = await used(store, tenant)
        # nothing (cancelled before an answer) or what the answer used; never the hold
        assert left < RESERVED, (turns, seconds, left)
        outcomes.append(left)
    assert outcomes[0] == 0 and outcomes[-1] > 0  # both ends of the range were reached
