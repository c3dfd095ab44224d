"""Gate rules on regression versus a baseline, and the pass^k rule."""

from __future__ import annotations

import numpy as np
import pytest

from releasegate.config import GateConfig
from releasegate.evals.compare import compare_reports, pass_k_rule, regression_rules
from tests.unit.compare._reports import Row, make_report

pytestmark = pytest.mark.unit


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
    assert rules == []
    assert any("max_cost_increase" in w for w in warnings)


def test_unset_rules_produce_nothing() -> None:
    base, head = _reports(drop=0.3, n=30, noise=0.01)
    rules, _ = regression_rules(compare_reports(base, head), GateConfig())
    assert rules == []


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
