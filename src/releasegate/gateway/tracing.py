"""Spans of chat requests and shadow calls, exported over OTLP/HTTP (the ``otel`` extra).

One span per chat request the gateway answered and per shadow call, named and
attributed after the OpenTelemetry GenAI client-inference conventions (span name
``chat {gen_ai.request.model}``, kind ``CLIENT``): ``gen_ai.operation.name``,
``gen_ai.provider.name``, ``gen_ai.request.model`` (the model the assigned version
pins), ``gen_ai.response.model`` (the model that answered), ``gen_ai.request.stream``,
``gen_ai.usage.input_tokens`` / ``output_tokens``, ``gen_ai.response.finish_reasons``,
``gen_ai.response.time_to_first_chunk`` (streams), ``gen_ai.conversation.id`` (the
session), ``gen_ai.prompt.name`` / ``version``, the version's ``temperature``,
``top_p`` and ``max_tokens``, ``server.address`` / ``server.port`` of the upstream
that answered and ``error.type`` (see :func:`releasegate.gateway.metrics.error_type`);
plus the gateway's own under ``releasegate.``: ``feature``, ``version.assigned``,
``version.served``, ``arm``, ``fallback.depth``, ``shadow``, ``shadow_of``,
``request_id`` and ``overhead_ms``.

A span is made once its request is over, from the request's record, with the request's
own start and end times: nothing runs on the request's path while it is served, and a
gateway without tracing configured runs none of this code. An incoming W3C
``traceparent`` header makes the span a child of the caller's trace, and its sampled
flag decides whether the request is traced; other requests are traced at the
``sample`` rate (a request left out costs one random draw).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from releasegate._optional import import_optional
from releasegate.gateway._call import Call
from releasegate.gateway.metrics import PROVIDER, error_type
from releasegate.gateway.upstream import Upstream

__all__ = ["Tracing", "TracingOptions", "traces_endpoint"]

logger = logging.getLogger("releasegate.gateway")

_PARAMS = {
    "temperature": ("gen_ai.request.temperature", float),
    "top_p": ("gen_ai.request.top_p", float),
    "max_tokens": ("gen_ai.request.max_tokens", int),
    "max_completion_tokens": ("gen_ai.request.max_tokens", int),
}


@dataclass(frozen=True, slots=True)
class TracingOptions:
    """Where and how spans are exported.

    Attributes:
        endpoint: The OTLP/HTTP traces URL (``http://host:4318/v1/traces``).
        headers: Headers sent with every export.
        service_name: The ``service.name`` resource attribute.
        export_interval_s: Longest time a finished span waits before it is sent.
        sample: Share of requests traced, in [0, 1]. A request with a ``traceparent``
            header is traced when its sampled flag is set, whatever ``sample`` says
            (the caller decided for its trace).
    """

    endpoint: str
    headers: Mapping[str, str] = field(default_factory=dict)
    service_name: str = "releasegate-gateway"
    export_interval_s: float = 1.0
    sample: float = 1.0


def traces_endpoint(
    configured: str | None, traces_env: str | None, base_env: str | None
) -> str | None:
    """The traces URL: the config's, else ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` as is,
    else ``OTEL_EXPORTER_OTLP_ENDPOINT`` plus ``/v1/traces`` (as the OTLP exporter
    specification says), else None (no export)."""
    if configured:
        return configured
    if traces_env:
        return traces_env
    if base_env:
        return base_env.rstrip("/") + "/v1/traces"
    return None


def _sampled(traceparent: bytes | None) -> bool | None:
    """The sampled flag of a W3C ``traceparent`` (``00-<trace>-<span>-<flags>``), or
    None when there is none or it is malformed."""
    if not traceparent or len(traceparent) != 55 or traceparent[2:3] != b"-":
        return None
    try:
        return bool(int(traceparent[53:55], 16) & 1)
    except ValueError:
        return None


class Tracing:
    """Makes and exports the spans of one gateway process.

    Args:
        options: Export settings.
        upstreams: Model name -> upstream, for ``server.address`` / ``server.port``.

    Raises:
        MissingExtra: the ``otel`` extra is not installed.
    """

    def __init__(
        self, options: TracingOptions, upstreams: Callable[[str], Upstream | None]
    ) -> None:
        sdk_trace = import_optional("opentelemetry.sdk.trace", purpose="OTLP span export")
        export = import_optional("opentelemetry.sdk.trace.export", purpose="OTLP span export")
        resources = import_optional("opentelemetry.sdk.resources", purpose="OTLP span export")
        otlp = import_optional(
            "opentelemetry.exporter.otlp.proto.http.trace_exporter", purpose="OTLP span export"
        )
        trace_api = import_optional("opentelemetry.trace", purpose="OTLP span export")
        propagate = import_optional(
            "opentelemetry.trace.propagation.tracecontext", purpose="OTLP span export"
        )
        self.options = options
        self._upstreams = upstreams
        self._servers: dict[str, tuple[str, int] | None] = {}
        self._provider = sdk_trace.TracerProvider(
            resource=resources.Resource.create({"service.name": options.service_name})
        )
        exporter = otlp.OTLPSpanExporter(endpoint=options.endpoint, headers=dict(options.headers))
        self._provider.add_span_processor(
            export.BatchSpanProcessor(
                exporter, schedule_delay_millis=int(options.export_interval_s * 1000)
            )
        )
        # A provider of our own, not the global one: the gateway never changes what
        # other code in the process traces with.
        self._tracer = self._provider.get_tracer("releasegate.gateway")
        self._trace = trace_api
        self._propagator = propagate.TraceContextTextMapPropagator()

    def _server(self, model: str | None) -> tuple[str, int] | None:
        if model is None:
            return None
        upstream = self._upstreams(model)
        if upstream is None:
            return None
        if upstream.name not in self._servers:
            parts = urlsplit(upstream.base_url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
            self._servers[upstream.name] = (parts.hostname, port) if parts.hostname else None
        return self._servers[upstream.name]

    def emit(self, call: Call, record: Mapping[str, Any], traceparent: bytes | None) -> None:
        """Export the span of one finished request or shadow call (never raises)."""
        caller = _sampled(traceparent)
        if caller is False:
            return  # the caller does not sample its trace
        if caller is None:
            traceparent = None  # absent or malformed: a trace of our own
            if self.options.sample < 1.0 and random.random() >= self.options.sample:
                return  # not sampled: no span, no attribute work
        try:
            self._emit(call, record, traceparent)
        except Exception:  # tracing must never break a response
            logger.exception("could not make the span of request %s", call.request_id)

    def _emit(self, call: Call, record: Mapping[str, Any], traceparent: bytes | None) -> None:
        route = call.route
        request_model = route.model if route is not None else None
        attrs: dict[str, Any] = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": PROVIDER,
            "gen_ai.request.stream": bool(record["stream"]),
            "releasegate.request_id": call.request_id,
            "releasegate.shadow": bool(record["shadow"]),
            "releasegate.overhead_ms": float(record["overhead_ms"]),
        }
        optional = {
            "gen_ai.request.model": request_model,
            "gen_ai.response.model": record["served_model"],
            "gen_ai.usage.input_tokens": record["prompt_tokens"],
            "gen_ai.usage.output_tokens": record["completion_tokens"],
            "gen_ai.conversation.id": record["session_id"],
            "releasegate.feature": record["feature"],
            "releasegate.version.assigned": record["assigned_version"],
            "releasegate.version.served": record["served_version"],
            "releasegate.arm": record["arm"],
            "releasegate.fallback.depth": record["fallback_depth"],
            "releasegate.shadow_of": record["shadow_of"],
        }
        attrs.update({k: v for k, v in optional.items() if v is not None})
        if record["ttft_ms"] is not None:
            attrs["gen_ai.response.time_to_first_chunk"] = record["ttft_ms"] / 1000
        response = record["response"]
        if isinstance(response, Mapping) and response.get("finish_reason"):
            attrs["gen_ai.response.finish_reasons"] = [str(response["finish_reason"])]
        if route is not None:
            if route.prompt_name:
                attrs["gen_ai.prompt.name"] = route.prompt_name
                attrs["gen_ai.prompt.version"] = route.prompt_version or ""
            for key, (name, kind) in _PARAMS.items():
                value = route.params.get(key)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    attrs[name] = kind(value)
        server = self._server(record["served_model"] or request_model)
        if server is not None:
            attrs["server.address"], attrs["server.port"] = server
        error = error_type(record["status"], record["error_stage"])
        if error:
            attrs["error.type"] = error
        context = None
        if traceparent:
            context = self._propagator.extract({"traceparent": traceparent.decode("latin-1")})
        start = int(record["time"] * 1e9)
        span = self._tracer.start_span(
            f"chat {request_model}" if request_model else "chat",
            context=context,
            kind=self._trace.SpanKind.CLIENT,
            attributes=attrs,
            start_time=start,
        )
        if error:
            span.set_status(self._trace.Status(self._trace.StatusCode.ERROR, record["error"]))
        span.end(end_time=start + int(record["latency_ms"] * 1e6))

    def shutdown(self) -> None:
        """Export what is pending and stop (blocks up to the exporter's timeout)."""
        self._provider.shutdown()
