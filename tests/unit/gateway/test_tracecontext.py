"""W3C trace context: which incoming headers are valid, and what goes upstream."""

from __future__ import annotations

import pytest

from releasegate.gateway._tracecontext import (
    TraceContext,
    incoming,
    parse_traceparent,
    valid_tracestate,
)

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"
BASE = f"00-{TRACE}-{SPAN}-"


@pytest.mark.parametrize(
    ("header", "sampled"),
    [
        (BASE + "01", True),
        (BASE + "03", True),  # other flag bits are not the sampled bit
        (BASE + "00", False),
        (BASE + "02", False),
        (f"  {BASE}01 ", True),  # optional whitespace around a header value
        (f"01-{TRACE}-{SPAN}-01", True),  # a later version, same layout
        (f"cc-{TRACE}-{SPAN}-01-what-the-future-adds", True),  # and more fields
    ],
)
def test_valid_traceparents(header: str, sampled: bool) -> None:
    parent = parse_traceparent(header.encode())
    assert parent is not None
    assert (parent.trace_id, parent.span_id, parent.sampled) == (TRACE, SPAN, sampled)


@pytest.mark.parametrize(
    "header",
    [
        "",
        "garbage",
        BASE + "zz",  # flags not hex
        BASE + "1",  # short
        BASE + "01-extra",  # version 00 has exactly four fields
        f"ff-{TRACE}-{SPAN}-01",  # version ff is forbidden
        f"00-{'0' * 32}-{SPAN}-01",  # all-zero trace id
        f"00-{TRACE}-{'0' * 16}-01",  # all-zero parent id
        f"00-{TRACE.upper()}-{SPAN}-01",  # uppercase hex
        f"00_{TRACE}-{SPAN}-01",  # wrong separator
        f"00-{TRACE}{SPAN}-01",  # a missing field
        f"0g-{TRACE}-{SPAN}-01",  # version not hex
        f"01-{TRACE}-{SPAN}-01x",  # a later version: more only after a dash
    ],
)
def test_invalid_traceparents_are_ignored(header: str) -> None:
    assert parse_traceparent(header.encode()) is None
    headers = {b"traceparent": header.encode(), b"tracestate": b"a=1"}
    assert incoming(headers) is None  # not forwarded, nor its tracestate


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("rojo=00f067aa0ba902b7", True),
        ("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", True),
        (" rojo=1 ,\tcongo=2 ", True),
        ("rojo=1,,congo=2", True),  # empty members are allowed
        ("tenant@vendor=x", True),
        ("a=1,a=2", False),  # a key twice
        ("Rojo=1", False),  # keys are lowercase
        ("rojo", False),
        ("rojo=", False),  # a value has at least one character
        ("rojo=a=b", False),  # '=' is not allowed in a value
        ("rojo=a,b", False),
        ("", False),
        (",".join(f"k{i}=v" for i in range(33)), False),  # at most 32 members
        (",".join(f"k{i}=v" for i in range(32)), True),
    ],
)
def test_tracestate(value: str, valid: bool) -> None:
    assert valid_tracestate(value) is valid


def test_incoming_combines_repeated_tracestate_headers_and_drops_an_invalid_one() -> None:
    parent = f"{BASE}01".encode()
    raw = [(b"traceparent", parent), (b"tracestate", b"a=1"), (b"tracestate", b"b=2")]
    found = incoming(dict(raw), raw)
    assert found is not None and found[1] == parent and found[2] == "a=1,b=2"
    raw = [(b"traceparent", parent), (b"tracestate", b"A=1")]
    found = incoming(dict(raw), raw)
    assert found is not None and found[2] is None  # traceparent kept, tracestate dropped
    assert incoming({}) is None


def test_passthrough_sends_the_callers_headers_unchanged_to_every_attempt() -> None:
    parent = parse_traceparent(f"{BASE}00".encode())
    assert parent is not None
    ctx = TraceContext.passthrough(parent, f"{BASE}00".encode(), "a=1")
    for depth in range(3):
        assert ctx.outgoing("m", "up", depth, 0.0) == {
            "traceparent": f"{BASE}00",
            "tracestate": "a=1",
        }
    assert ctx.attempts == [] and ctx.child() is ctx


@pytest.mark.parametrize("with_parent", [True, False])
def test_a_traced_call_gives_every_attempt_its_own_span(with_parent: bool) -> None:
    parent = parse_traceparent(f"{BASE}01".encode()) if with_parent else None
    ctx = TraceContext.start(parent, "a=1" if with_parent else None)
    sent = [ctx.outgoing(f"m{d}", "up", d, float(d)) for d in range(3)]
    ctx.ended(3.0, status=200)
    ids = []
    for headers, attempt in zip(sent, ctx.attempts, strict=True):
        version, trace_id, span_id, flags = headers["traceparent"].split("-")
        assert (version, flags, trace_id, span_id) == ("00", "01", ctx.trace_id, attempt.span_id)
        assert parse_traceparent(headers["traceparent"].encode()) is not None
        ids.append(span_id)
        assert headers.get("tracestate") == ("a=1" if with_parent else None)
    assert len({*ids, ctx.span_id}) == 4  # distinct span ids, one trace
    assert (ctx.trace_id == TRACE) is with_parent
    assert ctx.parent_id == (SPAN if with_parent else None)
    assert [a.end for a in ctx.attempts] == [None, None, 3.0]  # only the last ended
    shadow = ctx.child()
    assert shadow.trace_id == ctx.trace_id and shadow.parent_id == ctx.span_id
    assert shadow.span_id not in {*ids, ctx.span_id}
