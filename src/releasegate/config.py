"""Project configuration (``releasegate.yaml``) as pydantic models.

The JSON Schema exported to ``docs/schema/releasegate.schema.json`` is generated from
these models (``releasegate schema``), so editor completion and the reference in
``docs/config.md`` never drift from the code.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "BreakerConfig",
    "BudgetsConfig",
    "CacheConfig",
    "CanaryAnalysisConfig",
    "FallbackConfig",
    "FeatureScoring",
    "GateConfig",
    "GatewayConfig",
    "OnlineConfig",
    "OtlpConfig",
    "PriceEntry",
    "ProjectConfig",
    "ProviderConfig",
    "RedactRule",
    "ScoringFilters",
    "ShadowConfig",
    "SuiteConfig",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProviderConfig(BaseModel):
    """A target, judge or embedder endpoint.

    Common keys are typed here; provider-specific keys (``function`` for ``python``,
    ``url``/``json_path`` for ``http``, ``responses`` for ``scripted``, ``file`` for
    ``replay``) are kept as extras and validated by the provider itself.
    """

    model_config = ConfigDict(extra="allow")

    type: str = Field(
        description="Provider type: openai, anthropic, python, http, scripted, replay, local",
    )
    model: str | None = Field(default=None, description="Pinned model name (no floating aliases)")
    base_url: str | None = None
    api_key_env: str | None = Field(
        default=None, description="Environment variable holding the API key"
    )
    params: dict[str, Any] = Field(
        default_factory=dict, description="Default generation parameters"
    )
    concurrency: int = Field(default=8, ge=1, le=1024, description="Calls in flight at once")
    rate_limit: float | None = Field(default=None, gt=0, description="Max calls per second")
    timeout_s: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=4, ge=0, le=20)
    headers: dict[str, str] = Field(default_factory=dict)
    stream_usage: bool = Field(
        default=True,
        description="Gateway: ask this provider for the token usage of every stream "
        "(stream_options.include_usage), removing the usage chunk from callers that did "
        "not ask for it; false for a provider that rejects the field (streams are then "
        "budgeted on an estimate)",
    )

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class PriceEntry(_Strict):
    """USD per million tokens for one model."""

    input_per_mtok: float = Field(ge=0)
    output_per_mtok: float = Field(ge=0)


class GateConfig(_Strict):
    """Thresholds that decide a suite's verdict. Unset rules are off, but defaults keep
    evident failure from passing: without a quality rule that can fail, every case must
    pass its case threshold; without ``max_unmeasured``, at most 10% of the checks may
    be unmeasured; with a baseline and no regression rule, an evident drop fails (see
    "Gate defaults" in ci.md).
    """

    min_score: float | None = Field(default=None, ge=0, le=1)
    min_pass_rate: float | None = Field(default=None, ge=0, le=1)
    case_threshold: float = Field(
        default=0.5, ge=0, le=1, description="A case passes at or above this score"
    )
    min_tag_scores: dict[str, float] = Field(default_factory=dict)
    min_check_scores: dict[str, float] = Field(default_factory=dict)
    max_unmeasured: float | None = Field(
        default=None,
        ge=0,
        description="Budget of unmeasured checks: a count (>= 1) or a fraction (< 1); "
        "unset: 10% of the checks",
    )
    max_error_rate: float | None = Field(default=None, ge=0, le=1)
    max_cost_usd: float | None = Field(default=None, ge=0)
    max_latency_p95_ms: float | None = Field(default=None, gt=0)
    # Baseline rules (used when a baseline is given).
    max_regression: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Largest allowed drop of the mean score versus a baseline; unset: "
        "a statistically evident drop fails",
    )
    critical_tags: list[str] = Field(
        default_factory=list,
        description="Tags whose score may not drop significantly versus the baseline",
    )
    max_cost_increase: float | None = Field(
        default=None, ge=0, description="Largest allowed relative cost increase (0.5 = +50%)"
    )
    max_latency_increase: float | None = Field(
        default=None, ge=0, description="Largest allowed relative latency increase (0.5 = +50%)"
    )
    min_pass_repeats: int | None = Field(
        default=None,
        ge=1,
        description="pass^k: every case must pass in at least this many of its --repeat runs",
    )


class SuiteConfig(_Strict):
    """A named set of datasets run against one target with one prompt and one gate."""

    dataset: str | list[str]
    prompt: str | None = None
    target: str = "target"
    judge: str | None = None
    embedder: str | None = None
    gate: GateConfig = Field(default_factory=GateConfig)
    repeat: int = Field(default=1, ge=1, le=100)
    description: str | None = None

    @property
    def datasets(self) -> list[str]:
        return [self.dataset] if isinstance(self.dataset, str) else list(self.dataset)


class CacheConfig(_Strict):
    enabled: bool = True
    path: str = ".releasegate/cache.sqlite"


Detector = Literal["email", "phone", "card"]
_DETECTORS: tuple[Detector, ...] = ("email", "phone", "card")


class RedactRule(_Strict):
    """A custom redaction pattern with its replacement."""

    pattern: str = Field(description="Regular expression (Python syntax) to replace")
    replacement: str = Field(
        default="[REDACTED]", description="Literal text put in place of each match"
    )


Arm = Literal["incumbent", "canary", "fallback"]
MetaValue = str | int | float | bool | None


def _default_sample() -> dict[Arm, float]:
    return {"canary": 1.0, "incumbent": 0.1}


class ScoringFilters(_Strict):
    """Which recorded interactions may be scored, before the sampling rate applies."""

    errors: Literal["always", "sampled", "never"] = Field(
        default="always",
        description="Interactions that failed: always scored (their checks score 0), "
        "sampled like the others, or never scored",
    )
    metadata: dict[str, MetaValue] = Field(
        default_factory=dict,
        description="Only interactions whose metadata has every one of these key: value "
        "pairs are scored",
    )


class FeatureScoring(_Strict):
    """Online scoring of one feature's production interactions (see online.md)."""

    checks: list[dict[str, Any]] = Field(
        description="The checks to run, written as dataset `assert` entries "
        "({type, value, weight, threshold, options})",
        min_length=1,
    )
    sample: dict[Arm, float] = Field(
        default_factory=lambda: _default_sample(),
        description="Share of each arm's interactions that is scored, from 0 to 1 (arms "
        "not named: 0; `fallback` unset: the incumbent's rate). Decided per request id, "
        "so a retried record decides the same",
    )
    filters: ScoringFilters = Field(default_factory=ScoringFilters)
    judge: str | None = Field(
        default=None, description="Provider (under `providers:`) that model-graded checks call"
    )
    embedder: str | None = Field(
        default=None, description="Embedding provider that similarity checks call"
    )
    retention_days: float | None = Field(
        default=None,
        gt=0,
        description="Days this feature's interactions are kept (default: online.retention_days)",
    )

    @field_validator("checks")
    @classmethod
    def _checks_typed(cls, v: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for i, spec in enumerate(v):
            kind = spec.get("type")
            if not isinstance(kind, str) or not kind.strip():
                raise ValueError(f"checks[{i}]: every check needs a `type` (a check name)")
        return v

    @field_validator("sample")
    @classmethod
    def _rates(cls, v: dict[str, float]) -> dict[str, float]:
        for arm, rate in v.items():
            if not (0.0 <= rate <= 1.0):
                raise ValueError(f"sample.{arm}: {rate} is not a share from 0 to 1")
        return v


class CanaryAnalysisConfig(_Strict):
    """How the canary analysis decides (see docs/canary-statistics.md). Every field left
    out keeps the built-in default; the values are checked together when the worker
    starts (a bad combination fails there, naming the field)."""

    alpha: float | None = Field(
        default=None, gt=0, lt=1, description="Chance of a false rollback over a stage (0.05)"
    )
    margin: float | None = Field(
        default=None,
        ge=0,
        description="Non-inferiority margin on the mean score, score units (0.02): advancing "
        "needs the canary shown no worse than the incumbent by more than this",
    )
    rollback_margin: float | None = Field(
        default=None, ge=0, description="Roll back when shown worse by more than this (0)"
    )
    error_margin: float | None = Field(
        default=None,
        gt=0,
        description="Advancing needs the error rate shown at most this much above the "
        "incumbent's (0.01); null turns this condition off",
    )
    min_samples: int | None = Field(
        default=None, ge=2, description="Scored canary requests before any decision on means (100)"
    )
    n_star: float | None = Field(
        default=None,
        gt=0,
        description="Canary observations at which the confidence sequence is tightest (500)",
    )
    pass_score: float | None = Field(
        default=None, ge=0, le=1, description="A score at or above it is a pass (0.5)"
    )
    min_pass_rate: float | None = Field(
        default=None, ge=0, le=1, description="Floor on the canary's own online pass rate"
    )
    cost_alert_share: float | None = Field(
        default=None,
        ge=0,
        description="Alert when cost per request is shown up by more than this share "
        "(0.25); null turns the cost signal off",
    )
    latency_tolerance: float | None = Field(
        default=None, ge=0, description="Slow: above the incumbent's p95 times 1 + this (0.2)"
    )
    grace_period_s: float | None = Field(
        default=None, ge=0, description="Seconds 'no data' continues before it holds (600)"
    )
    max_duration_s: float | None = Field(
        default=None, gt=0, description="Seconds a stage may stay inconclusive (no limit)"
    )
    on_timeout: Literal["hold", "advance"] | None = Field(
        default=None, description="At max_duration_s, inconclusive: hold for a person (hold)"
    )
    modes: dict[str, Literal["enforce", "pause", "dry-run"]] = Field(
        default_factory=dict,
        description="Per signal (quality, errors, feedback, latency, score_floor, "
        "pass_floor, cost): enforce (default), pause or dry-run",
    )
    srm_p: float | None = Field(
        default=None, gt=0, lt=1, description="Sample-ratio mismatch p-value threshold (0.001)"
    )

    def policy_values(self) -> dict[str, Any]:
        """The fields that were written in the config (null ones included: they turn a
        signal off), as keyword arguments of the canary policy."""
        return self.model_dump(exclude_unset=True)


class OnlineConfig(_Strict):
    """Recording of production interactions and their online scoring (see online.md)."""

    features: dict[str, FeatureScoring] = Field(
        default_factory=dict,
        description="Online scoring per feature: checks, sampling per arm, filters, judge",
    )
    queue: str | None = Field(
        default=None,
        description="The scoring job queue: a redis:// URL, or a SQLite file for the "
        "embedded queue (default: next to a SQLite database, else in .releasegate/)",
    )
    queue_name: str = Field(
        default="releasegate",
        min_length=1,
        max_length=100,
        description="Name of the queue (the Redis key prefix): projects sharing one Redis "
        "use different names",
    )
    retention_days: float | None = Field(
        default=30.0,
        gt=0,
        description="Days recorded interactions (with their scores and feedback) are kept; "
        "null keeps them forever",
    )
    analysis_interval_s: float = Field(
        default=60.0, gt=0, description="Seconds between canary analyses run by the worker"
    )
    analysis_after_scores_s: float = Field(
        default=5.0,
        gt=0,
        description="After new scores arrive the canary analysis runs again, at most once "
        "per this many seconds",
    )
    purge_interval_s: float = Field(
        default=3600.0, gt=0, description="Seconds between retention purges run by the worker"
    )
    sweep_after_s: float = Field(
        default=300.0,
        gt=0,
        description="An interaction due a score and still unscored this many seconds after "
        "it was recorded is queued again (a job lost with a killed worker)",
    )

    canary: CanaryAnalysisConfig = Field(
        default_factory=CanaryAnalysisConfig,
        description="How the canary analysis decides: margins, minimum samples, grace "
        "period (every field optional; defaults in docs/canary-statistics.md)",
    )

    redact: list[str | RedactRule] = Field(
        default_factory=list,
        description="Extra patterns redacted from prompts, responses, context, errors, "
        "metadata and feedback comments before they are stored (a regex, or "
        "{pattern, replacement}); applied before the built-in detectors",
    )
    redact_defaults: list[Detector] = Field(
        default_factory=lambda: list(_DETECTORS),
        description="Built-in detectors that run: e-mail addresses, phone numbers, "
        "payment card numbers (Luhn-checked); [] turns them all off",
    )

    @field_validator("redact")
    @classmethod
    def _patterns_compile(cls, v: list[str | RedactRule]) -> list[str | RedactRule]:
        for i, item in enumerate(v):
            pattern = item if isinstance(item, str) else item.pattern
            try:
                compiled = re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"redact[{i}]: {pattern!r} is not a valid regex ({exc})") from None
            if compiled.match(""):
                raise ValueError(f"redact[{i}]: {pattern!r} matches the empty string")
        return v


