"""Prometheus metrics of one gateway process.

Names follow the OpenTelemetry GenAI semantic conventions (client metrics, as released
in the semantic conventions up to v1.41; dots become underscores, the unit a suffix):
``gen_ai_client_operation_duration_seconds``, ``gen_ai_client_token_usage`` (label
``gen_ai_token_type`` = input/output; the name is configurable because the conventions
are still moving) and ``gen_ai_client_operation_time_to_first_chunk_seconds`` (streams
only). Their labels are the conventions' attributes: ``gen_ai_operation_name`` (always
``chat``), ``gen_ai_provider_name`` (``openai``: every upstream speaks its protocol),
``gen_ai_request_model`` (the model the assigned version pins), ``gen_ai_response_model``
(the model that answered, a fallback's included) and ``error_type`` on the duration,
plus the gateway's ``feature`` and ``version``. The duration's and the token histogram's
bucket boundaries are the conventions'. ``error_type`` is empty on success, else the
HTTP status answered (``400``, ``429``, ``502``, ``503``, ``504`` ...), or ``stream``
(failed after the first byte), ``client`` (the caller left during a stream).

The gateway's own metrics are under ``releasegate_gateway_``: overhead, requests,
fallbacks, breaker state, the records (submitted, written, dropped by a full buffer,
rejected, queued, failed writes), token budgets and shadow calls (made, dropped, in
flight). Every series has bounded labels (deployments,
upstreams, statuses), never one per request. The per-request counter and histograms are
kept as plain numbers and exposed through a prometheus_client collector
(:mod:`releasegate.gateway._histograms`: same exposition, a fraction of the cost).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from releasegate.gateway._histograms import LocalCounter, LocalHistogram

__all__ = ["CONTENT_TYPE", "PROVIDER", "GatewayMetrics", "Series", "error_type"]

CONTENT_TYPE = CONTENT_TYPE_LATEST

# The conventions' recommended boundaries (gen_ai.client.operation.duration, ...).
_DURATION_BUCKETS: tuple[float, ...] = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56)
_DURATION_BUCKETS += (5.12, 10.24, 20.48, 40.96, 81.92)
_TTFC_BUCKETS: tuple[float, ...] = (0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25)
_TTFC_BUCKETS += (0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
_OVERHEAD_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 1)
_TOKEN_BUCKETS: tuple[int, ...] = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144)
_TOKEN_BUCKETS += (1048576, 4194304)
_TOKEN_BUCKETS += (16777216, 67108864)
PROVIDER = "openai"
"""``gen_ai.provider.name`` of every upstream: all speak the OpenAI protocol."""


class GatewayMetrics:
    """The gateway's metrics in their own registry.

    Args:
        registry: Registry to register in (a new one by default, so several gateways in
            one process, as in tests, do not collide).
        token_usage_name: Name of the token histogram.
    """

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        token_usage_name: str = "gen_ai_client_token_usage",
    ) -> None:
        if registry is None:
            registry = CollectorRegistry(auto_describe=True)
            # The process's own: resident memory, CPU seconds, open files
            # (process_*), and the garbage collector's work per generation (python_gc_*).
            ProcessCollector(registry=registry)
            GCCollector(registry=registry)
        self.registry = registry
        labels = (
            "gen_ai_operation_name",
            "gen_ai_provider_name",
            "feature",
            "version",
            "gen_ai_request_model",
            "gen_ai_response_model",
        )
        self.duration = LocalHistogram(
            "gen_ai_client_operation_duration_seconds",
            "Duration of a gateway operation, arrival to last byte.",
            [*labels, "error_type"],
            buckets=_DURATION_BUCKETS,
            registry=self.registry,
        )
        self.tokens = LocalHistogram(
            token_usage_name,
            "Tokens used per operation.",
            [*labels, "gen_ai_token_type"],
            buckets=_TOKEN_BUCKETS,
            registry=self.registry,
        )
        self.ttfc = LocalHistogram(
            "gen_ai_client_operation_time_to_first_chunk_seconds",
            "Arrival to the first content chunk of a streamed answer.",
            labels,
            buckets=_TTFC_BUCKETS,
            registry=self.registry,
        )
        self.overhead = LocalHistogram(
            "releasegate_gateway_overhead_seconds",
            "Time the gateway added: total minus upstream wait, queueing included.",
            ("feature", "version"),
            buckets=_OVERHEAD_BUCKETS,
            registry=self.registry,
        )
        self.requests = LocalCounter(
            "releasegate_gateway_requests",
            "Requests answered, by HTTP status.",
            ("route", "feature", "version", "status"),
            registry=self.registry,
        )
        self.fallbacks = Counter(
            "releasegate_gateway_fallbacks",
            "Requests served by a fallback (depth >= 1).",
            ("feature", "version", "depth"),
            registry=self.registry,
        )
        self.stream_failures = Counter(
            "releasegate_gateway_stream_failures",
            "Streams ended with an error event after the first byte.",
            ("feature", "version", "reason"),
            registry=self.registry,
        )
        self.breaker_state = Gauge(
            "releasegate_gateway_breaker_state",
            "Circuit breaker per upstream: 0 closed, 1 half-open, 2 open.",
            ("upstream",),
            registry=self.registry,
        )
        self.breaker_shared = Gauge(
            "releasegate_gateway_breaker_shared",
            "1 while breakers decide on the state shared through Redis, 0 without "
            "redis_url or while this process decides alone because Redis is unreachable.",
            registry=self.registry,
        )
        self.breaker_store_errors = Gauge(
            "releasegate_gateway_breaker_store_errors",
            "Calls to the shared breaker store (Redis) that failed since start.",
            registry=self.registry,
        )
        self.records_dropped = Gauge(
            "releasegate_gateway_records_dropped",
            "Records dropped by a full buffer or lost with a record writer that died.",
            registry=self.registry,
        )
        self.records_submitted = Gauge(
            "releasegate_gateway_records_submitted",
            "Records handed to the recorder (one per chat request, and one per shadow call).",
            registry=self.registry,
        )
        self.budget_rejections = Counter(
            "releasegate_gateway_budget_rejections",
            "Requests refused by the token budgets, by reason (prompt_tokens, max_tokens, "
            "over_budget, tenant_budget, store_unavailable).",
            ("feature", "version", "reason"),
            registry=self.registry,
        )
        self.budget_clamped = Counter(
            "releasegate_gateway_budget_clamped",
            "Requests whose max_tokens the gateway lowered to its cap.",
            ("feature", "version"),
            registry=self.registry,
        )
        self.budget_store_errors = Counter(
            "releasegate_gateway_budget_store_errors",
            "Calls to the token budget store that failed, by operation (reserve, settle).",
            ("operation",),
            registry=self.registry,
        )
        self.shadow_calls = Counter(
            "releasegate_gateway_shadow_calls",
            "Shadow calls made and recorded, by outcome (ok or error).",
            ("feature", "version", "outcome"),
            registry=self.registry,
        )
        self.shadow_dropped = Counter(
            "releasegate_gateway_shadow_dropped",
            "Shadow calls not made or not finished: capacity (too many in flight), "
            "shutdown (cancelled when the gateway stopped).",
            ("feature", "reason"),
            registry=self.registry,
        )
        self.shadow_in_flight = Gauge(
            "releasegate_gateway_shadow_in_flight",
            "Shadow calls running now.",
            registry=self.registry,
        )
        self.records_written = Gauge(
            "releasegate_gateway_records_written",
            "Records written to the store.",
            registry=self.registry,
        )
        self.records_rejected = Gauge(
            "releasegate_gateway_records_rejected",
            "Records the store refused and nothing of which could be kept.",
            registry=self.registry,
        )
        self.records_queued = Gauge(
            "releasegate_gateway_records_queued",
            "Records waiting to be written to the store.",
            registry=self.registry,
        )
        self.record_write_failures = Gauge(
            "releasegate_gateway_record_write_failures",
            "Failed attempts to write a batch of records (the store was down); retried.",
            registry=self.registry,
        )
        self._collect_hooks: list[Callable[[], None]] = []

    def recorder(self, stats: Any) -> None:
        """Set the record gauges from a store recorder's counters (``submitted``,
        ``written``, ``dropped``, ``rejected``, ``queued``, ``failed_attempts``
        attributes). ``submitted`` is the recorder's own count, shadow calls' records
        included, so that ``submitted == written + dropped + rejected + queued``."""
        self.records_submitted.set(stats.submitted)
        self.records_written.set(stats.written)
        self.records_dropped.set(stats.dropped)
        self.records_rejected.set(stats.rejected)
        self.records_queued.set(stats.queued)
        self.record_write_failures.set(stats.failed_attempts)

    def series(
        self, feature: str, version: str, request_model: str, model: str, status: int, error: str
    ) -> Series:
        """The labelled children one kind of request updates (look them up once)."""
        return Series(self, feature, version, request_model, model, status, error)

    def on_collect(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` before every scrape (to refresh gauges)."""
        self._collect_hooks.append(hook)

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        for hook in self._collect_hooks:
            hook()
        return generate_latest(self.registry)


