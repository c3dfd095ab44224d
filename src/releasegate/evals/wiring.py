"""What the eval engine needs from the outside world, as protocols.

The engine (a service) never builds providers or caches itself: the composition root
(:mod:`releasegate.bootstrap`) builds an implementation of :class:`EvalAdapters` from the
project config and hands it to :func:`~releasegate.evals.runner.arun_eval`,
:func:`~releasegate.evals.gated_run.arun_gated` and
:func:`~releasegate.evals.validate.validate_project`. The protocols are structural, so
an implementation needs no import of this package.

Every type used here comes from the core (:mod:`releasegate.llm`,
:mod:`releasegate.project`): the engine sees a target, a judge and an embedder as plain
:class:`~releasegate.llm.ChatProvider` / :class:`~releasegate.llm.EmbeddingProvider`;
retries, the budget, the cache and the limits are the implementation's business.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, TypeVar

from releasegate.llm import ChatProvider, EmbeddingProvider
from releasegate.project import Project

__all__ = ["CacheT", "Closeable", "EvalAdapters", "SuiteProviders"]


class Closeable(Protocol):
    """Something opened for a run and closed synchronously after it (a response cache:
    closing writes its pending answers)."""

    def close(self) -> None:
        """Release it; called exactly once, after the providers are closed."""
        ...


CacheT = TypeVar("CacheT", bound=Closeable)
"""The cache handle an :class:`EvalAdapters` opens and hands back to its own
:meth:`~EvalAdapters.open_providers` (opaque to the engine)."""


class SuiteProviders(Protocol):
    """A suite's providers, built as a run uses them (calls go through the
    implementation's policies: cache, budget, concurrency, rate limit, timeout,
    retries)."""

    @property
    def target(self) -> ChatProvider:
        """The model under test (the suite's ``target:``)."""
        ...

    @property
    def judge(self) -> ChatProvider | None:
        """The suite's ``judge:`` provider, or ``None``."""
        ...

    @property
    def embedder(self) -> EmbeddingProvider | None:
        """The suite's ``embedder:``, or ``None``."""
        ...

    async def aclose(self) -> None:
        """Close every provider (each one, even when closing another fails)."""
        ...


class EvalAdapters(Protocol[CacheT]):
    """Builds what a run calls: the response cache and a suite's providers.

    Building makes no network call (providers connect on first use), so
    ``releasegate validate`` builds with the same adapters and calls nothing.
    """

    def open_cache(self, project: Project, path: str | Path | None = None) -> CacheT | None:
        """The project's response cache, or ``None`` when the config disables it.

        Args:
            project: The loaded project.
            path: Overrides the configured cache file.

        Returns:
            A handle the caller closes (after the providers that use it).
        """
        ...

    async def open_providers(
        self,
        project: Project,
        suite: str,
        *,
        cache: CacheT | None = None,
        max_cost_usd: float | None = None,
        max_tokens: int | None = None,
        concurrency: int | None = None,
    ) -> SuiteProviders:
        """Build the suite's target, judge and embedder.

        Args:
            project: The loaded project.
            suite: The suite's name.
            cache: The cache the chat providers read and fill (not owned: not closed).
            max_cost_usd: The run's spending limit in USD, shared by target and judge
                (``None``: unlimited); a call past it raises
                :class:`~releasegate.errors.BudgetExceeded`.
            max_tokens: The run's token limit, likewise.
            concurrency: Overrides every chat provider's configured concurrency.

        Returns:
            The providers; the caller closes them with :meth:`SuiteProviders.aclose`.

        Raises:
            UsageError: Unknown suite.
            ConfigError: A provider or embedder cannot be built (with the config file
                and line); whatever was built before it is closed first.
        """
        ...

    def known_provider_types(self) -> list[str]:
        """Every chat provider type that can be built (built-in, registered, plugin),
        sorted."""
        ...
