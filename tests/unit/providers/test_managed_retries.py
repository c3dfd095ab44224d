"""Retries of :class:`ManagedProvider`: which errors are retried, how long it waits
(exponential backoff, capped; a server's Retry-After, capped), when it gives up.

The retry loop's sleep is a recorder, so the waits are asserted, never slept."""

from __future__ import annotations

from typing import Any

import pytest

from releasegate.errors import ProviderError
from releasegate.llm import ChatProvider
from releasegate.providers.managed import ManagedProvider, RetryPolicy, full_jitter
from tests.unit.providers._managed_support import Hangs, RecordingSleep, exact, req, scripted


def managed(inner: ChatProvider, sleep: RecordingSleep, **policy: Any) -> ManagedProvider:
    return ManagedProvider(inner, retry=RetryPolicy(jitter=exact, **policy), sleep=sleep)


async def test_backoff_doubles_from_the_initial_wait_until_an_attempt_succeeds() -> None:
    inner = scripted(fail={"c1": {"error": 500, "times": 3}})
    sleep = RecordingSleep()
    response = await managed(inner, sleep, max_retries=4, initial_s=0.5).complete(req("hi"))
    assert response.text == "hi"
    assert sleep.waits == [0.5, 1.0, 2.0]
    assert inner.call_count == 4


async def test_backoff_is_capped_at_max_s() -> None:
    inner = scripted(fail={"c1": {"error": 503, "times": 5}})
    sleep = RecordingSleep()
    await managed(inner, sleep, max_retries=5, initial_s=1.0, max_s=3.0).complete(req())
    assert sleep.waits == [1.0, 2.0, 3.0, 3.0, 3.0]


async def test_retry_after_is_waited_instead_of_the_backoff() -> None:
    inner = scripted(fail={"c1": {"error": 429, "times": 2, "retry_after": 7}})
    sleep = RecordingSleep()
    await managed(inner, sleep, initial_s=0.5).complete(req())
    assert sleep.waits == [7.0, 7.0]


@pytest.mark.parametrize(("asked", "waited"), [(500.0, 120.0), (0.0, 0.0)])
async def test_retry_after_is_capped(asked: float, waited: float) -> None:
    inner = scripted(fail={"c1": {"error": 503, "times": 1, "retry_after": asked}})
    sleep = RecordingSleep()
    await managed(inner, sleep, max_retry_after_s=120.0).complete(req())
    assert sleep.waits == [waited]


async def test_retryable_errors_without_status_are_retried() -> None:
    inner = scripted(fail={"c1": {"error": "connection", "times": 1}})
    sleep = RecordingSleep()
    assert (await managed(inner, sleep).complete(req("ok"))).text == "ok"
    assert sleep.waits == [0.5]


async def test_gives_up_after_max_retries_with_the_last_error() -> None:
    inner = scripted(fail={"c1": "503"})
    sleep = RecordingSleep()
    with pytest.raises(ProviderError) as info:
        await managed(inner, sleep, max_retries=2).complete(req())
    assert info.value.status == 503 and info.value.retryable
    assert inner.call_count == 3  # the first attempt and two retries
    assert sleep.waits == [0.5, 1.0]


@pytest.mark.parametrize("kind", ["401", "400", "error"])
async def test_errors_that_are_not_retryable_are_raised_at_once(kind: str) -> None:
    inner = scripted(fail={"c1": kind})
    sleep = RecordingSleep()
    with pytest.raises(ProviderError) as info:
        await managed(inner, sleep).complete(req())
    assert not info.value.retryable
    assert inner.call_count == 1 and sleep.waits == []


async def test_max_retries_zero_never_retries() -> None:
    inner = scripted(fail={"c1": {"error": 429, "retry_after": 1}})
    sleep = RecordingSleep()
    with pytest.raises(ProviderError):
        await managed(inner, sleep, max_retries=0).complete(req())
    assert inner.call_count == 1 and sleep.waits == []


async def test_each_call_has_its_own_attempts() -> None:
    inner = scripted(fail={"c1": {"error": 500, "times": 1}, "c2": {"error": 500, "times": 1}})
    sleep = RecordingSleep()
    provider = managed(inner, sleep)
    await provider.complete(req(case_id="c1"))
    await provider.complete(req(case_id="c2"))
    assert sleep.waits == [0.5, 0.5]  # the second call's backoff starts over


async def test_an_attempt_that_times_out_is_retried() -> None:
    inner = Hangs(hangs=1)
    sleep = RecordingSleep()
    provider = ManagedProvider(inner, timeout_s=0.05, retry=RetryPolicy(jitter=exact), sleep=sleep)
    assert (await provider.complete(req())).text == "late but fine"
    assert inner.calls == 2 and sleep.waits == [0.5]


def test_backoff_ceiling_doubles_and_is_capped() -> None:
    policy = RetryPolicy()
    assert [policy.backoff_ceiling(n) for n in range(1, 9)] == [0.5, 1, 2, 4, 8, 16, 30, 30]


def test_default_jitter_draws_from_zero_to_the_ceiling() -> None:
    assert RetryPolicy().jitter is full_jitter
    draws = [full_jitter(2.0) for _ in range(500)]
    assert all(0.0 <= d <= 2.0 for d in draws)
    assert min(draws) < 0.5 and max(draws) > 1.5  # spread over the range, not a constant
    assert full_jitter(0.0) == 0.0


async def test_the_default_jitter_is_used_between_attempts() -> None:
    inner = scripted(fail={"c1": {"error": 500, "times": 3}})
    sleep = RecordingSleep()
    retry = RetryPolicy(initial_s=1.0)
    await ManagedProvider(inner, retry=retry, sleep=sleep).complete(req())
    assert len(sleep.waits) == 3
    assert all(0.0 <= w <= c for w, c in zip(sleep.waits, [1.0, 2.0, 4.0], strict=True))
