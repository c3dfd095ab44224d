"""The gate (SPEC R-1.8): absolute thresholds on a report's summary.

Every configured rule yields a :class:`RuleResult` with the measured value and the
threshold, so a failed gate always says which rule failed and by how much. Regression
rules against a baseline come from :mod:`releasegate.evals.compare` and are merged here.
"""

from __future__ import annotations

from releasegate.config import GateConfig
from releasegate.evals.report import GateResult, RuleResult, Summary

__all__ = ["apply_gate", "unmeasured_limit"]


def unmeasured_limit(budget: float, n_checks: int) -> float:
    """``max_unmeasured`` is a count when >= 1 and a fraction of all checks when < 1."""
    return budget if budget >= 1 else budget * n_checks


def _at_least(rule: str, actual: float | None, threshold: float, what: str) -> RuleResult:
    if actual is None:
        return RuleResult(
            rule=rule, passed=False, threshold=threshold, message=f"no measured {what}"
        )
    ok = actual >= threshold
    verb = ">=" if ok else "<"
    return RuleResult(
        rule=rule,
        passed=ok,
        actual=actual,
        threshold=threshold,
        message=f"{what} {actual:.3f} {verb} {threshold:.3f}",
    )


def _at_most(rule: str, actual: float | None, threshold: float, what: str) -> RuleResult:
    if actual is None:
        return RuleResult(rule=rule, passed=True, threshold=threshold, message=f"no {what}")
    ok = actual <= threshold
    verb = "<=" if ok else ">"
    return RuleResult(
        rule=rule,
        passed=ok,
        actual=actual,
        threshold=threshold,
        message=f"{what} {actual:.4g} {verb} {threshold:.4g}",
    )


def apply_gate(
    summary: Summary,
    gate: GateConfig,
    *,
    extra_rules: list[RuleResult] | None = None,
    warnings: list[str] | None = None,
) -> GateResult:
    """Evaluate every configured rule against ``summary``."""
    rules: list[RuleResult] = []
    if gate.min_score is not None:
        rules.append(_at_least("min_score", summary.mean_score, gate.min_score, "mean score"))
    if gate.min_pass_rate is not None:
        rules.append(_at_least("min_pass_rate", summary.pass_rate, gate.min_pass_rate, "pass rate"))
    for tag, floor in sorted(gate.min_tag_scores.items()):
        stats = summary.by_tag.get(tag)
        rules.append(
            _at_least(
                f"min_tag_score[{tag}]",
                stats.mean_score if stats else None,
                floor,
                f"tag {tag!r} score",
            )
        )
    for check, floor in sorted(gate.min_check_scores.items()):
        stats = summary.by_check.get(check)
        rules.append(
            _at_least(
                f"min_check_score[{check}]",
                stats.mean_score if stats else None,
                floor,
                f"check {check!r} score",
            )
        )
    if gate.max_unmeasured is not None:
        n_checks = summary.n_unmeasured + sum(s.n for s in summary.by_check.values())
        limit = unmeasured_limit(gate.max_unmeasured, n_checks)
        rules.append(
            _at_most("max_unmeasured", float(summary.n_unmeasured), limit, "unmeasured checks")
        )
    if gate.max_error_rate is not None:
        counted = summary.n_results - summary.n_informational  # weight 0 never gates
        rate = summary.n_errors / counted if counted > 0 else None
        rules.append(_at_most("max_error_rate", rate, gate.max_error_rate, "error rate"))
    if gate.max_cost_usd is not None:
        rules.append(_at_most("max_cost_usd", summary.cost_usd, gate.max_cost_usd, "cost $"))
    if gate.max_latency_p95_ms is not None:
        rules.append(
            _at_most(
                "max_latency_p95_ms",
                summary.latency_p95_ms,
                gate.max_latency_p95_ms,
                "latency p95 ms",
            )
        )
    rules.extend(extra_rules or [])
    return GateResult(
        passed=all(r.passed for r in rules), rules=rules, warnings=list(warnings or [])
    )