class FallbackConfig(_Strict):
    """What the gateway tries after a version's pinned model fails."""

    models: list[str] = Field(default_factory=list, description="Fallback models, tried in order")
    answer: str | None = Field(
        default=None, description="Fixed answer served when every model failed"
    )


class BreakerConfig(_Strict):
    """Circuit breaker of each upstream (provider) the gateway calls."""

    window_s: float = Field(default=60.0, ge=1, description="Sliding window of outcomes, seconds")
    min_volume: int = Field(default=20, ge=1, description="Calls in the window before it may open")
    failure_rate: float = Field(
        default=0.15, gt=0, le=1, description="Failure share at which it opens"
    )
    open_s: float = Field(
        default=30.0, gt=0, description="Seconds it stays open (a failure while open restarts it)"
    )
    probe_timeout_s: float = Field(
        default=30.0, gt=0, description="Seconds a half-open probe may take before another"
    )
    key_prefix: str = Field(
        default="releasegate:breaker",
        min_length=1,
        description="Prefix of the breakers' Redis keys (with `gateway.redis_url`)",
    )


class BudgetsConfig(_Strict):
    """Token caps per request and token budgets per tenant (gateway.md, Token budgets)."""

    max_tokens: int | None = Field(
        default=None, ge=1, description="Largest max_tokens a request may ask for (none: no cap)"
    )
    max_prompt_tokens: int | None = Field(
        default=None,
        ge=1,
        description="Largest estimated prompt, tokens (4 characters a token); above it: 400",
    )
    on_exceed: Literal["reject", "truncate"] = Field(
        default="reject",
        description="A request above max_tokens: `reject` (400) or `truncate` (lowered to it)",
    )
    tokens_per_window: int | None = Field(
        default=None, ge=1, description="Every tenant's token budget per window (none: unlimited)"
    )
    tenants: dict[str, int] = Field(
        default_factory=dict, description="Budgets of named tenants (override tokens_per_window)"
    )
    window_s: float = Field(default=60.0, ge=1, description="Sliding window of a budget, seconds")
    default_max_tokens: int = Field(
        default=1024, ge=1, description="Completion tokens reserved when a request names no limit"
    )
    tenant_header: str | None = Field(
        default="X-Releasegate-Tenant",
        description="Header naming the tenant; without it the feature is the tenant",
    )
    fail_open: bool = Field(
        default=False,
        description="Admit requests unbudgeted while Redis is unreachable (default: 503)",
    )
    key_prefix: str = Field(
        default="releasegate:budget:", description="Prefix of the budget keys in Redis"
    )
    store_timeout_s: float = Field(
        default=0.5, gt=0, description="Connect and read timeout of one Redis call, seconds"
    )

    @field_validator("tenants")
    @classmethod
    def _positive(cls, v: dict[str, int]) -> dict[str, int]:
        for name, tokens in v.items():
            if tokens < 1:
                raise ValueError(f"tenants.{name}: a budget must be >= 1 token")
        return v


