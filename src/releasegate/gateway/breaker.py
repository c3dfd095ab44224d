"""Per-upstream circuit breakers: sliding window, minimum volume, half-open probe.

A breaker counts outcomes of calls to one upstream in a sliding window of
``window_s`` seconds (one-second buckets, so memory is bounded by the window). While
*closed* every call goes through; once the window holds at least ``min_volume`` calls
and the failure rate reaches ``failure_rate``, it *opens* until
``now + open_s``. A failure reported while open (a call that was already in flight)
pushes that deadline to ``now + open_s`` again, so an upstream that keeps failing stays
out. At the deadline it is *half-open*: exactly one probe call is let through; its
success closes the breaker with an empty window, its failure opens it again. A probe
that reports nothing within ``probe_timeout_s`` (its caller vanished) frees the slot
for another probe.

An upstream's ``Retry-After`` is honoured with :meth:`Breaker.hold`: no call goes to it
before that time, whatever the state.

The state lives behind the small :class:`Breaker` protocol so a shared store (several
processes) can implement the same decisions: :class:`LocalBreaker` keeps it in process,
:class:`releasegate.gateway.breaker_redis.RedisBreaker` in Redis.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

__all__ = [
    "Admission",
    "Breaker",
    "BreakerPolicy",
    "BreakerSnapshot",
    "BreakerState",
    "Breakers",
    "LocalBreaker",
]


class BreakerState(StrEnum):
    """A breaker's state; the value is exported as a metric (0, 1, 2)."""

    CLOSED = "closed"
    HALF_OPEN = "half_open"
    OPEN = "open"

    @property
    def code(self) -> int:
        return {"closed": 0, "half_open": 1, "open": 2}[self.value]


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    """When a breaker opens and for how long.

    Attributes:
        window_s: Length of the sliding window of outcomes, seconds.
        min_volume: Calls the window must hold before it may open.
        failure_rate: Failure share in [0, 1] at which it opens (0.15 = 15%).
        open_s: How long it stays open after opening (or after a failure while open).
        probe_timeout_s: How long a half-open probe may take before another is allowed.
    """

    window_s: float = 60.0
    min_volume: int = 20
    failure_rate: float = 0.15
    open_s: float = 30.0
    probe_timeout_s: float = 30.0

    def __post_init__(self) -> None:
        if self.window_s < 1:
            raise ValueError("window_s must be >= 1")
        if self.min_volume < 1:
            raise ValueError("min_volume must be >= 1")
        if not 0 < self.failure_rate <= 1:
            raise ValueError("failure_rate must be in (0, 1]")
        if self.open_s <= 0 or self.probe_timeout_s <= 0:
            raise ValueError("open_s and probe_timeout_s must be > 0")


@dataclass(frozen=True, slots=True)
class Admission:
    """A breaker's answer to "may a call go out now?".

    Attributes:
        allowed: Whether the call may go out (a half-open breaker admits one probe).
        state: The state the decision was made in.
        retry_after_s: When refused, seconds until a call may be admitted (else 0).
    """

    allowed: bool
    state: BreakerState
    retry_after_s: float = 0.0


@dataclass(frozen=True, slots=True)
class BreakerSnapshot:
    """What a breaker looks like now, for metrics and the dashboard.

    Attributes:
        state: Closed, half-open or open.
        calls: Calls counted in the sliding window.
        failures: Failures among them.
        retry_after_s: Seconds until a call may be admitted again (0 when it may now).
        shared: True when the state is the one every gateway process shares (Redis),
            False when this process decides alone.
    """

    state: BreakerState
    calls: int
    failures: int
    retry_after_s: float
    shared: bool = False

    @property
    def failure_rate(self) -> float | None:
        """Failures / calls in the window, None with no calls."""
        return self.failures / self.calls if self.calls else None


class Breaker(Protocol):
    """The decisions a gateway asks of one upstream's breaker.

    The gateway asks :meth:`admit` (awaitable, so a shared store is asked without
    blocking the event loop); the other methods return at once.
    """

    async def admit(self) -> Admission:
        """:meth:`allow`, with the state and retry-after of the decision."""
        ...

    def allow(self) -> bool:
        """Whether a call may go out now (a half-open breaker admits one probe)."""
        ...

    def success(self) -> None:
        """Report a call that succeeded."""
        ...

    def failure(self) -> None:
        """Report a call that failed (connect error, timeout, 5xx, 429, bad answer)."""
        ...

    def hold(self, seconds: float) -> None:
        """Send nothing to this upstream for ``seconds`` (its ``Retry-After``)."""
        ...

    def state(self) -> BreakerState:
        """The current state."""
        ...

    def retry_after(self) -> float:
        """Seconds until a call may be admitted again (0 when it may now)."""
        ...

    def snapshot(self) -> BreakerSnapshot:
        """State, window counts and retry-after at once."""
        ...


