"""Gate rules on regression versus a baseline, and the pass^k rule."""

from __future__ import annotations

import numpy as np
import pytest

from releasegate.config import GateConfig
from releasegate.evals.comparison import compare_reports
from releasegate.evals.gate import DEFAULT_REGRESSION_RULE, pass_k_rule, regression_rules
from tests.unit.compare._reports import Row, make_report


def _reports(drop: float, n: int, noise: float, *, seed: int = 0, tag: str = "x"):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    b = rng.uniform(0.5, 1.0, n)
    h = np.clip(b - drop + rng.normal(0, noise, n), 0, 1)
    base = make_report([Row(f"c{i}", float(v), tags=[tag]) for i, v in enumerate(b)])
    head = make_report([Row(f"c{i}", float(v), tags=[tag]) for i, v in enumerate(h)])
    return base, head


def _rule(rules, name):  # type: ignore[no-untyped-def]
    return next(r for r in rules if r.rule == name)


def test_large_evident_drop_fails_max_regression() -> None:
    base, head = _reports(drop=0.2, n=60, noise=0.05)
    cmp = compare_reports(base, head, gate=GateConfig(max_regression=0.05))
    rule = _rule(cmp.rules, "max_regression")
    assert not rule.passed
    assert rule.actual == pytest.approx(cmp.overall.bootstrap.high)
    assert rule.threshold == pytest.approx(-0.05)
    assert cmp.overall.bootstrap.high < -0.05
    assert not cmp.passed


def test_no_change_passes_without_warning_when_interval_is_narrow() -> None:
    base, head = _reports(drop=0.0, n=200, noise=0.02)
    cmp = compare_reports(base, head, gate=GateConfig(max_regression=0.05))
    assert _rule(cmp.rules, "max_regression").passed
    assert not any("inconclusive" in w for w in cmp.warnings)
    assert cmp.passed


def test_point_estimate_below_limit_but_wide_interval_only_warns() -> None:
    # A noisy small sample whose point estimate is below -max_regression: the gate
    # must not block on the point estimate, only warn that it cannot decide.
    base = make_report([Row(f"c{i}", v) for i, v in enumerate([1, 1, 1, 1, 1, 0, 1, 1])])
    head = make_report([Row(f"c{i}", v) for i, v in enumerate([1, 0, 1, 1, 1, 1, 0, 1])])
    cmp = compare_reports(base, head, gate=GateConfig(max_regression=0.05))
    assert cmp.overall.delta < -0.05
    assert cmp.overall.bootstrap.high >= -0.05
    assert _rule(cmp.rules, "max_regression").passed
    assert any("inconclusive" in w and "too wide to decide" in w for w in cmp.warnings)


def test_critical_tag_regression_fails_even_if_overall_is_fine() -> None:
    rows_b, rows_h = [], []
    rng = np.random.default_rng(3)
    for i in range(120):
        tag = "safety" if i < 20 else "other"
        b = float(rng.uniform(0.6, 1.0))
        h = b - 0.4 if tag == "safety" else b + 0.05
        rows_b.append(Row(f"c{i}", b, tags=[tag]))
        rows_h.append(Row(f"c{i}", max(0.0, min(1.0, h + float(rng.normal(0, 0.02)))), tags=[tag]))
    gate = GateConfig(max_regression=0.1, critical_tags=["safety", "other", "absent"])
    cmp = compare_reports(make_report(rows_b), make_report(rows_h), gate=gate)
    assert _rule(cmp.rules, "max_regression").passed
    assert not _rule(cmp.rules, "critical_tag:safety").passed
    assert _rule(cmp.rules, "critical_tag:other").passed
    assert any("'absent' has no paired cases" in w for w in cmp.warnings)
    assert not cmp.passed


def test_cost_and_latency_increase_rules() -> None:
    base = make_report(
        [Row("a", 1.0, cost=0.01, latency=100), Row("b", 1.0, cost=0.01, latency=100)]
    )
    head = make_report(
        [Row("a", 1.0, cost=0.02, latency=110), Row("b", 1.0, cost=0.02, latency=110)]
    )
    cmp = compare_reports(base, head)
    rules, _ = regression_rules(cmp, GateConfig(max_cost_increase=0.5, max_latency_increase=0.2))
    cost = _rule(rules, "max_cost_increase")
    assert not cost.passed
    assert cost.actual == pytest.approx(1.0)
    assert _rule(rules, "max_latency_increase").passed


def test_cost_rule_skipped_with_warning_without_baseline_cost() -> None:
    base = make_report([Row("a", 1.0), Row("b", 1.0)])
    head = make_report([Row("a", 1.0, cost=0.5), Row("b", 1.0, cost=0.5)])
    rules, warnings = regression_rules(
        compare_reports(base, head), GateConfig(max_cost_increase=0.1)
    )
    assert [r.rule for r in rules] == ["max_regression"] and rules[0].default
    assert any("max_cost_increase" in w for w in warnings)


