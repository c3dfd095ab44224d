"""W3C trace context (``traceparent`` / ``tracestate``) carried to the upstream calls.

Nothing here imports OpenTelemetry: a gateway without tracing only validates the
caller's header and passes it on; with tracing, the ids of the gateway's spans are drawn
here (``random.getrandbits``, as the OpenTelemetry SDK does) while the request runs,
and the spans themselves are made once it is over (see
:mod:`releasegate.gateway.tracing`).

Rules (W3C Trace Context, level 1):

* A ``traceparent`` is ``version-traceid-parentid-flags`` in lowercase hex (2, 32, 16
  and 2 digits); version ``ff``, an all-zero trace id or parent id, any other
  character, or a version ``00`` header of another length make it invalid. A later
  version may append ``-`` and more fields, which are ignored.
* An invalid ``traceparent`` is ignored: it is not forwarded, nor its ``tracestate``.
* A ``tracestate`` is forwarded only with a valid ``traceparent`` and only when it
  parses (at most 32 ``key=value`` members, keys and values as the specification
  spells them); one that does not is dropped, the ``traceparent`` still forwarded.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Attempt", "Parent", "TraceContext", "incoming", "parse_traceparent", "valid_tracestate"]

_TRACEPARENT = re.compile(rb"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?", re.S)
_KEY = r"(?:[a-z][a-z0-9_\-*/]{0,255}|[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13})"
_VALUE = r"[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]"
_MEMBER = re.compile(rf"{_KEY}={_VALUE}")
_MAX_MEMBERS = 32


@dataclass(frozen=True, slots=True)
class Parent:
    """A valid incoming ``traceparent``: its ids (lowercase hex) and sampled flag."""

    trace_id: str
    span_id: str
    sampled: bool


def parse_traceparent(value: bytes | None) -> Parent | None:
    """The parsed ``traceparent`` header, or None when absent or invalid (see the module
    docstring for what is valid)."""
    if not value:
        return None
    match = _TRACEPARENT.fullmatch(value.strip(b" \t"))
    if match is None:
        return None
    version, trace_id, span_id, flags, rest = match.groups()
    if version == b"ff" or (version == b"00" and rest is not None):
        return None
    if trace_id == b"0" * 32 or span_id == b"0" * 16:
        return None
    return Parent(trace_id.decode(), span_id.decode(), bool(int(flags, 16) & 1))


def valid_tracestate(value: str) -> bool:
    """Whether a (combined) ``tracestate`` header parses: at most 32 non-empty
    ``key=value`` members separated by commas (optional spaces and tabs around them),
    no key twice."""
    keys: set[str] = set()
    for member in value.split(","):
        member = member.strip(" \t")
        if not member:
            continue
        if _MEMBER.fullmatch(member) is None:
            return False
        key = member.partition("=")[0]
        if key in keys:
            return False
        keys.add(key)
    return 0 < len(keys) <= _MAX_MEMBERS


def _tracestate(
    headers: Mapping[bytes, bytes], raw: list[tuple[bytes, bytes]] | None
) -> str | None:
    if b"tracestate" not in headers:
        return None
    if raw is not None:  # several tracestate headers are one list, in order
        parts = [v for k, v in raw if k == b"tracestate"]
        value = ",".join(p.decode("latin-1") for p in parts)
    else:
        value = headers[b"tracestate"].decode("latin-1")
    return value if valid_tracestate(value) else None


def incoming(
    headers: Mapping[bytes, bytes], raw: list[tuple[bytes, bytes]] | None = None
) -> tuple[Parent, bytes, str | None] | None:
    """The caller's valid ``traceparent`` (parsed and as sent) and its valid
    ``tracestate`` (or None), from lowercase header names; None when the request has no
    valid ``traceparent``. ``raw`` is the request's header list, to combine repeated
    ``tracestate`` headers."""
    value = headers.get(b"traceparent")
    if value is None:
        return None
    parent = parse_traceparent(value)
    if parent is None:
        return None
    return parent, value.strip(b" \t"), _tracestate(headers, raw)


def _new_id(bits: int) -> str:
    while True:
        n = random.getrandbits(bits)
        if n:
            return f"{n:0{bits // 4}x}"


@dataclass(slots=True)
class Attempt:
    """One upstream call of a traced request: its span id and what the span says.

    ``start`` and ``end`` are on the request's clock (:attr:`Call.clock`)."""

    span_id: str
    model: str
    upstream: str
    depth: int
    start: float
    end: float | None = None
    status: int | None = None
    error: str | None = None


