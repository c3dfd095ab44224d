"""The circuit breaker's decisions on an injected clock: exact deadlines."""

from __future__ import annotations

import pytest

from releasegate.gateway import BreakerPolicy, BreakerState, LocalBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make(**kw: float) -> tuple[LocalBreaker, Clock]:
    clock = Clock()
    policy = BreakerPolicy(**{"min_volume": 10, "open_s": 30.0, **kw})  # type: ignore[arg-type]
    return LocalBreaker(policy, clock=clock), clock


def test_default_policy_is_15_percent_over_60_s() -> None:
    p = BreakerPolicy()
    assert (p.failure_rate, p.window_s) == (0.15, 60.0)


def test_needs_minimum_volume_before_opening() -> None:
    b, _ = make()
    for _ in range(9):
        b.failure()
    assert b.state() is BreakerState.CLOSED and b.allow()
    b.failure()
    assert b.state() is BreakerState.OPEN and not b.allow()


def test_opens_at_the_failure_rate_threshold() -> None:
    b, _ = make(min_volume=20)
    for _ in range(17):
        b.success()
    for _ in range(2):
        b.failure()
    assert b.state() is BreakerState.CLOSED  # 2/19 = 10.5%
    b.failure()  # 3/20 = 15%
    assert b.state() is BreakerState.OPEN


def test_window_slides() -> None:
    b, clock = make(min_volume=10)
    for _ in range(9):
        b.failure()
    clock.now += 61  # those failures left the window
    b.failure()
    assert b.state() is BreakerState.CLOSED


def test_exact_deadlines_and_failure_while_open_extends() -> None:
    b, clock = make()
    for _ in range(10):
        b.failure()
    opened = clock.now
    clock.now = opened + 29.999
    assert not b.allow() and b.retry_after() == pytest.approx(0.001)
    clock.now = opened + 20
    b.failure()  # an in-flight call failing while open: deadline now 20 + 30
    clock.now = opened + 49.999
    assert not b.allow()
    clock.now = opened + 50
    assert b.state() is BreakerState.HALF_OPEN
    assert b.allow()  # the probe
    assert not b.allow()  # only one at a time
    b.success()
    assert b.state() is BreakerState.CLOSED and b.allow()


def test_failed_probe_reopens_and_lost_probe_expires() -> None:
    b, clock = make(probe_timeout_s=5.0)
    for _ in range(10):
        b.failure()
    clock.now += 30
    assert b.allow()
    b.failure()
    assert b.state() is BreakerState.OPEN
    clock.now += 30
    assert b.allow()  # a probe whose caller never reports ...
    clock.now += 4.9
    assert not b.allow()
    clock.now += 0.1
    assert b.allow()  # ... frees the slot at its deadline


def test_success_from_before_opening_proves_nothing() -> None:
    b, clock = make()
    for _ in range(10):
        b.failure()
    clock.now += 1
    b.success()
    assert b.state() is BreakerState.OPEN


def test_hold_honours_retry_after_in_any_state() -> None:
    b, clock = make()
    b.hold(2.5)
    assert not b.allow() and b.retry_after() == pytest.approx(2.5)
    clock.now += 2.5
    assert b.allow()


def test_bad_policies_are_refused() -> None:
    with pytest.raises(ValueError):
        BreakerPolicy(failure_rate=0)
    with pytest.raises(ValueError):
        BreakerPolicy(min_volume=0)


async def test_admit_carries_the_state_and_retry_after_of_the_decision() -> None:
    b, clock = make()
    admitted = await b.admit()
    assert admitted.allowed and admitted.state is BreakerState.CLOSED
    for _ in range(10):
        b.failure()
    clock.now += 10
    refused = await b.admit()
    assert not refused.allowed and refused.state is BreakerState.OPEN
    assert refused.retry_after_s == pytest.approx(20.0)
    clock.now += 20
    probe = await b.admit()
    assert probe.allowed and probe.state is BreakerState.HALF_OPEN


def test_snapshot_counts_the_window() -> None:
    b, _ = make(min_volume=100)
    b.success()
    b.failure()
    snap = b.snapshot()
    assert (snap.calls, snap.failures, snap.failure_rate, snap.shared) == (2, 1, 0.5, False)
