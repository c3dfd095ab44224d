"""Anytime-valid statistics against independent numeric computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, optimize, special
from scipy import stats as sps

from releasegate.stats.sequential import (
    diff_bound,
    mean_bound,
    mixture_rho2,
    one_sided_radius,
    share_e_value,
    srm_p_value,
    two_sided_radius,
    variance_from_sums,
)


def _log_mixture(s: float, v: float, prec: float, half: bool) -> float:
    """log of the normal-mixture martingale by quadrature: lambda ~ N(0, prec) (or half)."""
    sd = math.sqrt(prec)
    peak = s / (v + 1 / prec)

    def g(lam: float) -> float:
        return lam * s - lam * lam * v / 2 + float(sps.norm.logpdf(lam, scale=sd))

    gmax = g(peak)
    width = 12 / math.sqrt(v + 1 / prec)
    lo = 0.0 if half else peak - width
    val = integrate.quad(
        lambda x: math.exp(g(x) - gmax),
        max(lo, peak - width),
        peak + width,
        points=[peak] if lo < peak else None,
        limit=200,
    )[0]
    return gmax + math.log(val) + (math.log(2) if half else 0.0)


@pytest.mark.parametrize(
    ("t", "sigma2", "alpha", "n_star"),
    [(10, 1.0, 0.05, 100), (500, 0.04, 0.05, 1000), (2000, 0.2, 0.01, 500), (50, 2.5, 0.1, 50)],
)
def test_two_sided_radius_is_where_the_mixture_reaches_one_over_alpha(
    t: float, sigma2: float, alpha: float, n_star: float
) -> None:
    # Waudby-Smith et al. Thm 2.2: boundary where the Gaussian mixture (over lambda with
    # variance rho^2 = r / sigma^2) of exp(lambda S - lambda^2 V / 2), V = t sigma^2, hits 1/alpha.
    prec = mixture_rho2(alpha, n_star) / sigma2
    v = t * sigma2
    s = optimize.brentq(
        lambda x: _log_mixture(x, v, prec, False) + math.log(alpha), 0, 20 * math.sqrt(v)
    )
    assert float(two_sided_radius(sigma2 / t, t, alpha, n_star)) == pytest.approx(s / t, rel=1e-6)


@pytest.mark.parametrize(("t", "alpha"), [(20, 0.05), (400, 0.01), (3000, 0.2)])
def test_one_sided_boundary_means_half_mixture_reached_one_over_alpha(
    t: float, alpha: float
) -> None:
    prec = mixture_rho2(2 * alpha / (1 + alpha), 300)
    s = float(one_sided_radius(1 / t, t, alpha, 300)) * t
    assert _log_mixture(s, t, prec, True) >= -math.log(alpha) - 1e-7


def test_rho_matches_the_published_tuning() -> None:
    # TensorZero's default rho = sqrt(-2 ln a + ln(-2 ln a) + 1) / 10, i.e. n_star = 100.
    a = 0.05
    rho = math.sqrt(-2 * math.log(a) + math.log(-2 * math.log(a)) + 1) / 10
    assert mixture_rho2(a, 100) == pytest.approx(rho**2)
    with pytest.raises(ValueError, match="alpha"):
        mixture_rho2(1.0, 100)
    with pytest.raises(ValueError, match="n_star"):
        mixture_rho2(0.05, 0)


@given(st.lists(st.floats(0, 1), min_size=2, max_size=50))
def test_variance_from_sums(xs: list[float]) -> None:
    x = np.array(xs)
    got = float(variance_from_sums(len(x), x.sum(), (x * x).sum()))
    assert got == pytest.approx(float(np.var(x, ddof=1)), abs=1e-9)
    shrunk = float(variance_from_sums(len(x), x.sum(), (x * x).sum(), prior_var=0.25))
    assert shrunk == pytest.approx((np.var(x, ddof=0) * len(x) + 0.25) / len(x), abs=1e-9)


@given(
    st.integers(2, 500), st.floats(0, 1), st.floats(0.01, 0.2),
    st.integers(2, 500), st.floats(0, 1), st.floats(0.01, 0.2),
)  # fmt: skip
def test_diff_bound_is_antisymmetric(
    na: int, ma: float, va: float, nb: int, mb: float, vb: float
) -> None:
    a = (na, na * ma, na * (va + ma * ma))
    b = (nb, nb * mb, nb * (vb + mb * mb))
    ab = diff_bound(a, b, alpha=0.05, n_star=500)
    ba = diff_bound(b, a, alpha=0.05, n_star=500)
    assert ab.estimate == pytest.approx(-ba.estimate, abs=1e-12)
    assert ab.radius == pytest.approx(ba.radius)
    assert ab.lower == pytest.approx(-ba.upper, abs=1e-12)


def test_diff_bound_reduces_to_welch_variance_and_mean_bound() -> None:
    a, b = (100, 60.0, 40.0), (1900, 1400.0, 1100.0)
    d = diff_bound(a, b, alpha=0.05, n_star=1000)
    va, vb = (40 - 60**2 / 100) / 99, (1100 - 1400**2 / 1900) / 1899
    assert d.se == pytest.approx(math.sqrt(va / 100 + vb / 1900))
    assert d.time == pytest.approx(1 / (1 / 100 + 1 / 1900))
    m = mean_bound(a, alpha=0.05, n_star=1000)
    assert m.radius == pytest.approx(float(one_sided_radius(va / 100, 100, 0.05, 1000)))
    with pytest.raises(ValueError, match="two observations"):
        diff_bound((1, 0.5, 0.25), b, alpha=0.05, n_star=10)


def _e_reference(k: int, m: int, s: float, ratio: float, strength: float) -> float:
    th = ratio * s / (ratio * s + 1 - s)
    a, b = strength * th, strength * (1 - th)
    prior = sps.beta(a, b)

    def lik(x: float) -> float:
        return x**k * (1 - x) ** (m - k)

    num = integrate.quad(
        lambda x: lik(x) * prior.pdf(x),
        s,
        1,
        limit=400,
        epsabs=0,
        epsrel=1e-11,
        points=[k / m] if m else None,
    )[0]
    num /= prior.sf(s)
    grid = np.linspace(1e-9, s, 200001)
    den = float(np.max(special.xlogy(k, grid) + special.xlog1py(m - k, -grid)))
    return num / math.exp(den)


@pytest.mark.parametrize(
    ("k", "m", "s"),
    [
        (0, 0, 0.05),
        (3, 3, 0.05),
        (5, 40, 0.05),
        (20, 80, 0.05),
        (1, 30, 0.3),
        (12, 20, 0.5),
        (60, 440, 0.05),
    ],
)
def test_share_e_value_matches_quadrature(k: int, m: int, s: float) -> None:
    got = share_e_value(k, m, s, ratio=2.0, strength=20.0)
    ref = 1.0 if m == 0 else _e_reference(k, m, s, 2.0, 20.0)
    assert got == pytest.approx(ref, rel=1e-4)


@settings(max_examples=200)
@given(st.integers(0, 200), st.integers(0, 200), st.floats(0.02, 0.9))
def test_share_e_value_monotone_in_evidence(k: int, extra: int, s: float) -> None:
    m = k + extra
    e = share_e_value(k, m, s)
    assert share_e_value(k + 1, m + 1, s) >= e * (1 - 1e-9)  # one more canary event
    assert share_e_value(k, m + 1, s) <= e * (1 + 1e-9)  # one more incumbent event


@pytest.mark.parametrize("share", [0.05, 0.5])
def test_share_e_process_keeps_its_level_under_continuous_monitoring(share: float) -> None:
    # Under the null (theta == share), the chance the e-process EVER reaches 1/alpha
    # over 400 events is at most alpha (Ville), checked by simulation.
    rng = np.random.default_rng(7)
    sims, events, alpha = 4000, 400, 0.05
    k = np.cumsum(rng.random((sims, events)) < share, axis=1)
    m = np.arange(1, events + 1)[None, :].repeat(sims, 0)
    e = share_e_value(k, m, share)
    crossed = (e >= 1 / alpha).any(axis=1).mean()
    assert crossed <= alpha
    # and it has power against a tripled rate
    th = 3 * share / (3 * share + 1 - share)
    k1 = np.cumsum(rng.random((500, events)) < th, axis=1)
    assert (share_e_value(k1, m[:500], share) >= 1 / alpha).any(axis=1).mean() > 0.9


@pytest.mark.parametrize(
    ("inc", "can", "share"), [(950, 50, 0.05), (900, 100, 0.05), (480, 520, 0.5), (0, 0, 0.2)]
)
def test_srm_p_value_matches_scipy(inc: int, can: int, share: float) -> None:
    ref = (
        1.0
        if inc + can == 0
        else sps.chisquare([inc, can], [(inc + can) * (1 - share), (inc + can) * share]).pvalue
    )
    assert srm_p_value((inc, can), share) == pytest.approx(ref)
    with pytest.raises(ValueError, match="share"):
        srm_p_value((inc, can), 1.0)
