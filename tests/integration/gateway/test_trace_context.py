"""W3C trace context reaches the upstreams: passed through unchanged without tracing,
the gateway's own attempt spans as parents with tracing, never an invalid header."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from releasegate.gateway import FallbackChain
from releasegate.gateway.tracing import Tracing, TracingOptions
from tests.integration.gateway.conftest import Rig
from tests.support.gateway_upstream import GatewayUpstream
from tests.support.otlp_receiver import OtlpReceiver, ReceivedSpan

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"
CHAIN = {"chat": FallbackChain(models=("m-backup",))}


def sent(upstream: GatewayUpstream, name: str) -> list[str | None]:
    """The ``name`` header of every chat request the upstream received (None: absent)."""
    out = []
    for r in upstream.requests:
        if r.path.endswith("/chat/completions"):
            out.append(next((v for k, v in r.headers.items() if k.lower() == name), None))
    return out


async def chat(rig: Rig, stream: bool, headers: dict[str, str]) -> None:
    h = {"X-Releasegate-Unit": "u1", **headers}
    resp = await rig.chat("x", headers=h, stream=stream)
    assert resp.status_code == 200


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(
    ("traceparent", "tracestate"),
    [
        (f"00-{TRACE}-{SPAN}-01", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"),
        (f"00-{TRACE}-{SPAN}-00", None),  # not sampled by the caller: still propagated
        (f"01-{TRACE}-{SPAN}-01-later-fields", "a=1"),  # a later version, as sent
    ],
)
async def test_without_tracing_a_valid_context_passes_through_unchanged(
    make_rig: Callable[..., Any], stream: bool, traceparent: str, tracestate: str | None
) -> None:
    rig: Rig = await make_rig(fallbacks=CHAIN)
    headers = {"traceparent": traceparent, **({"tracestate": tracestate} if tracestate else {})}
    rig.primary.fail_next(500)  # both attempts of the chain carry it
    await chat(rig, stream, headers)
    await chat(rig, stream, headers)
    assert sent(rig.primary, "traceparent") == [traceparent, traceparent]
    assert sent(rig.backup, "traceparent") == [traceparent]
    assert sent(rig.primary, "tracestate") == [tracestate, tracestate]
    assert sent(rig.backup, "tracestate") == [tracestate]


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(
    "traceparent",
    [
        f"00-{TRACE.upper()}-{SPAN}-01",
        f"00-{'0' * 32}-{SPAN}-01",
        f"ff-{TRACE}-{SPAN}-01",
        f"00-{TRACE}-{SPAN}-01-extra",
        "not a traceparent",
    ],
)
async def test_an_invalid_traceparent_is_not_forwarded(
    make_rig: Callable[..., Any], stream: bool, traceparent: str
) -> None:
    rig: Rig = await make_rig()
    await chat(rig, stream, {"traceparent": traceparent, "tracestate": "a=1"})
    await chat(rig, stream, {})
    assert sent(rig.primary, "traceparent") == [None, None]
    assert sent(rig.primary, "tracestate") == [None, None]


async def test_an_invalid_tracestate_is_dropped_its_traceparent_kept(
    make_rig: Callable[..., Any],
) -> None:
    rig: Rig = await make_rig()
    parent = f"00-{TRACE}-{SPAN}-01"
    for state in ("A=1", "a=1,a=2", "a=", ",".join(f"k{i}=v" for i in range(33))):
        await chat(rig, False, {"traceparent": parent, "tracestate": state})
    assert sent(rig.primary, "traceparent") == [parent] * 4
    assert sent(rig.primary, "tracestate") == [None] * 4


@contextmanager
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver.run() as r:
        yield r


def _parts(header: str | None) -> tuple[str, str, str]:
    assert header is not None
    version, trace_id, span_id, flags = header.split("-")
    assert (version, flags) == ("00", "01")
    return trace_id, span_id, flags


def _flush(rig: Rig) -> None:
    assert rig.gateway.tracing is not None
    rig.gateway.tracing.shutdown()


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("caller", [True, False])
async def test_with_tracing_each_attempt_is_the_upstreams_parent(
    make_rig: Callable[..., Any], stream: bool, caller: bool
) -> None:
    with receiver() as r:
        options = TracingOptions(r.url + "/v1/traces")
        rig: Rig = await make_rig(fallbacks=CHAIN, tracing=lambda ups: Tracing(options, ups))
        headers = {"X-Request-Id": "t-1"}
        if caller:
            headers |= {"traceparent": f"00-{TRACE}-{SPAN}-01", "tracestate": "rojo=1"}
        rig.primary.fail_next(500)
        await chat(rig, stream, headers)
        _flush(rig)
        (first,), (second,) = sent(rig.primary, "traceparent"), sent(rig.backup, "traceparent")
        trace_a, span_a, _ = _parts(first)
        trace_b, span_b, _ = _parts(second)
        assert trace_a == trace_b and span_a != span_b
        assert (trace_a == TRACE) is caller
        expected_state = "rojo=1" if caller else None
        assert sent(rig.primary, "tracestate") == sent(rig.backup, "tracestate") == [expected_state]
        spans = {s.span_id: s for s in r.spans}
        (request,) = [s for s in r.spans if s.name == "chat m-1"]
        assert request.trace_id == trace_a
        assert request.parent_span_id == (SPAN if caller else "")
        a, b = spans[span_a], spans[span_b]
        for span, model, upstream in ((a, "m-1", rig.primary), (b, "m-backup", rig.backup)):
            assert span.name == "POST" and span.kind == 3  # CLIENT
            assert span.trace_id == trace_a and span.parent_span_id == request.span_id
            assert span.attributes["gen_ai.request.model"] == model
            assert span.attributes["server.port"] == upstream.port
            assert request.start_ns <= span.start_ns <= span.end_ns <= request.end_ns
        assert a.attributes["error.type"] == "500" and a.status_code == 2  # ERROR
        assert a.attributes["http.response.status_code"] == 500
        assert "error.type" not in b.attributes and b.attributes["releasegate.fallback.depth"] == 1
        assert len(r.spans) == 3


async def test_a_request_the_caller_does_not_sample_passes_its_context_on(
    make_rig: Callable[..., Any],
) -> None:
    with receiver() as r:
        options = TracingOptions(r.url + "/v1/traces", sample=1.0)
        rig: Rig = await make_rig(tracing=lambda ups: Tracing(options, ups))
        parent = f"00-{TRACE}-{SPAN}-00"
        await chat(rig, False, {"traceparent": parent, "tracestate": "a=1"})
        await chat(rig, True, {"traceparent": f"00-{TRACE}-{SPAN}-0x"})  # invalid: own trace
        _flush(rig)
        first, second = sent(rig.primary, "traceparent")
        assert first == parent and sent(rig.primary, "tracestate")[0] == "a=1"
        trace_id, span_id, _ = _parts(second)
        assert trace_id != TRACE
        assert {s.trace_id for s in r.spans} == {trace_id}  # only the second is traced
        assert any(s.span_id == span_id and s.name == "POST" for s in r.spans)


async def test_a_shadow_call_is_a_span_of_the_users_trace(make_rig: Callable[..., Any]) -> None:
    with receiver() as r:
        options = TracingOptions(r.url + "/v1/traces")
        rig: Rig = await make_rig(shadow_candidate=True, tracing=lambda ups: Tracing(options, ups))
        await chat(rig, False, {"traceparent": f"00-{TRACE}-{SPAN}-01", "X-Request-Id": "s-1"})
        for _ in range(2000):
            if len(sent(rig.primary, "traceparent")) == 2 and rig.gateway.shadows.in_flight == 0:
                break
            await asyncio.sleep(0.005)
        _flush(rig)
        user_up, shadow_up = (_parts(h) for h in sent(rig.primary, "traceparent"))
        assert user_up[0] == shadow_up[0] == TRACE and user_up[1] != shadow_up[1]
        by_id = {s.span_id: s for s in r.spans}
        user = next(s for s in r.spans if s.attributes.get("releasegate.request_id") == "s-1")
        shadow: ReceivedSpan = next(
            s for s in r.spans if s.attributes.get("releasegate.request_id") == "s-1:shadow"
        )
        assert user.parent_span_id == SPAN and shadow.parent_span_id == user.span_id
        assert by_id[user_up[1]].parent_span_id == user.span_id
        assert by_id[shadow_up[1]].parent_span_id == shadow.span_id
        assert {s.trace_id for s in r.spans} == {TRACE}


async def test_stream_failures_are_the_error_type_of_their_attempt(
    make_rig: Callable[..., Any],
) -> None:
    with receiver() as r:
        options = TracingOptions(r.url + "/v1/traces")
        rig: Rig = await make_rig(fallbacks=CHAIN, tracing=lambda ups: Tracing(options, ups))
        rig.primary.fail_before_first_chunk()  # fails over: the backup answers
        await chat(rig, True, {"X-Request-Id": "early"})
        rig.primary.cut_stream_after(2)  # fails after the first byte: the caller sees it
        resp = await rig.chat("x", headers={"X-Releasegate-Unit": "u1"}, stream=True)
        assert "event: error" in resp.text
        _flush(rig)
        attempts = {s.span_id: s for s in r.spans if s.name == "POST"}
        first, second = (_parts(h)[1] for h in sent(rig.primary, "traceparent"))
        (backup,) = (_parts(h)[1] for h in sent(rig.backup, "traceparent"))
        assert attempts[first].attributes["error.type"] == "stream_cut"
        assert attempts[second].attributes["error.type"] == "stream_cut"
        assert "error.type" not in attempts[backup].attributes
        for span_id in (first, second, backup):
            assert attempts[span_id].attributes["http.response.status_code"] == 200
