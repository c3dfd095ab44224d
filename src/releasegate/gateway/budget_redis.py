"""Token budgets shared by several gateway processes through Redis.

Each tenant's window is one Redis hash, ``<prefix><bucket ms>:<tenant>``, mapping a
bucket number to the tokens reserved in it (the same sliding window of buckets as
:class:`releasegate.gateway.budget.LocalBudgetStore`). A reservation is one Lua script
(``register_script``: sent once, then called by its hash): it drops buckets that left
the window, sums the rest and adds the reservation only if it fits, so two processes
admitting at the same instant cannot both take the last tokens. Settling is another
script that changes a bucket only while it still exists, so a late settlement never
recreates an expired window. Each hash expires one window after its last reservation.

Time is Redis's own clock (``TIME``), so the processes' clocks need not agree; tests
may pass a clock instead. The key includes the bucket length, so a changed
``window_s`` starts new windows rather than misreading old ones.

Every failure to reach Redis (refused, timed out, an error reply) raises
:class:`releasegate.errors.BudgetStoreUnavailable`; what the gateway does then
(refuse with 503, or admit unbudgeted) is its ``fail_open`` setting.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from releasegate._optional import import_optional
from releasegate.errors import BudgetStoreUnavailable
from releasegate.gateway.budget import BUCKETS, Denied, Reservation

__all__ = ["RedisBudgetStore"]

# KEYS[1] = the tenant's hash. ARGV = tokens, limit, bucket ms, buckets, now ms ("" for
# Redis's TIME). Returns {1, bucket, used} when admitted, {0, retry ms, used} when not.
_RESERVE = """
local now
if ARGV[5] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
else
  now = tonumber(ARGV[5])
end
local tokens, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local width, n = tonumber(ARGV[3]), tonumber(ARGV[4])
local cur = math.floor(now / width)
local oldest = cur - n + 1
local flat = redis.call('HGETALL', KEYS[1])
local used, live = 0, {}
for i = 1, #flat, 2 do
  local b, v = tonumber(flat[i]), tonumber(flat[i + 1])
  if b < oldest then
    redis.call('HDEL', KEYS[1], flat[i])
  else
    used = used + v
    live[#live + 1] = {b, v}
  end
end
if used + tokens <= limit then
  redis.call('HINCRBY', KEYS[1], cur, tokens)
  redis.call('PEXPIRE', KEYS[1], width * (n + 1))
  return {1, cur, used + tokens}
end
table.sort(live, function(a, b) return a[1] < b[1] end)
local need, freed = used + tokens - limit, 0
for _, e in ipairs(live) do
  freed = freed + e[2]
  if freed >= need then
    return {0, (e[1] + n) * width - now, used}
  end
end
return {0, n * width, used}
"""

# KEYS[1] = the tenant's hash. ARGV = bucket, tokens to add (negative to give back).
_SETTLE = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  return redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])
end
return false
"""


class RedisBudgetStore:
    """Tenants' token counts in Redis (see the module docstring).

    Args:
        url: ``redis://`` URL.
        window_s: Length of the sliding window, seconds.
        prefix: Key prefix (one per deployment sharing a Redis).
        buckets: Sub-windows of the window.
        timeout_s: Connect and read timeout of one Redis call, seconds.
        clock: Unix seconds to use instead of Redis's clock (tests).

    Raises:
        releasegate._optional.MissingExtra: the ``redis`` package is not installed.
    """

    def __init__(
        self,
        url: str,
        window_s: float,
        *,
        prefix: str = "releasegate:budget:",
        buckets: int = BUCKETS,
        timeout_s: float = 0.5,
        clock: Callable[[], float] | None = None,
    ) -> None:
        aredis = import_optional("redis.asyncio", purpose="token budgets shared through Redis")
        retry = import_optional("redis.asyncio.retry")
        backoff = import_optional("redis.backoff")
        self.buckets = buckets
        self.width_ms = max(1, round(window_s * 1000 / buckets))
        self.prefix = f"{prefix}{self.width_ms}:"
        self._clock = clock
        self._redis: Any = aredis.from_url(
            url,
            socket_connect_timeout=timeout_s,
            socket_timeout=timeout_s,
            retry=retry.Retry(backoff.NoBackoff(), 0),
        )
        self._errors: tuple[type[BaseException], ...] = (
            import_optional("redis.exceptions").RedisError,
            OSError,
            TimeoutError,
        )
        self._reserve = self._redis.register_script(_RESERVE)
        self._settle = self._redis.register_script(_SETTLE)
        self._url = url

    def _now_ms(self) -> str:
        return "" if self._clock is None else str(int(self._clock() * 1000))

    async def reserve(self, tenant: str, tokens: int, limit: int) -> Reservation | Denied:
        args = [tokens, limit, self.width_ms, self.buckets, self._now_ms()]
        try:
            ok, value, used = await self._reserve(keys=[self.prefix + tenant], args=args)
        except self._errors as exc:
            raise BudgetStoreUnavailable(self._why(exc)) from exc
        if int(ok) == 1:
            return Reservation(tenant, tokens, int(value))
        return Denied(int(used), limit, int(value) / 1000)

    async def settle(self, reservation: Reservation, tokens: int) -> None:
        delta = tokens - reservation.tokens
        if delta == 0:
            return
        try:
            await self._settle(
                keys=[self.prefix + reservation.tenant], args=[reservation.bucket, delta]
            )
        except self._errors as exc:
            raise BudgetStoreUnavailable(self._why(exc)) from exc

    async def used(self, tenant: str) -> int:
        """Tokens of ``tenant`` in its hash, expired buckets included (for tests)."""
        try:
            values = await self._redis.hvals(self.prefix + tenant)
        except self._errors as exc:
            raise BudgetStoreUnavailable(self._why(exc)) from exc
        return sum(int(v) for v in values)

    async def close(self) -> None:
        await self._redis.aclose()

    def _why(self, exc: BaseException) -> str:
        return f"Redis at {_safe(self._url)} did not answer: {exc or type(exc).__name__}"


def _safe(url: str) -> str:
    # Never echo a password into an error message or a response.
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = rest.split("@", 1)[1]
    return f"{scheme}{sep}{rest}"