@pytest.mark.parametrize(
    ("drop", "noise", "fails"),
    [(0.3, 0.01, True), (0.1, 0.05, True), (0.0, 0.02, False), (-0.1, 0.02, False)],
)
def test_unset_rules_give_the_default_evident_drop_rule(
    drop: float, noise: float, fails: bool
) -> None:
    base, head = _reports(drop=drop, n=60, noise=noise)
    cmp = compare_reports(base, head)
    rules, warnings = regression_rules(cmp, GateConfig())
    assert [r.rule for r in rules] == ["max_regression"]
    rule = rules[0]
    assert rule.default and rule.threshold == 0.0
    assert rule.message.startswith(DEFAULT_REGRESSION_RULE)
    assert rule.passed is (not fails)
    assert (cmp.overall.bootstrap.high < 0) is fails
    assert not any("inconclusive" in w for w in warnings)


def test_a_rule_that_cannot_fail_gets_the_default_too() -> None:
    base, head = _reports(drop=0.3, n=30, noise=0.01)
    for gate in (
        GateConfig(max_regression=1.0),
        GateConfig(critical_tags=["absent"]),
        GateConfig(max_cost_increase=10.0),
    ):
        rules, _ = regression_rules(compare_reports(base, head), gate)
        default = [r for r in rules if r.default]
        assert len(default) == 1 and not default[0].passed, gate


def test_mcnemar_and_flaky_warnings() -> None:
    base = make_report([Row(f"c{i}", 1.0) for i in range(12)])
    head = make_report(
        [Row(f"c{i}", 0.0) for i in range(10)]
        + [Row("c10", 1.0), Row("c11", 1.0, repeat=0), Row("c11", 0.0, repeat=1)]
    )
    _, warnings = regression_rules(compare_reports(base, head), GateConfig())
    assert any(w.startswith("McNemar: 10 case(s) went from pass to fail") for w in warnings)
    assert any("flaky" in w and "c11" in w for w in warnings)


def test_pass_k_rule() -> None:
    rows = []
    for rep in range(3):
        rows.append(Row("steady", 1.0, repeat=rep))
        rows.append(Row("flaky", 1.0 if rep < 2 else 0.0, repeat=rep))
        rows.append(Row("bad", 0.0, repeat=rep))
    report = make_report(rows)
    assert pass_k_rule(report, GateConfig()) is None
    r3 = pass_k_rule(report, GateConfig(min_pass_repeats=3))
    assert r3 is not None and not r3.passed
    assert r3.actual == 2.0
    assert "bad" in r3.message and "flaky" in r3.message
    r2 = pass_k_rule(report, GateConfig(min_pass_repeats=2))
    assert r2 is not None and r2.actual == 1.0
    good = make_report([Row("steady", 1.0, repeat=r) for r in range(3)])
    ok = pass_k_rule(good, GateConfig(min_pass_repeats=3))
    assert ok is not None and ok.passed


def test_pass_k_rule_says_when_repeats_are_too_few() -> None:
    report = make_report([Row("a", 1.0)])
    rule = pass_k_rule(report, GateConfig(min_pass_repeats=3))
    assert rule is not None and not rule.passed
    assert "--repeat 3" in rule.message


# --- where a comparison's rules come from: flags > --suite > recorded gate > default ---


def _sixty_case_drop():  # type: ignore[no-untyped-def]
    """60 cases whose mean falls from 1.00 to 0.80: an evident drop of about 0.2."""
    base = make_report([Row(f"c{i:02d}", 1.0) for i in range(60)])
    head_scores = [0.0 if i % 10 in (3, 7) else 1.0 for i in range(60)]
    head = make_report([Row(f"c{i:02d}", v) for i, v in enumerate(head_scores)])
    return base, head


def _record(head, gate: GateConfig | None):  # type: ignore[no-untyped-def]
    from releasegate.evals.gate import apply_gate

    if gate is not None:
        head.gate = apply_gate(head.summary, gate)
    return head


FLAG = 0.5  # allows the drop
SUITE = 0.3  # allows the drop
RECORDED = 0.05  # the drop is evidently larger


@pytest.mark.parametrize(
    ("flag", "suite", "recorded", "source", "threshold", "passed"),
    [
        (FLAG, SUITE, RECORDED, "flags", -FLAG, True),
        (FLAG, None, RECORDED, "flags", -FLAG, True),
        (FLAG, None, None, "flags", -FLAG, True),
        (None, SUITE, RECORDED, "suite", -SUITE, True),
        (None, SUITE, None, "suite", -SUITE, True),
        (None, None, RECORDED, "report", -RECORDED, False),
        (None, None, None, "default", 0.0, False),
    ],
)
def test_rule_source_precedence(
    flag: float | None,
    suite: float | None,
    recorded: float | None,
    source: str,
    threshold: float,
    passed: bool,
) -> None:
    from releasegate.evals.gate import choose_rules

    base, head = _sixty_case_drop()
    head = _record(head, None if recorded is None else GateConfig(max_regression=recorded))
    choice = choose_rules(
        head=head,
        max_regression=flag,
        suite=None if suite is None else ("nightly", GateConfig(max_regression=suite)),
    )
    cmp = choice.stamp(compare_reports(base, head, gate=choice.gate))
    assert cmp.overall.head_mean == pytest.approx(0.8)
    assert cmp.overall.bootstrap.high < -RECORDED
    assert cmp.rule_source == source
    rule = _rule(cmp.rules, "max_regression")
    assert rule.threshold == pytest.approx(threshold)
    assert cmp.passed is passed
    assert cmp.rules_from is not None
    expected = {
        "flags": "command-line flags (--max-regression 0.5)",
        "suite": "suite 'nightly' of the config",
        "report": "the gate recorded in the head report (suite 'pr')",
        "default": "no rule given",
    }[source]
    assert expected in cmp.rules_from
    assert (DEFAULT_REGRESSION_RULE in cmp.rules_from) is (source == "default")
    data = cmp.model_dump(mode="json")
    assert data["rule_source"] == source and data["rules_from"] == cmp.rules_from