class TraceContext:
    """The trace context of one gateway call (a request or a shadow call).

    Two kinds: *traced* (the gateway makes spans: ``trace_id``, its own ``span_id``,
    the caller's span ``parent_id`` or None, and one :class:`Attempt` per upstream
    call, each with its own span id sent as the upstream's parent), or *pass-through*
    (the gateway makes no span: the caller's headers go upstream unchanged).
    """

    __slots__ = ("_fixed", "attempts", "parent_id", "span_id", "trace_id", "traced", "tracestate")

    def __init__(
        self,
        *,
        traced: bool,
        trace_id: str,
        span_id: str | None,
        parent_id: str | None,
        tracestate: str | None,
        fixed: dict[str, str] | None = None,
    ) -> None:
        self.traced = traced
        self.trace_id = trace_id
        self.span_id = span_id
        self.parent_id = parent_id
        self.tracestate = tracestate
        self.attempts: list[Attempt] = []
        self._fixed = fixed or {}

    @classmethod
    def passthrough(
        cls, parent: Parent, traceparent: bytes, tracestate: str | None
    ) -> TraceContext:
        """Forward the caller's headers unchanged to every upstream call."""
        fixed = {"traceparent": traceparent.decode("latin-1")}
        if tracestate is not None:
            fixed["tracestate"] = tracestate
        return cls(
            traced=False,
            trace_id=parent.trace_id,
            span_id=None,
            parent_id=parent.span_id,
            tracestate=tracestate,
            fixed=fixed,
        )

    @classmethod
    def start(cls, parent: Parent | None, tracestate: str | None) -> TraceContext:
        """A traced call: a child of ``parent``'s trace, else a new trace."""
        return cls(
            traced=True,
            trace_id=parent.trace_id if parent is not None else _new_id(128),
            span_id=_new_id(64),
            parent_id=parent.span_id if parent is not None else None,
            tracestate=tracestate if parent is not None else None,
        )

    def child(self) -> TraceContext:
        """The context of a call made for this one (a shadow call): traced, a span of
        its own under this one's in the same trace; passed through, the same headers."""
        if not self.traced:
            return self
        return TraceContext(
            traced=True,
            trace_id=self.trace_id,
            span_id=_new_id(64),
            parent_id=self.span_id,
            tracestate=self.tracestate,
        )

    def outgoing(self, model: str, upstream: str, depth: int, now: float) -> dict[str, str]:
        """Headers for the next upstream call; a traced call also gets an attempt (a span
        id of its own, parent of whatever the upstream traces)."""
        if not self.traced:
            return self._fixed
        span_id = _new_id(64)
        self.attempts.append(Attempt(span_id, model, upstream, depth, now))
        headers = {"traceparent": f"00-{self.trace_id}-{span_id}-01"}
        if self.tracestate is not None:
            headers["tracestate"] = self.tracestate
        return headers

    def ended(self, now: float, *, status: int | None = None, error: str | None = None) -> None:
        """The last upstream call ended (``status``: its HTTP status when one came;
        ``error``: why it failed, else None)."""
        if self.attempts and self.attempts[-1].end is None:
            attempt = self.attempts[-1]
            attempt.end, attempt.status, attempt.error = now, status, error
