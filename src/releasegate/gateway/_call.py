"""One request's state while the gateway handles it: timing, provenance, the record."""

from __future__ import annotations

import itertools
import json
import os
import re
from collections.abc import Callable
from typing import Any

from releasegate.control.router import Route
from releasegate.gateway._tracecontext import TraceContext
from releasegate.online.limits import MAX_REQUEST_ID

__all__ = ["Call", "error_payload", "new_request_id"]

# at most what the recording service stores, so a caller's id never costs its record
_REQUEST_ID = re.compile(rf"[A-Za-z0-9._:-]{{1,{MAX_REQUEST_ID}}}")


def error_payload(
    message: str, type_: str, *, code: str | None = None, param: str | None = None
) -> bytes:
    """An error body in OpenAI's shape."""
    return json.dumps(
        {"error": {"message": message, "type": type_, "param": param, "code": code}}
    ).encode()


class _RequestIds:
    """Request ids: 16 random hex digits drawn once per process, then a 16-hex-digit
    counter (32 characters, like a UUID's hex). Unique across processes and restarts as
    long as two processes never draw the same 64-bit prefix (about one chance in 10^10
    for 10^4 processes), at a fraction of the cost of a random UUID per request."""

    def __init__(self) -> None:
        self.reseed()
        os.register_at_fork(after_in_child=self.reseed)

    def reseed(self) -> None:
        self.prefix = os.urandom(8).hex()
        self.counter = itertools.count()

    def __call__(self) -> str:
        return f"{self.prefix}{next(self.counter) & 0xFFFF_FFFF_FFFF_FFFF:016x}"


new_request_id = _RequestIds()
"""A new request id (see :class:`_RequestIds`)."""


def valid_request_id(value: bytes | None) -> str | None:
    """The caller's ``X-Request-Id`` when it is a sane id (letters, digits, ``._:-``; at
    most :data:`~releasegate.online.limits.MAX_REQUEST_ID` characters), else None (the
    gateway then makes its own)."""
    if not value:
        return None
    text = value.decode("latin-1")
    return text if _REQUEST_ID.fullmatch(text) else None


class Call:
    """Timing and provenance of one request; builds its headers and its record.

    ``t0`` is the arrival (``clock`` seconds); ``upstream_wait`` accumulates the time
    spent waiting on upstreams, so ``overhead = elapsed - upstream_wait``.
    """

    __slots__ = (
        "arm",
        "assigned_version",
        "body",
        "clock",
        "completion_tokens",
        "cost_usd",
        "deployment_id",
        "error",
        "error_stage",
        "fallback_depth",
        "feature",
        "first_chunk_at",
        "json_exact",
        "messages",
        "prompt_tokens",
        "request_id",
        "response",
        "route",
        "served_model",
        "served_version",
        "session_id",
        "shadow_of",
        "status",
        "stream",
        "t0",
        "tools",
        "trace",
        "unit_key",
        "unit_key_random",
        "upstream_wait",
        "usage_estimated",
        "wall",
    )

    def __init__(self, *, t0: float, wall: float, request_id: str, clock: Callable[[], float]):
        self.t0 = t0
        self.wall = wall
        self.clock = clock
        self.request_id = request_id
        self.upstream_wait = 0.0
        self.feature: str | None = None
        self.assigned_version: str | None = None
        self.served_version: str | None = None
        self.served_model: str | None = None
        self.arm: str | None = None
        self.deployment_id: int | None = None
        self.unit_key: str | None = None
        self.unit_key_random = False
        self.session_id: str | None = None
        self.stream = False
        self.messages: Any = None
        self.tools: Any = None  # the function tools sent upstream, if any
        self.response: Any = None
        self.first_chunk_at: float | None = None
        self.prompt_tokens: int | None = None
        self.completion_tokens: int | None = None
        self.cost_usd: float | None = None
        self.status = 0
        self.error: str | None = None
        self.error_stage: str | None = None
        self.fallback_depth: int | None = None
        self.route: Route | None = None
        self.body: dict[str, Any] | None = None  # the request as sent, once it is valid
        self.shadow_of: str | None = None  # a shadow call: the user's request id
        # the body was parsed by orjson (False: by json, so it is encoded by json again)
        self.json_exact = True
        self.trace: TraceContext | None = None  # W3C trace context for upstream calls
        # a model answered but its upstream sent no usage: budgets settled on an estimate
        self.usage_estimated = False

    def routed(self, route: Route) -> None:
        self.assigned_version = route.version
        self.arm = route.arm
        self.deployment_id = route.deployment_id
        self.route = route

    def sending(self, rewritten: dict[str, Any]) -> None:
        """Keep what the record needs of the request sent upstream: its messages and
        the function tools it offers (None without any)."""
        self.messages = rewritten["messages"]
        tools = rewritten.get("tools")
        self.tools = tools if isinstance(tools, list) and tools else None

    def fail(self, stage: str, message: str) -> None:
        self.error_stage = stage
        self.error = message

    def overhead_s(self) -> float:
        return max(0.0, self.clock() - self.t0 - self.upstream_wait)

    def headers(self, content_type: bytes) -> list[tuple[bytes, bytes]]:
        """Response headers: content type and provenance (overhead as of now)."""
        out = [
            (b"content-type", content_type),
            (b"x-request-id", self.request_id.encode()),
        ]
        if self.feature is not None:
            out.append((b"x-releasegate-feature", _header(self.feature)))
        if self.assigned_version is not None:
            out.append((b"x-releasegate-version", _header(self.assigned_version)))
        if self.arm is not None:
            out.append((b"x-releasegate-arm", self.arm.encode()))
        if self.served_version is not None:
            out.append((b"x-releasegate-served-version", _header(self.served_version)))
        if self.served_model is not None:
            out.append((b"x-releasegate-served-model", _header(self.served_model)))
        if self.fallback_depth is not None:
            out.append((b"x-releasegate-fallback-depth", str(self.fallback_depth).encode()))
        out.append((b"x-releasegate-overhead-ms", f"{self.overhead_s() * 1000:.3f}".encode()))
        return out

    def record(self) -> dict[str, Any]:
        """The interaction record (see :mod:`releasegate.gateway.recorder`)."""
        now = self.clock()
        return {
            "feature": self.feature,
            "assigned_version": self.assigned_version,
            "served_version": self.served_version,
            "served_model": self.served_model,
            "arm": self.arm,
            "deployment_id": self.deployment_id,
            "unit_key": self.unit_key,
            "unit_key_random": self.unit_key_random,
            "session_id": self.session_id,
            "request_id": self.request_id,
            "stream": self.stream,
            "messages": self.messages,
            "response": self.response,
            "tools": self.tools,
            "latency_ms": (now - self.t0) * 1000,
            "ttft_ms": (self.first_chunk_at - self.t0) * 1000
            if self.first_chunk_at is not None
            else None,
            "overhead_ms": max(0.0, now - self.t0 - self.upstream_wait) * 1000,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cost_usd": self.cost_usd,
            "status": self.status,
            "error": self.error,
            "error_stage": self.error_stage,
            "fallback_depth": self.fallback_depth,
            "shadow": self.shadow_of is not None,
            "shadow_of": self.shadow_of,
            "time": self.wall,
            "usage_estimated": self.usage_estimated or None,
        }


def _header(value: str) -> bytes:
    # Header values are latin-1; anything else is escaped rather than dropped.
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("ascii", "backslashreplace")