@pytest.mark.parametrize(
    "recorded", [GateConfig(), GateConfig(min_score=0.9), GateConfig(max_cost_increase=0.2)]
)
def test_a_recorded_gate_without_regression_rule_falls_to_the_default_rule(
    recorded: GateConfig,
) -> None:
    from releasegate.evals.gate import choose_rules

    base, head = _sixty_case_drop()
    choice = choose_rules(head=_record(head, recorded))
    cmp = choice.stamp(compare_reports(base, head, gate=choice.gate))
    assert cmp.rule_source == "report"
    assert cmp.rules_from is not None and DEFAULT_REGRESSION_RULE in cmp.rules_from
    assert not _rule(cmp.rules, "max_regression").passed and not cmp.passed


def test_flags_override_per_rule_and_tags_add_up() -> None:
    from releasegate.evals.gate import choose_rules

    _, head = _sixty_case_drop()
    head = _record(head, GateConfig(max_regression=0.05, critical_tags=["a"]))
    choice = choose_rules(head=head, critical_tags=["b"])
    assert choice.source == "flags"
    assert choice.gate.max_regression == 0.05 and choice.gate.critical_tags == ["a", "b"]
    assert "--critical-tag b" in choice.description and "recorded" in choice.description


@pytest.mark.parametrize(("noise", "seed"), [(0.0, 0), (0.02, 1), (0.1, 2), (0.2, 3)])
def test_default_passes_without_an_evident_drop(noise: float, seed: int) -> None:
    from releasegate.evals.gate import choose_rules

    # symmetric noise well inside [0, 1] (no clipping), centred so the mean delta is 0
    rng = np.random.default_rng(seed)
    b = rng.uniform(0.3, 0.7, 60)
    d = rng.normal(0, noise, 60)
    d -= d.mean()
    base = make_report([Row(f"c{i}", float(v)) for i, v in enumerate(b)])
    head = make_report([Row(f"c{i}", float(v)) for i, v in enumerate(b + d)])
    choice = choose_rules(head=head)
    cmp = choice.stamp(compare_reports(base, head, gate=choice.gate))
    assert cmp.rule_source == "default"
    assert cmp.overall.delta == pytest.approx(0.0, abs=1e-9)
    assert cmp.overall.bootstrap.high >= 0
    assert cmp.passed


def test_an_invalid_recorded_gate_is_a_clear_error() -> None:
    from releasegate.errors import ReportFormatError
    from releasegate.evals.gate import choose_rules

    _, head = _sixty_case_drop()
    head = _record(head, GateConfig(max_regression=0.05))
    assert head.gate is not None and head.gate.config is not None
    head.gate.config["max_regression"] = 7
    with pytest.raises(ReportFormatError, match=r"gate\.config\.max_regression"):
        choose_rules(head=head)
    with pytest.raises(ReportFormatError, match="invalid recorded gate"):
        choose_rules(head=head, critical_tags=["x"])
    # a flag or a suite that replaces the recorded gate does not need it
    assert choose_rules(head=head, suite=("pr", GateConfig())).source == "suite"


@pytest.mark.parametrize(
    ("flag", "recorded", "said"),
    [
        (0.2, None, "command-line flags (--max-regression 0.2)"),
        (None, GateConfig(max_regression=0.05), "recorded in the head report"),
        (None, None, "no rule given"),
    ],
)
def test_the_rule_source_is_rendered(
    flag: float | None, recorded: GateConfig | None, said: str
) -> None:
    import html
    import io

    from rich.console import Console

    from releasegate.evals.gate import choose_rules
    from releasegate.reports.comparison import (
        render_comparison_markdown,
        render_comparison_terminal,
    )

    base, head = _sixty_case_drop()
    choice = choose_rules(head=_record(head, recorded), max_regression=flag)
    cmp = choice.stamp(compare_reports(base, head, gate=choice.gate))
    md = html.unescape(render_comparison_markdown(cmp)).replace("\\", "")
    assert said in md
    buf = io.StringIO()
    render_comparison_terminal(cmp, Console(file=buf, width=300, color_system=None))
    assert said in buf.getvalue()
