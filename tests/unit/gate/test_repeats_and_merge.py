"""Gate rules over repeats (as a run applies them) and the merge with a comparison."""

from __future__ import annotations

from releasegate.config import GateConfig
from releasegate.evals.comparison import compare_reports
from releasegate.evals.gate import (
    ALL_CASES_PASS,
    apply_gate,
    choose_rules,
    merge_gate,
    repeat_rules,
    with_comparison,
)
from tests.unit.compare._reports import Row, make_report


def _flaky_run():  # type: ignore[no-untyped-def]
    rows = []
    for rep in range(3):
        rows.append(Row("steady", 1.0, repeat=rep))
        rows.append(Row("flaky", 1.0 if rep < 2 else 0.0, repeat=rep))
    return make_report(rows)


def test_repeat_rules_apply_only_to_repeated_runs() -> None:
    report = _flaky_run()
    gate = GateConfig(min_pass_repeats=3)
    assert repeat_rules(report, gate, 1) == ([], [])
    rules, warnings = repeat_rules(report, gate, 3)
    assert [r.rule for r in rules] == ["min_pass_repeats"]
    assert not rules[0].passed and "flaky" in rules[0].message
    assert warnings == ["1 flaky case(s), repeats disagree on pass/fail: flaky"]


def test_repeat_rules_without_pass_k_still_warn_about_flaky_cases() -> None:
    rules, warnings = repeat_rules(_flaky_run(), GateConfig(), 3)
    assert rules == []
    assert len(warnings) == 1 and "flaky" in warnings[0]


def _drop():  # type: ignore[no-untyped-def]
    base = make_report([Row(f"c{i}", 1.0) for i in range(30)], run_id="base")
    head = make_report([Row(f"c{i}", 0.5 if i % 2 else 1.0) for i in range(30)], run_id="head")
    return base, head


def test_merge_gate_applies_the_suite_gate_when_the_head_has_none() -> None:
    base, head = _drop()
    suite = GateConfig(min_score=0.5)
    choice = choose_rules(head=head, suite=("pr", suite))
    comparison = choice.stamp(compare_reports(base, head, gate=choice.gate))
    assert head.gate is None
    merged = merge_gate(head, comparison, suite)
    assert merged.config == suite.model_dump(mode="json")
    assert merged.rules[0].rule == "min_score"
    assert merged.rules[-len(comparison.rules) :] == comparison.rules
    assert not merged.passed  # the evident drop fails the default regression rule


def test_merge_gate_keeps_the_gate_the_head_was_run_under() -> None:
    base, head = _drop()
    head.gate = apply_gate(head.summary, GateConfig())  # the default rule applied
    comparison = compare_reports(base, head, gate=GateConfig(max_regression=0.9))
    merged = merge_gate(head, comparison, GateConfig(min_score=0.99))
    assert merged == with_comparison(head.gate, comparison)
    assert merged.config == GateConfig().model_dump(mode="json")
    assert ALL_CASES_PASS not in [r.rule for r in merged.rules]  # replaced by max_regression
