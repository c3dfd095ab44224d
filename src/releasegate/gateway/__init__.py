"""The OpenAI-compatible gateway: sticky canary routing, fallback chains, circuit
breakers, honest streaming and provenance on every response.

Build it with :func:`create_gateway` (every dependency passed in) and serve the
returned ASGI app with uvicorn; see ``docs/gateway.md``. Breakers shared by several
processes through Redis are in :mod:`releasegate.gateway.breaker_redis` (the ``redis``
extra).
"""

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
from releasegate.gateway.fallback import FallbackChain
from releasegate.gateway.recorder import RECORD_FIELDS, MemoryRecorder, Recorder
from releasegate.gateway.upstream import Upstream, UpstreamError, UpstreamPool

__all__ = [
    "RECORD_FIELDS",
    "Admission",
    "Breaker",
    "BreakerPolicy",
    "BreakerSnapshot",
    "BreakerState",
    "Breakers",
    "FallbackChain",
    "Gateway",
    "LocalBreaker",
    "MemoryRecorder",
    "Recorder",
    "Upstream",
    "UpstreamError",
    "UpstreamPool",
    "create_gateway",
]
