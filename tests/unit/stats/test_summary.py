"""Descriptive statistics of a run, checked against numpy and by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from releasegate.results.report import CaseResult, CheckResult
from releasegate.results.summary import percentile, summarize, weighted_mean_std

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@given(st.lists(finite, min_size=1, max_size=60), st.floats(min_value=0, max_value=100))
def test_percentile_matches_numpy_linear(values: list[float], q: float) -> None:
    assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)), abs=1e-6)


@given(
    st.lists(st.tuples(finite, st.floats(min_value=0.01, max_value=100)), min_size=1, max_size=60)
)
def test_weighted_mean_std_match_numpy(pairs: list[tuple[float, float]]) -> None:
    values = [v for v, _ in pairs]
    weights = [w for _, w in pairs]
    mean, std = weighted_mean_std(values, weights)
    expected_mean = float(np.average(values, weights=weights))
    expected_std = float(
        np.sqrt(np.average((np.array(values) - expected_mean) ** 2, weights=weights))
    )
    assert mean == pytest.approx(expected_mean, rel=1e-9, abs=1e-6)
    assert std == pytest.approx(expected_std, rel=1e-6, abs=1e-4)


def test_weighted_mean_by_hand_and_edge_cases() -> None:
    assert weighted_mean_std([], []) == (None, None)
    assert weighted_mean_std([1.0, 0.0], [3.0, 1.0]) == (0.75, math.sqrt(0.1875))
    # weights summing to zero: every value is informational, there is nothing to average
    assert weighted_mean_std([1.0, 0.0], [0.0, 0.0]) == (None, None)
    # huge weights are scaled, never overflow
    assert weighted_mean_std([1.0, 0.0], [1e308, 1e308]) == (0.5, 0.5)
    assert percentile([7.0], 90) == 7.0
    assert percentile([0.0, 1.0], 10) == pytest.approx(0.1)


def _result(i: int, score: float | None, *, latency: float, weight: float = 1.0) -> CaseResult:
    return CaseResult(
        id=f"c{i}",
        input="x",
        output="y",
        score=score,
        passed=score is not None and score >= 0.5,
        latency_ms=latency,
        cost_usd=0.1,
        weight=weight,
        tags=["a"] if i % 2 else ["b"],
        checks=[
            CheckResult(
                type="contains",
                status="measured" if score is not None else "unmeasured",
                value=score,
                passed=None if score is None else score >= 0.5,
            )
        ],
    )


def test_summary_numbers() -> None:
    results = [
        _result(0, 1.0, latency=10.0, weight=2.0),
        _result(1, 0.0, latency=20.0),
        _result(2, 0.5, latency=30.0),
        _result(3, None, latency=40.0),
    ]
    s = summarize(results)
    assert (s.n_cases, s.n_results, s.n_passed, s.n_failed, s.n_unmeasured) == (4, 4, 2, 1, 1)
    assert s.mean_score == pytest.approx((2 * 1.0 + 0.0 + 0.5) / 4)
    assert (s.p10, s.p50, s.p90) == pytest.approx((0.1, 0.5, 0.9))
    assert s.pass_rate == pytest.approx(2 / 3)
    assert s.latency_mean_ms == 25.0
    assert s.latency_p95_ms == pytest.approx(float(np.percentile([10, 20, 30, 40], 95)))
    assert s.cost_usd == pytest.approx(0.4)
    assert s.by_tag["a"].n == 1 and s.by_tag["a"].n_unmeasured == 1
    assert s.by_check["contains"].n == 3 and s.by_check["contains"].n_unmeasured == 1
