"""What a suite runs with, built in one place for ``eval``, ``validate`` and ``judge``.

:func:`open_suite` constructs a suite's target, judge and embedder exactly as a run
uses them (each provider through the registry, chat providers wrapped in a
:class:`~releasegate.providers.managed.ManagedProvider`) and the
:class:`~releasegate.evals._scoring.CaseScorer` that builds every check against that
judge and embedder. ``releasegate eval`` runs with what it returns; ``releasegate
validate`` builds the same thing, makes no call, and closes it — so a project that
validates is a project whose providers and checks ``eval`` can build, and the other
way round. Building makes no network call (providers connect on first use).

Everything opened is closed on every path: a part that fails to build closes the parts
built before it, and :meth:`SuiteParts.aclose` closes each part even when another one
fails to close. Config errors carry the config file and the line of the field.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from releasegate.config import ProviderConfig
from releasegate.errors import ConfigError
from releasegate.evals._scoring import CaseScorer
from releasegate.llm import EmbeddingProvider
from releasegate.project import Project
from releasegate.providers.cache import ResponseCache
from releasegate.providers.managed import Budget, ManagedProvider, RetryPolicy
from releasegate.providers.pricing import PriceTable
from releasegate.providers.registry import build_embedder, build_provider

__all__ = [
    "SuiteParts",
    "build_chat",
    "build_embedding",
    "located_errors",
    "open_cache",
    "open_suite",
]


@contextlib.contextmanager
def located_errors(project: Project) -> Iterator[None]:
    """Re-raise a :class:`ConfigError` about the config file with its lines filled in
    (see :meth:`Project.locate`)."""
    try:
        yield
    except ConfigError as exc:
        raise ConfigError(project.locate(list(exc.issues))) from None


def open_cache(project: Project, path: str | Path | None = None) -> ResponseCache | None:
    """The project's response cache (``cache:`` in the config), or ``None`` when it is
    disabled. ``path`` overrides the configured file. The caller closes it
    (:meth:`ResponseCache.close` writes the pending answers)."""
    cfg = project.config.cache
    if not cfg.enabled:
        return None
    return ResponseCache(path if path is not None else project.resolve(cfg.path))


def build_chat(
    project: Project,
    name: str,
    *,
    pricing: PriceTable | None = None,
    cache: ResponseCache | None = None,
    budget: Budget | None = None,
    concurrency: int | None = None,
) -> ManagedProvider:
    """The chat provider ``providers.<name>`` wrapped with cache, budget, concurrency,
    rate limit, timeout and retries from its config.

    Args:
        project: the loaded project.
        name: the provider's key under ``providers:``.
        pricing: the price table (default: built-ins plus the config's ``pricing:``).
        cache: the response cache to read and fill, if any (not owned: not closed here).
        budget: the run's spending budget, if any.
        concurrency: overrides the provider's ``concurrency``.

    Raises:
        ConfigError: unknown provider type or invalid options, with file:line.
    """
    cfg = project.config.providers[name]
    with located_errors(project):
        inner = build_provider(
            name,
            cfg,
            pricing=pricing if pricing is not None else PriceTable(project.config.pricing),
            root=project.root,
            source=str(project.config_path),
        )
    return ManagedProvider(
        inner,
        concurrency=concurrency or cfg.concurrency,
        rate_limit=cfg.rate_limit,
        timeout_s=cfg.timeout_s,
        retry=RetryPolicy(max_retries=cfg.max_retries),
        cache=cache,
        budget=budget,
    )


def build_embedding(project: Project, name: str) -> EmbeddingProvider:
    """The embedder ``providers.<name>`` (``type: local``, ``openai`` or a plugin type),
    through the embedder registry (which imports a type's module on first use).

    Raises:
        ConfigError: unknown embedder type, missing model or key, or a missing extra,
            with file:line.
    """
    with located_errors(project):
        return build_embedder(
            name,
            project.config.providers[name],
            root=project.root,
            source=str(project.config_path),
            pricing=PriceTable(project.config.pricing),
        )


@dataclass
class SuiteParts:
    """A suite's providers and the scorer that builds its checks.

    Attributes:
        target: the model under test.
        target_config: its provider config.
        judge: the suite's ``judge:`` provider, if any.
        embedder: the suite's ``embedder:``, if any.
        scorer: builds and runs every check with that judge and embedder.
    """

    target: ManagedProvider
    target_config: ProviderConfig
    judge: ManagedProvider | None
    embedder: EmbeddingProvider | None
    scorer: CaseScorer
    _stack: contextlib.AsyncExitStack = field(repr=False)

    async def aclose(self) -> None:
        """Close every provider (each one, even when closing another fails)."""
        await self._stack.aclose()


async def open_suite(
    project: Project,
    suite_name: str,
    *,
    cache: ResponseCache | None = None,
    budget: Budget | None = None,
    concurrency: int | None = None,
) -> SuiteParts:
    """Build the suite's target, judge, embedder and scorer, as a run uses them.

    Args:
        project: the loaded project.
        suite_name: the suite.
        cache: the response cache the chat providers share (not owned).
        budget: the run's budget (``None``: unlimited).
        concurrency: overrides every chat provider's ``concurrency``.

    Returns:
        The parts; close them with :meth:`SuiteParts.aclose`.

    Raises:
        UsageError: unknown suite.
        ConfigError: a provider or embedder cannot be built (file:line); the parts
            already built are closed first.
    """
    suite = project.suite(suite_name)
    pricing = PriceTable(project.config.pricing)
    stack = contextlib.AsyncExitStack()
    try:
        target = build_chat(
            project,
            suite.target,
            pricing=pricing,
            cache=cache,
            budget=budget,
            concurrency=concurrency,
        )
        stack.push_async_callback(target.aclose)
        judge: ManagedProvider | None = None
        if suite.judge:
            judge = build_chat(
                project,
                suite.judge,
                pricing=pricing,
                cache=cache,
                budget=budget,
                concurrency=concurrency,
            )
            stack.push_async_callback(judge.aclose)
        embedder: EmbeddingProvider | None = None
        if suite.embedder:
            embedder = build_embedding(project, suite.embedder)
            stack.push_async_callback(embedder.aclose)
    except BaseException:
        await stack.aclose()
        raise
    scorer = CaseScorer(judge=judge, embedder=embedder, case_threshold=suite.gate.case_threshold)
    return SuiteParts(
        target=target,
        target_config=project.config.providers[suite.target],
        judge=judge,
        embedder=embedder,
        scorer=scorer,
        _stack=stack,
    )