class ShadowConfig(_Strict):
    """Shadow calls of a candidate in a shadow stage (gateway.md, "Shadow mode")."""

    sample: float = Field(
        default=1.0,
        ge=0,
        le=1,
        description="Share of units whose requests the shadow candidate also answers "
        "(fixed per unit key)",
    )
    max_concurrent: int = Field(
        default=32,
        ge=1,
        description="Shadow calls in flight at most per gateway process; more are dropped "
        "and counted",
    )


class OtlpConfig(_Strict):
    """Exporting spans over OTLP/HTTP (needs the `otel` extra)."""

    endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP traces URL (e.g. `http://collector:4318/v1/traces`); "
        "default: from OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT, "
        "else no export",
    )
    headers: dict[str, str] = Field(
        default_factory=dict, description="Headers sent with every export (e.g. auth)"
    )
    service_name: str = Field(
        default="releasegate-gateway", min_length=1, description="`service.name` of the spans"
    )
    sample: float = Field(
        default=1.0,
        ge=0,
        le=1,
        description="Share of requests traced; a caller's `traceparent` decides for its own "
        "requests (its sampled flag)",
    )
    enabled: bool = Field(
        default=True, description="False: never export, even when an endpoint is set"
    )


class GatewayRecordingConfig(_Strict):
    """How the gateway's records wait for the store (a writer process of its own)."""

    buffer_records: int = Field(
        default=50_000,
        ge=1,
        description="Records held at most while the store is slow or down; the oldest "
        "are dropped (and counted) beyond it",
    )
    buffer_mb: float = Field(
        default=32.0,
        gt=0,
        description="Encoded size (MiB) of the records held at most, the same way",
    )


