"""Scoring one eval case's output: the sample it makes, and the case result.

Building and running the checks is :mod:`releasegate.scorers`' job (the same rules score
an online interaction): a check runs only when the sample has the inputs it needs, else
it is *not applicable*; a check that raises is *unmeasured* with the exception as its
reason. What is eval-specific lives here: the :class:`~releasegate.scorers.Sample` a
:class:`Case` and a response make, and combining the scores into a :class:`CaseResult`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from releasegate.datasets.case import Case
from releasegate.errors import Issue
from releasegate.llm import ChatProvider, ChatResponse, EmbeddingProvider, Usage
from releasegate.results.report import CaseResult, CheckResult
from releasegate.results.verdicts import case_passes, case_score
from releasegate.scorers import (
    AssertSpec,
    CheckBuilder,
    Sample,
    Score,
    Scorer,
    ScorerContext,
    ScoreStatus,
    score_sample,
)

__all__ = ["CaseScorer", "case_sample", "case_score"]


def case_sample(
    case: Case,
    output: str,
    *,
    repeat: int = 0,
    latency_ms: float | None = None,
    cost_usd: float | None = None,
    usage: Usage | None = None,
    error: str | None = None,
    tool_calls: tuple[Any, ...] = (),
    tools: tuple[Any, ...] = (),
) -> Sample:
    """The scorer input for ``case`` answered by ``output``.

    The input text is :attr:`Case.input_text`, the variables the case's template
    variables, the context its chunks (an empty text is no context).
    """
    return Sample(
        output,
        input=case.input_text,
        variables=case.input if isinstance(case.input, dict) else {},
        context=tuple(case.context_chunks) if case.context != "" else (),
        reference=case.reference,
        expected_behavior=case.expected_behavior,
        metadata=case.metadata,
        tags=case.tags,
        id=case.id,
        latency_ms=latency_ms,
        cost_usd=cost_usd,
        usage=usage,
        error=error,
        repeat=repeat,
        tool_calls=tool_calls,
        tools=tools,
    )


class CaseScorer:
    """Builds and caches a run's checks, and turns a response into a :class:`CaseResult`."""

    def __init__(
        self,
        *,
        judge: ChatProvider | None = None,
        embedder: EmbeddingProvider | None = None,
        case_threshold: float = 0.5,
    ) -> None:
        self.checks = CheckBuilder(ScorerContext(judge=judge, embedder=embedder))
        self.ctx = self.checks.ctx
        self.case_threshold = case_threshold

    def scorer_for(self, spec: AssertSpec, case: Case) -> Scorer:
        """The built check for one of ``case``'s specs (built on first use)."""
        where = f"{case.source or '<dataset>'}" + (f":{case.line}" if case.line else "")
        return self.checks.build(spec, where=where)

    def prepare(self, cases: Iterable[Case], *, file: str = "<dataset>") -> list[Issue]:
        """Build every check of ``cases`` before any call is made; one issue per check
        that cannot be built (see :meth:`releasegate.scorers.CheckBuilder.prepare`)."""
        return self.checks.prepare(cases, file=file)

    async def score(
        self,
        case: Case,
        repeat: int,
        response: ChatResponse,
        *,
        tools: tuple[Any, ...] = (),
        messages: Sequence[Any] | None = None,
    ) -> CaseResult:
        """Score ``response`` to ``case`` with every check of the case; ``tools`` are
        the function tools the request offered (tool-call checks read them);
        ``messages``, the conversation sent, is kept in the result when given."""
        sample = case_sample(
            case,
            response.text,
            repeat=repeat,
            latency_ms=response.latency_ms,
            cost_usd=response.cost_usd,
            usage=response.usage,
            tool_calls=response.tool_calls,
            tools=tools,
        )
        scorers = self.checks.checks_of(case)
        scores = await score_sample(sample, scorers)
        checks = [
            self._check_result(spec, scorer, s, case.check_label(i))
            for i, (spec, scorer, s) in enumerate(zip(case.asserts, scorers, scores, strict=True))
        ]
        value = case_score(checks)
        # A weighted check with an explicit threshold is a hard requirement of the case.
        passed = case_passes(
            value,
            checks,
            [spec.threshold is not None for spec in case.asserts],
            self.case_threshold,
        )
        return CaseResult(
            id=case.id,
            repeat=repeat,
            input=case.input,
            output=response.text,
            score=value,
            passed=passed,
            latency_ms=response.latency_ms,
            prompt_tokens=response.usage.prompt_tokens,
            completion_tokens=response.usage.completion_tokens,
            cost_usd=response.cost_usd or 0.0,
            cached=response.cached,
            tags=list(case.tags),
            weight=case.weight,
            checks=checks,
            tool_calls=list(response.tool_calls) or None,
            messages=list(messages) if messages is not None else None,
        )

    @staticmethod
    def _check_result(spec: AssertSpec, scorer: Scorer, s: Score, label: str) -> CheckResult:
        threshold = spec.threshold if spec.threshold is not None else scorer.default_threshold
        passed = None if s.value is None else s.value >= threshold
        extra: dict[str, Any] = {}
        if s.usage is not None:
            extra["judge_tokens"] = s.usage.total_tokens
        if s.cost_usd is not None:
            extra["judge_cost_usd"] = s.cost_usd
        return CheckResult(
            type=spec.type,
            status=ScoreStatus(s.status).value,
            value=s.value,
            passed=passed,
            weight=spec.weight,
            threshold=threshold,
            reason=s.reason,
            label=label,
            **extra,
        )

    def errored(
        self, case: Case, repeat: int, error: str, *, messages: Sequence[Any] | None = None
    ) -> CaseResult:
        """A case whose target call failed: it scores 0 and fails (the app did not answer)."""
        return CaseResult(
            id=case.id,
            repeat=repeat,
            input=case.input,
            output=None,
            score=0.0,
            passed=False,
            error=error,
            tags=list(case.tags),
            weight=case.weight,
            messages=list(messages) if messages is not None else None,
        )
