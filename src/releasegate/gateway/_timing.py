"""Stamp each request's arrival in uvicorn, so overhead includes time queued before the
handler ran.

uvicorn parses a request inside ``data_received`` and only schedules the ASGI handler;
on a busy event loop the handler may start much later. The protocol classes made here
note the time the request's first bytes were handed to the protocol and put it in the
request's ``scope["state"]["releasegate.arrival"]`` (``time.perf_counter`` seconds),
which the gateway uses as the start of the request.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

__all__ = ["ARRIVAL_KEY", "stamped_protocol"]

ARRIVAL_KEY = "releasegate.arrival"


def stamped_protocol(http: str = "auto") -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol class (``httptools`` when installed under ``auto``, else
    ``h11``) with arrival stamping."""
    base: Any
    if http in ("auto", "httptools"):
        try:
            from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

            base = HttpToolsProtocol
        except ImportError:
            if http == "httptools":
                raise
            base = None
        if base is not None:
            return _stamp(base)
    from uvicorn.protocols.http.h11_impl import H11Protocol

    return _stamp(H11Protocol)


def _stamp(base: Any) -> type[asyncio.Protocol]:
    class Stamped(base):  # type: ignore[misc]
        def data_received(self, data: bytes) -> None:
            now = time.perf_counter()
            previous = getattr(self, "scope", None)
            super().data_received(data)
            scope = getattr(self, "scope", None)
            # A new request began in this read: its scope is a new dict.
            if scope is not None and scope is not previous:
                state = scope.get("state")
                if isinstance(state, dict):
                    state.setdefault(ARRIVAL_KEY, now)

    Stamped.__name__ = f"Stamped{base.__name__}"
    Stamped.__qualname__ = Stamped.__name__
    return Stamped
