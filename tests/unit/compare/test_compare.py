"""compare_reports: pairing, aggregation of repeats, statistics and slices."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from releasegate.errors import ReportFormatError
from releasegate.evals.comparison import Comparison, compare_reports
from releasegate.evals.gate import flaky_cases
from releasegate.stats.paired import holm_adjust
from tests.unit.compare._reports import Row, make_report


def _pair(base_scores: list[float], head_scores: list[float], **kw: object) -> Comparison:
    base = make_report([Row(f"c{i}", s) for i, s in enumerate(base_scores)], run_id="b")
    head = make_report([Row(f"c{i}", s) for i, s in enumerate(head_scores)], run_id="h")
    return compare_reports(base, head, **kw)  # type: ignore[arg-type]


def test_overall_delta_matches_scipy() -> None:
    rng = np.random.default_rng(0)
    b = rng.uniform(0, 1, 40)
    h = np.clip(b - 0.05 + rng.normal(0, 0.1, 40), 0, 1)
    cmp = _pair(list(b), list(h))
    ov = cmp.overall
    ref = sps.ttest_rel(h, b)
    ci = ref.confidence_interval(0.95)
    assert ov.n == 40
    assert ov.delta == pytest.approx(float(np.mean(h - b)))
    assert ov.base_mean == pytest.approx(float(b.mean()))
    assert ov.t is not None
    assert (ov.t.low, ov.t.high) == pytest.approx((ci.low, ci.high))
    assert ov.p_value == pytest.approx(ref.pvalue)
    assert ov.bootstrap.low < ov.delta < ov.bootstrap.high
    assert ov.mde is not None and ov.mde > 0


def test_pairs_common_ids_and_counts_unpaired() -> None:
    base = make_report([Row("a", 1.0), Row("b", 0.0), Row("gone", 1.0)], dataset_hash="d1")
    head = make_report(
        [Row("b", 1.0), Row("a", 1.0), Row("new1", 0.0), Row("new2", 1.0)], dataset_hash="d2"
    )
    cmp = compare_reports(base, head)
    assert cmp.n_paired == 2
    assert (cmp.n_base_only, cmp.n_head_only) == (1, 2)
    assert cmp.base_only_ids == ["gone"]
    assert cmp.head_only_ids == ["new1", "new2"]
    assert cmp.overall.delta == pytest.approx(0.5)
    assert any("2 case(s) paired" in n for n in cmp.notes)
    assert any("different dataset" in n for n in cmp.notes)


def test_no_common_ids_is_a_report_error() -> None:
    base = make_report([Row("a", 1.0)], run_id="b1")
    head = make_report([Row("z", 1.0)], run_id="h1")
    with pytest.raises(ReportFormatError, match="no scored case id in common"):
        compare_reports(base, head)


def test_repeats_are_averaged_per_case_before_pairing() -> None:
    base = make_report([Row("a", 1.0, repeat=0), Row("a", 0.0, repeat=1), Row("b", 1.0)])
    head = make_report([Row("a", 1.0, repeat=0), Row("a", 1.0, repeat=1), Row("b", 1.0)])
    cmp = compare_reports(base, head)
    assert cmp.n_paired == 2
    # per-case base means: a = 0.5, b = 1.0; head: 1.0, 1.0
    assert cmp.overall.base_mean == pytest.approx(0.75)
    assert cmp.overall.delta == pytest.approx(0.25)
    assert cmp.flaky_base == ["a"]
    assert cmp.flaky_head == []
    assert flaky_cases(base) == ["a"]


def test_errored_repeat_counts_as_zero_and_unmeasured_is_left_out() -> None:
    base = make_report([Row("a", 1.0), Row("b", 1.0), Row("c", 1.0)])
    head = make_report(
        [
            Row("a", None, error="timeout"),
            Row("b", 1.0),
            Row("c", None),  # all checks unmeasured: no usable score
        ]
    )
    cmp = compare_reports(base, head)
    assert cmp.n_paired == 2
    assert cmp.n_unscored == 1
    assert cmp.overall.delta == pytest.approx(-0.5)
    assert [f.id for f in cmp.newly_failing] == ["a"]
    assert cmp.newly_failing[0].reasons == ["error: timeout"]


def test_flips_mcnemar_and_reasons() -> None:
    base = make_report(
        [Row("p2f", 1.0), Row("f2p", 0.0), Row("pp", 1.0), Row("ff", 0.0)]
        + [Row(f"x{i}", 1.0) for i in range(5)]
    )
    head = make_report(
        [
            Row("p2f", 0.2, checks={"contains": 0.0}, reason="missing 'refund'"),
            Row("f2p", 0.9),
            Row("pp", 1.0),
            Row("ff", 0.0),
        ]
        + [Row(f"x{i}", 0.0) for i in range(5)]
    )
    cmp = compare_reports(base, head)
    assert cmp.mcnemar.pass_to_fail == 6
    assert cmp.mcnemar.fail_to_pass == 1
    assert cmp.mcnemar.p_exact == pytest.approx(sps.binomtest(1, 7, 0.5).pvalue)
    assert {f.id for f in cmp.newly_failing} == {"p2f"} | {f"x{i}" for i in range(5)}
    p2f = next(f for f in cmp.newly_failing if f.id == "p2f")
    assert p2f.reasons == ["contains: missing 'refund'"]
    assert p2f.output == "output of p2f"
    assert [f.id for f in cmp.newly_passing] == ["f2p"]
    # Worst drops are listed first.
    assert cmp.newly_failing[0].head_score - cmp.newly_failing[0].base_score == -1.0
    assert cmp.base_pass_rate == pytest.approx(7 / 9)
    assert cmp.head_pass_rate == pytest.approx(2 / 9)


def test_tag_and_check_slices_with_holm() -> None:
    rng = np.random.default_rng(4)
    rows_b, rows_h = [], []
    expected: dict[str, tuple[list[float], list[float]]] = {"billing": ([], []), "chat": ([], [])}
    for i in range(30):
        tag = "billing" if i % 2 else "chat"
        b = float(rng.uniform(0.4, 1))
        h = b - (0.3 if tag == "billing" else 0.0) + float(rng.normal(0, 0.05))
        h = min(1.0, max(0.0, h))
        rows_b.append(Row(f"c{i}", b, tags=[tag], checks={"judge": b}))
        rows_h.append(Row(f"c{i}", h, tags=[tag], checks={"judge": h}))
        expected[tag][0].append(b)
        expected[tag][1].append(h)
    cmp = compare_reports(make_report(rows_b), make_report(rows_h))
    names = [s.name for s in cmp.by_tag]
    assert names == ["billing", "chat"]
    pvals = [float(sps.ttest_rel(expected[t][1], expected[t][0]).pvalue) for t in names]
    adjusted = holm_adjust(pvals)
    for s, p, padj in zip(cmp.by_tag, pvals, adjusted, strict=True):
        assert s.p_value == pytest.approx(p)
        assert s.p_holm == pytest.approx(padj)
        assert s.n == 15
    billing = cmp.by_tag[0]
    assert billing.significant_drop
    assert billing.delta == pytest.approx(
        float(np.mean(expected["billing"][1]) - np.mean(expected["billing"][0]))
    )
    assert not cmp.by_tag[1].significant_drop
    assert [s.name for s in cmp.by_check] == ["judge"]
    assert cmp.by_check[0].n == 30


def test_weighted_cases() -> None:
    base = make_report([Row("a", 0.0, weight=3.0), Row("b", 0.0), Row("c", 0.0)])
    head = make_report([Row("a", 1.0, weight=3.0), Row("b", 0.0), Row("c", 0.0)])
    cmp = compare_reports(base, head)
    assert cmp.overall.delta == pytest.approx(3 / 5)


def test_cost_and_latency_deltas() -> None:
    base = make_report(
        [Row("a", 1.0, cost=0.01, latency=100), Row("b", 1.0, cost=0.03, latency=300)]
    )
    head = make_report(
        [Row("a", 1.0, cost=0.03, latency=150), Row("b", 1.0, cost=0.03, latency=450)]
    )
    cmp = compare_reports(base, head)
    assert cmp.cost_per_case_usd.base == pytest.approx(0.02)
    assert cmp.cost_per_case_usd.change == pytest.approx(0.5)
    assert cmp.latency_mean_ms.change == pytest.approx(0.5)
    assert cmp.latency_p95_ms.head == pytest.approx(float(np.percentile([150, 450], 95)))


def test_zero_base_cost_has_no_relative_change() -> None:
    cmp = _pair([1.0, 1.0], [1.0, 1.0])
    assert cmp.cost_per_case_usd.change is None


def test_comparison_is_seeded_and_round_trips_through_json() -> None:
    rng = np.random.default_rng(1)
    b = list(rng.uniform(0, 1, 20))
    h = list(rng.uniform(0, 1, 20))
    one = _pair(b, h, seed=7)
    two = _pair(b, h, seed=7)
    assert one == two
    assert Comparison.model_validate_json(one.to_json()) == one
    other = _pair(b, h, seed=8)
    assert other.overall.bootstrap != one.overall.bootstrap


def test_judge_change_is_warned() -> None:
    base = make_report([Row("a", 1.0), Row("b", 0.0)])
    head = make_report([Row("a", 1.0), Row("b", 1.0)])
    base = base.model_copy(
        update={"identity": base.identity.model_copy(update={"judge_model": "judge-a-2024-01-01"})}
    )
    head = head.model_copy(
        update={"identity": head.identity.model_copy(update={"judge_model": "judge-b-2025-01-01"})}
    )
    cmp = compare_reports(base, head)
    assert any("judge changed" in w and "judge-b-2025-01-01" in w for w in cmp.warnings)
    same = compare_reports(base, base)
    assert not any("judge changed" in w for w in same.warnings)


def _weighted_rows(seed: int, shift: float) -> list[Row]:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(24):
        tags = [t for t in ("hardware", "billing", "chat") if rng.uniform() < 0.5] or ["chat"]
        score = float(np.clip(rng.uniform(0.2, 1.0) - shift * rng.uniform(), 0, 1))
        checks = {"contains": score}
        if i % 3:
            checks["judge"] = float(rng.uniform())
        rows.append(
            Row(
                f"c{i}",
                score,
                tags=tags,
                checks=checks,
                weight=float(rng.choice([0.5, 1.0, 2.0, 4.0])),
            )
        )
    return rows


@pytest.mark.parametrize(("seed", "shift"), [(0, 0.0), (1, 0.3), (2, 0.1), (3, 0.5)])
def test_slices_are_weighted_exactly_like_the_summary(seed: int, shift: float) -> None:
    from releasegate.results.summary import summarize

    base_rows = _weighted_rows(seed, 0.0)
    shifted = _weighted_rows(seed, shift)
    head_rows = [
        Row(b.id, h.score, tags=b.tags, checks={**b.checks, "contains": h.score}, weight=b.weight)
        for b, h in zip(base_rows, shifted, strict=True)
    ]
    base, head = make_report(base_rows, run_id="b"), make_report(head_rows, run_id="h")
    cmp = compare_reports(base, head)
    for side, report in (("base", base), ("head", head)):
        summary = summarize(report.cases)
        assert getattr(cmp.overall, f"{side}_mean") == pytest.approx(summary.mean_score)
        for s in cmp.by_tag:
            assert getattr(s, f"{side}_mean") == pytest.approx(summary.by_tag[s.name].mean_score)
        for s in cmp.by_check:
            assert getattr(s, f"{side}_mean") == pytest.approx(summary.by_check[s.name].mean_score)
    for s in cmp.by_tag + cmp.by_check:
        assert s.delta == pytest.approx(s.head_mean - s.base_mean)
    assert {s.name for s in cmp.by_tag} == set(summarize(head.cases).by_tag)


def test_identical_sides_have_equal_weighted_slices() -> None:
    from releasegate.results.summary import summarize

    rows = _weighted_rows(7, 0.0)
    report = make_report(rows)
    cmp = compare_reports(report, report)
    summary = summarize(report.cases)
    for s in cmp.by_tag:
        assert s.base_mean == pytest.approx(summary.by_tag[s.name].mean_score)
        assert s.head_mean == pytest.approx(summary.by_tag[s.name].mean_score)
        assert s.delta == pytest.approx(0.0)


@pytest.mark.parametrize("zero_side", ["base", "head", "both"])
def test_weight_zero_cases_are_left_out_of_the_comparison(zero_side: str) -> None:
    rows = [Row(f"c{i}", 0.8, tags=["t"]) for i in range(6)]
    b_w = 0.0 if zero_side in ("base", "both") else 1.0
    h_w = 0.0 if zero_side in ("head", "both") else 1.0
    base = make_report([*rows, Row("info", 1.0, tags=["t"], weight=b_w)], run_id="b")
    head = make_report([*rows, Row("info", 0.0, tags=["t"], weight=h_w)], run_id="h")
    cmp = compare_reports(base, head)
    assert cmp.n_paired == 6
    assert cmp.overall.delta == pytest.approx(0.0)
    assert cmp.by_tag[0].n == 6
    assert cmp.newly_failing == []
    assert cmp.mcnemar.pass_to_fail == 0
    assert any("informational" in n for n in cmp.notes)


def test_only_weight_zero_cases_in_common_is_a_report_error() -> None:
    base = make_report([Row("a", 1.0, weight=0.0)], run_id="b")
    head = make_report([Row("a", 0.0, weight=0.0)], run_id="h")
    with pytest.raises(ReportFormatError, match="informational"):
        compare_reports(base, head)