class GatewayConfig(_Strict):
    """The OpenAI-compatible gateway (``releasegate serve --gateway``)."""

    default_provider: str | None = Field(
        default=None, description="Provider serving models that no provider pins"
    )
    models: dict[str, str] = Field(
        default_factory=dict, description="Model name -> provider that serves it"
    )
    fallbacks: dict[str, FallbackConfig] = Field(
        default_factory=dict,
        description="Fallback chains keyed `feature@version`, `feature` or `*`",
    )
    breaker: BreakerConfig = Field(
        default_factory=BreakerConfig, description="Circuit breaker per provider"
    )
    connect_timeout_s: float = Field(
        default=5.0, gt=0, description="Seconds to open a connection to a provider"
    )
    stall_timeout_s: float = Field(
        default=30.0, gt=0, description="Longest gap between two chunks of a stream"
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis shared by gateway processes (breakers, token budgets); "
        "none keeps that state in each process",
    )
    budgets: BudgetsConfig = Field(
        default_factory=BudgetsConfig, description="Token caps per request and budgets per tenant"
    )
    shadow: ShadowConfig = Field(
        default_factory=ShadowConfig, description="Shadow calls of a candidate in shadow mode"
    )
    otlp: OtlpConfig = Field(
        default_factory=OtlpConfig, description="Span export over OTLP/HTTP (`otel` extra)"
    )
    recording: GatewayRecordingConfig = Field(
        default_factory=GatewayRecordingConfig,
        description="The buffer between the gateway and the store (gateway.md#recording)",
    )


