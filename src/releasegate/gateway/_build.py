"""Build a gateway from a project's ``releasegate.yaml`` and a deployment database.

A stop-gap composition root for the gateway alone: upstreams are the project's
``openai``-type providers (the ones with a ``base_url``), prompts the snapshots kept by
``deploy register`` (else its prompt files),
routing the deployments in the database, fallback chains, breakers, shadow calls and
span export its ``gateway:`` section (span export also from the standard
``OTEL_EXPORTER_OTLP_*ENDPOINT`` variables, through :mod:`releasegate.settings`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from releasegate import settings
from releasegate.config import ProjectConfig
from releasegate.control.router import Router
from releasegate.errors import ConfigError
from releasegate.gateway._budget_gate import TokenBudgets
from releasegate.gateway.app import Gateway, create_gateway
from releasegate.gateway.breaker import Breaker, BreakerPolicy, Breakers, LocalBreaker
from releasegate.gateway.breaker_health import BreakerPublisher
from releasegate.gateway.budget import BudgetPolicy, BudgetStore
from releasegate.gateway.fallback import FallbackChain
from releasegate.gateway.metrics import GatewayMetrics
from releasegate.gateway.recorder import Recorder
from releasegate.gateway.shadow import ShadowPolicy
from releasegate.gateway.tracing import Tracing, TracingOptions, traces_endpoint
from releasegate.gateway.upstream import Upstream
from releasegate.ports import UpstreamHealth
from releasegate.project import load_project
from releasegate.prompts import Prompt
from releasegate.providers.pricing import PriceTable

if TYPE_CHECKING:
    from releasegate.store.database import Database

__all__ = [
    "CONFIG_ENV",
    "DB_ENV",
    "UpstreamMap",
    "app_from_env",
    "budgets_from_config",
    "build_gateway",
    "upstreams_from_config",
]

logger = logging.getLogger(__name__)

CONFIG_ENV = "RELEASEGATE_GATEWAY_CONFIG"
DB_ENV = "RELEASEGATE_DATABASE_URL"


class UpstreamMap:
    """Model name -> :class:`Upstream` (callable), with the providers it was built from."""

    def __init__(
        self, by_model: dict[str, Upstream], providers: dict[str, Upstream], default: str | None
    ) -> None:
        self.by_model = by_model
        self.providers = providers
        self.default = providers.get(default) if default else None

    def __call__(self, model: str) -> Upstream | None:
        return self.by_model.get(model, self.default)

    @property
    def models(self) -> list[str]:
        return sorted(self.by_model)


def upstreams_from_config(config: ProjectConfig) -> UpstreamMap:
    """Model name -> upstream: the ``gateway.models`` map, else the provider pinning that
    model, else ``gateway.default_provider``.

    Raises:
        ConfigError: a provider the gateway must call has no ``base_url``.
    """
    gw = config.gateway
    by_provider: dict[str, Upstream] = {}
    for name, provider in config.providers.items():
        if provider.type != "openai" or not provider.base_url:
            continue
        key = settings.current().secret(provider.api_key_env) if provider.api_key_env else None
        by_provider[name] = Upstream(
            name=name,
            base_url=provider.base_url.rstrip("/"),
            api_key=key,
            headers=dict(provider.headers),
            connect_timeout_s=gw.connect_timeout_s,
            read_timeout_s=provider.timeout_s,
            stream_usage=provider.stream_usage,
        )
    needed = [p for p in (gw.default_provider, *gw.models.values()) if p is not None]
    for name in needed:
        if name not in by_provider:
            raise ConfigError(
                f"gateway: provider {name!r} cannot be called by the gateway "
                "(it needs type: openai and a base_url)"
            )
    by_model = {
        p.model: by_provider[n] for n, p in config.providers.items() if p.model and n in by_provider
    }
    by_model.update({m: by_provider[p] for m, p in gw.models.items()})
    return UpstreamMap(by_model, by_provider, gw.default_provider)


def build_gateway(
    config_path: str | Path | None,
    database_url: str | None,
    *,
    recorder: Recorder | None = None,
) -> Gateway:
    """A gateway for the project at ``config_path`` routing by the database at
    ``database_url`` (``RELEASEGATE_DATABASE_URL`` when None).

    Raises:
        ConfigError: bad config, a provider the gateway cannot call, or no database.
    """
    from releasegate.store.database import open_database

    project = load_project(config_path)
    config = project.config
    prompts = project.prompts()
    db = open_database(database_url, create=False)
    router = Router(lambda: db.uow(write=False))
    upstreams = upstreams_from_config(config)
    gw = config.gateway
    policy = BreakerPolicy(**gw.breaker.model_dump(exclude={"key_prefix"}))
    metrics = GatewayMetrics()
    breakers, jobs = _breakers(config, policy, metrics)
    for name in upstreams.providers:  # every upstream is published, even before a call
        breakers[name]
    publisher = BreakerPublisher(breakers, _health_writer(db))
    chains = {k: FallbackChain(tuple(v.models), v.answer) for k, v in gw.fallbacks.items()}
    prices = PriceTable(config.pricing)
    cached: dict[str, tuple[float, list[str]]] = {}

    prompt = _prompt_lookup(prompts, db)

    def catalog() -> list[str]:
        at, names = cached.get("features", (0.0, []))
        if time.monotonic() - at > 5:
            with db.uow(write=False) as uow:
                names = uow.deployments.features()
            cached["features"] = (time.monotonic(), names)
        return sorted({*names, *upstreams.models})

    if recorder is None:
        recorder = _store_recorder(config, db)
    env = settings.current()
    endpoint = traces_endpoint(gw.otlp.endpoint, env.otlp_traces_endpoint, env.otlp_endpoint)
    tracing = None
    if gw.otlp.enabled and endpoint is not None:
        options = TracingOptions(
            endpoint, dict(gw.otlp.headers), gw.otlp.service_name, sample=gw.otlp.sample
        )
        tracing = Tracing(options, upstreams)
    return create_gateway(
        router=router,
        upstreams=upstreams,
        prompts=prompt,
        recorder=recorder,
        fallbacks=chains,
        breakers=breakers,
        metrics=metrics,
        background=[publisher.run, *jobs],
        cost=prices.cost,
        catalog=catalog,
        embeddings=upstreams.default,
        stall_timeout_s=gw.stall_timeout_s,
        budgets=budgets_from_config(config),
        shadow=ShadowPolicy(gw.shadow.sample, gw.shadow.max_concurrent),
        tracing=tracing,
    )


def _prompt_lookup(
    files: dict[str, Prompt], db: Database, *, retry_s: float = 5.0
) -> Callable[[str, str], Prompt | None]:
    """(name, version) -> the prompt a deployment serves: its registration snapshot
    first (cached for good: a snapshot never changes), else the project's prompt file
    when it is at that version, else None. A version without a snapshot is looked up in
    the store again after ``retry_s`` seconds (it may be registered meanwhile)."""
    from releasegate.control.snapshots import snapshot_prompt

    found: dict[tuple[str, str], Prompt] = {}
    missed: dict[tuple[str, str], float] = {}

    def lookup(name: str, version: str) -> Prompt | None:
        key = (name, version)
        if key in found:
            return found[key]
        if time.monotonic() - missed.get(key, -retry_s) >= retry_s:
            try:
                with db.uow(write=False) as uow:
                    snap = uow.deployments.prompt_snapshot(name, version)
                if snap is not None:
                    found[key] = snapshot_prompt(snap)
                    return found[key]
            except Exception as exc:  # store down, or a snapshot this release cannot read
                logger.warning("cannot read the snapshot of prompt %s@%s: %s", *key, exc)
            missed[key] = time.monotonic()
        file = files.get(name)
        return file if file is not None and file.version == version else None

    return lookup


def budgets_from_config(config: ProjectConfig) -> TokenBudgets | None:
    """The token budgets of ``gateway.budgets`` (None when it sets no cap and no budget),
    counted in Redis when ``gateway.redis_url`` is set, else in process.

    Raises:
        MissingExtra: ``redis_url`` is set and the redis package is not installed.
    """
    gw = config.gateway
    b = gw.budgets
    policy = BudgetPolicy(
        **b.model_dump(exclude={"key_prefix", "store_timeout_s", "tenants"}),
        tenants=dict(b.tenants),
    )
    if not policy.budgeted and policy.max_tokens is None and policy.max_prompt_tokens is None:
        return None
    store: BudgetStore | None = None
    if policy.budgeted and gw.redis_url:
        from releasegate.gateway.budget_redis import RedisBudgetStore

        store = RedisBudgetStore(
            gw.redis_url, policy.window_s, prefix=b.key_prefix, timeout_s=b.store_timeout_s
        )
    return TokenBudgets(policy, store)


def _breakers(
    config: ProjectConfig, policy: BreakerPolicy, metrics: GatewayMetrics
) -> tuple[Breakers, list[Callable[[], Awaitable[None]]]]:
    """In-process breakers, or breakers shared through ``gateway.redis_url`` (with the
    background job that closes their connections at shutdown)."""
    gw = config.gateway
    if gw.redis_url is None:
        return Breakers(lambda _name: LocalBreaker(policy)), []
    from releasegate.gateway.breaker_redis import SharedBreakers

    shared = SharedBreakers(gw.redis_url, prefix=gw.breaker.key_prefix, policy=policy)

    def refresh() -> None:
        metrics.breaker_shared.set(1 if shared.healthy else 0)
        metrics.breaker_store_errors.set(shared.errors)

    metrics.on_collect(refresh)
    factory: Callable[[str], Breaker] = shared.breaker
    return Breakers(factory), [shared.hold_open]


def _health_writer(db: Database) -> Callable[[Sequence[UpstreamHealth], datetime | None], None]:
    def write(rows: Sequence[UpstreamHealth], purge_before: datetime | None) -> None:
        with db.uow() as uow:
            uow.upstream_health.put(rows)
            if purge_before is not None:
                uow.upstream_health.purge(before=purge_before)
            uow.commit()

    return write


def _store_recorder(config: ProjectConfig, db: Database) -> Recorder:
    from releasegate.gateway._spool import ProcessRecorder

    rec = config.gateway.recording
    return ProcessRecorder(
        db.url,
        config.online.model_dump(mode="json"),
        buffer_records=rec.buffer_records,
        buffer_bytes=int(rec.buffer_mb * 1024 * 1024),
    )


def app_from_env() -> Gateway:
    """uvicorn factory for worker processes: the config path and database URL come
    from ``RELEASEGATE_GATEWAY_CONFIG`` and ``RELEASEGATE_DATABASE_URL``."""
    env = settings.current()
    config = str(env.gateway_config) if env.gateway_config is not None else None
    return build_gateway(config, env.database_url)
