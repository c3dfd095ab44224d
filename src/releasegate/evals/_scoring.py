"""Scoring one target output: dispatch each check, combine into a case result.

A check runs only when the case has the inputs it needs (``Scorer.requires``);
otherwise it is *not applicable*. A scorer that raises is recorded as *unmeasured* with
the exception as its reason, so that one failing check never blocks the others.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from typing import Any

from releasegate.datasets.case import Case
from releasegate.errors import ConfigError, Issue
from releasegate.llm import ChatProvider, ChatResponse, EmbeddingProvider
from releasegate.results.report import CaseResult, CheckResult
from releasegate.results.verdicts import case_passes, case_score
from releasegate.scorers.base import (
    Sample,
    Score,
    Scorer,
    ScorerContext,
    ScoreStatus,
    build_scorer,
    score_checked,
)
from releasegate.scorers.spec import AssertSpec

__all__ = ["CaseScorer", "case_score", "missing_inputs"]


def missing_inputs(case: Case, requires: frozenset[str]) -> list[str]:
    """Names of required case fields that are absent or empty."""
    missing = []
    for name in sorted(requires):
        value = getattr(case, name, None)
        if value is None or value == "" or value == [] or value == ():
            missing.append(name)
    return missing


_SCALARS = (str, int, float, bool, type(None))


def _spec_key(spec: AssertSpec) -> tuple[Any, ...]:
    """A hashable key of everything a scorer is built from. Plain scalar values (the
    common case: a string to look for, a number) skip JSON encoding, which cost ~40 us a
    spec on the hot path."""
    if not spec.model_extra and isinstance(spec.value, _SCALARS):
        return (spec.type, type(spec.value), spec.value, spec.weight, spec.threshold)
    try:
        return (spec.type, json.dumps(spec.model_dump(mode="json"), sort_keys=True, default=str))
    except Exception:  # odd YAML values (binary) that JSON cannot carry: never shared
        return (spec.type, "id", id(spec))


def _is_cheap(scorer: Scorer) -> bool:
    # Scorers say whether they do I/O (``expensive``); a plugin that does not say is
    # scheduled concurrently, which is correct either way.
    return getattr(scorer, "expensive", True) is False


class CaseScorer:
    """Builds and caches scorers, and turns a response into a :class:`CaseResult`."""

    def __init__(
        self,
        *,
        judge: ChatProvider | None = None,
        embedder: EmbeddingProvider | None = None,
        case_threshold: float = 0.5,
    ) -> None:
        self.ctx = ScorerContext(judge=judge, embedder=embedder)
        self.case_threshold = case_threshold
        self._scorers: dict[tuple[Any, ...], Scorer] = {}
        self._by_id: dict[int, tuple[AssertSpec, Scorer]] = {}

    def scorer_for(self, spec: AssertSpec, case: Case) -> Scorer:
        # By identity first (a case's specs are seen again on every repeat); the entry
        # keeps the spec alive, so its id cannot be reused by another object. Equal specs
        # from different cases share a scorer through the value key.
        hit = self._by_id.get(id(spec))
        if hit is not None and hit[0] is spec:
            return hit[1]
        key = _spec_key(spec)
        scorer = self._scorers.get(key)
        if scorer is None:
            where = f"{case.source or '<dataset>'}" + (f":{case.line}" if case.line else "")
            scorer = build_scorer(spec, self.ctx, where=where)
            self._scorers[key] = scorer
        self._by_id[id(spec)] = (spec, scorer)
        return scorer

    def prepare(self, cases: Iterable[Case], *, file: str = "<dataset>") -> list[Issue]:
        """Build the scorer of every check of ``cases`` before any call is made.

        Returns one issue per check that names an unknown type or has bad arguments
        (file, line, case id, ``assert[i]`` counted in the case's own list or
        ``defaults.assert[i]``; ``file`` when a case does not say where it
        was read from), so a run with a broken check stops before it spends anything;
        and no scorer (nor plugin discovery) is built on the hot path. Equal checks are
        built once.
        """
        issues: list[Issue] = []
        for case in cases:
            for index, spec in enumerate(case.asserts):
                try:
                    self.scorer_for(spec, case)
                except ConfigError as exc:
                    messages = [i.message for i in exc.issues]
                except Exception as exc:  # a plugin's factory failing in its own way
                    messages = [
                        f"check {spec.type!r} could not be built: {type(exc).__name__}: {exc}"
                    ]
                else:
                    continue
                issues.extend(
                    Issue(
                        file=case.source or file,
                        line=case.line,
                        case_id=case.id,
                        field=case.check_label(index),
                        message=m,
                    )
                    for m in messages
                )
        return issues

    async def _run_check(self, scorer: Scorer, sample: Sample) -> Score:
        missing = missing_inputs(sample.case, scorer.requires)
        if missing:
            return Score.not_applicable("needs " + ", ".join(missing))
        return await score_checked(scorer, sample)

    async def score(self, case: Case, repeat: int, response: ChatResponse) -> CaseResult:
        sample = Sample(
            case=case,
            output=response.text,
            latency_ms=response.latency_ms,
            cost_usd=response.cost_usd,
            usage=response.usage,
            repeat=repeat,
        )
        scorers = [self.scorer_for(spec, case) for spec in case.asserts]
        scores: list[Score | None] = [None] * len(scorers)
        slow: list[int] = []
        for i, scorer in enumerate(scorers):
            if _is_cheap(scorer):
                scores[i] = await self._run_check(scorer, sample)
            else:
                slow.append(i)
        if slow:
            done = await asyncio.gather(*(self._run_check(scorers[i], sample) for i in slow))
            for i, s in zip(slow, done, strict=True):
                scores[i] = s
        checks = [
            self._check_result(spec, scorer, s, case.check_label(i))
            for i, (spec, scorer, s) in enumerate(zip(case.asserts, scorers, scores, strict=True))
            if s is not None
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

    def errored(self, case: Case, repeat: int, error: str) -> CaseResult:
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
        )
