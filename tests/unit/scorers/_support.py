"""Helpers for the deterministic-check tests: build a check from YAML-like data and
score an output with it."""

from __future__ import annotations

from typing import Any

from releasegate.datasets.case import Case
from releasegate.scorers.base import Sample, Score, Scorer, build_scorer
from releasegate.scorers.spec import AssertSpec

__all__ = ["CASE", "build", "check", "score_now"]

CASE = Case(id="case-1", input="What is the refund policy?")


def build(spec: dict[str, Any], where: str = "suite.yaml") -> Scorer:
    """Build a scorer exactly as a dataset entry ``assert: [spec]`` would."""
    return build_scorer(AssertSpec.model_validate(spec), where=where)


def score_now(scorer: Scorer, sample: Sample) -> Score:
    """Drive ``scorer.score`` to completion without an event loop.

    Deterministic checks never suspend; if one did (it would be doing I/O), this fails.
    """
    coro = scorer.score(sample)
    try:
        coro.send(None)
    except StopIteration as stop:
        result: Score = stop.value
        return result
    coro.close()
    raise AssertionError(f"{scorer.name} suspended; deterministic checks must not await")


def check(spec: dict[str, Any], output: str, **sample: Any) -> Score:
    """Build ``spec`` and score ``output`` (extra keyword arguments go to the Sample)."""
    return score_now(build(spec), Sample(case=CASE, output=output, **sample))
