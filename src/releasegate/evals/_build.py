"""What a suite runs with, built in one place for ``eval`` and ``validate``.

:func:`open_suite` asks the run's :class:`~releasegate.evals.wiring.EvalAdapters` for
the suite's target, judge and embedder exactly as a run uses them, and builds the
:class:`~releasegate.evals._scoring.CaseScorer` that builds every check against that
judge and embedder. ``releasegate eval`` runs with what it returns; ``releasegate
validate`` builds the same thing, makes no call, and closes it — so a project that
validates is a project whose providers and checks ``eval`` can build, and the other
way round.
"""

from __future__ import annotations

from dataclasses import dataclass

from releasegate.evals._scoring import CaseScorer
from releasegate.evals.wiring import CacheT, EvalAdapters, SuiteProviders
from releasegate.llm import ChatProvider, EmbeddingProvider
from releasegate.project import Project

__all__ = ["SuiteParts", "open_suite"]


@dataclass
class SuiteParts:
    """A suite's providers and the scorer that builds its checks.

    Attributes:
        providers: the target, judge and embedder (owned: closed by :meth:`aclose`).
        scorer: builds and runs every check with that judge and embedder.
    """

    providers: SuiteProviders
    scorer: CaseScorer

    @property
    def target(self) -> ChatProvider:
        """The model under test."""
        return self.providers.target

    @property
    def judge(self) -> ChatProvider | None:
        """The suite's judge, if any."""
        return self.providers.judge

    @property
    def embedder(self) -> EmbeddingProvider | None:
        """The suite's embedder, if any."""
        return self.providers.embedder

    async def aclose(self) -> None:
        """Close every provider (each one, even when closing another fails)."""
        await self.providers.aclose()


async def open_suite(
    adapters: EvalAdapters[CacheT],
    project: Project,
    suite_name: str,
    *,
    cache: CacheT | None = None,
    max_cost_usd: float | None = None,
    max_tokens: int | None = None,
    concurrency: int | None = None,
) -> SuiteParts:
    """Build the suite's providers (through ``adapters``) and scorer, as a run uses them.

    Args:
        adapters: builds the providers.
        project: the loaded project.
        suite_name: the suite.
        cache: the response cache the chat providers share (not owned).
        max_cost_usd: the run's spending limit in USD (``None``: unlimited).
        max_tokens: the run's token limit (``None``: unlimited).
        concurrency: overrides every chat provider's ``concurrency``.

    Returns:
        The parts; close them with :meth:`SuiteParts.aclose`.

    Raises:
        UsageError: unknown suite.
        ConfigError: a provider or embedder cannot be built (file:line); the parts
            already built are closed first.
    """
    suite = project.suite(suite_name)
    providers = await adapters.open_providers(
        project,
        suite_name,
        cache=cache,
        max_cost_usd=max_cost_usd,
        max_tokens=max_tokens,
        concurrency=concurrency,
    )
    try:
        scorer = CaseScorer(
            judge=providers.judge,
            embedder=providers.embedder,
            case_threshold=suite.gate.case_threshold,
        )
    except BaseException:
        await providers.aclose()
        raise
    return SuiteParts(providers=providers, scorer=scorer)
