"""Paired statistics against scipy.stats and hand-worked examples."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from releasegate.stats.paired import (
    holm_adjust,
    mcnemar_test,
    paired_bootstrap_ci,
    paired_mde,
    paired_t_test,
    weighted_mean,
)


def _scores(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    base = rng.uniform(0, 1, n)
    head = np.clip(base + rng.normal(-0.03, 0.1, n), 0, 1)
    return base, head


@pytest.mark.parametrize(("seed", "n"), [(1, 5), (2, 30), (3, 200)])
def test_paired_t_matches_scipy_ttest_rel(seed: int, n: int) -> None:
    base, head = _scores(seed, n)
    ours = paired_t_test(base, head, confidence=0.95)
    ref = sps.ttest_rel(head, base)
    ci = ref.confidence_interval(0.95)
    assert ours.n == n
    assert ours.mean == pytest.approx(float(np.mean(head - base)), abs=1e-12)
    assert ours.sd == pytest.approx(float(np.std(head - base, ddof=1)), rel=1e-10)
    assert ours.interval.low == pytest.approx(float(ci.low), rel=1e-9)
    assert ours.interval.high == pytest.approx(float(ci.high), rel=1e-9)
    assert ours.p_value == pytest.approx(float(ref.pvalue), rel=1e-9)


def test_paired_t_90_percent_matches_scipy() -> None:
    base, head = _scores(7, 40)
    ours = paired_t_test(base, head, confidence=0.9)
    ci = sps.ttest_rel(head, base).confidence_interval(0.9)
    assert (ours.interval.low, ours.interval.high) == pytest.approx((ci.low, ci.high))


def test_weighted_paired_t_hand_computed() -> None:
    # d = [1, 0, 0.5], w = [1, 2, 1]: mean = 1.5 / 4 = 0.375
    # residuals [0.625, -0.375, 0.125]; w*r = [0.625, -0.75, 0.125]
    # sum of squares = 0.96875; se = sqrt(3/2 * 0.96875) / 4
    res = paired_t_test([0, 0, 0], [1, 0, 0.5], weights=[1, 2, 1])
    se = math.sqrt(1.5 * 0.96875) / 4
    assert res.mean == pytest.approx(0.375)
    assert res.se == pytest.approx(se)
    t = sps.t.ppf(0.975, 2)
    assert res.interval.low == pytest.approx(0.375 - t * se)
    assert res.interval.high == pytest.approx(0.375 + t * se)


def test_equal_weights_change_nothing() -> None:
    base, head = _scores(11, 25)
    plain = paired_t_test(base, head)
    weighted = paired_t_test(base, head, weights=np.full(25, 3.0))
    assert weighted.interval.low == pytest.approx(plain.interval.low)
    assert weighted.p_value == pytest.approx(plain.p_value)


def test_zero_weight_cases_are_dropped() -> None:
    res = paired_t_test([0, 0, 0, 0.5], [1, 0, 0.5, 0.0], weights=[1, 1, 1, 0])
    ref = paired_t_test([0, 0, 0], [1, 0, 0.5])
    assert res.n == 3
    assert res.interval.high == pytest.approx(ref.interval.high)


def test_paired_t_constant_differences() -> None:
    res = paired_t_test([0.5, 0.2, 0.9], [0.4, 0.1, 0.8])
    assert res.mean == pytest.approx(-0.1)
    assert res.interval.low == res.interval.high == pytest.approx(-0.1)
    assert res.p_value == 0.0
    same = paired_t_test([0.5, 0.2], [0.5, 0.2])
    assert same.p_value == 1.0


def test_paired_t_needs_two_pairs() -> None:
    with pytest.raises(ValueError, match="at least two"):
        paired_t_test([0.1], [0.2])


def test_length_mismatch_is_refused() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        paired_bootstrap_ci([0.1, 0.2], [0.2])


def test_bootstrap_is_seeded_and_reproducible() -> None:
    base, head = _scores(5, 60)
    a = paired_bootstrap_ci(base, head, seed=42)
    b = paired_bootstrap_ci(base, head, seed=42)
    c = paired_bootstrap_ci(base, head, seed=43)
    assert a == b
    assert (a.low, a.high) != (c.low, c.high)
    assert a.estimate == pytest.approx(float(np.mean(head - base)))


def test_bootstrap_agrees_with_scipy_percentile_bootstrap() -> None:
    base, head = _scores(9, 80)
    ours = paired_bootstrap_ci(base, head, n_resamples=40_000, seed=1)
    ref = sps.bootstrap(
        (head - base,),
        np.mean,
        n_resamples=40_000,
        method="percentile",
        rng=np.random.default_rng(2),
    ).confidence_interval
    # Two independent Monte Carlo estimates of the same quantiles.
    assert ours.low == pytest.approx(float(ref.low), abs=2e-3)
    assert ours.high == pytest.approx(float(ref.high), abs=2e-3)


def test_bootstrap_close_to_t_interval_for_large_n() -> None:
    base, head = _scores(13, 400)
    boot = paired_bootstrap_ci(base, head, seed=0)
    t = paired_t_test(base, head).interval
    assert boot.low == pytest.approx(t.low, abs=2e-3)
    assert boot.high == pytest.approx(t.high, abs=2e-3)


def test_bootstrap_weighted_estimate() -> None:
    res = paired_bootstrap_ci([0, 0, 0], [1, 0, 0.5], weights=[1, 2, 1], seed=0)
    assert res.estimate == pytest.approx(0.375)
    assert 0.0 <= res.low <= 0.375 <= res.high <= 1.0


def test_bootstrap_degenerate_inputs() -> None:
    one = paired_bootstrap_ci([0.2], [0.7])
    assert (one.low, one.estimate, one.high) == pytest.approx((0.5, 0.5, 0.5))
    flat = paired_bootstrap_ci([0.2, 0.3], [0.2, 0.3])
    assert flat.width == 0.0
    with pytest.raises(ValueError, match="no pairs"):
        paired_bootstrap_ci([], [])


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0, 1), st.floats(0, 1)),
        min_size=2,
        max_size=30,
    )
)
def test_bootstrap_interval_contains_estimate_and_stays_in_range(
    pairs: list[tuple[float, float]],
) -> None:
    base = [p[0] for p in pairs]
    head = [p[1] for p in pairs]
    res = paired_bootstrap_ci(base, head, n_resamples=500, seed=3)
    assert -1.0 <= res.low <= res.high <= 1.0
    # The percentile interval of the resampled means brackets the sample mean
    # except in pathological, highly skewed tiny samples; allow rounding only.
    assert min(base + head) - max(base + head) - 1e-12 <= res.low


def test_mcnemar_hand_computed() -> None:
    # b = 1 pass->fail, c = 6 fail->pass, n = 7: P(X <= 1) = 8/128.
    base = [True] * 1 + [False] * 6 + [True] * 10 + [False] * 3
    head = [False] * 1 + [True] * 6 + [True] * 10 + [False] * 3
    res = mcnemar_test(base, head)
    assert (res.pass_to_fail, res.fail_to_pass) == (1, 6)
    assert res.p_exact == pytest.approx(16 / 128)
    assert res.p_mid == pytest.approx(16 / 128 - 7 / 128)


@pytest.mark.parametrize(("b", "c"), [(0, 5), (3, 3), (2, 9), (12, 4), (20, 35)])
def test_mcnemar_exact_matches_scipy_binomtest(b: int, c: int) -> None:
    base = [True] * b + [False] * c
    head = [False] * b + [True] * c
    res = mcnemar_test(base, head)
    assert res.p_exact == pytest.approx(sps.binomtest(b, b + c, 0.5).pvalue)
    assert res.p_mid <= res.p_exact


def test_mcnemar_no_discordant_pairs() -> None:
    res = mcnemar_test([True, False], [True, False])
    assert (res.p_exact, res.p_mid) == (1.0, 1.0)


def test_holm_hand_computed() -> None:
    # sorted: 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 = 0.04 -> monotone 0.06
    assert holm_adjust([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm_adjust([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm_adjust([]) == []
    with pytest.raises(ValueError):
        holm_adjust([1.5])


def test_holm_controls_family_wise_error_like_bonferroni_or_better() -> None:
    ps = [0.001, 0.012, 0.02, 0.3]
    adj = holm_adjust(ps)
    assert all(a >= p for a, p in zip(adj, ps, strict=True))
    assert all(a <= min(1.0, 4 * p) for a, p in zip(adj, ps, strict=True))


def test_mde_matches_power_tables() -> None:
    # Cohen / G*Power: a paired t test needs n = 34 pairs to detect d = 0.5 with
    # power 0.8 at two-sided alpha 0.05 (33 pairs are not quite enough).
    mde34 = paired_mde(1.0, 34)
    mde33 = paired_mde(1.0, 33)
    assert mde34 is not None and mde33 is not None
    assert mde34 < 0.5 < mde33


def test_mde_achieves_requested_power() -> None:
    sd, n = 0.3, 50
    mde = paired_mde(sd, n)
    assert mde is not None
    df = n - 1
    tcrit = sps.t.ppf(0.975, df)
    nc = mde / (sd / math.sqrt(n))
    power = sps.nct.sf(tcrit, df, nc) + sps.nct.cdf(-tcrit, df, nc)
    assert power == pytest.approx(0.8, abs=1e-6)


def test_mde_close_to_normal_approximation_for_large_n() -> None:
    mde = paired_mde(0.3, 10_000)
    approx = (sps.norm.ppf(0.975) + sps.norm.ppf(0.8)) * 0.3 / 100
    assert mde == pytest.approx(approx, rel=1e-3)


def test_mde_edge_cases() -> None:
    assert paired_mde(0.3, 1) is None
    assert paired_mde(0.0, 10) == 0.0
    with pytest.raises(ValueError):
        paired_mde(-1.0, 10)


def test_weighted_mean() -> None:
    assert weighted_mean([1, 0, 0.5], [1, 2, 1]) == pytest.approx(0.375)
    assert weighted_mean([1, 0]) == 0.5
    with pytest.raises(ValueError):
        weighted_mean([])
