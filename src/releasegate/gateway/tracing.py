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

Under it, one span per upstream call (each fallback attempt; a shadow call's own),
named after the HTTP client conventions (``POST``, kind ``CLIENT``):
``http.request.method``, ``http.response.status_code``, ``server.address`` /
``server.port``, ``gen_ai.request.model`` (the model tried), ``error.type`` (the HTTP
status, or ``timeout``, ``connect``, ``protocol``, ``stream_<reason>``) and
``releasegate.upstream`` / ``releasegate.fallback.depth``. Its span id goes upstream as
the parent of a W3C ``traceparent`` header (with the caller's ``tracestate``), so the
upstream's own spans join the trace. A shadow call's span is a child of its user
request's span, in the same trace.

Whether a request is traced is decided when it arrives (:meth:`Tracing.begin`): an
incoming valid W3C ``traceparent`` makes its spans part of the caller's trace and its
sampled flag decides (a request the caller does not sample is not traced, and its
headers go upstream unchanged); other requests are traced at the ``sample`` rate (a
request left out costs one random draw). An invalid ``traceparent`` is ignored. The
ids are drawn then; the spans are made once the request is over, from its record, with
its own start and end times: nothing of OpenTelemetry runs on the request's path, and a
gateway without tracing configured runs none of this code.
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
from releasegate.gateway._tracecontext import Attempt, Parent, TraceContext
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


class _PresetIds:
    """The tracer's id generator: the ids drawn while the request ran, once set (then
    forgotten), else random ones (an OpenTelemetry ``IdGenerator``)."""

    def __init__(self) -> None:
        self.trace_id: int | None = None
        self.span_id: int | None = None

    def generate_span_id(self) -> int:
        value, self.span_id = self.span_id, None
        return value if value is not None else random.getrandbits(64) or 1

    def generate_trace_id(self) -> int:
        value, self.trace_id = self.trace_id, None
        return value if value is not None else random.getrandbits(128) or 1

    def is_trace_id_random(self) -> bool:
        return True


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
        self.options = options
        self._upstreams = upstreams
        self._servers: dict[str, tuple[str, int] | None] = {}
        self._ids = _PresetIds()
        self._provider = sdk_trace.TracerProvider(
            resource=resources.Resource.create({"service.name": options.service_name}),
            id_generator=self._ids,
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

    def begin(self, caller: tuple[Parent, bytes, str | None] | None) -> TraceContext | None:
        """The trace context of a request as it arrives, from the caller's valid trace
        context (:func:`releasegate.gateway._tracecontext.incoming`): traced (ids
        drawn), passed through (the caller does not sample its trace), or None (not
        traced, nothing to forward)."""
        if caller is not None:
            parent, raw, state = caller
            if not parent.sampled:
                return TraceContext.passthrough(parent, raw, state)
            return TraceContext.start(parent, state)
        if self.options.sample < 1.0 and random.random() >= self.options.sample:
            return None  # not sampled: no span, no attribute work
        return TraceContext.start(None, None)

    def emit(self, call: Call, record: Mapping[str, Any]) -> None:
        """Export the spans of one finished request or shadow call, when it is traced
        (``call.trace``; never raises)."""
        trace = call.trace
        if trace is None or not trace.traced:
            return
        try:
            self._emit(call, record, trace)
        except Exception:  # tracing must never break a response
            logger.exception("could not make the span of request %s", call.request_id)

    def _context(self, trace_id: str, span_id: str, *, remote: bool, state: str | None) -> Any:
        api = self._trace
        parent = api.SpanContext(
            int(trace_id, 16),
            int(span_id, 16),
            is_remote=remote,
            trace_flags=api.TraceFlags(api.TraceFlags.SAMPLED),
            trace_state=api.TraceState.from_header([state]) if state else None,
        )
        return api.set_span_in_context(api.NonRecordingSpan(parent))

    def _emit(self, call: Call, record: Mapping[str, Any], trace: TraceContext) -> None:
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
        if trace.parent_id is not None:
            context = self._context(
                trace.trace_id,
                trace.parent_id,
                remote=call.shadow_of is None,
                state=trace.tracestate,
            )
        start = int(record["time"] * 1e9)
        end = start + int(record["latency_ms"] * 1e6)
        assert trace.span_id is not None  # a traced call has its span id
        self._ids.trace_id, self._ids.span_id = int(trace.trace_id, 16), int(trace.span_id, 16)
        span = self._tracer.start_span(
            f"chat {request_model}" if request_model else "chat",
            context=context,
            kind=self._trace.SpanKind.CLIENT,
            attributes=attrs,
            start_time=start,
        )
        self._ids.trace_id = self._ids.span_id = None  # a child span used the parent's
        if error:
            span.set_status(self._trace.Status(self._trace.StatusCode.ERROR, record["error"]))
        span.end(end_time=end)
        if trace.attempts:
            parent = self._context(trace.trace_id, trace.span_id, remote=False, state=None)
            for attempt in trace.attempts:
                self._attempt(call, attempt, parent, end)

    def _attempt(self, call: Call, attempt: Attempt, parent: Any, request_end: int) -> None:
        attrs: dict[str, Any] = {
            "http.request.method": "POST",
            "gen_ai.request.model": attempt.model,
            "releasegate.upstream": attempt.upstream,
            "releasegate.fallback.depth": attempt.depth,
        }
        server = self._server(attempt.model)
        if server is not None:
            attrs["server.address"], attrs["server.port"] = server
        if attempt.status is not None:
            attrs["http.response.status_code"] = attempt.status
        if attempt.error is not None:
            attrs["error.type"] = attempt.error
        wall0 = call.wall - call.t0  # the request's clock -> Unix seconds
        start = int((wall0 + attempt.start) * 1e9)
        end = int((wall0 + attempt.end) * 1e9) if attempt.end is not None else request_end
        self._ids.span_id = int(attempt.span_id, 16)
        span = self._tracer.start_span(
            "POST",
            context=parent,
            kind=self._trace.SpanKind.CLIENT,
            attributes=attrs,
            start_time=start,
        )
        self._ids.span_id = None
        if attempt.error is not None:
            span.set_status(self._trace.Status(self._trace.StatusCode.ERROR, attempt.error))
        span.end(end_time=max(start, end))

    def shutdown(self) -> None:
        """Export what is pending and stop (blocks up to the exporter's timeout)."""
        self._provider.shutdown()
