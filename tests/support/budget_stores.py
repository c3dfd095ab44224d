"""Budget stores for tests: a settable clock, and a way to build either backend on it."""

from __future__ import annotations

import uuid

from releasegate.gateway.budget import BudgetStore, LocalBudgetStore
from releasegate.gateway.budget_redis import RedisBudgetStore

__all__ = ["StepClock", "make_store"]


class StepClock:
    """Seconds standing still until a test sets :attr:`now`."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make_store(
    kind: str, clock: StepClock, *, window_s: float = 60.0, redis_url: str = "", prefix: str = ""
) -> BudgetStore:
    """A ``local`` or ``redis`` store on ``clock`` (Redis keys under a fresh prefix
    unless one is given)."""
    if kind == "local":
        return LocalBudgetStore(window_s, clock=clock)
    return RedisBudgetStore(
        redis_url,
        window_s,
        prefix=prefix or f"rg-test:{uuid.uuid4().hex}:",
        clock=clock,
    )
