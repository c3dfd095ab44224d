"""Stamp each request's arrival in uvicorn, so overhead includes time queued before the
handler ran.

uvicorn parses a request inside ``data_received`` and only schedules the ASGI handler;
on a busy event loop the handler may start much later. The protocol classes here note
the time a request's first bytes were handed to the protocol and put it in the
request's ``scope["state"]["releasegate.arrival"]`` (``time.perf_counter`` seconds),
which the gateway takes as the start of the request. They are module-level classes so
uvicorn can hand them to worker processes.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["ARRIVAL_KEY", "StampedH11Protocol", "stamped_protocol"]

ARRIVAL_KEY = "releasegate.arrival"


class _Stamp:
    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        previous = getattr(self, "scope", None)
        super().data_received(data)  # type: ignore[misc]
        scope: Any = getattr(self, "scope", None)
        # A request that began in this read has a new scope dict.
        if scope is not None and scope is not previous:
            state = scope.get("state")
            if isinstance(state, dict):
                state.setdefault(ARRIVAL_KEY, now)


class StampedH11Protocol(_Stamp, H11Protocol):
    """uvicorn's h11 protocol with arrival stamps."""


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class StampedHttpToolsProtocol(_Stamp, HttpToolsProtocol):
        """uvicorn's httptools protocol with arrival stamps."""

    _FAST: type[asyncio.Protocol] | None = StampedHttpToolsProtocol
except ImportError:  # httptools is not installed: h11 it is
    _FAST = None


def stamped_protocol(http: str = "auto") -> type[asyncio.Protocol]:
    """The stamping protocol class: httptools when installed (``auto``), else h11."""
    if http == "h11" or _FAST is None:
        if http == "httptools":
            raise ImportError("httptools is not installed")
        return StampedH11Protocol
    return _FAST
