"""Build small EvalReport objects for comparison tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from releasegate.results.report import (
    CaseResult,
    CheckResult,
    EvalReport,
    Identity,
    Summary,
    TokenTotals,
)


@dataclass
class Row:
    """One (case, repeat) result."""

    id: str
    score: float | None
    passed: bool | None = None
    tags: list[str] = field(default_factory=list)
    repeat: int = 0
    cost: float = 0.0
    latency: float | None = None
    checks: dict[str, float] = field(default_factory=dict)
    reason: str = ""
    error: str | None = None
    weight: float = 1.0


def make_report(rows: list[Row], *, run_id: str = "run", dataset_hash: str = "d1") -> EvalReport:
    cases = []
    for r in rows:
        passed = r.passed if r.passed is not None else (r.score is not None and r.score >= 0.5)
        cases.append(
            CaseResult(
                id=r.id,
                repeat=r.repeat,
                input=f"input of {r.id}",
                output=f"output of {r.id}",
                score=r.score,
                passed=passed,
                error=r.error,
                latency_ms=r.latency,
                cost_usd=r.cost,
                tags=r.tags,
                weight=r.weight,
                checks=[
                    CheckResult(
                        type=k,
                        status="measured",
                        value=v,
                        passed=v >= 0.5,
                        reason=r.reason if v < 0.5 else "",
                    )
                    for k, v in r.checks.items()
                ],
            )
        )
    summary = Summary(
        n_cases=len({r.id for r in rows}),
        n_results=len(rows),
        n_passed=sum(c.passed for c in cases),
        n_failed=sum(not c.passed for c in cases),
        n_errors=sum(c.error is not None for c in cases),
        n_unmeasured=0,
        n_not_applicable=0,
        mean_score=None,
        std=None,
        p10=None,
        p50=None,
        p90=None,
        pass_rate=None,
        latency_mean_ms=None,
        latency_p95_ms=None,
        tokens=TokenTotals(),
        cost_usd=sum(r.cost for r in rows),
    )
    return EvalReport(
        run_id=run_id,
        started_at="2025-01-01T00:00:00Z",
        finished_at="2025-01-01T00:00:01Z",
        duration_s=1.0,
        identity=Identity(suite="pr", dataset_hash=dataset_hash, tool_version="0.1.0"),
        summary=summary,
        cases=cases,
    )
