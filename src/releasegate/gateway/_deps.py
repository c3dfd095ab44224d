"""The dependencies every gateway handler shares."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from releasegate.control.router import Route
from releasegate.gateway._budget_gate import TokenBudgets
from releasegate.gateway.breaker import Breakers
from releasegate.gateway.fallback import FallbackChain
from releasegate.gateway.metrics import GatewayMetrics
from releasegate.gateway.recorder import Recorder
from releasegate.gateway.upstream import Upstream, UpstreamPool
from releasegate.llm import Usage
from releasegate.prompts import Prompt

__all__ = ["Deps", "RouterLike", "Send"]

Send = Callable[[dict[str, Any]], Awaitable[None]]


class RouterLike(Protocol):
    """What the gateway needs of a router (:class:`releasegate.control.router.Router`)."""

    def route(self, feature: str, unit_key: str) -> Route: ...


@dataclass(slots=True)
class Deps:
    router: RouterLike
    upstreams: Callable[[str], Upstream | None]
    prompts: Callable[[str, str], Prompt | None]
    recorder: Recorder
    fallbacks: Callable[[Route], FallbackChain]
    clock: Callable[[], float]
    wall_clock: Callable[[], float]
    breakers: Breakers
    pool: UpstreamPool
    metrics: GatewayMetrics
    cost: Callable[[str, Usage], float | None] | None
    stall_timeout_s: float
    max_body_bytes: int
    budgets: TokenBudgets | None = None
