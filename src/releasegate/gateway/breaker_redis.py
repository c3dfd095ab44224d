"""Circuit breakers shared by every gateway process through Redis.

:class:`RedisBreaker` makes the decisions of :class:`~releasegate.gateway.breaker.LocalBreaker`
(same window of one-second buckets, minimum volume, failure-rate threshold, exact open
deadline that a failure while open pushes back, one half-open probe, ``Retry-After``
hold) on state kept in Redis, so that N processes behind one port open, probe and close
together. Each decision is one Lua script, atomic in Redis: no two processes can both
see "half-open, no probe out" and both send a probe (the probe slot is a ``SET NX PX``
key whose expiry frees it when a probe never reports). Times come from the Redis
server's clock, so the processes' own clocks do not have to agree.

Keys, under ``{prefix}:{upstream}``: ``:s`` (hash: ``open`` deadline, ``hold`` until),
``:w`` (hash: the window's ring of buckets ``s<i>``/``c<i>``/``f<i>``) and ``:p``
(the probe slot).

When Redis cannot be reached (or answers slower than the socket timeout) the breaker
decides with the process's own :class:`LocalBreaker`, which counts every outcome all
along so it starts from this process's recent history; the first failure is logged as a
warning, ``releasegate_gateway_breaker_shared`` drops to 0, and Redis is tried again
after ``retry_s`` seconds. Its return is logged and the gauge goes back to 1, without a
restart.

Nothing blocks the event loop on a request's path: :meth:`RedisBreaker.admit` awaits
its script on an asyncio connection, and outcomes (success, failure, hold) are sent by a
background task while the request goes on, in order of submission, batched into one
pipeline per round trip (at most 10,000 wait; beyond that, while Redis is slow, the
oldest are dropped from the shared count, never from the local one). Outside a running
event loop (tests, tools) every method is a plain synchronous call, as are
:meth:`RedisBreaker.state`, :meth:`RedisBreaker.snapshot` and the other read methods
(metrics scrapes, the dashboard publisher). The socket timeout bounds what a slow Redis
can cost, and a Redis found unreachable is not asked again until ``retry_s`` has passed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from releasegate._optional import import_optional
from releasegate.gateway._breaker_lua import SCRIPTS
from releasegate.gateway.breaker import (
    Admission,
    BreakerPolicy,
    BreakerSnapshot,
    BreakerState,
    LocalBreaker,
)

__all__ = ["RedisBreaker", "SharedBreakers"]

logger = logging.getLogger("releasegate.gateway")

_CODES = {0: BreakerState.CLOSED, 1: BreakerState.HALF_OPEN, 2: BreakerState.OPEN}

#: Callback given a script's reply (never called when Redis failed).
_Then = Callable[[Any], None] | None


class SharedBreakers:
    """The Redis connections and scripts every :class:`RedisBreaker` of a process uses,
    and whether Redis answers (one health for the whole process).

    Args:
        url: ``redis://`` URL.
        prefix: Key prefix (several gateways or tests can share one Redis).
        policy: Thresholds and durations, the same for every upstream.
        clock: Seconds on one clock shared by all processes; None (the default) uses
            the Redis server's clock. Tests inject one to check exact deadlines.
        timeout_s: Socket timeout of each Redis call, seconds.
        retry_s: After a failed call, Redis is not asked again for this many seconds.

    Raises:
        MissingExtra: the ``redis`` package is not installed.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "releasegate:breaker",
        policy: BreakerPolicy | None = None,
        clock: Callable[[], float] | None = None,
        timeout_s: float = 0.25,
        retry_s: float = 2.0,
    ) -> None:
        redis = import_optional("redis", purpose="breakers shared through Redis")
        aredis = import_optional("redis.asyncio")
        backoff = import_optional("redis.backoff")
        self.prefix = prefix
        self.policy = policy or BreakerPolicy()
        self.clock = clock
        self.retry_s = retry_s
        options = {"socket_timeout": timeout_s, "socket_connect_timeout": timeout_s}
        self.client: Any = redis.Redis.from_url(
            url, retry=import_optional("redis.retry").Retry(backoff.NoBackoff(), 0), **options
        )
        self.aclient: Any = aredis.Redis.from_url(
            url,
            retry=import_optional("redis.asyncio.retry").Retry(backoff.NoBackoff(), 0),
            **options,
        )
        self._error_types: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        self._sync = {k: self.client.register_script(v) for k, v in SCRIPTS.items()}
        self._async = {k: self.aclient.register_script(v) for k, v in SCRIPTS.items()}
        self.healthy = True
        """False while Redis is unreachable and breakers decide locally."""
        self.errors = 0
        """Redis calls that failed since start."""
        self._retry_at = 0.0
        # Outcomes waiting for the sender task; bounded: while Redis is slow, the oldest
        # are dropped (the local breakers still count them).
        self._queue: deque[tuple[str, Sequence[str], Sequence[Any], _Then]] = deque(maxlen=10_000)
        self._sender: asyncio.Task[None] | None = None

    def breaker(self, upstream: str) -> RedisBreaker:
        """The breaker of ``upstream`` (build one per upstream, e.g. in ``Breakers``)."""
        return RedisBreaker(self, upstream)

    def now_arg(self) -> str:
        """The ``now`` argument of a script: the injected clock, or '' for Redis's."""
        return "" if self.clock is None else repr(self.clock())

    # -- health --------------------------------------------------------------------------

    def _resting(self) -> bool:
        return not self.healthy and time.monotonic() < self._retry_at

    def _failed(self, exc: BaseException) -> None:
        self.errors += 1
        self._retry_at = time.monotonic() + self.retry_s
        if self.healthy:
            self.healthy = False
            logger.warning(
                "shared breaker state unavailable (%s: %s); each gateway process now "
                "decides alone with its local breakers until Redis answers again",
                type(exc).__name__,
                exc,
            )

    def _answered(self) -> None:
        if not self.healthy:
            self.healthy = True
            logger.warning("shared breaker state reachable again; breakers are shared")

    # -- calls ---------------------------------------------------------------------------

    def run(self, name: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        """Run script ``name`` synchronously; None when Redis failed (or is resting)."""
        if self._resting():
            return None
        try:
            result = self._sync[name](keys=keys, args=args)
        except self._error_types as exc:
            self._failed(exc)
            return None
        self._answered()
        return result

    async def arun(self, name: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        """:meth:`run` on the asyncio connection."""
        if self._resting():
            return None
        try:
            result = await self._async[name](keys=keys, args=args)
        except self._error_types as exc:
            self._failed(exc)
            return None
        self._answered()
        return result

    def submit(self, name: str, keys: Sequence[str], args: Sequence[Any], then: _Then) -> None:
        """Run script ``name`` without waiting for it: queued for the sender task when
        an event loop runs here, else at once. ``then`` gets the reply."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None:
            got = self.run(name, keys, args)
            if got is not None and then is not None:
                then(got)
            return
        self._queue.append((name, keys, args, then))
        if self._sender is None or self._sender.done():
            self._sender = loop.create_task(self._send())

    async def _send(self) -> None:
        # Whatever queued up while the previous batch was out goes in one pipeline: one
        # round trip per batch, however many requests finished meanwhile.
        while self._queue:
            batch = [self._queue.popleft() for _ in range(min(len(self._queue), 512))]
            if self._resting():
                continue
            pipe = self.aclient.pipeline(transaction=False)
            for name, keys, args, _then in batch:
                await self._async[name](keys=keys, args=args, client=pipe)
            try:
                replies = await pipe.execute()
            except self._error_types as exc:
                self._failed(exc)
                continue
            self._answered()
            for (_name, _keys, _args, then), got in zip(batch, replies, strict=True):
                if then is not None:
                    then(got)

    async def drain(self) -> None:
        """Wait until every submitted outcome reached Redis (or failed)."""
        while self._sender is not None and not self._sender.done():
            await asyncio.shield(self._sender)

    async def hold_open(self) -> None:
        """A gateway background job: waits until cancelled, then sends what is queued
        and closes the connections."""
        try:
            await asyncio.Event().wait()
        finally:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self.drain(), timeout=1.0)
            await self.aclient.aclose()
            self.client.close()

    def close(self) -> None:
        """Close the synchronous connection pool."""
        self.client.close()


class RedisBreaker:
    """A :class:`~releasegate.gateway.breaker.Breaker` whose state lives in Redis.

    Outcomes are also counted by a :class:`LocalBreaker` (``local``), which makes the
    decisions while Redis is unreachable.

    Args:
        shared: The process's Redis connections, scripts and health.
        upstream: The upstream's name (part of the keys).
    """

    def __init__(self, shared: SharedBreakers, upstream: str) -> None:
        self.shared = shared
        self.upstream = upstream
        self.local = LocalBreaker(shared.policy, clock=shared.clock or time.monotonic)
        base = f"{shared.prefix}:{upstream}"
        self._keys = (f"{base}:s", f"{base}:w", f"{base}:p")
        self._n = math.ceil(shared.policy.window_s)  # one-second buckets in the window

    def _allow_args(self) -> tuple[str, float]:
        return (self.shared.now_arg(), self.shared.policy.probe_timeout_s)

    @staticmethod
    def _admission(got: Any) -> Admission:
        allowed, code, wait = got
        return Admission(bool(int(allowed)), _CODES[int(code)], float(wait))

    async def admit(self) -> Admission:
        got = await self.shared.arun("allow", self._keys, self._allow_args())
        if got is None:
            return self.local.decide()
        return self._admission(got)

    def allow(self) -> bool:
        got = self.shared.run("allow", self._keys, self._allow_args())
        if got is None:
            return self.local.allow()
        return self._admission(got).allowed

    def _closed(self, got: Any) -> None:
        if int(got[1]):
            logger.info("breaker of upstream %r closed (shared)", self.upstream)

    def _opened(self, got: Any) -> None:
        if int(got[1]):
            logger.warning(
                "breaker of upstream %r opened for %.1f s (shared)",
                self.upstream,
                self.shared.policy.open_s,
            )

    def success(self) -> None:
        self.local.success()
        self.shared.submit("success", self._keys, (self.shared.now_arg(), self._n), self._closed)

    def failure(self) -> None:
        self.local.failure()
        p = self.shared.policy
        args = (self.shared.now_arg(), self._n, p.min_volume, p.failure_rate, p.open_s)
        self.shared.submit("failure", self._keys, args, self._opened)

    def hold(self, seconds: float) -> None:
        if seconds <= 0:
            return
        self.local.hold(seconds)
        self.shared.submit("hold", self._keys[:1], (self.shared.now_arg(), seconds), None)

    def snapshot(self) -> BreakerSnapshot:
        got = self.shared.run("peek", self._keys, (self.shared.now_arg(), self._n))
        if got is None:
            return self.local.snapshot()
        code, wait, calls, fails = got
        return BreakerSnapshot(_CODES[int(code)], int(calls), int(fails), float(wait), shared=True)

    def state(self) -> BreakerState:
        return self.snapshot().state

    def retry_after(self) -> float:
        return self.snapshot().retry_after_s
