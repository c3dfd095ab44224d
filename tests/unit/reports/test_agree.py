"""Every format tells the same counts for the same report (one definition of verdicts)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from releasegate.reports import render_html, render_junit, render_markdown, render_terminal
from releasegate.results.report import (
    CaseResult,
    CheckResult,
    EvalReport,
    GateResult,
    Identity,
    RuleResult,
)
from releasegate.results.summary import summarize
from releasegate.results.verdicts import case_score, counts

# (checks as (value or None, check weight), case weight, errored)
_KINDS: dict[str, tuple[list[tuple[float | None, float]], float, bool]] = {
    "passed": ([(1.0, 1.0)], 1.0, False),
    "failed": ([(0.0, 1.0)], 1.0, False),
    "failed_heavy": ([(1.0, 1.0), (0.0, 3.0)], 2.0, False),
    "error": ([], 1.0, True),
    "unmeasured": ([(None, 1.0), (1.0, 0.0)], 1.0, False),
    "weight0_check_fails": ([(0.0, 0.0)], 1.0, False),
    "weight0_case_fails": ([(0.0, 1.0)], 0.0, False),
    "weight0_case_errors": ([], 0.0, True),
    "passed_beside_weight0_failure": ([(1.0, 1.0), (0.0, 0.0)], 1.0, False),
    "not_applicable": ([(-1.0, 1.0)], 1.0, False),
}


def _result(i: int, kind: str) -> CaseResult:
    spec, weight, errored = _KINDS[kind]
    checks = [
        CheckResult(
            type=f"check{j}",
            status="measured"
            if v is not None and v >= 0
            else ("unmeasured" if v is None else "not_applicable"),
            value=v if v is not None and v >= 0 else None,
            passed=(v >= 0.5) if v is not None and v >= 0 else None,
            weight=w,
            reason="why",
        )
        for j, (v, w) in enumerate(spec)
    ]
    score = 0.0 if errored else case_score(checks)
    return CaseResult(
        id=f"{kind}-{i}",
        input="q",
        output=None if errored else "out",
        score=score,
        passed=not errored and score is not None and score >= 0.5,
        error="boom" if errored else None,
        weight=weight,
        tags=["t"],
        latency_ms=10.0,
        checks=checks,
    )


def _report(kinds: list[str]) -> EvalReport:
    cases = [_result(i, k) for i, k in enumerate(kinds)]
    summary = summarize(cases)
    gate = GateResult(
        passed=False,
        rules=[
            RuleResult(rule="min_pass_rate", passed=False, actual=summary.pass_rate, threshold=1),
            RuleResult(
                rule="max_regression",
                passed=False,
                actual=-0.12,
                threshold=-0.05,
                message="score delta -0.192, 95% CI [-0.267, -0.120]",
            ),
        ],
    )
    return EvalReport(
        run_id="r1",
        started_at="2025-01-01T00:00:00+00:00",
        finished_at="2025-01-01T00:00:01+00:00",
        duration_s=1.0,
        identity=Identity(suite="pr", tool_version="0"),
        summary=summary,
        gate=gate,
        cases=cases,
    )


def _terminal(report: EvalReport) -> str:
    console = Console(record=True, width=200, color_system=None)
    render_terminal(report, console, max_failures=1000)
    return console.export_text()


def _rendered_counts(report: EvalReport) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    data = EvalReport.from_json(report.to_json()).summary
    out["json"] = {
        "passed": data.n_passed,
        "failed+error": data.n_failed,
        "error": data.n_errors,
        "informational": data.n_informational,
        "no verdict": data.verdicts["unmeasured"]
        + data.verdicts["not_applicable"]
        + data.verdicts["informational"],
    }

    term = _terminal(report)
    m = re.search(r"\((\d+) passed, (\d+) failed\)", term)
    assert m, term
    failing = re.search(r"Worst failing cases \((\d+) of (\d+)\)", term)
    out["terminal"] = {
        "passed": int(m.group(1)),
        "failed+error": int(m.group(2)),
        "error": int(re.search(r"Errors\s+(\d+)", term).group(1)),  # type: ignore[union-attr]
        "listed failing": int(failing.group(2)) if failing else 0,
    }
    nm = re.search(r"Not counted in the pass rate: ([^.]*)", term.replace("\n", " "))
    out["terminal"]["no verdict"] = (
        sum(int(n) for n in re.findall(r"(\d+) \w", nm.group(1))) if nm else 0
    )

    root = ET.fromstring(render_junit(report).split("\n", 1)[1])
    suite = root.find("testsuite")
    assert suite is not None
    failures = [tc for tc in suite.iter("testcase") if tc.find("failure") is not None]
    out["junit"] = {
        "passed": int(suite.get("tests", "0"))
        - int(suite.get("failures", "0"))
        - int(suite.get("errors", "0"))
        - int(suite.get("skipped", "0")),
        "failed+error": int(suite.get("failures", "0")) + int(suite.get("errors", "0")),
        "error": int(suite.get("errors", "0")),
        "no verdict": int(suite.get("skipped", "0")),
        "listed failing": len(failures) + int(suite.get("errors", "0")),
        "informational": sum(
            1
            for tc in suite.iter("testcase")
            if (sk := tc.find("skipped")) is not None
            and sk.get("message", "").startswith("informational")
        ),
    }

    md = render_markdown(report, max_failures=1000)
    m = re.search(r"\((\d+)/(\d+)\)", md)
    assert m, md
    failing = re.search(r"Worst failing cases \((\d+) of (\d+)\)", md)
    nm = re.search(r"Not counted in the pass rate: ([^.]*)", md)
    out["markdown"] = {
        "passed": int(m.group(1)),
        "failed+error": int(m.group(2)) - int(m.group(1)),
        "listed failing": int(failing.group(2)) if failing else 0,
        "no verdict": sum(int(n) for n in re.findall(r"(\d+) \w", nm.group(1))) if nm else 0,
    }

    html = render_html(report, max_failures=1000)
    m = re.search(
        r"All cases \((\d+): passed (\d+), failed (\d+),\s+errors (\d+), unmeasured (\d+),"
        r"\s+not applicable (\d+), informational (\d+)\)",
        html,
    )
    assert m, html
    failing = re.search(r"Worst failing cases \((\d+) of (\d+)\)", html)
    n = [int(g) for g in m.groups()]
    out["html"] = {
        "passed": n[1],
        "failed+error": n[2] + n[3],
        "error": n[3],
        "no verdict": n[4] + n[5] + n[6],
        "informational": n[6],
        "listed failing": int(failing.group(2)) if failing else 0,
    }
    return out


def _check_agreement(report: EvalReport) -> None:
    c = counts(report.cases)
    expected = {
        "passed": c["passed"],
        "failed+error": c["failed"] + c["error"],
        "error": c["error"],
        "informational": c["informational"],
        "no verdict": c["unmeasured"] + c["not_applicable"] + c["informational"],
        "listed failing": c["failed"] + c["error"],
    }
    for fmt, got in _rendered_counts(report).items():
        for key, value in got.items():
            assert value == expected[key], (fmt, key, got, expected)


@pytest.mark.parametrize(
    "kinds",
    [
        ["passed", "weight0_check_fails"],  # the reported case: 1 passed, 1 informational
        ["weight0_case_fails", "weight0_case_errors", "passed"],
        list(_KINDS),
        ["failed_heavy", "passed_beside_weight0_failure", "unmeasured", "not_applicable"],
        ["error", "error", "failed"],
    ],
)
def test_every_format_agrees_on_the_counts(kinds: list[str]) -> None:
    _check_agreement(_report(kinds))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(sorted(_KINDS)), min_size=1, max_size=12))
def test_every_format_agrees_on_any_mix(kinds: list[str]) -> None:
    _check_agreement(_report(kinds))


def test_weight_zero_is_never_a_junit_failure_nor_a_listed_failure() -> None:
    report = _report(["weight0_check_fails", "weight0_case_fails", "weight0_case_errors"])
    xml = render_junit(report)
    assert "<failure" not in xml.split('name="pr gate"')[0]
    assert "<error" not in xml
    assert xml.count("<skipped") == 3
    assert xml.count('message="informational') == 3
    assert report.summary.n_failed == 0
    assert report.summary.pass_rate is None
    md = render_markdown(report)
    assert "Worst failing cases" not in md
    assert "Worst failing cases" not in _terminal(report)


def test_the_regression_rule_shows_its_bound_as_a_bound() -> None:
    report = _report(["passed"])
    term = _terminal(report)
    assert "CI upper bound -0.120" in term
    md = render_markdown(report)
    assert "| CI upper bound -0.120 |" in md
    assert "CI upper bound -0.120" in render_html(report)
    assert "CI upper bound -0.120" in render_junit(report)
