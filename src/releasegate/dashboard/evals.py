"""View functions of the eval reports pages: offline runs stored by ``releasegate eval
--store``, per suite and prompt, and one report with its baseline diff.

The facts come from the stored report itself and the report renderers' shared rules
(:mod:`releasegate.reports`): which results fail, in which order, and why, are the same
as in the terminal, Markdown and HTML reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from releasegate.ports import StoredEvalRun
from releasegate.reports._common import (
    case_label,
    check_name,
    failing_checks,
    has_repeats,
    identity_parts,
    input_text,
    not_gated_note,
    rule_actual,
    verdict,
    worst_failures,
)
from releasegate.results.comparison import Comparison
from releasegate.results.report import CaseResult, EvalReport, RuleResult

if TYPE_CHECKING:
    from releasegate.bootstrap import ControlPlaneParts

__all__ = ["FailingCase", "ReportView", "RunGroup", "eval_runs", "report_view"]

#: Runs listed on the eval reports page.
RUN_LIMIT = 300
#: Failing cases shown on a report page (all are counted).
FAILING_LIMIT = 100


@dataclass(frozen=True, slots=True)
class RunGroup:
    """The runs of one (suite, prompt), newest first."""

    suite: str
    prompt: str | None
    runs: list[StoredEvalRun]


def eval_runs(
    parts: ControlPlaneParts, *, suite: str | None = None, prompt: str | None = None
) -> list[RunGroup]:
    """Stored runs grouped by suite and prompt name (groups sorted by name)."""
    with parts.read_uow_factory() as uow:
        runs = uow.eval_reports.runs(suite=suite, prompt=prompt, limit=RUN_LIMIT)
    groups: dict[tuple[str, str], list[StoredEvalRun]] = {}
    for r in runs:
        groups.setdefault((r.suite, r.prompt_name or ""), []).append(r)
    return [RunGroup(s, p or None, groups[(s, p)]) for s, p in sorted(groups)]


@dataclass(frozen=True, slots=True)
class FailingCase:
    """A failed or errored result and why (each failing check with its judge reason)."""

    label: str
    case: CaseResult
    input: str
    checks: list[tuple[str, float | None, str]]  # (check name, value, reason)


@dataclass(frozen=True, slots=True)
class ReportView:
    """One stored report, ready for the template.

    Attributes:
        report: The report.
        verdict: ``PASS`` / ``FAIL`` / ``STOPPED`` ... with its sentence.
        identity: ``(label, value)`` of what was evaluated.
        rules: The gate's rules with the measured value as reports write it.
        comparison: The baseline comparison, None when the run was not compared.
        failing: The failed and errored results, worst first (at most
            :data:`FAILING_LIMIT`); ``n_failing`` counts them all.
        note: What the pass rate leaves out (unmeasured, not applicable, informational).
    """

    report: EvalReport
    verdict: str
    verdict_detail: str
    identity: list[tuple[str, str]]
    rules: list[tuple[RuleResult, str]]
    comparison: Comparison | None
    failing: list[FailingCase] = field(default_factory=list)
    n_failing: int = 0
    note: str = ""


def report_view(parts: ControlPlaneParts, run_id: str) -> ReportView | None:
    """The stored report of ``run_id``, or None."""
    with parts.read_uow_factory() as uow:
        report = uow.eval_reports.get(run_id)
    if report is None:
        return None
    v = verdict(report)
    comparison = (
        Comparison.model_validate(report.comparison) if report.comparison is not None else None
    )
    repeats = has_repeats(report)
    bad = worst_failures(report)
    failing = [
        FailingCase(
            label=case_label(c, repeats),
            case=c,
            input=input_text(c),
            checks=[(check_name(k), k.value, k.reason) for k in failing_checks(c)],
        )
        for c in bad[:FAILING_LIMIT]
    ]
    rules = [(r, rule_actual(r)) for r in (report.gate.rules if report.gate else [])]
    return ReportView(
        report=report,
        verdict=v.label,
        verdict_detail=v.detail,
        identity=identity_parts(report.identity),
        rules=rules,
        comparison=comparison,
        failing=failing,
        n_failing=len(bad),
        note=not_gated_note(report),
    )
