"""Baseline comparison of two evaluation reports: :func:`compare_reports`.

Cases are paired by id; the turns of multi-turn cases are also paired by id and turn
index (:mod:`releasegate.evals._turn_pairs`), and a case whose turn count changed is
listed, never paired turn by turn with a shifted conversation. A case run several times
(``--repeat K``) is first reduced to one row per side
(:mod:`releasegate.evals._per_case`): the mean of its scored repeats' scores and the
share of repeats that passed. Which results count and how they are weighted is
:mod:`releasegate.results.verdicts`, as in the summary: a case that is informational
(weight 0) on either side is left out of the paired statistics.

Every paired mean (overall, per tag, per check type) weights a case by its weight in the
*head* report, the dataset under review; per check type, a case also counts once per
value of that check type (as the summary does). On two identical single-repeat reports
the per-tag and per-check means equal the summary's. The headline is the weighted mean
difference ``head - base`` with a seeded paired bootstrap interval and a paired t
interval. The gate uses the bootstrap interval's *upper bound*, never the point
estimate, so that sampling noise does not block a merge (see ``docs/comparison.md``).
The result is the :class:`~releasegate.results.comparison.Comparison` document; its gate
rules come from :func:`releasegate.evals.gate.regression_rules`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Literal

import numpy as np

from releasegate.config import GateConfig
from releasegate.errors import ReportFormatError
from releasegate.evals._per_case import CaseRow, case_rows
from releasegate.evals._turn_pairs import turn_changes
from releasegate.evals.gate import flaky_cases, regression_rules
from releasegate.results.comparison import (
    CaseFlip,
    Comparison,
    IntervalOut,
    McNemarOut,
    OverallDelta,
    ResourceDelta,
    SliceDelta,
)
from releasegate.results.report import EvalReport
from releasegate.stats.paired import (
    holm_adjust,
    mcnemar_test,
    paired_bootstrap_ci,
    paired_mde,
    paired_t_test,
)

__all__ = ["Comparison", "compare_reports"]

_MAX_LISTED = 50  # cases listed per category in the JSON (all are counted)


def _interval(
    method: Literal["bootstrap", "paired-t"], conf: float, lo: float, hi: float
) -> IntervalOut:
    return IntervalOut(method=method, confidence=conf, low=lo, high=hi)


def _overall(
    pairs: list[tuple[CaseRow, CaseRow]], *, seed: int, confidence: float, n_resamples: int
) -> OverallDelta:
    base = np.array([b.score for b, _ in pairs], dtype=np.float64)
    head = np.array([h.score for _, h in pairs], dtype=np.float64)
    w = np.array([h.weight for _, h in pairs], dtype=np.float64)
    if not np.any(w > 0):
        w = np.ones_like(w)  # all weights zero: fall back to an unweighted comparison
    w = w / w.max()  # only ratios matter; scaled so that huge weights cannot overflow
    boot = paired_bootstrap_ci(
        base, head, weights=w, confidence=confidence, n_resamples=n_resamples, seed=seed
    )
    t_out: IntervalOut | None = None
    p: float | None = None
    sd: float | None = None
    mde: float | None = None
    if int(np.count_nonzero(w > 0)) >= 2:
        t = paired_t_test(base, head, weights=w, confidence=confidence)
        t_out = _interval("paired-t", confidence, t.interval.low, t.interval.high)
        p, sd = t.p_value, t.sd
        mde = paired_mde(t.sd, t.n)
    return OverallDelta(
        n=len(pairs),
        base_mean=float(np.sum(w * base) / np.sum(w)),
        head_mean=float(np.sum(w * head) / np.sum(w)),
        delta=boot.estimate,
        bootstrap=_interval("bootstrap", confidence, boot.low, boot.high),
        t=t_out,
        p_value=p,
        sd_diff=sd,
        mde=mde,
    )


def _slices(
    kind: Literal["tag", "check"], groups: dict[str, list[tuple[float, float, float]]]
) -> list[SliceDelta]:
    """One row per slice from ``(base, head, weight)`` triples, weighted like the summary."""
    rows: list[SliceDelta] = []
    for name in sorted(groups):
        vals = groups[name]
        b = np.array([x for x, _, _ in vals], dtype=np.float64)
        h = np.array([y for _, y, _ in vals], dtype=np.float64)
        w = np.array([z for _, _, z in vals], dtype=np.float64)
        w = w / w.max()  # only ratios matter; scaled so that huge weights cannot overflow
        lo = hi = p = None
        if len(vals) >= 2:
            t = paired_t_test(b, h, weights=w)
            lo, hi, p = t.interval.low, t.interval.high, t.p_value
        base_mean = float(np.sum(w * b) / np.sum(w))
        head_mean = float(np.sum(w * h) / np.sum(w))
        rows.append(
            SliceDelta(
                kind=kind,
                name=name,
                n=len(vals),
                base_mean=base_mean,
                head_mean=head_mean,
                delta=float(np.sum(w * (h - b)) / np.sum(w)),
                low=lo,
                high=hi,
                p_value=p,
                p_holm=None,
            )
        )
    tested = [i for i, r in enumerate(rows) if r.p_value is not None]
    adjusted = holm_adjust([rows[i].p_value or 0.0 for i in tested])
    for i, padj in zip(tested, adjusted, strict=True):
        rows[i] = rows[i].model_copy(update={"p_holm": padj})
    return rows


def _relative(base: float | None, head: float | None) -> ResourceDelta:
    change = None if base is None or head is None or base <= 0 else head / base - 1.0
    return ResourceDelta(base=base, head=head, change=change)


def _mean_or_none(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return float(np.mean(vals)) if vals else None


def _p95_or_none(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return float(np.percentile(vals, 95)) if vals else None


def _flip(b: CaseRow, h: CaseRow) -> CaseFlip:
    assert b.score is not None and h.score is not None
    return CaseFlip(
        id=h.id,
        base_score=b.score,
        head_score=h.score,
        base_pass_share=b.pass_share,
        head_pass_share=h.pass_share,
        tags=h.tags,
        reasons=h.reasons,
        output=h.output,
        messages=h.messages,
        tool_calls=h.tool_calls,
    )


def compare_reports(
    base: EvalReport,
    head: EvalReport,
    *,
    gate: GateConfig | None = None,
    seed: int = 0,
    confidence: float = 0.95,
    n_resamples: int = 10_000,
) -> Comparison:
    """Compare a head report against a baseline report, case by case.

    Args:
        base: the baseline report (e.g. the target branch).
        head: the report of the change under review.
        gate: when given, :func:`regression_rules` are evaluated and stored in the result.
        seed: seed of the bootstrap generator (results are reproducible).
        confidence: two-sided confidence level of the intervals.
        n_resamples: bootstrap resamples.

    Raises:
        ReportFormatError: when the reports share no scored case id.
    """
    b_aggs, h_aggs = case_rows(base), case_rows(head)
    common = [cid for cid in h_aggs if cid in b_aggs]
    base_only = sorted(set(b_aggs) - set(h_aggs))
    head_only = sorted(set(h_aggs) - set(b_aggs))
    all_pairs = [(b_aggs[c], h_aggs[c]) for c in common]
    # Informational on either side (weight 0): reported, never compared.
    pairs = [(b, h) for b, h in all_pairs if not (b.informational or h.informational)]
    n_informational = len(all_pairs) - len(pairs)
    scored = [
        (b, h) for b, h in pairs if b.score is not None and h.score is not None and h.weight > 0
    ]
    if not scored:
        raise ReportFormatError(
            f"base report {base.run_id!r} and head report {head.run_id!r} have no scored "
            f"case id in common ({len(b_aggs)} base ids, {len(h_aggs)} head ids, "
            f"{len(common)} shared, {n_informational} of them informational) — were they "
            "run on the same dataset?"
        )
    notes: list[str] = []
    if base_only or head_only:
        notes.append(
            f"{len(scored)} case(s) paired; {len(base_only)} only in base and "
            f"{len(head_only)} only in head were left out of the paired statistics"
        )
    if base.identity.dataset_hash and base.identity.dataset_hash != head.identity.dataset_hash:
        notes.append("the two reports were run on different dataset versions")
    n_unscored = len(pairs) - len(scored)
    if n_unscored:
        notes.append(f"{n_unscored} paired case(s) had no usable score on one side")
    if n_informational:
        notes.append(
            f"{n_informational} paired case(s) are informational (weight 0) on one side "
            "and were left out of the paired statistics"
        )

    turns = turn_changes(base, head)
    recount = [t for t in turns if t.count_changed]
    if recount:
        notes.append(
            f"{len(recount)} multi-turn case(s) have a different number of turns in base "
            "and head; only the turns both have are paired, the others are listed as such"
        )

    mc = mcnemar_test([b.passed for b, _ in scored], [h.passed for _, h in scored])
    tags: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    checks: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    for b, h in scored:
        assert b.score is not None and h.score is not None
        for tag in dict.fromkeys(h.tags or b.tags):
            tags[tag].append((b.score, h.score, h.weight))
        for ctype, (hv, per_repeat) in h.checks.items():
            if ctype in b.checks:
                checks[ctype].append((b.checks[ctype][0], hv, h.weight * per_repeat))

    comparison = Comparison(
        base=base.identity,
        head=head.identity,
        base_run_id=base.run_id,
        head_run_id=head.run_id,
        seed=seed,
        n_paired=len(scored),
        n_base_only=len(base_only),
        n_head_only=len(head_only),
        n_unscored=n_unscored,
        base_only_ids=base_only[:_MAX_LISTED],
        head_only_ids=head_only[:_MAX_LISTED],
        overall=_overall(scored, seed=seed, confidence=confidence, n_resamples=n_resamples),
        base_pass_rate=float(np.mean([b.passed for b, _ in scored])),
        head_pass_rate=float(np.mean([h.passed for _, h in scored])),
        mcnemar=McNemarOut(
            pass_to_fail=mc.pass_to_fail,
            fail_to_pass=mc.fail_to_pass,
            p_exact=mc.p_exact,
            p_mid=mc.p_mid,
        ),
        newly_failing=sorted(
            (_flip(b, h) for b, h in scored if b.passed and not h.passed),
            key=lambda f: f.head_score - f.base_score,
        )[:_MAX_LISTED],
        newly_passing=sorted(
            (_flip(b, h) for b, h in scored if h.passed and not b.passed),
            key=lambda f: f.base_score - f.head_score,
        )[:_MAX_LISTED],
        by_tag=_slices("tag", tags),
        by_check=_slices("check", checks),
        cost_per_case_usd=_relative(
            float(np.mean([b.cost for b, _ in scored])),
            float(np.mean([h.cost for _, h in scored])),
        ),
        latency_mean_ms=_relative(
            _mean_or_none(b.latency for b, _ in scored),
            _mean_or_none(h.latency for _, h in scored),
        ),
        latency_p95_ms=_relative(
            _p95_or_none(b.latency for b, _ in scored),
            _p95_or_none(h.latency for _, h in scored),
        ),
        turn_changes=turns[:_MAX_LISTED],
        flaky_base=flaky_cases(base),
        flaky_head=flaky_cases(head),
        notes=notes,
    )
    warnings = _judge_changed(base, head)
    if gate is not None:
        rules, rule_warnings = regression_rules(comparison, gate)
        comparison = comparison.model_copy(
            update={"rules": rules, "warnings": warnings + rule_warnings}
        )
    elif warnings:
        comparison = comparison.model_copy(update={"warnings": warnings})
    return comparison


def _judge_changed(base: EvalReport, head: EvalReport) -> list[str]:
    """A changed judge moves model-graded scores by itself: say so next to the delta."""
    b, h = base.identity.judge_model, head.identity.judge_model
    if b == h:
        return []
    return [
        f"the judge changed between the runs ({b or 'none'} -> {h or 'none'}): "
        "deltas of model-graded checks mix the change under review with the judge's own"
    ]
