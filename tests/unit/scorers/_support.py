"""Helpers for the deterministic-check tests: build a check from YAML-like data and
score an output with it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from releasegate.scorers import Sample, Score, Scorer, build_scorer, register_scorer
from releasegate.scorers.base import ScorerFactory
from releasegate.scorers.registry import SCORERS
from releasegate.scorers.spec import AssertSpec

__all__ = ["CASE", "build", "check", "registered", "score_now"]

#: the inputs every sample of these tests answers (no dataset case is involved)
CASE: dict[str, Any] = {"id": "case-1", "input": "What is the refund policy?"}


@contextmanager
def registered(name: str, factory: ScorerFactory) -> Iterator[None]:
    """``factory`` registered as check type ``name`` for the duration of the block."""
    register_scorer(name)(factory)
    try:
        yield
    finally:
        SCORERS.unregister(name)


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
    return score_now(build(spec), Sample(output, **CASE, **sample))