class ProjectConfig(_Strict):
    """The whole ``releasegate.yaml``."""

    version: Literal[1] = 1
    providers: dict[str, ProviderConfig] = Field(default_factory=dict)
    prompts: str = "prompts/"
    suites: dict[str, SuiteConfig] = Field(default_factory=dict)
    pricing: dict[str, PriceEntry] = Field(default_factory=dict)
    cache: CacheConfig = Field(default_factory=CacheConfig)
    online: OnlineConfig = Field(
        default_factory=OnlineConfig,
        description="Recording production interactions (redaction) and scoring them "
        "(checks, sampling, queue, retention; online.md)",
    )
    gateway: GatewayConfig = Field(
        default_factory=GatewayConfig, description="The OpenAI-compatible gateway"
    )

    @field_validator("suites")
    @classmethod
    def _suites_named(cls, v: dict[str, SuiteConfig]) -> dict[str, SuiteConfig]:
        for name in v:
            if not name.strip():
                raise ValueError("suite names must not be empty")
        return v

    @model_validator(mode="after")
    def _online_references_exist(self) -> ProjectConfig:
        for name, feature in self.online.features.items():
            for role in ("judge", "embedder"):
                ref = getattr(feature, role)
                if ref is not None and ref not in self.providers:
                    raise ValueError(
                        f"online.features.{name}.{role}: {ref!r} is not a provider "
                        f"(known: {', '.join(sorted(self.providers)) or 'none'})"
                    )
        return self

    @model_validator(mode="after")
    def _references_exist(self) -> ProjectConfig:
        for name, suite in self.suites.items():
            for role in ("target", "judge", "embedder"):
                ref = getattr(suite, role)
                if ref is not None and ref not in self.providers:
                    raise ValueError(
                        f"suite {name!r}: {role} {ref!r} is not a provider "
                        f"(known: {', '.join(sorted(self.providers)) or 'none'})"
                    )
        gw = self.gateway
        refs = [("gateway.default_provider", gw.default_provider)] + [
            (f"gateway.models.{m}", p) for m, p in gw.models.items()
        ]
        for where, ref in refs:
            if ref is not None and ref not in self.providers:
                raise ValueError(
                    f"{where}: {ref!r} is not a provider "
                    f"(known: {', '.join(sorted(self.providers)) or 'none'})"
                )
        return self
