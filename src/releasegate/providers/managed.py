"""The engine's wrapper around a provider: cache, budget, concurrency, rate limit,
timeout and retries with exponential backoff that honour ``Retry-After``.

Providers themselves never retry; every call of a target or a judge goes through one
:class:`ManagedProvider`, so these policies hold for both. The sleep between attempts and
the backoff's jitter are injectable, so tests can record the waits instead of waiting.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiolimiter import AsyncLimiter
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
)

from releasegate.errors import BudgetExceeded, ProviderError
from releasegate.llm import ChatProvider, ChatRequest, ChatResponse
from releasegate.providers.cache import CacheKeyer, ResponseCache

__all__ = ["Budget", "ManagedProvider", "RetryPolicy", "Sleep"]

Sleep = Callable[[float], Awaitable[None]]
"""How the retry loop waits: called with the wait in seconds (default :func:`asyncio.sleep`)."""


@dataclass
class Budget:
    """Money and tokens actually spent in a run (cache hits are free).

    The check happens before a call is dispatched, so calls already in flight may
    overshoot the limit by at most one call per concurrency slot.
    """

    max_cost_usd: float | None = None
    max_tokens: int | None = None
    spent_usd: float = 0.0
    spent_tokens: int = 0
    calls: int = 0

    def check(self) -> None:
        if self.max_cost_usd is not None and self.spent_usd >= self.max_cost_usd:
            raise BudgetExceeded(
                f"cost budget of ${self.max_cost_usd:.4f} reached "
                f"(${self.spent_usd:.4f} spent in {self.calls} calls)"
            )
        if self.max_tokens is not None and self.spent_tokens >= self.max_tokens:
            raise BudgetExceeded(
                f"token budget of {self.max_tokens} reached "
                f"({self.spent_tokens} tokens in {self.calls} calls)"
            )

    def charge(self, response: ChatResponse) -> None:
        self.calls += 1
        self.spent_usd += response.cost_usd or 0.0
        self.spent_tokens += response.usage.total_tokens


def full_jitter(ceiling_s: float) -> float:
    """A wait drawn uniformly from ``[0, ceiling_s]`` seconds ("full jitter")."""
    return random.uniform(0, ceiling_s)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter; a server's ``Retry-After`` wins.

    Attributes:
        max_retries: attempts after the first one (0: never retry).
        initial_s: the backoff ceiling before the first retry, in seconds; it doubles
            with each retry.
        max_s: cap on the backoff ceiling, in seconds.
        max_retry_after_s: cap on the wait a server asks for with ``Retry-After``, in
            seconds (a negative value counts as 0).
        jitter: turns a ceiling (seconds) into the wait (seconds); default
            :func:`full_jitter`. A server's ``Retry-After`` is used as is, without jitter.
    """

    max_retries: int = 4
    initial_s: float = 0.5
    max_s: float = 30.0
    max_retry_after_s: float = 120.0
    jitter: Callable[[float], float] = full_jitter

    def backoff_ceiling(self, retry: int) -> float:
        """The longest backoff before retry number ``retry`` (1 is the first retry), in
        seconds: ``min(max_s, initial_s * 2 ** (retry - 1))``."""
        return min(self.max_s, self.initial_s * (2.0 ** (retry - 1)))

    def wait(self, state: RetryCallState) -> float:
        """Seconds to wait after the failed attempt ``state.attempt_number``."""
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, ProviderError) and exc.retry_after is not None:
            return min(max(exc.retry_after, 0.0), self.max_retry_after_s)
        return self.jitter(self.backoff_ceiling(state.attempt_number))


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, ProviderError) and exc.retryable


class ManagedProvider(ChatProvider):
    """Applies the engine's call policies around ``inner``.

    Args:
        inner: the real provider.
        concurrency: calls in flight at once for this provider.
        rate_limit: calls per second, or None.
        timeout_s: wall-clock limit per attempt; exceeding it is a retryable error.
        retry: the retry policy.
        cache: the shared response cache, or None to always call upstream.
        budget: the run's budget, shared between target and judges.
        sleep: how to wait between attempts (default :func:`asyncio.sleep`; tests pass
            a recorder).

    Raises (from :meth:`complete`):
        ProviderError: the last attempt's error once retries are spent, or at once when
            the error is not retryable; a timed-out attempt is a retryable one.
        BudgetExceeded: the budget was spent before the call was dispatched.
    """

    def __init__(
        self,
        inner: ChatProvider,
        *,
        concurrency: int = 8,
        rate_limit: float | None = None,
        timeout_s: float = 60.0,
        retry: RetryPolicy | None = None,
        cache: ResponseCache | None = None,
        budget: Budget | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.inner = inner
        self.type = inner.type
        self._sem = asyncio.Semaphore(concurrency)
        self._limiter = AsyncLimiter(rate_limit, 1.0) if rate_limit else None
        self._timeout_s = timeout_s
        self._retry = retry or RetryPolicy()
        self._cache = cache
        self._budget = budget
        self._sleep = sleep
        self.cache_request_fields = inner.cache_request_fields
        self._identity = inner.cache_identity()
        self._keyer = CacheKeyer(self._identity, self.cache_request_fields)

    @property
    def model(self) -> str | None:
        return self.inner.model

    def cache_identity(self) -> dict[str, Any]:
        return self._identity

    async def complete(self, request: ChatRequest) -> ChatResponse:
        key = None
        if self._cache is not None:
            key = self._keyer.key(request)
            hit = self._cache.get(key)
            if hit is not None:
                return hit
        response = await self._call_with_retries(request)
        if self._cache is not None and key is not None:
            self._cache.put(key, response)
        return response

    async def _call_with_retries(self, request: ChatRequest) -> ChatResponse:
        # Fast path: most calls succeed first time; tenacity's machinery (a few
        # inspect calls per attempt) only starts after a retryable failure.
        try:
            return await self._call_once(request)
        except ProviderError as exc:
            if not exc.retryable or self._retry.max_retries == 0:
                raise
            first_error = exc
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._retry.max_retries + 1),
            wait=self._retry.wait,
            retry=retry_if_exception(_retryable),
            sleep=self._sleep,
            reraise=True,
        )
        first = True
        async for attempt in retrying:
            with attempt:
                if first:
                    first = False
                    raise first_error  # let tenacity schedule the wait for attempt 2
                return await self._call_once(request)
        raise AssertionError("unreachable")  # pragma: no cover - tenacity reraises

    async def _call_once(self, request: ChatRequest) -> ChatResponse:
        async with self._sem:
            if self._budget is not None:
                self._budget.check()
            if self._limiter is not None:
                await self._limiter.acquire()
            try:
                async with asyncio.timeout(self._timeout_s):
                    response = await self.inner.complete(request)
            except TimeoutError as exc:
                raise ProviderError(
                    f"{self.type}: no answer within {self._timeout_s:g}s", retryable=True
                ) from exc
        if self._budget is not None:
            self._budget.charge(response)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()
