"""Report fixtures: real EvalReport objects covering the shapes renderers must handle."""

from __future__ import annotations

from typing import Any

import pytest

from releasegate.results.report import (
    CaseResult,
    CheckResult,
    EvalReport,
    GateResult,
    Identity,
    RuleResult,
    SliceStats,
    Summary,
    TokenTotals,
)

HOSTILE = (
    "</testcase></testsuite>]]><![CDATA[x]]> \x00\x01\x1b[2J\x0b | a | b | `code` ``` "
    '<script>alert("x")</script> <img src=x onerror=alert(1)> &amp; [bold]markup[/bold] '
    "@octocat **bold** <!-- comment --> </details> \r\ud800 \ufffe end"
)
UNICODE = "Ünïcødé 日本語の答え — émoji 🚀 RTL \u202eevil\u202c"


def check(
    type_: str = "contains",
    value: float | None = 1.0,
    *,
    status: str = "measured",
    passed: bool | None = None,
    reason: str = "",
    threshold: float | None = 0.5,
    judge_tokens: int = 0,
    judge_cost_usd: float = 0.0,
) -> CheckResult:
    if passed is None and status == "measured" and value is not None:
        passed = value >= (threshold if threshold is not None else 0.5)
    return CheckResult.model_validate(
        {
            "type": type_,
            "status": status,
            "value": value if status == "measured" else None,
            "passed": passed if status == "measured" else None,
            "threshold": threshold,
            "reason": reason,
            "judge_tokens": judge_tokens,
            "judge_cost_usd": judge_cost_usd,
        }
    )


def case(
    id_: str,
    score: float | None,
    *,
    checks: list[CheckResult] | None = None,
    output: str | None = "an answer",
    error: str | None = None,
    repeat: int = 0,
    tags: list[str] | None = None,
    latency_ms: float | None = 120.0,
    input_: str | dict[str, Any] = "a question",
    passed: bool | None = None,
) -> CaseResult:
    if checks is None:
        checks = [check("contains", score)] if score is not None else []
    if passed is None:
        passed = error is None and score is not None and score >= 0.5
    return CaseResult(
        id=id_,
        repeat=repeat,
        input=input_,
        output=output,
        score=score,
        passed=passed,
        error=error,
        latency_ms=latency_ms,
        prompt_tokens=100,
        completion_tokens=20,
        cost_usd=0.0003,
        tags=tags or [],
        checks=checks,
    )