def error_type(status: int, error_stage: str | None) -> str:
    """The ``error.type`` of a request: empty on success, else its HTTP status, or the
    stage for a failure after a 200 (``stream``, ``client``)."""
    if error_stage is None:
        return ""
    return str(status) if status >= 400 else error_stage


class Series:
    """The metric children of one (feature, version, requested model, answering model,
    status, error) combination, resolved once so a request updates them without label
    lookups."""

    def __init__(
        self,
        m: GatewayMetrics,
        feature: str,
        version: str,
        request_model: str,
        model: str,
        status: int,
        error: str,
    ) -> None:
        self._m = m
        self._fv = (feature, version)
        self._gen = ("chat", PROVIDER, feature, version, request_model, model)
        self.requests = m.requests.labels("chat", feature, version, str(status))
        self.duration = m.duration.labels(*self._gen, error)
        self.overhead = m.overhead.labels(feature, version)
        # Made on their first value: a kind of request that never has one (a plain
        # request's time to first chunk, a failure's tokens) leaves no empty series.
        self.ttfc: Any = None
        self.tokens_in: Any = None
        self.tokens_out: Any = None

    def observe(self, record: dict[str, Any], fallback_depth: int | None) -> None:
        """Count one request from its record."""
        self.requests.inc()
        self.duration.observe(record["latency_ms"] / 1000)
        self.overhead.observe(record["overhead_ms"] / 1000)
        if record["ttft_ms"] is not None:
            if self.ttfc is None:
                self.ttfc = self._m.ttfc.labels(*self._gen)
            self.ttfc.observe(record["ttft_ms"] / 1000)
        if record["prompt_tokens"] is not None:
            if self.tokens_in is None:
                self.tokens_in = self._m.tokens.labels(*self._gen, "input")
            self.tokens_in.observe(record["prompt_tokens"])
        if record["completion_tokens"] is not None:
            if self.tokens_out is None:
                self.tokens_out = self._m.tokens.labels(*self._gen, "output")
            self.tokens_out.observe(record["completion_tokens"])
        if fallback_depth:
            self._m.fallbacks.labels(*self._fv, str(fallback_depth)).inc()
