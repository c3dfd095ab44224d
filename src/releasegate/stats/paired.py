"""Statistics for a paired comparison of two evaluation runs.

Both runs score the same cases, so each case contributes one difference
``head - base``. Pairing removes the between-case variance (some cases are simply
harder than others), which is why a paired design detects a smaller regression than
comparing two independent means at the same dataset size.

Everything here is pure: arrays in, small frozen dataclasses out. The numbers are
checked in the test suite against :mod:`scipy.stats` and hand-worked examples.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize
from scipy import stats as sps

__all__ = [
    "Interval",
    "McNemarResult",
    "PairedTest",
    "holm_adjust",
    "mcnemar_test",
    "paired_bootstrap_ci",
    "paired_mde",
    "paired_t_test",
    "weighted_mean",
]

_BATCH = 2000  # resamples drawn at once; bounds memory at n * _BATCH integers


@dataclass(frozen=True, slots=True)
class Interval:
    """A point estimate with a two-sided confidence interval."""

    estimate: float
    low: float
    high: float
    confidence: float
    method: str

    @property
    def width(self) -> float:
        return self.high - self.low


@dataclass(frozen=True, slots=True)
class PairedTest:
    """A paired t analysis of differences ``head - base``.

    Attributes:
        n: number of pairs.
        mean: (weighted) mean difference.
        sd: standard deviation of the differences (ddof=1; weighted if weights given).
        se: standard error of ``mean``.
        interval: the t confidence interval for the mean difference.
        p_value: two-sided p-value of "mean difference is zero".
    """

    n: int
    mean: float
    sd: float
    se: float
    interval: Interval
    p_value: float


@dataclass(frozen=True, slots=True)
class McNemarResult:
    """McNemar's test on pass/fail flips between two paired runs.

    Attributes:
        pass_to_fail: cases that passed at base and fail at head (``b``).
        fail_to_pass: cases that failed at base and pass at head (``c``).
        p_exact: two-sided exact binomial p-value.
        p_mid: mid-p variant (less conservative, close to nominal level).
    """

    pass_to_fail: int
    fail_to_pass: int
    p_exact: float
    p_mid: float


def _as_array(values: ArrayLike, name: str) -> NDArray[np.float64]:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite numbers")
    return arr


def _diffs_and_weights(
    base: ArrayLike, head: ArrayLike, weights: ArrayLike | None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    b = _as_array(base, "base")
    h = _as_array(head, "head")
    if b.shape != h.shape:
        raise ValueError(f"base and head differ in length ({b.size} vs {h.size})")
    if weights is None:
        w = np.ones_like(b)
    else:
        w = _as_array(weights, "weights")
        if w.shape != b.shape:
            raise ValueError("weights must have one entry per pair")
        if np.any(w < 0):
            raise ValueError("weights must not be negative")
    keep = w > 0  # a zero-weight case carries no information
    return h[keep] - b[keep], w[keep]


def _constant(d: NDArray[np.float64]) -> bool:
    # Differences equal up to float rounding (0.4 - 0.5 vs 0.1 - 0.2) carry no spread.
    return bool(np.ptp(d) <= 1e-12)


def weighted_mean(values: ArrayLike, weights: ArrayLike | None = None) -> float:
    """Mean of ``values`` weighted by ``weights`` (plain mean when weights are None)."""
    v = _as_array(values, "values")
    if v.size == 0:
        raise ValueError("mean of an empty sample")
    if weights is None:
        return float(v.mean())
    w = _as_array(weights, "weights")
    return float(np.sum(w * v) / np.sum(w))


def paired_bootstrap_ci(
    base: ArrayLike,
    head: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    confidence: float = 0.95,
    n_resamples: int = 10_000,
    seed: int = 0,
) -> Interval:
    """Percentile bootstrap interval for the mean paired difference ``head - base``.

    Cases (pairs) are resampled with replacement, so the correlation between a case's
    base and head score is kept. The generator is ``numpy.random.default_rng(seed)``:
    the same inputs and seed give the same interval on every machine.

    Args:
        base: per-case base scores.
        head: per-case head scores, in the same case order.
        weights: optional per-case weights; the statistic is then the weighted mean.
        confidence: two-sided confidence level.
        n_resamples: number of bootstrap resamples.
        seed: seed of the random generator.

    Returns:
        The interval; with fewer than two pairs it collapses to the point estimate.
    """
    if not 0 < confidence < 1:
        raise ValueError("confidence must be in (0, 1)")
    if n_resamples < 1:
        raise ValueError("n_resamples must be positive")
    d, w = _diffs_and_weights(base, head, weights)
    n = d.size
    if n == 0:
        raise ValueError("no pairs to compare")
    estimate = float(np.sum(w * d) / np.sum(w))
    if n < 2 or _constant(d):
        return Interval(estimate, estimate, estimate, confidence, "bootstrap")
    rng = np.random.default_rng(seed)
    stats = np.empty(n_resamples, dtype=np.float64)
    wd = w * d
    for start in range(0, n_resamples, _BATCH):
        rows = min(_BATCH, n_resamples - start)
        idx = rng.integers(0, n, size=(rows, n))
        stats[start : start + rows] = wd[idx].sum(axis=1) / w[idx].sum(axis=1)
    alpha = 1.0 - confidence
    low, high = np.quantile(stats, [alpha / 2, 1 - alpha / 2])
    return Interval(estimate, float(low), float(high), confidence, "bootstrap")


def paired_t_test(
    base: ArrayLike,
    head: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    confidence: float = 0.95,
) -> PairedTest:
    """Paired t interval and test for the mean difference ``head - base``.

    Without weights this is exactly :func:`scipy.stats.ttest_rel`. With weights the
    mean is the weighted mean and its standard error is the usual linearised (ratio
    estimator) one, ``sqrt(n/(n-1) * sum(w_i^2 (d_i - mean)^2)) / sum(w)``, which
    reduces to ``sd/sqrt(n)`` when all weights are equal.

    Raises:
        ValueError: with fewer than two pairs (no variance estimate exists).
    """
    if not 0 < confidence < 1:
        raise ValueError("confidence must be in (0, 1)")
    d, w = _diffs_and_weights(base, head, weights)
    n = d.size
    if n < 2:
        raise ValueError("a paired t interval needs at least two pairs")
    mean = float(np.sum(w * d) / np.sum(w))
    resid = d - mean
    se = math.sqrt(n / (n - 1) * float(np.sum((w * resid) ** 2))) / float(np.sum(w))
    # A weighted sd consistent with se: se = sd / sqrt(n).
    sd = se * math.sqrt(n)
    df = n - 1
    if _constant(d):
        # Every difference is identical: the mean is known exactly.
        p = 1.0 if mean == 0.0 else 0.0
        interval = Interval(mean, mean, mean, confidence, "paired-t")
        return PairedTest(n, mean, 0.0, 0.0, interval, p)
    tcrit = float(sps.t.ppf(0.5 + confidence / 2, df))
    interval = Interval(mean, mean - tcrit * se, mean + tcrit * se, confidence, "paired-t")
    p = float(2 * sps.t.sf(abs(mean / se), df))
    return PairedTest(n, mean, sd, se, interval, min(1.0, p))


def mcnemar_test(base_passed: Sequence[bool], head_passed: Sequence[bool]) -> McNemarResult:
    """Exact (and mid-p) McNemar test on paired pass/fail outcomes.

    Only discordant pairs carry information: under "no change" each is equally likely
    to be a pass→fail or a fail→pass flip, so ``b ~ Binomial(b + c, 1/2)``. The exact
    two-sided p-value is ``min(1, 2 P(X <= min(b, c)))``; the mid-p value subtracts
    ``P(X = min(b, c))`` (Fagerland, Lydersen and Laake, 2013, recommend it).
    """
    if len(base_passed) != len(head_passed):
        raise ValueError("base and head differ in length")
    b = sum(1 for x, y in zip(base_passed, head_passed, strict=True) if x and not y)
    c = sum(1 for x, y in zip(base_passed, head_passed, strict=True) if y and not x)
    n = b + c
    if n == 0:
        return McNemarResult(b, c, 1.0, 1.0)
    k = min(b, c)
    p_exact = min(1.0, 2.0 * float(sps.binom.cdf(k, n, 0.5)))
    p_mid = min(1.0, p_exact - float(sps.binom.pmf(k, n, 0.5)))
    return McNemarResult(b, c, p_exact, p_mid)


def holm_adjust(p_values: Sequence[float]) -> list[float]:
    """Holm step-down adjusted p-values, in the input order.

    Rejecting every hypothesis whose adjusted p-value is below ``alpha`` controls the
    family-wise error rate at ``alpha`` under any dependence between the tests.
    """
    m = len(p_values)
    for p in p_values:
        if not 0.0 <= p <= 1.0 or math.isnan(p):
            raise ValueError(f"p-value out of range: {p!r}")
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def paired_mde(sd: float, n: int, *, alpha: float = 0.05, power: float = 0.8) -> float | None:
    """Minimum detectable effect of a two-sided paired t test.

    The smallest true mean difference that a paired t test at level ``alpha`` detects
    with probability ``power`` given ``n`` pairs whose differences have standard
    deviation ``sd``. Solved exactly with the noncentral t distribution, so the result
    is correct for small ``n`` too (the normal approximation
    ``(z_{1-alpha/2} + z_power) sd / sqrt(n)`` is a slight underestimate there).

    Returns:
        The effect in score units, or ``None`` when ``n < 2``; ``0.0`` when ``sd == 0``.
    """
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise ValueError("alpha and power must be in (0, 1)")
    if sd < 0 or not math.isfinite(sd):
        raise ValueError("sd must be a finite non-negative number")
    if n < 2:
        return None
    if sd == 0:
        return 0.0
    df = n - 1
    tcrit = float(sps.t.ppf(1 - alpha / 2, df))

    def power_at(nc: float) -> float:
        # Both tails count: a two-sided test rejects on either side. The far tail can
        # underflow to NaN in scipy for large noncentrality; it is zero there.
        far = float(sps.nct.cdf(-tcrit, df, nc))
        return float(sps.nct.sf(tcrit, df, nc)) + (0.0 if math.isnan(far) else far)

    # Bracket the root: with few degrees of freedom the t tails are heavy and the
    # required noncentrality can be far above the normal-theory value.
    upper = tcrit + float(sps.norm.ppf(power)) + 2.0
    while power_at(upper) < power:
        upper *= 2.0
        if upper > 1e6:
            return None
    nc = float(optimize.brentq(lambda x: power_at(x) - power, 0.0, upper, xtol=1e-10))
    return nc * sd / math.sqrt(n)
