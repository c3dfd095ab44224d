"""The OpenAI-compatible gateway: sticky canary routing, fallback chains, circuit
breakers, honest streaming, provenance on every response, shadow calls of a candidate
and optional OTLP span export.

Build it with :func:`create_gateway` (every dependency passed in) and serve the
returned ASGI app with uvicorn; see ``docs/gateway.md``. Breakers shared by several
processes through Redis are in :mod:`releasegate.gateway.breaker_redis` (the ``redis``
extra).

Names load on first use: the gateway's record writer process
(:mod:`releasegate.gateway._record_writer`) lives in this package and must not pay for
the serving side (aiohttp, the ASGI app, the breakers) when it starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from releasegate._lazy import lazy_exports as _lazy_exports

if TYPE_CHECKING:
    from releasegate.gateway._budget_gate import TokenBudgets
    from releasegate.gateway.app import Gateway, create_gateway
    from releasegate.gateway.breaker import (
        Admission,
        Breaker,
        BreakerPolicy,
        Breakers,
        BreakerSnapshot,
        BreakerState,
        LocalBreaker,
    )
    from releasegate.gateway.budget import BudgetPolicy, LocalBudgetStore
    from releasegate.gateway.fallback import FallbackChain
    from releasegate.gateway.recorder import RECORD_FIELDS, MemoryRecorder, Recorder
    from releasegate.gateway.shadow import ShadowPolicy
    from releasegate.gateway.upstream import Upstream, UpstreamError, UpstreamPool

__all__ = [
    "RECORD_FIELDS",
    "Admission",
    "Breaker",
    "BreakerPolicy",
    "BreakerSnapshot",
    "BreakerState",
    "Breakers",
    "BudgetPolicy",
    "FallbackChain",
    "Gateway",
    "LocalBreaker",
    "LocalBudgetStore",
    "MemoryRecorder",
    "Recorder",
    "ShadowPolicy",
    "TokenBudgets",
    "Upstream",
    "UpstreamError",
    "UpstreamPool",
    "create_gateway",
]

_WHERE = {
    "Admission": "releasegate.gateway.breaker",
    "Breaker": "releasegate.gateway.breaker",
    "BreakerPolicy": "releasegate.gateway.breaker",
    "BreakerSnapshot": "releasegate.gateway.breaker",
    "BreakerState": "releasegate.gateway.breaker",
    "Breakers": "releasegate.gateway.breaker",
    "BudgetPolicy": "releasegate.gateway.budget",
    "FallbackChain": "releasegate.gateway.fallback",
    "Gateway": "releasegate.gateway.app",
    "LocalBreaker": "releasegate.gateway.breaker",
    "LocalBudgetStore": "releasegate.gateway.budget",
    "MemoryRecorder": "releasegate.gateway.recorder",
    "RECORD_FIELDS": "releasegate.gateway.recorder",
    "Recorder": "releasegate.gateway.recorder",
    "ShadowPolicy": "releasegate.gateway.shadow",
    "TokenBudgets": "releasegate.gateway._budget_gate",
    "Upstream": "releasegate.gateway.upstream",
    "UpstreamError": "releasegate.gateway.upstream",
    "UpstreamPool": "releasegate.gateway.upstream",
    "create_gateway": "releasegate.gateway.app",
}
__getattr__, __dir__ = _lazy_exports(__name__, _WHERE, __all__)
