"""The gate's defaults: no configuration turns evident failure green.

A gate without a quality rule that can fail gets the default rule "every case must pass
its case threshold"; an unset unmeasured budget gets the default budget; every default
that applied is named in the rule and in ``GateResult.defaults``; the configuration the
run was gated under is recorded.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from releasegate.config import GateConfig
from releasegate.evals.gate import (
    ALL_CASES_PASS,
    DEFAULT_REGRESSION_RULE,
    apply_gate,
    has_quality_rule,
    with_comparison,
)
from releasegate.results.report import CaseResult, CheckResult, EvalReport, RuleResult
from releasegate.results.summary import summarize
from tests.unit.compare._reports import Row, make_report


def _check(status: str, value: float | None = None) -> CheckResult:
    passed = None if value is None else value >= 1.0
    return CheckResult(type="contains", status=status, value=value, passed=passed)  # type: ignore[arg-type]


def case(cid: str, kind: str) -> CaseResult:
    """One result: ``pass``, ``fail``, ``error``, ``unmeasured`` or ``na``."""
    if kind == "error":
        return CaseResult(id=cid, input="q", score=0.0, passed=False, error="HTTP 500")
    checks = {
        "pass": [_check("measured", 1.0)],
        "fail": [_check("measured", 0.0)],
        "unmeasured": [_check("unmeasured")],
        "na": [_check("not_applicable")],
    }[kind]
    score = {"pass": 1.0, "fail": 0.0}.get(kind)
    return CaseResult(
        id=cid, input="q", output="a", score=score, passed=kind == "pass", checks=checks
    )


def run(kinds: list[str], gate: GateConfig, extra: list[RuleResult] | None = None):  # type: ignore[no-untyped-def]
    results = [case(f"c{i:02d}", k) for i, k in enumerate(kinds)]
    return apply_gate(summarize(results), gate, extra_rules=extra)


# Gates that have no rule on answer quality that can fail.
NO_QUALITY_RULE: list[tuple[str, dict[str, Any]]] = [
    ("no gate", {}),
    ("only case_threshold", {"case_threshold": 0.7}),
    ("only cost", {"max_cost_usd": 100.0}),
    ("cost latency errors", {"max_latency_p95_ms": 1e6, "max_error_rate": 1.0}),
    ("zero floors", {"min_score": 0.0, "min_pass_rate": 0.0}),
    ("zero check floor", {"min_check_scores": {"contains": 0}}),
    ("regression rules only", {"max_regression": 0.05, "critical_tags": ["safety"]}),
    ("generous unmeasured budget", {"max_unmeasured": 1000}),
]

FAILING_RUNS: list[tuple[str, list[str]]] = [
    ("one failure", ["pass"] * 9 + ["fail"]),
    ("all fail", ["fail"] * 5),
    ("one error", ["pass", "pass", "error"]),
    ("every case unmeasured", ["unmeasured"] * 4),
    ("every case not applicable", ["na"] * 3),
    ("mixed", ["pass", "fail", "error", "unmeasured", "na"]),
    ("no case at all", []),
]


@pytest.mark.parametrize(("label", "config"), NO_QUALITY_RULE, ids=[n for n, _ in NO_QUALITY_RULE])
@pytest.mark.parametrize(("what", "kinds"), FAILING_RUNS, ids=[n for n, _ in FAILING_RUNS])
def test_no_quality_rule_fails_when_a_case_does_not_pass(
    label: str, config: dict[str, Any], what: str, kinds: list[str]
) -> None:
    gate = run(kinds, GateConfig(**config))
    assert not gate.passed
    default = next(r for r in gate.rules if r.rule == ALL_CASES_PASS)
    assert not default.passed
    assert "default rule" in default.message
    assert "every case must pass its case threshold" in default.message
    assert gate.defaults and gate.defaults[0].startswith("default rule (")
    assert default.actual == float(sum(k != "pass" for k in kinds))


@pytest.mark.parametrize(("label", "config"), NO_QUALITY_RULE, ids=[n for n, _ in NO_QUALITY_RULE])
@pytest.mark.parametrize("n", [1, 7])
def test_no_quality_rule_passes_when_every_case_passes(
    label: str, config: dict[str, Any], n: int
) -> None:
    gate = run(["pass"] * n, GateConfig(**config))
    assert gate.passed, [r.message for r in gate.rules]
    default = next(r for r in gate.rules if r.rule == ALL_CASES_PASS)
    assert default.passed and f"all {n} passed" in default.message


@pytest.mark.parametrize(
    "kinds", [["pass", "info_fail"], ["pass", "pass", "info_fail", "info_fail"], ["info_pass"]]
)
def test_the_default_rule_never_counts_informational_cases(kinds: list[str]) -> None:
    """A weight-0 case is reported, never gated: a failing one does not fail the default."""
    results = []
    for i, k in enumerate(kinds):
        if k.startswith("info_"):
            c = case(f"c{i:02d}", k.removeprefix("info_")).model_copy(update={"weight": 0.0})
        else:
            c = case(f"c{i:02d}", k)
        results.append(c)
    gate = apply_gate(summarize(results), GateConfig())
    default = next(r for r in gate.rules if r.rule == ALL_CASES_PASS)
    n_gated = sum(not k.startswith("info_") for k in kinds)
    assert default.passed is (n_gated > 0)
    assert default.actual == 0.0


@pytest.mark.parametrize(
    ("config", "why"),
    [
        ({}, "no gate configured"),
        ({"case_threshold": 0.9}, "no gate configured"),
        ({"max_cost_usd": 1.0}, "no quality rule that can fail"),
        ({"min_score": 0.0}, "no quality rule that can fail"),
        ({"max_regression": 0.1}, "regression rules need a baseline"),
    ],
)
def test_the_default_says_why_it_applied(config: dict[str, Any], why: str) -> None:
    gate = run(["fail"], GateConfig(**config))
    assert why in gate.defaults[0]
    threshold = GateConfig(**config).case_threshold
    assert f"case threshold {threshold:.2f}" in gate.rules[0].message


@pytest.mark.parametrize(
    "config",
    [
        {"min_score": 0.5},
        {"min_pass_rate": 0.2},
        {"min_tag_scores": {"x": 0.1}},
        {"min_check_scores": {"contains": 0.3}},
        {"min_score": 0.0, "min_pass_rate": 0.01},
    ],
)
def test_a_quality_rule_that_can_fail_replaces_the_default(config: dict[str, Any]) -> None:
    gate_config = GateConfig(**config)
    assert has_quality_rule(gate_config)
    gate = run(["pass", "fail"], gate_config)
    assert all(r.rule != ALL_CASES_PASS for r in gate.rules)
    assert not any("default rule" in d for d in gate.defaults)


def test_min_pass_repeats_counts_only_when_it_was_evaluated() -> None:
    gate_config = GateConfig(min_pass_repeats=2)
    assert not has_quality_rule(gate_config)  # repeat 1: the rule is never evaluated
    pass_k = RuleResult(rule="min_pass_repeats", passed=True, actual=0.0, threshold=2.0)
    assert has_quality_rule(gate_config, [pass_k])
    assert run(["fail"], gate_config).rules[0].rule == ALL_CASES_PASS
    assert all(r.rule != ALL_CASES_PASS for r in run(["fail"], gate_config, [pass_k]).rules)


@pytest.mark.parametrize(
    ("config", "kinds"),
    [
        ({"min_score": 0.5}, ["unmeasured"] * 3),
        ({"min_pass_rate": 0.5}, ["na"] * 2),
        ({"min_tag_scores": {"absent": 0.5}}, ["pass"]),
        ({"min_check_scores": {"llm-judge": 0.5}}, ["pass", "pass"]),
    ],
)
def test_a_quality_rule_over_nothing_measured_fails(
    config: dict[str, Any], kinds: list[str]
) -> None:
    gate = run(kinds, GateConfig(**config))
    assert not gate.passed
    assert any(not r.passed and r.message.startswith("no measured") for r in gate.rules)


@pytest.mark.parametrize(
    ("n_unmeasured", "n_measured", "passes"),
    [(0, 10, True), (1, 10, True), (1, 9, True), (2, 8, False), (5, 5, False), (3, 0, False)],
)
def test_default_unmeasured_budget_is_ten_percent_of_checks(
    n_unmeasured: int, n_measured: int, passes: bool
) -> None:
    results = [case(f"m{i}", "pass") for i in range(n_measured)]
    # a case with one measured and one unmeasured check still has a score
    for i in range(n_unmeasured):
        results.append(
            CaseResult(
                id=f"u{i}",
                input="q",
                score=1.0,
                passed=True,
                checks=[_check("measured", 1.0), _check("unmeasured")],
            )
        )
    gate = apply_gate(summarize(results), GateConfig(min_score=0.5))
    rule = next(r for r in gate.rules if r.rule == "max_unmeasured")
    assert rule.passed is passes
    assert "default budget of 10%" in rule.message
    assert any(d.startswith("max_unmeasured not set") for d in gate.defaults)


def test_configured_unmeasured_budget_is_not_a_default() -> None:
    gate = run(["pass", "unmeasured"], GateConfig(min_score=0.5, max_unmeasured=0.6))
    rule = next(r for r in gate.rules if r.rule == "max_unmeasured")
    assert rule.passed and "default" not in rule.message
    assert gate.defaults == []


@pytest.mark.parametrize(
    "config", [{}, {"min_score": 0.7, "max_regression": 0.05}, {"critical_tags": ["a", "b"]}]
)
def test_the_gate_records_its_configuration_and_round_trips(config: dict[str, Any]) -> None:
    gate_config = GateConfig(**config)
    report = make_report([Row("a", 1.0), Row("b", 0.0)])
    report.gate = apply_gate(report.summary, gate_config)
    assert report.gate.config == gate_config.model_dump(mode="json")
    again = EvalReport.from_json(report.to_json())
    assert again.gate is not None
    assert GateConfig.model_validate(again.gate.config) == gate_config
    assert again.gate.defaults == report.gate.defaults


def test_a_report_without_recorded_config_still_reads() -> None:
    report = make_report([Row("a", 1.0)])
    report.gate = apply_gate(report.summary, GateConfig())
    data = json.loads(report.to_json())
    del data["gate"]["config"], data["gate"]["defaults"]
    old = EvalReport.from_json(json.dumps(data))
    assert old.gate is not None and old.gate.config is None and old.gate.defaults == []


@pytest.mark.parametrize(
    ("suite_gate", "keeps_default"),
    [
        (GateConfig(max_regression=0.05), False),
        (GateConfig(critical_tags=["x"]), False),
        (GateConfig(), True),
        (GateConfig(max_regression=1.0), True),  # a drop larger than 1 cannot happen
        (GateConfig(max_cost_increase=0.5), True),
        (GateConfig(critical_tags=["typo"]), True),  # a tag without paired cases
    ],
)
def test_with_comparison_keeps_defaults_unless_a_regression_rule_was_evaluated(
    suite_gate: GateConfig, keeps_default: bool
) -> None:
    from releasegate.evals.comparison import compare_reports
    from releasegate.evals.gate import choose_rules

    base = make_report([Row(f"c{i}", 1.0, tags=["x"]) for i in range(30)])
    head = make_report([Row(f"c{i}", 0.5 if i % 2 else 1.0, tags=["x"]) for i in range(30)])
    head.gate = apply_gate(head.summary, suite_gate)
    choice = choose_rules(head=head, suite=("pr", suite_gate))
    cmp = choice.stamp(compare_reports(base, head, gate=choice.gate))
    merged = with_comparison(head.gate, cmp)
    assert any(r.rule == ALL_CASES_PASS for r in merged.rules) is keeps_default
    assert (DEFAULT_REGRESSION_RULE in merged.defaults) is keeps_default
    assert (DEFAULT_REGRESSION_RULE in (cmp.rules_from or "")) is keeps_default
    assert not merged.passed  # half the cases dropped by 0.5: evident either way
    assert merged.config == head.gate.config


# --- properties over generated gates and runs ---

_unit = st.floats(min_value=0, max_value=1, allow_nan=False)
_optional_unit = st.none() | _unit


@st.composite
def any_gate(draw: st.DrawFn) -> GateConfig:
    """A gate drawn from every key: some have quality rules, some do not."""
    return GateConfig(
        min_score=draw(_optional_unit),
        min_pass_rate=draw(_optional_unit),
        case_threshold=draw(_unit),
        min_tag_scores=draw(st.dictionaries(st.sampled_from(["a", "b"]), _unit, max_size=2)),
        min_check_scores=draw(st.dictionaries(st.just("contains"), _unit, max_size=1)),
        max_unmeasured=draw(st.none() | st.floats(min_value=0, max_value=1e6)),
        max_error_rate=draw(_optional_unit),
        max_cost_usd=draw(st.none() | st.floats(min_value=0, max_value=1e6)),
        max_regression=draw(_optional_unit),
        critical_tags=draw(st.lists(st.sampled_from(["a", "b"]), max_size=2, unique=True)),
    )


_kinds = st.sampled_from(["pass", "fail", "error", "unmeasured", "na"])


@settings(max_examples=300, deadline=None)
@given(gate=any_gate(), kinds=st.lists(_kinds, max_size=12))
def test_without_a_quality_rule_a_pass_means_every_case_passed(
    gate: GateConfig, kinds: list[str]
) -> None:
    result = run(kinds, gate)
    if not has_quality_rule(gate) and result.passed:
        assert kinds and all(k == "pass" for k in kinds)


@settings(max_examples=300, deadline=None)
@given(gate=any_gate(), kinds=st.lists(st.sampled_from(["unmeasured", "na"]), max_size=12))
def test_a_run_where_nothing_was_measured_never_passes(gate: GateConfig, kinds: list[str]) -> None:
    assert not run(kinds, gate).passed


@settings(max_examples=200, deadline=None)
@given(gate=any_gate(), kinds=st.lists(_kinds, max_size=12))
def test_every_default_that_applied_is_named(gate: GateConfig, kinds: list[str]) -> None:
    result = run(kinds, gate)
    named = [r for r in result.rules if r.default]
    assert len(named) == len(result.defaults)
    for rule, sentence in zip(named, result.defaults, strict=True):
        assert sentence in rule.message
