"""Anytime-valid statistics for continuous monitoring (canary analysis).

Every function here stays valid when it is re-run after every new observation: the
error probability bounds the chance of *ever* crossing, over all looks. Pure maths:
numbers (or numpy arrays, element-wise) in, numbers out; no I/O.

* :func:`one_sided_radius` / :func:`two_sided_radius` — the Gaussian-mixture boundary of
  the asymptotic confidence sequence of Waudby-Smith, Arbour, Sinha, Kennedy and Ramdas
  (2021), "Time-uniform central limit theory and asymptotic confidence sequences",
  Theorem 2.2, with the tuning of Howard, Ramdas, McAuliffe and Sekhon (2021).
* :func:`diff_bound` / :func:`mean_bound` — the confidence sequence applied to the
  difference of two arms' means and to one arm's mean, from running sums.
* :func:`share_e_value` — an e-process for "the canary's share of the events (errors,
  negative feedback, slow requests) is no larger than its share of the traffic".
* :func:`srm_p_value` — the chi-square sample-ratio-mismatch test.

Derivations and worked examples: ``docs/canary-statistics.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special
from scipy import stats as sps

__all__ = [
    "MeanBound",
    "diff_bound",
    "fixed_lower_bound",
    "mean_bound",
    "mixture_rho2",
    "one_sided_radius",
    "share_e_value",
    "srm_p_value",
    "two_sided_radius",
    "variance_from_sums",
]


def mixture_rho2(alpha: float, n_star: float) -> float:
    """Mixing precision that makes the two-sided boundary tightest at ``n_star``.

    Howard et al. (2021), eq. (3.6) approximation: ``rho^2 = (-2 ln a + ln(-2 ln a) + 1)
    / n_star`` for a boundary at level ``a``, in standardised units (time counted in
    observations of unit variance).

    Raises:
        ValueError: alpha outside (0, 1) or n_star not positive.
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    if not n_star > 0:
        raise ValueError(f"n_star must be positive, got {n_star!r}")
    la = -2.0 * math.log(alpha)
    return (la + math.log(la) + 1.0) / n_star


def two_sided_radius(variance: Any, time: Any, alpha: float, n_star: float) -> Any:
    """Half-width of the two-sided asymptotic confidence sequence at level ``alpha``.

    ``sqrt(V * 2 (t r + 1) / (t r) * ln(sqrt(t r + 1) / alpha))`` with ``r = rho^2``
    standardised, ``V`` the variance of the estimate (for one mean: ``sigma^2 / t``).
    With ``V = sigma^2 / t`` this is exactly Theorem 2.2 of Waudby-Smith et al. (2021)
    with their ``rho^2 = r / sigma^2``.

    Args:
        variance: variance of the estimator (float or array), >= 0.
        time: intrinsic time (number of observations of unit information), > 0.
        alpha: level in (0, 1).
        n_star: the time at which the boundary is tightest.
    """
    r = mixture_rho2(alpha, n_star)
    tr = np.asarray(time, dtype=float) * r
    return np.sqrt(variance * 2.0 * (tr + 1.0) / tr * np.log(np.sqrt(tr + 1.0) / alpha))


def one_sided_radius(variance: Any, time: Any, alpha: float, n_star: float) -> Any:
    """One-sided bound at level ``alpha`` from the two-sided boundary.

    The two-sided mixture martingale is the mean of the two one-sided (half-normal)
    mixtures, and the other half is at most 1 on this side, so crossing the two-sided
    boundary at level ``2a`` means the one-sided mixture reached ``1/a - 1``; by Ville's
    inequality that happens with probability at most ``a / (1 - a)``. Using
    ``a = alpha / (1 + alpha)`` makes that exactly ``alpha``.
    """
    a = alpha / (1.0 + alpha)
    return two_sided_radius(variance, time, 2.0 * a, n_star)


def variance_from_sums(n: Any, total: Any, total_sq: Any, prior_var: float = 0.0) -> Any:
    """Sample variance (ddof=1) from count, sum and sum of squares.

    With ``prior_var > 0`` one pseudo-observation of that variance is added
    (``(S + prior_var) / n`` where ``S`` is the sum of squared deviations), which keeps
    the estimate positive when every value is equal; it vanishes as ``n`` grows.
    """
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ss_dev = np.maximum(np.asarray(total_sq, float) - np.asarray(total, float) ** 2 / n, 0.0)
        denom = n if prior_var > 0 else n - 1.0
        return (ss_dev + prior_var) / denom


@dataclass(frozen=True, slots=True)
class MeanBound:
    """An estimate with its anytime-valid one-sided bounds (each at the given alpha)."""

    estimate: float
    lower: float
    upper: float
    radius: float
    se: float
    time: float


