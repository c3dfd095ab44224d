"""The call policies of :class:`ManagedProvider` other than retries: budget, concurrency,
rate limit, timeout, and the response cache in front of them all."""

from __future__ import annotations

import asyncio

import pytest

from releasegate.config import PriceEntry
from releasegate.errors import BudgetExceeded, ProviderError
from releasegate.llm import ChatResponse, Usage
from releasegate.providers import PriceTable
from releasegate.providers.cache import ResponseCache
from releasegate.providers.managed import Budget, ManagedProvider, RetryPolicy
from tests.unit.providers._managed_support import (
    Hangs,
    Held,
    RecordingSleep,
    req,
    scripted,
    settle,
)

NO_RETRY = RetryPolicy(max_retries=0)
# $1 per input token and $0 per output token: a call costs its prompt's token count.
PRICES = PriceTable({"scripted": PriceEntry(input_per_mtok=1_000_000, output_per_mtok=0)})


# -- budget ------------------------------------------------------------------------------


def test_budget_charges_cost_tokens_and_calls() -> None:
    budget = Budget()
    budget.charge(ChatResponse(text="a", usage=Usage(3, 4), cost_usd=0.25))
    budget.charge(ChatResponse(text="b", usage=Usage(1, 1), cost_usd=None))  # unpriced
    assert (budget.calls, budget.spent_tokens, budget.spent_usd) == (2, 9, 0.25)


@pytest.mark.parametrize(
    ("budget", "message"),
    [
        (Budget(max_cost_usd=0.5, spent_usd=0.5, calls=3), r"cost budget of \$0\.5000 reached"),
        (Budget(max_tokens=10, spent_tokens=12, calls=2), "token budget of 10 reached"),
    ],
)
def test_budget_check_raises_once_a_limit_is_reached(budget: Budget, message: str) -> None:
    with pytest.raises(BudgetExceeded, match=message) as info:
        budget.check()
    assert f"in {budget.calls} calls" in str(info.value)


def test_budget_below_its_limits_or_without_limits_passes() -> None:
    Budget(max_cost_usd=1.0, spent_usd=0.99, max_tokens=10, spent_tokens=9).check()
    Budget(spent_usd=1e9, spent_tokens=10**12).check()


async def test_the_call_after_the_budget_is_spent_is_never_dispatched() -> None:
    inner = scripted(pricing=PRICES)
    budget = Budget(max_cost_usd=1.0)
    provider = ManagedProvider(inner, budget=budget)
    first = await provider.complete(req("12345678"))  # 2 prompt tokens: $2
    assert first.cost_usd == pytest.approx(2.0)
    with pytest.raises(BudgetExceeded, match=r"\$2\.0000 spent in 1 calls"):
        await provider.complete(req("again", case_id="c2"))
    assert inner.call_count == 1


async def test_one_budget_is_shared_by_the_providers_of_a_run() -> None:
    budget = Budget(max_tokens=100)
    target = ManagedProvider(scripted(), budget=budget)
    judge = ManagedProvider(scripted(), budget=budget)
    a = await target.complete(req("one two three four"))
    b = await judge.complete(req("five six"))
    assert budget.calls == 2
    assert budget.spent_tokens == a.usage.total_tokens + b.usage.total_tokens


async def test_failed_attempts_are_not_charged() -> None:
    budget = Budget()
    provider = ManagedProvider(scripted(fail={"c1": "error"}), budget=budget)
    with pytest.raises(ProviderError):
        await provider.complete(req())
    assert (budget.calls, budget.spent_tokens) == (0, 0)


# -- the response cache in front of the policies ----------------------------------------------


async def test_a_cache_hit_skips_upstream_and_costs_nothing() -> None:
    inner = scripted(pricing=PRICES)
    budget = Budget(max_cost_usd=1.0)
    cache = ResponseCache(":memory:")
    provider = ManagedProvider(inner, cache=cache, budget=budget)
    miss = await provider.complete(req("12345678"))
    hit = await provider.complete(req("12345678"))  # the budget is spent: still served
    assert not miss.cached and hit.cached
    assert hit.text == miss.text and hit.usage == miss.usage
    assert inner.call_count == 1 and budget.calls == 1
    cache.close()


async def test_distinct_requests_are_distinct_entries() -> None:
    inner = scripted()
    provider = ManagedProvider(inner, cache=ResponseCache(":memory:"))
    await provider.complete(req("x", repeat=0))
    await provider.complete(req("x", repeat=1))
    await provider.complete(req("y", repeat=0))
    await provider.complete(req("x", repeat=1))
    assert inner.call_count == 3


async def test_errors_are_not_cached() -> None:
    inner = scripted(fail={"c1": {"error": "error", "times": 1}})
    cache = ResponseCache(":memory:")
    provider = ManagedProvider(inner, cache=cache)
    with pytest.raises(ProviderError):
        await provider.complete(req("x"))
    assert len(cache) == 0
    assert not (await provider.complete(req("x"))).cached
    assert (await provider.complete(req("x"))).cached
    assert inner.call_count == 2


async def test_an_answer_after_retries_is_cached_once() -> None:
    inner = scripted(fail={"c1": {"error": 500, "times": 2}})
    cache = ResponseCache(":memory:")
    provider = ManagedProvider(inner, cache=cache, sleep=RecordingSleep())
    await provider.complete(req("x"))
    assert len(cache) == 1 and (await provider.complete(req("x"))).cached
    assert inner.call_count == 3


# -- concurrency, rate limit, timeout ----------------------------------------------------------


async def test_no_more_calls_in_flight_than_the_concurrency() -> None:
    inner = Held()
    provider = ManagedProvider(inner, concurrency=3)
    calls = [asyncio.create_task(provider.complete(req(str(i), f"c{i}"))) for i in range(10)]
    await settle()
    assert inner.in_flight == 3 and inner.started == 3  # the other 7 wait for a slot
    inner.release.set()
    answers = await asyncio.gather(*calls)
    assert [a.text for a in answers] == [str(i) for i in range(10)]
    assert inner.most_in_flight == 3 and inner.started == 10


async def test_the_rate_limit_holds_back_calls_beyond_it() -> None:
    inner = Held()
    inner.release.set()
    provider = ManagedProvider(inner, rate_limit=2.0)
    calls = [asyncio.create_task(provider.complete(req(str(i), f"c{i}"))) for i in range(3)]
    await settle()
    # Two calls per second: two go at once, the third waits for the limiter.
    assert inner.started == 2 and not calls[2].done()
    await asyncio.gather(*calls)
    assert inner.started == 3


async def test_an_attempt_past_the_timeout_is_a_retryable_error() -> None:
    provider = ManagedProvider(Hangs(hangs=1), timeout_s=0.05, retry=NO_RETRY)
    with pytest.raises(ProviderError, match=r"hangs: no answer within 0\.05s") as info:
        await provider.complete(req())
    assert info.value.retryable


async def test_the_semaphore_is_released_after_a_timeout() -> None:
    inner = Hangs(hangs=1)
    provider = ManagedProvider(inner, concurrency=1, timeout_s=0.05, retry=NO_RETRY)
    with pytest.raises(ProviderError):
        await provider.complete(req())
    assert (await provider.complete(req())).text == "late but fine"


async def test_identity_model_and_close_come_from_the_inner_provider() -> None:
    inner = scripted(model="sim-1")
    provider = ManagedProvider(inner)
    assert provider.type == "scripted" and provider.model == "sim-1"
    assert provider.cache_identity() == inner.cache_identity()
    assert provider.cache_request_fields == inner.cache_request_fields
    await provider.aclose()
