"""The one definition of weights, case scores and case verdicts.

Everything that counts or averages results (the summary, the gate's inputs, the baseline
comparison, every report renderer) goes through this module, so that a case is never
"passed" in one place and "failed" in another. ``docs/reports.md`` states the same rules
for users:

* **Check weight** (``assert[i].weight``, default 1, finite and >= 0): a check's share of
  its case's score. A check of weight 0 is *informational*: it runs and is reported with
  its value and its own pass/fail, but it never changes the case's score or verdict, even
  with an explicit ``threshold``, and it is left out of every aggregate.
* **Case score**: the weighted mean of the case's *measured* checks of weight > 0;
  ``None`` when none was measured. A result whose target call failed scores 0.
* **Case weight** (``weight``, default 1, finite and >= 0): a result's weight in run-level
  means. A case of weight 0 is *informational*: it is reported with its score, never
  counted in any aggregate (means, rates, counts, unmeasured budget, error rate, the
  comparison), and never fails anything.
* **Verdict** of one result, first match wins: ``informational`` (case weight 0),
  ``error`` (the target call failed), ``informational`` (every check has weight 0),
  ``passed`` / ``failed`` (at
  least one weighted check was measured: the score reaches the case threshold and no
  weighted check with an explicit threshold failed), ``unmeasured`` (a weighted check
  tried and could not produce a value, none did), ``not_applicable`` (no weighted check
  could run: an input is missing, or the case has no check; a result without checks
  that carries a score, as a hand-made report may, is passed or failed by its ``passed``).
* **Aggregates** (overall, per tag, per check type): means weight each result by its case
  weight over the *scored* results (passed, failed, error); rates and counts are plain
  counts of results. A per-check-type mean weights each measured value by its case's
  weight (check weights only matter within a case).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Final, Literal, get_args

from releasegate.results.report import CaseResult, CheckResult

__all__ = [
    "SCORED",
    "VERDICTS",
    "CaseVerdict",
    "case_passes",
    "case_score",
    "case_verdict",
    "counts",
    "gating_check_values",
    "gating_checks",
    "is_gating",
    "is_scored",
    "result_score",
    "weighted_mean_std",
]

CaseVerdict = Literal["passed", "failed", "error", "unmeasured", "not_applicable", "informational"]
VERDICTS: Final[tuple[CaseVerdict, ...]] = get_args(CaseVerdict)
SCORED: Final[frozenset[CaseVerdict]] = frozenset({"passed", "failed", "error"})
"""Verdicts of results that have a score and count in means and pass rates."""


def gating_checks(checks: Iterable[CheckResult]) -> list[CheckResult]:
    """The checks that take part in the case score and verdict (weight > 0)."""
    return [c for c in checks if c.weight > 0]


def case_score(checks: Iterable[CheckResult]) -> float | None:
    """Weighted mean of the measured checks of weight > 0; ``None`` when there is none."""
    pairs = [
        (c.weight, c.value)
        for c in gating_checks(checks)
        if c.status == "measured" and c.value is not None
    ]
    if not pairs:
        return None
    top = max(w for w, _ in pairs)  # scaled, so that huge weights cannot overflow a sum
    den = math.fsum(w / top for w, _ in pairs)
    return math.fsum(w / top * v for w, v in pairs) / den


def case_passes(
    score: float | None,
    checks: Sequence[CheckResult],
    explicit: Sequence[bool],
    case_threshold: float,
) -> bool:
    """Whether a scored case passes.

    Args:
        score: the case score (:func:`case_score`).
        checks: the case's checks, in dataset order.
        explicit: per check, whether the dataset set its ``threshold`` (such a check is a
            hard requirement of the case, when its weight is > 0).
        case_threshold: the suite's case threshold in [0, 1].

    Returns:
        True when ``score`` is not None, reaches ``case_threshold``, and no measured
        weighted check with an explicit threshold failed it.
    """
    if score is None or score < case_threshold:
        return False
    return all(
        c.passed is not False
        for c, hard in zip(checks, explicit, strict=True)
        if hard and c.weight > 0
    )


def case_verdict(case: CaseResult) -> CaseVerdict:
    """The verdict of one result (see the module docstring for the order of the rules)."""
    if case.weight <= 0:
        return "informational"
    if case.error is not None:
        return "error"
    if not case.checks:  # nothing to measure, unless the result carries a score anyway
        if case.score is None:
            return "not_applicable"
        return "passed" if case.passed else "failed"
    if not gating_checks(case.checks):
        return "informational"
    statuses = {c.status for c in gating_checks(case.checks)}
    if "measured" in statuses:
        return "passed" if case.passed else "failed"
    if "unmeasured" in statuses:
        return "unmeasured"
    return "not_applicable"


def is_gating(case: CaseResult) -> bool:
    """Whether the result counts anywhere in aggregates (it is not informational)."""
    return case_verdict(case) != "informational"


def is_scored(case: CaseResult) -> bool:
    """Whether the result has a score that counts in means and pass rates."""
    return case_verdict(case) in SCORED


def result_score(case: CaseResult) -> float:
    """The score a scored result contributes (an errored result scores 0)."""
    if case.error is not None or case.score is None:
        return 0.0
    return case.score


def counts(results: Iterable[CaseResult]) -> dict[CaseVerdict, int]:
    """How many results have each verdict (every verdict is a key)."""
    out: dict[CaseVerdict, int] = dict.fromkeys(VERDICTS, 0)
    for r in results:
        out[case_verdict(r)] += 1
    return out


def gating_check_values(case: CaseResult) -> dict[str, list[float]]:
    """The measured values of a non-informational result's weighted checks, by type.

    Empty for an informational or errored result.
    """
    out: dict[str, list[float]] = defaultdict(list)
    if case_verdict(case) in ("informational", "error"):
        return {}
    for c in gating_checks(case.checks):
        if c.status == "measured" and c.value is not None:
            out[c.type].append(c.value)
    return dict(out)


def weighted_mean_std(
    values: Sequence[float], weights: Sequence[float]
) -> tuple[float | None, float | None]:
    """Weighted mean and (population) standard deviation.

    Returns:
        ``(None, None)`` when there is no value or the weights sum to zero (every value
        informational: there is nothing to average).
    """
    if not values:
        return None, None
    top = max(float(x) for x in weights)
    if not top > 0:
        return None, None
    w = [float(x) / top for x in weights]  # scaled, so that huge weights cannot overflow
    total = math.fsum(w)
    mean = math.fsum(wi * vi for wi, vi in zip(w, values, strict=True)) / total
    var = math.fsum(wi * (vi - mean) ** 2 for wi, vi in zip(w, values, strict=True)) / total
    return mean, math.sqrt(max(var, 0.0))
