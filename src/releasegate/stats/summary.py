"""Descriptive statistics of a run (SPEC R-1.6). Pure functions, no I/O.

Weighting: a case's score is the weighted mean of its measured checks (check weights);
run-level means weight each case result by its case weight. Percentiles are of case
scores, unweighted. Cases without any measured check are excluded from means and from
the pass-rate denominator and counted as unmeasured instead; errored cases score 0.

Plain Python (``math.fsum``, exactly rounded sums): these few sums over a run's results
do not need numpy, whose import alone costs about 0.1 s of every ``releasegate eval``.
Percentiles interpolate linearly between order statistics, as numpy's default does.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence

from releasegate.evals.report import CaseResult, SliceStats, Summary, TokenTotals

__all__ = ["percentile", "summarize", "weighted_mean_std"]


def weighted_mean_std(
    values: Sequence[float], weights: Sequence[float]
) -> tuple[float | None, float | None]:
    """Weighted mean and (population) standard deviation; ``(None, None)`` if empty.

    Weights that sum to zero or less count every value equally.
    """
    if not values:
        return None, None
    w = [float(x) for x in weights]
    total = math.fsum(w)
    if total <= 0:
        w = [1.0] * len(values)
        total = float(len(values))
    mean = math.fsum(wi * vi for wi, vi in zip(w, values, strict=True)) / total
    var = math.fsum(wi * (vi - mean) ** 2 for wi, vi in zip(w, values, strict=True)) / total
    return mean, math.sqrt(var)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation between order
    statistics (numpy's default method). ``values`` must not be empty."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    frac = pos - lo
    return ordered[lo] + (ordered[hi] - ordered[lo]) * frac


def _slice(results: Iterable[CaseResult]) -> SliceStats:
    scored = [r for r in results if r.score is not None]
    unmeasured = sum(1 for r in results if r.score is None)
    mean, _ = weighted_mean_std(
        [r.score for r in scored if r.score is not None], [r.weight for r in scored]
    )
    rate = sum(r.passed for r in scored) / len(scored) if scored else None
    return SliceStats(n=len(scored), mean_score=mean, pass_rate=rate, n_unmeasured=unmeasured)


def _check_slices(results: Sequence[CaseResult]) -> dict[str, SliceStats]:
    values: dict[str, list[float]] = defaultdict(list)
    weights: dict[str, list[float]] = defaultdict(list)
    passes: dict[str, list[bool]] = defaultdict(list)
    unmeasured: dict[str, int] = defaultdict(int)
    for r in results:
        for c in r.checks:
            if c.status == "measured" and c.value is not None:
                values[c.type].append(c.value)
                weights[c.type].append(r.weight)
                passes[c.type].append(bool(c.passed))
            elif c.status == "unmeasured":
                unmeasured[c.type] += 1
    out: dict[str, SliceStats] = {}
    for name in sorted(set(values) | set(unmeasured)):
        mean, _ = weighted_mean_std(values[name], weights[name])
        p = passes[name]
        out[name] = SliceStats(
            n=len(values[name]),
            mean_score=mean,
            pass_rate=(sum(p) / len(p)) if p else None,
            n_unmeasured=unmeasured[name],
        )
    return out


def summarize(results: Sequence[CaseResult]) -> Summary:
    """Aggregate case results into the report's summary."""
    scored = [r for r in results if r.score is not None]
    scores = [r.score for r in scored if r.score is not None]
    mean, std = weighted_mean_std(scores, [r.weight for r in scored])
    p10: float | None = None
    p50: float | None = None
    p90: float | None = None
    if scores:
        p10, p50, p90 = (percentile(scores, q) for q in (10, 50, 90))
    n_passed = sum(1 for r in scored if r.passed)
    lat = [r.latency_ms for r in results if r.latency_ms is not None and r.error is None]
    by_tag_rows: dict[str, list[CaseResult]] = defaultdict(list)
    for r in results:
        for t in r.tags:
            by_tag_rows[t].append(r)
    prompt_toks = sum(r.prompt_tokens for r in results)
    completion_toks = sum(r.completion_tokens for r in results)
    checks = [c for r in results for c in r.checks]
    return Summary(
        n_cases=len({r.id for r in results}),
        n_results=len(results),
        n_passed=n_passed,
        n_failed=len(scored) - n_passed,
        n_errors=sum(1 for r in results if r.error is not None),
        n_unmeasured=sum(1 for c in checks if c.status == "unmeasured"),
        n_not_applicable=sum(1 for c in checks if c.status == "not_applicable"),
        mean_score=mean,
        std=std,
        p10=p10,
        p50=p50,
        p90=p90,
        pass_rate=(n_passed / len(scored)) if scored else None,
        latency_mean_ms=math.fsum(lat) / len(lat) if lat else None,
        latency_p95_ms=percentile(lat, 95) if lat else None,
        tokens=TokenTotals(
            prompt=prompt_toks, completion=completion_toks, total=prompt_toks + completion_toks
        ),
        cost_usd=math.fsum(r.cost_usd for r in results),
        judge_tokens=sum(c.judge_tokens for c in checks),
        judge_cost_usd=math.fsum(c.judge_cost_usd for c in checks),
        by_tag={t: _slice(rows) for t, rows in sorted(by_tag_rows.items())},
        by_check=_check_slices(results),
        n_cached=sum(1 for r in results if r.cached),
    )
