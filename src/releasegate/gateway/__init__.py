"""The OpenAI-compatible gateway: sticky canary routing, fallback chains, circuit
breakers, honest streaming, provenance on every response, shadow calls of a candidate
and optional OTLP span export.

Build it with :func:`create_gateway` (every dependency passed in) and serve the
returned ASGI app with uvicorn; see ``docs/gateway.md``. Breakers shared by several
processes through Redis are in :mod:`releasegate.gateway.breaker_redis` (the ``redis``
extra).
"""

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
