"""The head report's gate with the comparison's regression rules merged in."""

from __future__ import annotations

from releasegate.config import GateConfig
from releasegate.evals.gate._absolute import ALL_CASES_PASS, DEFAULT_REGRESSION_RULE, apply_gate
from releasegate.results.comparison import Comparison
from releasegate.results.report import EvalReport, GateResult, RuleResult

__all__ = ["merge_gate", "with_comparison"]


def _regression_quality(rule: RuleResult) -> bool:
    return rule.rule == "max_regression" or rule.rule.startswith("critical_tag:")


def with_comparison(gate: GateResult, comparison: Comparison) -> GateResult:
    """The head gate with the comparison's regression rules merged in.

    A configured regression rule that was evaluated (``max_regression``, a critical tag
    with paired cases) is a rule on answer quality: it replaces the default
    :data:`ALL_CASES_PASS` rule, since a relative gate tolerates the failures the
    baseline already had. The comparison's default regression rule, when it applied,
    joins ``defaults``.
    """
    rules, defaults = list(gate.rules), list(gate.defaults)
    quality = [r for r in comparison.rules if _regression_quality(r)]
    if any(not r.default for r in quality):
        for r in rules:
            if r.rule == ALL_CASES_PASS:
                defaults = [d for d in defaults if d != r.message.split(" — ", 1)[0]]
        rules = [r for r in rules if r.rule != ALL_CASES_PASS]
    if any(r.default for r in quality):
        defaults.append(DEFAULT_REGRESSION_RULE)
    rules += comparison.rules
    return gate.model_copy(
        update={
            "passed": all(r.passed for r in rules),
            "rules": rules,
            "warnings": [*gate.warnings, *comparison.warnings],
            "defaults": defaults,
        }
    )


def merge_gate(head: EvalReport, comparison: Comparison, gate: GateConfig) -> GateResult:
    """The gate of a head report compared with its baseline.

    Args:
        head: the head report; its recorded gate is used when present.
        comparison: the comparison of ``head`` against its baseline, with its rules.
        gate: the suite's gate configuration, applied to ``head.summary`` when ``head``
            carries no gate yet.

    Returns:
        :func:`with_comparison` of the head gate and ``comparison``.
    """
    head_gate = head.gate or apply_gate(head.summary, gate)
    return with_comparison(head_gate, comparison)
