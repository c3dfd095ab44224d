"""A suite's providers and response cache, built from the project config.

:class:`SuiteAdapters` is what the composition root (:mod:`releasegate.bootstrap`)
hands to the eval engine: it opens the project's response cache and builds a suite's
target, judge and embedder exactly as a run uses them — each provider through the
registry, chat providers wrapped in a :class:`~releasegate.providers.managed.ManagedProvider`
(cache, budget, concurrency, rate limit, timeout, retries from the provider's config).
It satisfies the engine's ``EvalAdapters`` protocol structurally, so this adapter does
not import the engine. ``judge calibrate`` builds its judge with the same
:meth:`SuiteAdapters.build_chat`.

Building makes no network call (providers connect on first use). Everything opened is
closed on every path: a part that fails to build closes the parts built before it, and
:meth:`OpenedSuite.aclose` closes each part even when another one fails to close.
Config errors carry the config file and the line of the field.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from releasegate.errors import ConfigError
from releasegate.llm import EmbeddingProvider
from releasegate.project import Project
from releasegate.providers.cache import ResponseCache
from releasegate.providers.managed import Budget, ManagedProvider, RetryPolicy, Sleep
from releasegate.providers.pricing import PriceTable
from releasegate.providers.registry import build_embedder, build_provider, known_provider_types

__all__ = ["OpenedSuite", "SuiteAdapters", "located_errors"]


@contextlib.contextmanager
def located_errors(project: Project) -> Iterator[None]:
    """Re-raise a :class:`ConfigError` about the config file with its lines filled in
    (see :meth:`Project.locate`)."""
    try:
        yield
    except ConfigError as exc:
        raise ConfigError(project.locate(list(exc.issues))) from None


@dataclass
class OpenedSuite:
    """A suite's providers as a run uses them.

    Attributes:
        target: the model under test.
        judge: the suite's ``judge:`` provider, if any.
        embedder: the suite's ``embedder:``, if any.
    """

    target: ManagedProvider
    judge: ManagedProvider | None
    embedder: EmbeddingProvider | None
    _stack: contextlib.AsyncExitStack = field(repr=False)

    async def aclose(self) -> None:
        """Close every provider (each one, even when closing another fails)."""
        await self._stack.aclose()


class SuiteAdapters:
    """Builds the response cache and a suite's providers from the project config.

    Args:
        sleep: how the chat providers' retry loops wait between attempts, in seconds
            (default :func:`asyncio.sleep`; tests pass a recorder).
    """

    def __init__(self, *, sleep: Sleep = asyncio.sleep) -> None:
        self._sleep = sleep

    def open_cache(self, project: Project, path: str | Path | None = None) -> ResponseCache | None:
        """The project's response cache (``cache:`` in the config), or ``None`` when it
        is disabled. ``path`` overrides the configured file. The caller closes it
        (:meth:`ResponseCache.close` writes the pending answers)."""
        cfg = project.config.cache
        if not cfg.enabled:
            return None
        return ResponseCache(path if path is not None else project.resolve(cfg.path))

    def known_provider_types(self) -> list[str]:
        """Built-in, registered and plugin provider types, sorted."""
        return known_provider_types()

    def build_chat(
        self,
        project: Project,
        name: str,
        *,
        pricing: PriceTable | None = None,
        cache: ResponseCache | None = None,
        budget: Budget | None = None,
        concurrency: int | None = None,
    ) -> ManagedProvider:
        """The chat provider ``providers.<name>`` wrapped with cache, budget,
        concurrency, rate limit, timeout and retries from its config.

        Args:
            project: the loaded project.
            name: the provider's key under ``providers:``.
            pricing: the price table (default: built-ins plus the config's ``pricing:``).
            cache: the response cache to read and fill, if any (not owned: not closed).
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
            sleep=self._sleep,
        )

    def build_embedding(self, project: Project, name: str) -> EmbeddingProvider:
        """The embedder ``providers.<name>`` (``type: local``, ``openai`` or a plugin
        type), through the embedder registry (which imports a type's module on first use).

        Raises:
            ConfigError: unknown embedder type, missing model or key, or a missing
                extra, with file:line.
        """
        with located_errors(project):
            return build_embedder(
                name,
                project.config.providers[name],
                root=project.root,
                source=str(project.config_path),
                pricing=PriceTable(project.config.pricing),
            )

    async def open_providers(
        self,
        project: Project,
        suite: str,
        *,
        cache: ResponseCache | None = None,
        max_cost_usd: float | None = None,
        max_tokens: int | None = None,
        concurrency: int | None = None,
    ) -> OpenedSuite:
        """Build the suite's target, judge and embedder, as a run uses them; the chat
        providers share one budget.

        Args:
            project: the loaded project.
            suite: the suite's name.
            cache: the response cache the chat providers share (not owned).
            max_cost_usd: the run's spending limit in USD (``None``: unlimited).
            max_tokens: the run's token limit (``None``: unlimited).
            concurrency: overrides every chat provider's ``concurrency``.

        Returns:
            The providers; close them with :meth:`OpenedSuite.aclose`.

        Raises:
            UsageError: unknown suite.
            ConfigError: a provider or embedder cannot be built (file:line); the
                providers already built are closed first.
        """
        cfg = project.suite(suite)
        pricing = PriceTable(project.config.pricing)
        budget = Budget(max_cost_usd, max_tokens)
        stack = contextlib.AsyncExitStack()
        try:
            target = self.build_chat(
                project,
                cfg.target,
                pricing=pricing,
                cache=cache,
                budget=budget,
                concurrency=concurrency,
            )
            stack.push_async_callback(target.aclose)
            judge: ManagedProvider | None = None
            if cfg.judge:
                judge = self.build_chat(
                    project,
                    cfg.judge,
                    pricing=pricing,
                    cache=cache,
                    budget=budget,
                    concurrency=concurrency,
                )
                stack.push_async_callback(judge.aclose)
            embedder: EmbeddingProvider | None = None
            if cfg.embedder:
                embedder = self.build_embedding(project, cfg.embedder)
                stack.push_async_callback(embedder.aclose)
        except BaseException:
            await stack.aclose()
            raise
        return OpenedSuite(target=target, judge=judge, embedder=embedder, _stack=stack)
