"""Absolute gate rules on a report's summary, and their defaults.

Every configured rule yields a :class:`RuleResult` with the measured value and the
threshold, so a failed gate always says which rule failed and by how much.

No configuration turns evident failure green (see ``docs/ci.md``, "Gate defaults"):

* when the gate has no rule on answer quality that can fail (no gate at all, ``gate:
  {}``, only cost/latency/error rules, floors of 0, regression rules without a
  baseline), the default rule :data:`ALL_CASES_PASS` applies: every case must pass its
  case threshold, like a test runner;
* when ``max_unmeasured`` is not set, the default budget
  :data:`DEFAULT_UNMEASURED_BUDGET` (a fraction of all checks) applies;
* a quality rule over no measured value fails ("no measured mean score").

Each default that applied is named in its rule's message and in ``GateResult.defaults``.
"""

from __future__ import annotations

from releasegate.config import GateConfig
from releasegate.results.report import GateResult, RuleResult, Summary

__all__ = [
    "ALL_CASES_PASS",
    "DEFAULT_REGRESSION_RULE",
    "DEFAULT_UNMEASURED_BUDGET",
    "apply_gate",
    "has_quality_rule",
    "has_regression_rule",
    "unmeasured_limit",
]

#: name of the default rule "every case must pass its case threshold"
ALL_CASES_PASS = "all_cases_pass"
#: ``max_unmeasured`` when the gate does not set it: 10% of all checks
DEFAULT_UNMEASURED_BUDGET = 0.1
#: what a comparison applies when no regression rule was given
DEFAULT_REGRESSION_RULE = (
    "default regression rule: fail on a statistically evident drop "
    "(the score delta's 95% CI upper bound below 0)"
)


def unmeasured_limit(budget: float, n_checks: int) -> float:
    """``max_unmeasured`` is a count when >= 1 and a fraction of all checks when < 1."""
    return budget if budget >= 1 else budget * n_checks


def has_quality_rule(gate: GateConfig, rules: list[RuleResult] | None = None) -> bool:
    """Whether ``gate`` has an absolute rule on answer quality that can fail.

    ``min_score``, ``min_pass_rate``, a ``min_tag_scores`` or ``min_check_scores`` floor
    count when above 0 (a floor of 0 never fails on a measured run); ``min_pass_repeats``
    counts when its rule is among ``rules`` (it is evaluated only with ``--repeat`` > 1).
    Cost, latency, error-rate and unmeasured budgets say nothing about the answers.
    """
    floors = [
        gate.min_score,
        gate.min_pass_rate,
        *gate.min_tag_scores.values(),
        *gate.min_check_scores.values(),
    ]
    if any(f is not None and f > 0 for f in floors):
        return True
    return any(r.rule == "min_pass_repeats" for r in rules or [])


def has_regression_rule(gate: GateConfig) -> bool:
    """Whether ``gate`` has a rule on the score versus a baseline that can fail:
    ``max_regression`` below 1 (a drop larger than 1 is impossible) or a critical tag."""
    return (gate.max_regression is not None and gate.max_regression < 1) or bool(gate.critical_tags)


def _why_default(gate: GateConfig) -> str:
    if not (gate.model_fields_set - {"case_threshold"}):
        return "no gate configured"
    if has_regression_rule(gate):
        return "no absolute quality rule; the regression rules need a baseline"
    return "the gate has no quality rule that can fail"


def _all_cases_pass(summary: Summary, gate: GateConfig, why: str) -> RuleResult:
    """The default rule: every result passed its case threshold (scored, not errored).

    Informational results (weight 0) are reported, never gated, so they are not counted.
    """
    n = summary.n_results - summary.n_informational
    unscored = max(0, n - summary.n_passed - summary.n_failed)
    not_passed = n - summary.n_passed
    head = (
        f"default rule ({why}): every case must pass its case threshold {gate.case_threshold:.2f}"
    )
    if n == 0:
        detail = "no case result to judge"
    elif not_passed == 0:
        detail = f"all {n} passed"
    else:
        parts = [f"{summary.n_failed} failed"]
        if summary.n_errors:
            parts.append(f"{summary.n_errors} of them errored")
        if unscored:
            parts.append(f"{unscored} had no measured check")
        detail = f"{not_passed} of {n} did not pass ({', '.join(parts)})"
    return RuleResult(
        rule=ALL_CASES_PASS,
        passed=n > 0 and not_passed == 0,
        actual=float(not_passed),
        threshold=0.0,
        message=f"{head} — {detail}",
        default=True,
    )


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


def _unmeasured(summary: Summary, gate: GateConfig) -> tuple[RuleResult, str | None]:
    n_checks = summary.n_unmeasured + sum(s.n for s in summary.by_check.values())
    budget = gate.max_unmeasured
    note = None
    if budget is None:
        budget = DEFAULT_UNMEASURED_BUDGET
        note = (
            f"max_unmeasured not set: default budget of {budget:.0%} of the checks "
            "may be unmeasured"
        )
    rule = _at_most(
        "max_unmeasured",
        float(summary.n_unmeasured),
        unmeasured_limit(budget, n_checks),
        "unmeasured checks",
    )
    if note is not None:
        rule = rule.model_copy(update={"message": f"{rule.message} ({note})", "default": True})
    return rule, note


def apply_gate(
    summary: Summary,
    gate: GateConfig,
    *,
    extra_rules: list[RuleResult] | None = None,
    warnings: list[str] | None = None,
) -> GateResult:
    """Evaluate every configured rule, and the defaults, against ``summary``.

    Args:
        summary: the run's summary.
        gate: the suite's gate configuration (recorded in ``GateResult.config``).
        extra_rules: rules computed elsewhere (``min_pass_repeats``), appended.
        warnings: warnings to carry into the result.

    Returns:
        The verdict; ``defaults`` names each default that applied.
    """
    rules: list[RuleResult] = []
    defaults: list[str] = []
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
    unmeasured, note = _unmeasured(summary, gate)
    rules.append(unmeasured)
    if note is not None:
        defaults.append(note)
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
    extra = list(extra_rules or [])
    if not has_quality_rule(gate, extra):
        rule = _all_cases_pass(summary, gate, _why_default(gate))
        rules.insert(0, rule)
        defaults.insert(0, rule.message.split(" — ", 1)[0])
    rules.extend(extra)
    return GateResult(
        passed=all(r.passed for r in rules),
        rules=rules,
        warnings=list(warnings or []),
        config=gate.model_dump(mode="json"),
        defaults=defaults,
    )
