"""The composition root: the one place that builds adapters and hands them to services.

Entry points (the CLI, the API server, tests) build what they need here, from a
:class:`~releasegate.settings.Settings` snapshot and the project config, and close it
on every path:

* :func:`open_control` opens the database and yields :class:`ControlPlaneParts`,
  which builds the control-plane services (:class:`DeploymentService`,
  :class:`TokenService`, :class:`Router`) on it with one clock and one salt source;
  :func:`open_router` is the short form for an application that only routes.
* the REST API is built on those parts by :func:`releasegate.api.app.create_api`
  (an entry point imports the composition root, never the other way round).
* :func:`eval_adapters` builds what the eval engine is handed (the response cache and
  a suite's providers, :class:`~releasegate.providers.suite.SuiteAdapters`);
  :func:`run_eval` / :func:`arun_eval` (``releasegate.run_eval``) run a suite with them.
* :func:`open_judge` builds a judge (and optional embedder) with the project's
  response cache, as ``eval`` builds them, and closes the providers and then the
  cache (writing the answers) when the block ends.

Services never import this module: they take what it builds (a unit of work, a clock,
a salt source, providers) as arguments.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from releasegate.ports import Clock, RandomSalts, SaltSource, SystemClock, UnitOfWork
from releasegate.settings import Settings, current

if TYPE_CHECKING:  # SQLAlchemy, FastAPI, the providers and the services load only when used
    from releasegate.canary.policy import CanaryPolicy
    from releasegate.config import OnlineConfig
    from releasegate.control.deployments import DeploymentService
    from releasegate.control.readiness import OnlineChecks
    from releasegate.control.router import Router
    from releasegate.control.tokens import TokenService
    from releasegate.deploy.model import Deployment
    from releasegate.evals.runner import EvalOptions
    from releasegate.evals.wiring import EvalAdapters
    from releasegate.llm import EmbeddingProvider
    from releasegate.online.canary_service import CanaryService
    from releasegate.project import Project
    from releasegate.providers.cache import ResponseCache
    from releasegate.providers.managed import ManagedProvider, Sleep
    from releasegate.providers.suite import SuiteAdapters
    from releasegate.results.report import EvalReport
    from releasegate.store.database import Database
    from releasegate.store.memory import MemoryData

__all__ = [
    "ControlPlaneParts",
    "JudgeParts",
    "arun_eval",
    "eval_adapters",
    "open_control",
    "open_database",
    "open_judge",
    "open_response_cache",
    "open_router",
    "project_online",
    "run_eval",
]


def open_database(
    url: str | None = None,
    *,
    settings: Settings | None = None,
    create: bool = False,
    **options: Any,
) -> Database:
    """The database at ``url``, else the settings' ``database_url``, else the default
    SQLite file. The caller closes it (:meth:`Database.close`).

    Args:
        url: A database URL (``--db``).
        settings: Where the default URL comes from (default: :func:`current`).
        create: May create a missing SQLite file and an empty database's schema (only
            commands that write pass True).
        **options: Passed to :func:`releasegate.store.database.open_database`
            (``auto_upgrade``, ``check_schema``).

    Raises:
        ConfigError: a bad, unreachable or missing database (see
            :func:`releasegate.store.database.open_database`).
    """
    from releasegate.store.database import open_database as _open

    settings = settings if settings is not None else current()
    return _open(url or settings.database_url, create=create, **options)


@dataclass
class ControlPlaneParts:
    """What the control-plane services are built from: units of work, a clock and a
    salt source. Build it with :func:`open_control` (a database),
    :meth:`on_database` or :meth:`in_memory` (the in-memory fake, for tests).

    Attributes:
        uow_factory: A new (write) unit of work per call.
        read_uow_factory: A new read-only unit of work per call (the router's).
        clock: Timestamps of every change.
        salts: Rollout salts of new canaries.
    """

    uow_factory: Callable[[], UnitOfWork]
    read_uow_factory: Callable[[], UnitOfWork]
    clock: Clock = field(default_factory=SystemClock)
    salts: SaltSource = field(default_factory=RandomSalts)
    #: The project's online-checks lookup: set, starting a canary checks readiness.
    online_checks: OnlineChecks | None = None

    @classmethod
    def on_database(
        cls, database: Database, *, clock: Clock | None = None, salts: SaltSource | None = None
    ) -> ControlPlaneParts:
        """Parts on an open database (not owned: the caller closes it)."""
        return cls(
            database.uow,
            lambda: database.uow(write=False),
            clock=clock if clock is not None else SystemClock(),
            salts=salts if salts is not None else RandomSalts(),
        )

    @classmethod
    def in_memory(
        cls,
        data: MemoryData | None = None,
        *,
        clock: Clock | None = None,
        salts: SaltSource | None = None,
    ) -> ControlPlaneParts:
        """Parts on the in-memory store (:mod:`releasegate.store.memory`): every unit of
        work shares ``data`` (a new, empty one by default)."""
        from releasegate.store.memory import InMemoryUnitOfWork, MemoryData

        shared = data if data is not None else MemoryData()
        return cls(
            lambda: InMemoryUnitOfWork(shared),
            lambda: InMemoryUnitOfWork(shared),
            clock=clock if clock is not None else SystemClock(),
            salts=salts if salts is not None else RandomSalts(),
        )

    def deployments(self) -> DeploymentService:
        """A deployment service on a new unit of work."""
        from releasegate.control.deployments import DeploymentService

        return DeploymentService(
            self.uow_factory(),
            clock=self.clock,
            salts=self.salts,
            online_checks=self.online_checks,
        )

    def tokens(self) -> TokenService:
        """A token service on a new unit of work."""
        from releasegate.control.tokens import TokenService

        return TokenService(self.uow_factory(), clock=self.clock)

    def canary(
        self,
        *,
        webhooks: Sequence[str] = (),
        apply: bool = True,
        policy_for: Callable[[Deployment], CanaryPolicy] | None = None,
    ) -> CanaryService:
        """The canary service on a new unit of work, acting through :meth:`deployments`
        and alerting ``webhooks`` (close its ``alerts`` when done, if any)."""
        from releasegate.online.alerts import WebhookAlerts
        from releasegate.online.canary_service import CanaryService

        return CanaryService(
            self.uow_factory(),
            self.deployments(),
            policy_for=policy_for,
            alerts=WebhookAlerts(webhooks) if webhooks else None,
            clock=self.clock.now,
            apply=apply,
        )

    def router(
        self,
        *,
        fallback_model: str | None = None,
        fallback_params: Mapping[str, Any] | None = None,
        ttl_s: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> Router:
        """A router reading through read-only units of work (see :class:`Router`)."""
        from releasegate.control.router import Router

        return Router(
            self.read_uow_factory,
            fallback_model=fallback_model,
            fallback_params=fallback_params,
            ttl_s=ttl_s,
            clock=monotonic,
        )


def online_checks_of(config: str | Path | None = None) -> OnlineChecks:
    """The readiness lookup "are online checks configured for this feature?" from the
    project's ``releasegate.yaml`` (``config``: a file or folder; default: the current
    folder). Without a config file in the current folder every answer is ``None``
    (unknown), which readiness counts as missing.

    Raises:
        UsageError: ``config`` was given and holds no config file.
        ConfigError: the config file is invalid.
    """
    return online_checks_from(project_online(config))


def online_checks_from(online: OnlineConfig | None) -> OnlineChecks:
    """The readiness lookup of an already loaded ``online:`` section (None: unknown)."""
    if online is None:
        return lambda feature: None
    features = {name for name, cfg in online.features.items() if cfg.checks}
    return lambda feature: feature in features


def project_online(config: str | Path | None = None) -> OnlineConfig | None:
    """The ``online:`` section of the project config (``config``, else one in the
    current folder), or None without a config file in the current folder.

    Raises:
        UsageError: ``config`` was given and holds no config file.
        ConfigError: the config file is invalid.
    """
    from releasegate.project import CONFIG_NAMES, load_project

    if config is None and not any(Path(name).is_file() for name in CONFIG_NAMES):
        return None
    return load_project(config).config.online


@contextlib.contextmanager
def open_control(
    url: str | None = None,
    *,
    settings: Settings | None = None,
    create: bool = False,
    clock: Clock | None = None,
    salts: SaltSource | None = None,
    **options: Any,
) -> Iterator[ControlPlaneParts]:
    """Open the database (see :func:`open_database`) and yield the services' parts;
    the database is closed when the block ends, however it ends."""
    database = open_database(url, settings=settings, create=create, **options)
    try:
        yield ControlPlaneParts.on_database(database, clock=clock, salts=salts)
    finally:
        database.close()


@contextlib.contextmanager
def open_router(
    url: str | None = None,
    *,
    fallback_model: str | None = None,
    fallback_params: Mapping[str, Any] | None = None,
    ttl_s: float = 5.0,
    settings: Settings | None = None,
) -> Iterator[Router]:
    """A :class:`Router` on the existing database at ``url`` (else the settings'
    ``database_url``); the database is closed when the block ends.

    Raises:
        ConfigError: the database does not exist or has no releasegate tables (a
            router only reads: it never creates one).
    """
    with open_control(url, settings=settings, create=False) as parts:
        yield parts.router(
            fallback_model=fallback_model, fallback_params=fallback_params, ttl_s=ttl_s
        )


def eval_adapters(*, sleep: Sleep | None = None) -> SuiteAdapters:
    """What the eval engine builds its response cache and providers with
    (:class:`~releasegate.providers.suite.SuiteAdapters`, an implementation of
    :class:`releasegate.evals.wiring.EvalAdapters`).

    Args:
        sleep: how retry loops wait between attempts, in seconds (default
            :func:`asyncio.sleep`; tests pass one that records instead of waiting).
    """
    from releasegate.providers.suite import SuiteAdapters

    adapters = SuiteAdapters() if sleep is None else SuiteAdapters(sleep=sleep)
    if TYPE_CHECKING:  # the adapter satisfies the engine's protocol
        _engine_view: EvalAdapters[ResponseCache] = adapters
    return adapters


async def arun_eval(
    project: Project | str | Path | None,
    suite: str,
    options: EvalOptions | None = None,
    **kwargs: Any,
) -> EvalReport:
    """Run one suite with providers and cache built from the project config, and
    return its report (see :func:`releasegate.evals.runner.arun_eval`).

    Args:
        project: a loaded :class:`~releasegate.project.Project`, or the path of
            ``releasegate.yaml`` (``None``: ``./releasegate.yaml``).
        suite: the suite name in the config.
        options: run options; keyword arguments are accepted as a shortcut
            (``arun_eval("releasegate.yaml", "pr", repeat=3)``).

    Returns:
        The report, with ``status`` "complete", "stopped" (budget), "interrupted"
        (Ctrl-C) or "failed" (every case errored), and the gate applied.

    Raises:
        UsageError: unknown suite, or both ``options`` and keyword arguments.
        ConfigError: the config, a provider or a check cannot be built (file:line),
            before any call.
    """
    from releasegate.evals.runner import arun_eval as _engine

    return await _engine(project, suite, options, adapters=eval_adapters(), **kwargs)


def run_eval(
    project: Project | str | Path | None,
    suite: str,
    options: EvalOptions | None = None,
    **kwargs: Any,
) -> EvalReport:
    """Synchronous form of :func:`arun_eval` (runs its own event loop)."""
    from releasegate.evals.runner import run_eval as _engine

    return _engine(project, suite, options, adapters=eval_adapters(), **kwargs)


def open_response_cache(project: Project, path: str | Path | None = None) -> ResponseCache | None:
    """The project's response cache (``cache:`` in the config; ``path`` overrides its
    file), or ``None`` when it is disabled. The caller closes it: closing writes the
    pending answers."""
    return eval_adapters().open_cache(project, path)


@dataclass
class JudgeParts:
    """A judge as ``eval`` builds it, and an optional embedder.

    Attributes:
        judge: The judge provider (cache, budget, retries and limits from its config).
        embedder: The embedder, if one was asked for.
        cache: The response cache the judge reads and fills, if enabled.
    """

    judge: ManagedProvider
    embedder: EmbeddingProvider | None
    cache: ResponseCache | None


@contextlib.asynccontextmanager
async def open_judge(
    project: Project,
    judge: str,
    *,
    embedder: str | None = None,
    use_cache: bool = True,
) -> AsyncIterator[JudgeParts]:
    """Build the provider ``judge`` (and ``embedder``) of ``project`` with its
    response cache; on every path out of the block (success, error, Ctrl-C) the
    providers are closed and then the cache, so every answer the judge gave is written.

    Raises:
        ConfigError: a provider cannot be built (file:line); what was built before it
            is closed first.
    """
    adapters = eval_adapters()
    async with contextlib.AsyncExitStack() as stack:
        cache = adapters.open_cache(project) if use_cache else None
        if cache is not None:
            stack.callback(cache.close)  # registered first: closed last
        judge_provider = adapters.build_chat(project, judge, cache=cache)
        stack.push_async_callback(judge_provider.aclose)
        emb: EmbeddingProvider | None = None
        if embedder is not None:
            emb = adapters.build_embedding(project, embedder)
            stack.push_async_callback(emb.aclose)
        yield JudgeParts(judge=judge_provider, embedder=emb, cache=cache)
