"""Build a gateway from a project's ``releasegate.yaml`` and a deployment database.

A stop-gap composition root for the gateway alone: upstreams are the project's
``openai``-type providers (the ones with a ``base_url``), prompts its prompt files,
routing the deployments in the database, fallback chains and breakers its ``gateway:``
section.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from releasegate import settings
from releasegate.config import ProjectConfig
from releasegate.control.router import Router
from releasegate.errors import ConfigError
from releasegate.gateway.app import Gateway, create_gateway
from releasegate.gateway.breaker import BreakerPolicy, Breakers, LocalBreaker
from releasegate.gateway.fallback import FallbackChain
from releasegate.gateway.recorder import Recorder
from releasegate.gateway.upstream import Upstream
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
    "build_gateway",
    "upstreams_from_config",
]

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
    policy = BreakerPolicy(**gw.breaker.model_dump())
    chains = {k: FallbackChain(tuple(v.models), v.answer) for k, v in gw.fallbacks.items()}
    prices = PriceTable(config.pricing)
    cached: dict[str, tuple[float, list[str]]] = {}

    def prompt(name: str, version: str) -> Prompt | None:
        found = prompts.get(name)
        return found if found is not None and found.version == version else None

    def catalog() -> list[str]:
        at, names = cached.get("features", (0.0, []))
        if time.monotonic() - at > 5:
            with db.uow(write=False) as uow:
                names = uow.deployments.features()
            cached["features"] = (time.monotonic(), names)
        return sorted({*names, *upstreams.models})

    if recorder is None:
        recorder = _store_recorder(config, db)
    return create_gateway(
        router=router,
        upstreams=upstreams,
        prompts=prompt,
        recorder=recorder,
        fallbacks=chains,
        breakers=Breakers(lambda _name: LocalBreaker(policy)),
        cost=prices.cost,
        catalog=catalog,
        embeddings=upstreams.default,
        stall_timeout_s=gw.stall_timeout_s,
    )


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