def diff_bound(
    a: tuple[float, float, float],
    b: tuple[float, float, float],
    *,
    alpha: float,
    n_star: float,
    scale_b: float = 1.0,
    prior_var: float = 0.0,
) -> MeanBound:
    """Anytime-valid one-sided bounds for ``mean(a) - scale_b * mean(b)``.

    ``a`` and ``b`` are ``(count, sum, sum_of_squares)`` of two independent arms. The
    variance of the estimate is ``s_a^2/n_a + scale_b^2 s_b^2/n_b``; the intrinsic time
    is the effective sample size ``1 / (1/n_a + 1/n_b)`` (so ``n_star`` is counted in
    observations of the smaller arm when the arms are unequal).

    Raises:
        ValueError: an arm has fewer than two observations.
    """
    (na, sa, qa), (nb, sb, qb) = a, b
    if na < 2 or nb < 2:
        raise ValueError("each arm needs at least two observations")
    va = float(variance_from_sums(na, sa, qa, prior_var))
    vb = float(variance_from_sums(nb, sb, qb, prior_var))
    var = va / na + scale_b**2 * vb / nb
    time = 1.0 / (1.0 / na + 1.0 / nb)
    est = sa / na - scale_b * sb / nb
    rad = float(one_sided_radius(var, time, alpha, n_star))
    return MeanBound(est, est - rad, est + rad, rad, math.sqrt(var), time)


def mean_bound(
    a: tuple[float, float, float], *, alpha: float, n_star: float, prior_var: float = 0.0
) -> MeanBound:
    """Anytime-valid one-sided bounds for one arm's mean from ``(count, sum, sum_sq)``.

    Raises:
        ValueError: fewer than two observations.
    """
    n, s, q = a
    if n < 2:
        raise ValueError("the arm needs at least two observations")
    var = float(variance_from_sums(n, s, q, prior_var)) / n
    rad = float(one_sided_radius(var, n, alpha, n_star))
    est = s / n
    return MeanBound(est, est - rad, est + rad, rad, math.sqrt(var), float(n))


def fixed_lower_bound(bound: MeanBound, alpha: float) -> float:
    """One-sided fixed-horizon (single look) normal lower bound at level ``alpha``."""
    return bound.estimate - float(sps.norm.ppf(1.0 - alpha)) * bound.se


def share_e_value(k: Any, m: Any, share: Any, *, ratio: float = 2.0, strength: float = 20.0) -> Any:
    """E-process for ``H0: theta <= share`` from ``k`` canary events out of ``m``.

    When every request goes to the canary with probability ``share`` and the two arms
    have event rates ``p_c`` and ``p_i``, each event is the canary's with probability
    ``theta = share p_c / (share p_c + (1 - share) p_i)``, so ``p_c <= p_i`` iff
    ``theta <= share``. The e-value is a mixture likelihood over ``theta > share``
    (a Beta prior truncated to ``(share, 1)`` whose untruncated mean is the ``theta``
    of a rate ratio ``ratio``, with ``a + b = strength``) divided by the likelihood
    maximised over the null. The denominator is at least the likelihood at the true
    null ``theta``, so the ratio is bounded by a test martingale and
    ``P(ever >= 1/alpha) <= alpha`` (Ville's inequality).

    Args:
        k: events in the canary (int or int array).
        m: events in both arms, ``m >= k``.
        share: the canary's share of the exposure, in (0, 1).
        ratio: event-rate ratio the prior is centred on (> 1).
        strength: prior concentration ``a + b`` (> 0).

    Returns:
        The e-value (float, or array of the broadcast shape); 1.0 when ``m == 0``.
    """
    k = np.asarray(k, dtype=float)
    m = np.asarray(m, dtype=float)
    s = np.asarray(share, dtype=float)
    theta1 = ratio * s / (ratio * s + 1.0 - s)
    a, b = strength * theta1, strength * (1.0 - theta1)
    with np.errstate(divide="ignore", invalid="ignore", under="ignore"):
        log_num = special.betaln(a + k, b + m - k) - special.betaln(a, b)
        tail_post = special.betainc(b + m - k, a + k, 1.0 - s)  # P(theta > s | data)
        tail_prior = special.betainc(b, a, 1.0 - s)
        log_num = log_num + np.log(np.maximum(tail_post, 1e-300)) - np.log(tail_prior)
        theta0 = np.where(m > 0, np.minimum(k / np.where(m > 0, m, 1.0), s), s)
        log_den = special.xlogy(k, theta0) + special.xlog1py(m - k, -theta0)
        out = np.exp(np.clip(log_num - log_den, -700.0, 700.0))
    out = np.where(m > 0, out, 1.0)
    return float(out) if out.ndim == 0 else out


def srm_p_value(observed: tuple[int, int], share: float) -> float:
    """Chi-square goodness-of-fit p-value of ``(incumbent, canary)`` counts vs ``share``.

    Raises:
        ValueError: share outside (0, 1) or a negative count.
    """
    if not 0.0 < share < 1.0:
        raise ValueError(f"canary share must be in (0, 1), got {share!r}")
    inc, can = observed
    if inc < 0 or can < 0:
        raise ValueError("counts must be >= 0")
    total = inc + can
    if total == 0:
        return 1.0
    exp_c = total * share
    exp_i = total - exp_c
    chi2 = (can - exp_c) ** 2 / exp_c + (inc - exp_i) ** 2 / exp_i
    return float(sps.chi2.sf(chi2, df=1))