class LocalBreaker:
    """A :class:`Breaker` whose state lives in this process (not thread-safe: one event
    loop uses it).

    Args:
        policy: Thresholds and durations.
        clock: Monotonic clock in seconds (injectable for tests).
    """

    def __init__(
        self, policy: BreakerPolicy | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.policy = policy or BreakerPolicy()
        self._clock = clock
        n = math.ceil(self.policy.window_s)
        self._n = n
        self._calls = [0] * n
        self._fails = [0] * n
        self._stamp = [-1] * n  # which absolute second each bucket currently counts
        self._open_until: float | None = None
        self._probe_until: float | None = None  # a probe is out until then
        self._hold_until = 0.0
        self.transitions: list[tuple[float, BreakerState]] = []
        """(time, new state) for every change, newest last (bounded to 100)."""

    # -- window ----------------------------------------------------------------------

    def _bucket(self, now: float) -> int:
        second = int(now)
        i = second % self._n
        if self._stamp[i] != second:
            self._stamp[i] = second
            self._calls[i] = 0
            self._fails[i] = 0
        return i

    def _totals(self, now: float) -> tuple[int, int]:
        low = int(now) - self._n + 1
        calls = fails = 0
        for i in range(self._n):
            if self._stamp[i] >= low:
                calls += self._calls[i]
                fails += self._fails[i]
        return calls, fails

    def _reset_window(self) -> None:
        self._calls = [0] * self._n
        self._fails = [0] * self._n
        self._stamp = [-1] * self._n

    def _note(self, now: float, state: BreakerState) -> None:
        self.transitions.append((now, state))
        del self.transitions[:-100]

    # -- protocol ------------------------------------------------------------------------

    def state(self) -> BreakerState:
        if self._open_until is None:
            return BreakerState.CLOSED
        if self._clock() < self._open_until:
            return BreakerState.OPEN
        return BreakerState.HALF_OPEN

    def retry_after(self) -> float:
        now = self._clock()
        wait = self._hold_until - now
        if self._open_until is not None:
            if now < self._open_until:
                wait = max(wait, self._open_until - now)
            elif self._probe_until is not None and now < self._probe_until:
                wait = max(wait, self._probe_until - now)
        return max(0.0, wait)

    def snapshot(self) -> BreakerSnapshot:
        calls, fails = self._totals(self._clock())
        return BreakerSnapshot(self.state(), calls, fails, self.retry_after())

    async def admit(self) -> Admission:
        return self.decide()

    def decide(self) -> Admission:
        """:meth:`admit` without awaiting."""
        if self.allow():
            return Admission(True, self.state())
        return Admission(False, self.state(), self.retry_after())

    def allow(self) -> bool:
        now = self._clock()
        if now < self._hold_until:
            return False
        if self._open_until is None:
            return True
        if now < self._open_until:
            return False
        # Half-open: one probe at a time; a probe that never reported expires.
        if self._probe_until is not None and now < self._probe_until:
            return False
        if self._probe_until is None:
            self._note(now, BreakerState.HALF_OPEN)
        self._probe_until = now + self.policy.probe_timeout_s
        return True

    def success(self) -> None:
        now = self._clock()
        if self._open_until is not None:
            if now < self._open_until:
                return  # a call from before the breaker opened: proves nothing
            self._open_until = None
            self._probe_until = None
            self._reset_window()
            self._note(now, BreakerState.CLOSED)
            return
        self._calls[self._bucket(now)] += 1

    def failure(self) -> None:
        now = self._clock()
        if self._open_until is not None:
            # Open: extend. Half-open: the probe failed; open again.
            self._open_until = now + self.policy.open_s
            self._probe_until = None
            self._note(now, BreakerState.OPEN)
            return
        i = self._bucket(now)
        self._calls[i] += 1
        self._fails[i] += 1
        calls, fails = self._totals(now)
        if calls >= self.policy.min_volume and fails >= self.policy.failure_rate * calls:
            self._open_until = now + self.policy.open_s
            self._probe_until = None
            self._note(now, BreakerState.OPEN)

    def hold(self, seconds: float) -> None:
        if seconds > 0:
            self._hold_until = max(self._hold_until, self._clock() + seconds)


class Breakers:
    """One breaker per upstream name, made on first use by ``factory``."""

    def __init__(self, factory: Callable[[str], Breaker] | None = None) -> None:
        self._factory = factory or (lambda _name: LocalBreaker())
        self._by_name: dict[str, Breaker] = {}

    def __getitem__(self, upstream: str) -> Breaker:
        breaker = self._by_name.get(upstream)
        if breaker is None:
            breaker = self._by_name[upstream] = self._factory(upstream)
        return breaker

    def items(self) -> list[tuple[str, Breaker]]:
        """(upstream name, breaker) for every breaker made so far."""
        return list(self._by_name.items())