def build_report(
    cases: list[CaseResult],
    *,
    suite: str = "pr",
    gate: GateResult | None = None,
    status: str = "complete",
    stop_reason: str | None = None,
    repeat: int = 1,
    by_tag: dict[str, SliceStats] | None = None,
    by_check: dict[str, SliceStats] | None = None,
    identity: dict[str, Any] | None = None,
) -> EvalReport:
    """An EvalReport whose summary is computed from ``cases`` (simply, for display)."""
    scores = [c.score for c in cases if c.score is not None]
    n_passed = sum(c.passed for c in cases)
    mean = sum(scores) / len(scores) if scores else None
    lat = [c.latency_ms for c in cases if c.latency_ms is not None]
    n_unmeasured = sum(ch.status == "unmeasured" for c in cases for ch in c.checks)
    summary = Summary(
        n_cases=len({c.id for c in cases}),
        n_results=len(cases),
        n_passed=n_passed,
        n_failed=len(cases) - n_passed,
        n_errors=sum(c.error is not None for c in cases),
        n_unmeasured=n_unmeasured,
        n_not_applicable=sum(ch.status == "not_applicable" for c in cases for ch in c.checks),
        mean_score=mean,
        std=0.1234 if scores else None,
        p10=min(scores) if scores else None,
        p50=sorted(scores)[len(scores) // 2] if scores else None,
        p90=max(scores) if scores else None,
        pass_rate=n_passed / len(cases) if cases else None,
        latency_mean_ms=sum(lat) / len(lat) if lat else None,
        latency_p95_ms=max(lat) if lat else None,
        tokens=TokenTotals(
            prompt=100 * len(cases), completion=20 * len(cases), total=120 * len(cases)
        ),
        cost_usd=0.0003 * len(cases),
        judge_tokens=sum(ch.judge_tokens for c in cases for ch in c.checks),
        judge_cost_usd=sum(ch.judge_cost_usd for c in cases for ch in c.checks),
        by_tag=by_tag or {},
        by_check=by_check or {},
    )
    ident: dict[str, Any] = {
        "suite": suite,
        "prompt_name": "support-answer",
        "prompt_version": "1.4.0",
        "prompt_hash": "sha256:4f2a9c0d11e2b3a4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c",
        "model": "gpt-4o-mini-2024-07-18",
        "params": {"temperature": 0.0},
        "provider": "openai",
        "datasets": ["datasets/pr.yaml"],
        "dataset_hash": "sha256:9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d",
        "judge_model": "gpt-4o-2024-08-06",
        "repeat": repeat,
        "tool_version": "0.1.0",
    }
    ident.update(identity or {})
    return EvalReport.model_validate(
        {
            "run_id": "run-20250101-abcdef",
            "started_at": "2025-01-01T12:00:00+00:00",
            "finished_at": "2025-01-01T12:00:42+00:00",
            "duration_s": 42.5,
            "identity": Identity.model_validate(ident).model_dump(),
            "summary": summary.model_dump(),
            "gate": gate.model_dump() if gate is not None else None,
            "status": status,
            "stop_reason": stop_reason,
            "cases": [c.model_dump() for c in cases],
        }
    )


def passing_gate() -> GateResult:
    return GateResult(
        passed=True,
        rules=[
            RuleResult(rule="min_score", passed=True, actual=0.91, threshold=0.8),
            RuleResult(rule="min_pass_rate", passed=True, actual=1.0, threshold=0.9),
        ],
    )


def failing_gate() -> GateResult:
    return GateResult(
        passed=False,
        rules=[
            RuleResult(
                rule="min_score",
                passed=False,
                actual=0.62,
                threshold=0.8,
                message="mean score 0.620 < 0.8",
            ),
            RuleResult(rule="max_error_rate", passed=True, actual=0.1, threshold=0.2),
            RuleResult(
                rule="min_tag_scores[billing]",
                passed=False,
                actual=0.3,
                threshold=0.7,
                message="tag billing 0.300 < 0.7",
            ),
        ],
        warnings=["model alias 'gpt-4o' is not pinned"],
    )


@pytest.fixture
def all_passed() -> EvalReport:
    cases = [
        case("greeting", 1.0, tags=["smoke"]),
        case("refund-policy", 0.9, tags=["billing"]),
        case("shipping-time", 0.8, tags=["smoke", "logistics"]),
    ]
    return build_report(
        cases,
        gate=passing_gate(),
        by_tag={
            "smoke": SliceStats(n=2, mean_score=0.9, pass_rate=1.0),
            "billing": SliceStats(n=1, mean_score=0.9, pass_rate=1.0),
            "logistics": SliceStats(n=1, mean_score=0.8, pass_rate=1.0),
        },
        by_check={"contains": SliceStats(n=3, mean_score=0.9, pass_rate=1.0)},
    )


@pytest.fixture
def mixed() -> EvalReport:
    """Passed, failed (with judge reasons), errored, unmeasured-only and no-tag cases."""
    cases = [
        case("ok-1", 0.95, tags=["smoke"]),
        case(
            "refund-wrong",
            0.2,
            tags=["billing"],
            checks=[
                check("contains", 0.0, reason="missing 'within 30 days'"),
                check(
                    "llm_judge",
                    0.4,
                    reason="The answer invents a 90-day refund window.",
                    judge_tokens=350,
                    judge_cost_usd=0.0021,
                ),
                check("max_words", 1.0),
            ],
            output="You can get a refund within 90 days, no questions asked.",
        ),
        case(
            "judge-down",
            None,
            tags=["billing"],
            checks=[
                check("llm_judge", None, status="unmeasured", reason="judge timed out"),
                check("faithfulness", None, status="not_applicable", reason="no context"),
            ],
            passed=False,
        ),
        case("timeout", None, error="ProviderError: read timeout after 30s", output=None),
        case("low-no-checks-fail", 0.45, checks=[], tags=[]),
    ]
    return build_report(
        cases,
        gate=failing_gate(),
        by_tag={
            "billing": SliceStats(n=2, mean_score=0.3, pass_rate=0.0, n_unmeasured=1),
            "smoke": SliceStats(n=1, mean_score=0.95, pass_rate=1.0),
        },
        by_check={
            "contains": SliceStats(n=2, mean_score=0.475, pass_rate=0.5),
            "llm_judge": SliceStats(n=2, mean_score=0.4, pass_rate=0.0, n_unmeasured=1),
            "faithfulness": SliceStats(n=0, mean_score=None, pass_rate=None),
        },
    )


@pytest.fixture
def repeated() -> EvalReport:
    cases = [case("flaky", s, repeat=r, tags=["smoke"]) for r, s in enumerate([1.0, 0.0, 1.0])] + [
        case("steady", 1.0, repeat=r) for r in range(3)
    ]
    return build_report(cases, repeat=3, gate=passing_gate())


@pytest.fixture
def hostile() -> EvalReport:
    """Outputs, ids, reasons and tags full of markup, control characters and unicode."""
    big = ("lorem ipsum | " * 20_000) + HOSTILE
    cases = [
        case(
            f"evil{i}</testcase>|`x`<b>",
            0.1,
            tags=["<script>alert(1)</script>", "a|b"],
            checks=[check("regex", 0.0, reason=HOSTILE)],
            output=HOSTILE + UNICODE,
            input_={"question": HOSTILE, "lang": "日本語"},
        )
        for i in range(3)
    ] + [
        case("huge-output", 0.0, output=big, checks=[check("max_words", 0.0, reason="too long")]),
        case("unicode", 0.3, output=UNICODE, checks=[check("llm_judge", 0.3, reason=UNICODE)]),
        case("err\x00or", None, error=HOSTILE, output=None),
    ]
    return build_report(
        cases,
        suite="night|ly <b>",
        gate=GateResult(
            passed=False,
            rules=[
                RuleResult(
                    rule="min_score", passed=False, actual=0.1, threshold=0.8, message=HOSTILE
                )
            ],
            warnings=[HOSTILE],
        ),
        by_tag={
            "<script>alert(1)</script>": SliceStats(n=3, mean_score=0.1, pass_rate=0.0),
            "a|b": SliceStats(n=3, mean_score=0.1, pass_rate=0.0),
        },
        by_check={"regex": SliceStats(n=3, mean_score=0.0, pass_rate=0.0)},
        identity={"prompt_name": "p<script>", "model": "m|x`y`"},
    )


@pytest.fixture
def many_failures() -> EvalReport:
    """Two thousand failing cases with long outputs: every size limit is reached."""
    cases = [
        case(
            f"case-{i:04d}",
            (i % 40) / 100,
            tags=[f"tag-{i % 120}"],
            checks=[check("llm_judge", (i % 40) / 100, reason="Too vague. " * 30)],
            output="A long answer. " * 200,
        )
        for i in range(2000)
    ]
    return build_report(
        cases,
        gate=failing_gate(),
        by_tag={f"tag-{t}": SliceStats(n=17, mean_score=0.2, pass_rate=0.0) for t in range(120)},
    )


@pytest.fixture
def stopped() -> EvalReport:
    return build_report(
        [case("a", 1.0), case("b", 0.9)],
        status="stopped",
        stop_reason="budget of $1.00 reached after 2 of 40 cases",
    )


@pytest.fixture
def empty() -> EvalReport:
    return build_report([], status="failed", stop_reason="every case errored")


@pytest.fixture
def all_reports(
    all_passed: EvalReport,
    mixed: EvalReport,
    repeated: EvalReport,
    hostile: EvalReport,
    stopped: EvalReport,
    empty: EvalReport,
) -> dict[str, EvalReport]:
    return {
        "all_passed": all_passed,
        "mixed": mixed,
        "repeated": repeated,
        "hostile": hostile,
        "stopped": stopped,
        "empty": empty,
    }
