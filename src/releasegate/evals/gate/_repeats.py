"""Gate rules over repeated runs (``--repeat`` > 1): pass^k and flaky cases."""

from __future__ import annotations

from releasegate.config import GateConfig
from releasegate.results.report import EvalReport, RuleResult

__all__ = ["flaky_cases", "pass_k_rule", "repeat_rules"]


def flaky_cases(report: EvalReport) -> list[str]:
    """Ids of cases whose repeats disagree on pass/fail (sorted)."""
    from releasegate.evals._per_case import case_rows  # numpy: only for repeated runs

    return sorted(
        a.id
        for a in case_rows(report).values()
        if not a.informational and 0 < a.n_passed < a.n_repeats
    )


def pass_k_rule(report: EvalReport, gate: GateConfig) -> RuleResult | None:
    """The ``min_pass_repeats`` rule (pass^k): every case passes in at least k repeats.

    Returns ``None`` when the gate does not set ``min_pass_repeats``.
    """
    k = gate.min_pass_repeats
    if k is None:
        return None
    from releasegate.evals._per_case import case_rows  # numpy: only for repeated runs

    aggs = [a for a in case_rows(report).values() if not a.informational]
    short = sorted(a.id for a in aggs if a.n_passed < k)
    repeats = max((a.n_repeats for a in aggs), default=0)
    msg = f"{len(short)} case(s) passed in fewer than {k} repeat(s)"
    if repeats < k:
        msg += f"; the run has only {repeats} repeat(s) — run with --repeat {k} or more"
    elif short:
        msg += ": " + ", ".join(short[:10]) + (" ..." if len(short) > 10 else "")
    return RuleResult(
        rule="min_pass_repeats",
        passed=not short,
        actual=float(len(short)),
        threshold=float(k),
        message=msg,
    )


def repeat_rules(
    report: EvalReport, gate: GateConfig, repeat: int
) -> tuple[list[RuleResult], list[str]]:
    """The rules and warnings of a run with ``repeat`` repeats per case.

    Returns:
        ``([pass^k rule], [flaky-case warning])``, each list empty when it does not
        apply; both empty for a single-repeat run.
    """
    if repeat <= 1:
        return [], []
    rules: list[RuleResult] = []
    warnings: list[str] = []
    pass_k = pass_k_rule(report, gate)
    if pass_k is not None:
        rules.append(pass_k)
    flaky = flaky_cases(report)
    if flaky:
        shown = ", ".join(flaky[:10]) + (" ..." if len(flaky) > 10 else "")
        warnings.append(f"{len(flaky)} flaky case(s), repeats disagree on pass/fail: {shown}")
    return rules, warnings
