"""Span export in process, to a real OTLP/HTTP receiver: the sample rate and the
caller's sampled flag decide which requests are traced."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from releasegate.gateway.tracing import Tracing, TracingOptions
from tests.integration.gateway.conftest import Rig
from tests.support.otlp_receiver import OtlpReceiver

PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-"


async def test_the_sample_rate_and_the_callers_flag(make_rig: Callable[..., Any]) -> None:
    with OtlpReceiver.run() as receiver:
        options = TracingOptions(receiver.url + "/v1/traces", sample=0.0)
        rig: Rig = await make_rig(tracing=lambda ups: Tracing(options, ups))
        for rid, parent in (("none", None), ("off", "00"), ("on", "01")):
            headers = {"X-Releasegate-Unit": "u1", "X-Request-Id": rid}
            if parent is not None:
                headers["traceparent"] = PARENT + parent
            assert (await rig.chat("x", headers=headers)).status_code == 200
        tracing = rig.gateway.tracing
        assert tracing is not None
        tracing.shutdown()  # flushes what is pending
        requests = [s for s in receiver.spans if s.name.startswith("chat")]
        traced = [s.attributes["releasegate.request_id"] for s in requests]
        assert traced == ["on"]
        (span,) = requests
        assert span.attributes["gen_ai.request.temperature"] == 0.0  # v1 pins it
        assert span.attributes["server.port"] == rig.primary.port
