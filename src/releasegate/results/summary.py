"""Descriptive statistics of a run. Pure functions, no I/O.

Which results count, and how they are weighted, is defined once in
:mod:`releasegate.results.verdicts`: means weight each scored result (passed, failed,
errored) by its case weight; informational results (case weight 0, or only checks of
weight 0) are reported but never counted; results without a measured weighted check are
counted as unmeasured or not applicable, outside the means and the pass-rate denominator.
Percentiles are of the scored results' scores, unweighted.

Plain Python (``math.fsum``, exactly rounded sums): these few sums over a run's results
do not need numpy, whose import alone costs about 0.1 s of every ``releasegate eval``.
Percentiles interpolate linearly between order statistics, as numpy's default does.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence

from releasegate.results.report import CaseResult, SliceStats, Summary, TokenTotals
from releasegate.results.verdicts import (
    case_verdict,
    counts,
    gating_check_values,
    gating_checks,
    is_gating,
    result_score,
    weighted_mean_std,
)

__all__ = ["percentile", "summarize", "weighted_mean_std"]


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
    verdicts = [(r, case_verdict(r)) for r in results]
    scored = [r for r, v in verdicts if v in ("passed", "failed", "error")]
    mean, _ = weighted_mean_std([result_score(r) for r in scored], [r.weight for r in scored])
    n_passed = sum(1 for _, v in verdicts if v == "passed")
    return SliceStats(
        n=len(scored),
        mean_score=mean,
        pass_rate=n_passed / len(scored) if scored else None,
        n_unmeasured=sum(1 for _, v in verdicts if v == "unmeasured"),
    )


def _check_slices(results: Sequence[CaseResult]) -> dict[str, SliceStats]:
    values: dict[str, list[float]] = defaultdict(list)
    weights: dict[str, list[float]] = defaultdict(list)
    passes: dict[str, list[bool]] = defaultdict(list)
    unmeasured: dict[str, int] = defaultdict(int)
    for r in results:
        if not is_gating(r):
            continue
        for ctype, vals in gating_check_values(r).items():
            values[ctype].extend(vals)
            weights[ctype].extend([r.weight] * len(vals))
        for c in gating_checks(r.checks):
            if c.status == "measured" and c.value is not None:
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
    """Aggregate case results into the report's summary.

    Counts (``n_passed``, ``n_failed``, ``n_errors``, unmeasured and not-applicable
    checks, per-tag and per-check slices) leave informational results out; ``n_results``,
    tokens, cost and latency cover every result (they were spent either way).
    """
    verdicts = counts(results)
    gating = [r for r in results if is_gating(r)]
    scored = [r for r in gating if case_verdict(r) in ("passed", "failed", "error")]
    scores = [result_score(r) for r in scored]
    mean, std = weighted_mean_std(scores, [r.weight for r in scored])
    p10: float | None = None
    p50: float | None = None
    p90: float | None = None
    if scores:
        p10, p50, p90 = (percentile(scores, q) for q in (10, 50, 90))
    n_passed = verdicts["passed"]
    lat = [r.latency_ms for r in results if r.latency_ms is not None and r.error is None]
    by_tag_rows: dict[str, list[CaseResult]] = defaultdict(list)
    for r in gating:
        for t in dict.fromkeys(r.tags):
            by_tag_rows[t].append(r)
    prompt_toks = sum(r.prompt_tokens for r in results)
    completion_toks = sum(r.completion_tokens for r in results)
    all_checks = [c for r in results for c in r.checks]
    checks = [c for r in gating for c in gating_checks(r.checks)]
    return Summary(
        n_cases=len({r.id for r in results}),
        n_results=len(results),
        n_passed=n_passed,
        n_failed=len(scored) - n_passed,
        n_errors=verdicts["error"],
        n_unmeasured=sum(1 for c in checks if c.status == "unmeasured"),
        n_not_applicable=sum(1 for c in checks if c.status == "not_applicable"),
        n_informational=verdicts["informational"],
        verdicts=dict(verdicts),
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
        judge_tokens=sum(c.judge_tokens for c in all_checks),
        judge_cost_usd=math.fsum(c.judge_cost_usd for c in all_checks),
        by_tag={t: _slice(rows) for t, rows in sorted(by_tag_rows.items())},
        by_check=_check_slices(results),
        n_cached=sum(1 for r in results if r.cached),
    )
