"""Offline eval reports for store and dashboard tests: a baseline and a head run of the
same cases, the head compared with the baseline by the real comparison."""

from __future__ import annotations

from releasegate.evals.comparison import compare_reports
from releasegate.results.report import CaseResult, CheckResult, EvalReport, GateResult, Identity
from releasegate.results.summary import summarize
from releasegate.results.verdicts import case_score

__all__ = ["eval_report", "report_pair"]


def _case(i: int, value: float, *, output: str, reason: str) -> CaseResult:
    checks = [
        CheckResult(type="contains", status="measured", value=1.0, passed=True, label="assert[0]"),
        CheckResult(
            type="llm-judge",
            status="measured",
            value=value,
            passed=value >= 0.5,
            reason=reason,
            label="assert[1]",
        ),
    ]
    score = case_score(checks)
    return CaseResult(
        id=f"case-{i}",
        input=f"question {i}",
        output=output,
        score=score,
        passed=score is not None and score >= 0.75,
        tags=["billing" if i % 2 else "refunds"],
        latency_ms=100.0 + i,
        prompt_tokens=20,
        completion_tokens=10,
        cost_usd=0.0001,
        checks=checks,
    )


def eval_report(
    run_id: str,
    *,
    suite: str = "pr",
    prompt: str = "support",
    version: str = "1.0.0",
    started_at: str = "2030-05-01T12:00:00+00:00",
    bad: frozenset[int] = frozenset(),
    n: int = 12,
    bad_output: str = "a wrong answer",
) -> EvalReport:
    """A report of ``n`` cases; the cases in ``bad`` fail their judge check."""
    cases = [
        _case(
            i,
            0.1 if i in bad else 0.9,
            output=bad_output if i in bad else f"answer {i}",
            reason="The answer contradicts the reference." if i in bad else "Correct.",
        )
        for i in range(n)
    ]
    summary = summarize(cases)
    return EvalReport(
        run_id=run_id,
        started_at=started_at,
        finished_at=started_at,
        duration_s=1.0,
        identity=Identity(
            suite=suite,
            prompt_name=prompt,
            prompt_version=version,
            model="gpt-4o-2024-11-20",
            tool_version="0",
            provider="scripted",
        ),
        summary=summary,
        gate=GateResult(passed=not bad),
        cases=cases,
    )


def report_pair(*, bad_output: str = "a wrong answer") -> tuple[EvalReport, EvalReport]:
    """(baseline, head): head fails three cases the baseline passed, and carries the
    comparison with the baseline as ``releasegate eval --baseline`` stores it."""
    base = eval_report("run-base", version="1.0.0", started_at="2030-05-01T12:00:00+00:00")
    head = eval_report(
        "run-head",
        version="1.1.0",
        started_at="2030-05-02T12:00:00+00:00",
        bad=frozenset({1, 4, 7}),
        bad_output=bad_output,
    )
    comparison = compare_reports(base, head)
    head = head.model_copy(update={"comparison": comparison.model_dump(mode="json")})
    return base, head
