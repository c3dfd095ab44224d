"""Checks: the scorer contract, the built-in checks and the registry of check types.

A check is built from an :class:`AssertSpec` by :func:`build_scorer` (or, for many specs
at once, a :class:`CheckBuilder`) and scores a :class:`Sample` — an output and the
inputs it answered, with no dataset case — into a tri-state :class:`Score`.
:func:`score_sample` runs prepared checks on one sample with the shared rules (*not
applicable* when a required input is missing, *unmeasured* when a check raises).
"""

from __future__ import annotations

from releasegate.scorers.base import (
    InvalidScoreError,
    Score,
    Scorer,
    ScorerContext,
    ScoreStatus,
)
from releasegate.scorers.dispatch import missing_inputs, run_check, score_checked, score_sample
from releasegate.scorers.prepare import CheckBuilder, CheckOwner
from releasegate.scorers.registry import available_scorers, build_scorer, register_scorer
from releasegate.scorers.sample import Sample
from releasegate.scorers.spec import AssertSpec

__all__ = [
    "AssertSpec",
    "CheckBuilder",
    "CheckOwner",
    "InvalidScoreError",
    "Sample",
    "Score",
    "ScoreStatus",
    "Scorer",
    "ScorerContext",
    "available_scorers",
    "build_scorer",
    "missing_inputs",
    "register_scorer",
    "run_check",
    "score_checked",
    "score_sample",
]
