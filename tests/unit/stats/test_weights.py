"""One definition of weights, case scores and verdicts: engine, summary and validation."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from releasegate.datasets.case import Case
from releasegate.datasets.dataset import scan_dataset
from releasegate.evals._scoring import CaseScorer
from releasegate.llm import ChatResponse
from releasegate.results.report import CaseResult, CheckResult
from releasegate.results.summary import summarize
from releasegate.results.verdicts import VERDICTS, case_score, case_verdict, counts


def _run(
    asserts: list[dict[str, Any]],
    *,
    weight: float = 1.0,
    output: str = "the refund takes 5 days",
    tags: tuple[str, ...] = (),
    case_id: str = "c",
) -> CaseResult:
    case = Case.model_validate(
        {"id": case_id, "input": "q", "assert": asserts, "weight": weight, "tags": list(tags)}
    )
    scorer = CaseScorer(case_threshold=0.5)
    return asyncio.run(scorer.score(case, 0, ChatResponse(text=output)))


PASS = {"type": "contains", "value": "refund"}
FAIL = {"type": "contains", "value": "no such words"}


# --- the engine --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("asserts", "expected_verdict", "expected_score"),
    [
        # the only check has weight 0 and fails: nothing gates the case
        ([{**FAIL, "weight": 0}], "informational", None),
        # ... even with an explicit threshold
        ([{**FAIL, "weight": 0, "threshold": 1.0}], "informational", None),
        # a failing weight-0 check beside a passing weighted one: the case passes
        ([PASS, {**FAIL, "weight": 0}], "passed", 1.0),
        ([PASS, {**FAIL, "weight": 0, "threshold": 0.9}], "passed", 1.0),
        # a passing weight-0 check cannot rescue a failing weighted one
        ([FAIL, {**PASS, "weight": 0}], "failed", 0.0),
        # mixed weights: 3 * 1 + 1 * 0 over 4
        ([{**PASS, "weight": 3}, FAIL], "passed", 0.75),
        ([PASS, {**FAIL, "weight": 3}], "failed", 0.25),
        # only a not-applicable weighted check (no cost recorded)
        ([{"type": "cost", "value": 1}], "not_applicable", None),
        ([{"type": "cost", "value": 1}, {**FAIL, "weight": 0}], "not_applicable", None),
        ([], "not_applicable", None),
    ],
)
def test_engine_score_and_verdict(
    asserts: list[dict[str, Any]], expected_verdict: str, expected_score: float | None
) -> None:
    result = _run(asserts)
    assert case_verdict(result) == expected_verdict
    if expected_score is None:
        assert result.score is None
    else:
        assert result.score == pytest.approx(expected_score)


@pytest.mark.parametrize("asserts", [[PASS], [FAIL], [PASS, FAIL], [{"type": "cost", "value": 1}]])
def test_weight_zero_case_is_informational_whatever_its_checks(
    asserts: list[dict[str, Any]],
) -> None:
    result = _run(asserts, weight=0)
    assert case_verdict(result) == "informational"
    summary = summarize([result])
    assert (summary.n_passed, summary.n_failed, summary.n_errors) == (0, 0, 0)
    assert summary.n_informational == 1
    assert summary.mean_score is None
    assert summary.pass_rate is None
    assert summary.by_tag == {}
    assert summary.by_check == {}


def test_weight_zero_check_failing_is_never_counted_as_a_failure() -> None:
    """The reported bug: 100% passed, yet listed among failures. Now: informational."""
    results = [_run([PASS], case_id="ok"), _run([{**FAIL, "weight": 0}], case_id="info")]
    summary = summarize(results)
    assert summary.n_passed == 1
    assert summary.n_failed == 0
    assert summary.n_informational == 1
    assert summary.verdicts["informational"] == 1
    assert summary.pass_rate == 1.0
    assert "contains" in summary.by_check
    assert summary.by_check["contains"].n == 1  # the weight-0 check is not in the slice


# --- the summary -------------------------------------------------------------------------


def _check(
    type_: str, value: float | None, *, weight: float = 1.0, status: str | None = None
) -> CheckResult:
    status = status or ("measured" if value is not None else "unmeasured")
    return CheckResult(
        type=type_,
        status=status,  # type: ignore[arg-type]
        value=value,
        passed=None if value is None else value >= 0.5,
        weight=weight,
    )


def _result(
    cid: str,
    checks: list[CheckResult],
    *,
    weight: float = 1.0,
    tags: list[str] | None = None,
    error: str | None = None,
) -> CaseResult:
    score = 0.0 if error else case_score(checks)
    return CaseResult(
        id=cid,
        input="q",
        score=score,
        passed=error is None and score is not None and score >= 0.5,
        error=error,
        weight=weight,
        tags=tags or [],
        checks=[] if error else checks,
    )


def test_mixed_weights_with_tags() -> None:
    results = [
        _result("a", [_check("contains", 1.0)], weight=3, tags=["hw", "x"]),
        _result("b", [_check("contains", 0.0)], weight=1, tags=["hw"]),
        _result("c", [_check("contains", 0.4), _check("regex", 1.0)], weight=2, tags=["x"]),
        _result("d", [_check("contains", 0.0)], weight=0, tags=["hw", "x"]),
        _result("e", [], weight=2, tags=["hw"], error="timeout"),
    ]
    s = summarize(results)
    # c scores 0.7; e errored scores 0 with weight 2; d is informational
    assert s.mean_score == pytest.approx((3 * 1 + 1 * 0 + 2 * 0.7 + 2 * 0) / 8)
    assert s.by_tag["hw"].mean_score == pytest.approx(3 / 6)
    assert s.by_tag["hw"].n == 3
    assert s.by_tag["x"].mean_score == pytest.approx((3 + 1.4) / 5)
    assert s.by_check["contains"].mean_score == pytest.approx((3 * 1 + 0 + 2 * 0.4) / 6)
    assert s.by_check["regex"].mean_score == pytest.approx(1.0)
    assert (s.n_passed, s.n_failed, s.n_errors, s.n_informational) == (2, 2, 1, 1)
    assert s.pass_rate == pytest.approx(0.5)


def test_unmeasured_with_weights() -> None:
    results = [
        # weighted check unmeasured, weight-0 check measured: unmeasured, no score
        _result("a", [_check("llm-judge", None), _check("contains", 1.0, weight=0)]),
        # weight-0 check unmeasured beside a measured one: scored, the unmeasured not counted
        _result("b", [_check("llm-judge", None, weight=0), _check("contains", 0.8)]),
        # one of two weighted checks unmeasured: scored on the other one
        _result("c", [_check("llm-judge", None, weight=5), _check("contains", 0.2)]),
        _result("d", [_check("faithfulness", None, status="not_applicable")]),
    ]
    assert [case_verdict(r) for r in results] == [
        "unmeasured",
        "passed",
        "failed",
        "not_applicable",
    ]
    s = summarize(results)
    assert s.n_unmeasured == 2  # weighted unmeasured checks of a and c
    assert s.n_not_applicable == 1
    assert s.mean_score == pytest.approx(0.5)
    assert s.verdicts == {
        "passed": 1,
        "failed": 1,
        "error": 0,
        "unmeasured": 1,
        "not_applicable": 1,
        "informational": 0,
    }
    assert s.by_check["llm-judge"].n_unmeasured == 2
    assert s.by_check["llm-judge"].n == 0


_weights = st.one_of(st.just(0.0), st.floats(1e-3, 1e6), st.just(1e300))
_checks = st.lists(
    st.tuples(
        st.sampled_from(["contains", "regex", "llm-judge"]),
        st.one_of(st.none(), st.floats(0, 1)),
        _weights,
    ),
    max_size=4,
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(_checks, _weights, st.lists(st.sampled_from(["a", "b"]), max_size=2)),
        max_size=8,
    )
)
def test_summary_counts_follow_the_verdicts(rows: list[Any]) -> None:
    results = [
        _result(
            f"c{i}",
            [_check(t, v, weight=w) for t, v, w in checks],
            weight=weight,
            tags=tags,
        )
        for i, (checks, weight, tags) in enumerate(rows)
    ]
    s = summarize(results)
    c = counts(results)
    assert sum(c.values()) == len(results)
    assert set(c) == set(VERDICTS)
    assert s.verdicts == c
    assert s.n_passed == c["passed"]
    assert s.n_failed == c["failed"] + c["error"]
    assert s.n_informational == c["informational"]
    scored = [r for r in results if case_verdict(r) in ("passed", "failed", "error")]
    if scored:
        assert s.mean_score is not None and math.isfinite(s.mean_score)
        assert -1e-9 <= s.mean_score <= 1 + 1e-9
        assert s.pass_rate == pytest.approx(c["passed"] / len(scored))
    else:
        assert s.mean_score is None and s.pass_rate is None
    for r in results:
        if case_verdict(r) == "informational":
            continue
        assert (r.score is not None) == (case_verdict(r) in ("passed", "failed", "error"))


# --- validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("case", "-1", "weight: must be >= 0, got -1"),
        ("case", ".nan", "weight: must be a finite number"),
        ("case", ".inf", "weight: must be a finite number"),
        ("case", "-.inf", "weight: must be"),
        ("assert", "-0.5", "assert[1].weight: must be >= 0, got -0.5"),
        ("assert", ".nan", "assert[1].weight: must be a finite number"),
        ("assert", ".inf", "assert[1].weight: must be a finite number"),
        ("case", "false", "case 'bad': weight: must be a number, got false"),
        ("assert", "true", "assert[1].weight: must be a number, got true"),
    ],
)
def test_negative_and_non_finite_weights_are_refused_with_their_place(
    tmp_path: Path, field: str, value: str, expected: str
) -> None:
    case_weight = f"\n  weight: {value}" if field == "case" else ""
    check_weight = f"\n      weight: {value}" if field == "assert" else ""
    text = (
        "- id: good\n  input: q\n"
        f"- id: bad\n  input: q{case_weight}\n  assert:\n"
        "    - type: contains\n      value: a\n"
        f"    - type: contains\n      value: b{check_weight}\n"
    )
    path = tmp_path / "data.yaml"
    path.write_text(text, encoding="utf-8")
    dataset, issues = scan_dataset(path)
    assert dataset is not None
    assert [c.id for c in dataset.cases] == ["good"]
    assert len(issues) == 1, issues
    issue = issues[0]
    assert issue.case_id == "bad"
    assert issue.line is not None and issue.line >= 3
    assert expected in str(issue)
    assert "data.yaml" in str(issue)


@pytest.mark.parametrize("weight", [0, 0.0, 1e-9, 2, 1e300])
def test_finite_non_negative_weights_are_accepted(weight: float) -> None:
    case = Case.model_validate(
        {"id": "x", "input": "q", "weight": weight, "assert": [{**PASS, "weight": weight}]}
    )
    assert case.weight == weight
    assert case.asserts[0].weight == weight
