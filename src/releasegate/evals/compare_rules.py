"""Gate rules on regression versus a baseline (SPEC R-1.7, R-1.8)."""

from __future__ import annotations

from releasegate.config import GateConfig
from releasegate.evals.comparison import ALPHA, Comparison
from releasegate.evals.report import RuleResult

__all__ = ["regression_rules"]


def regression_rules(
    comparison: Comparison, gate: GateConfig
) -> tuple[list[RuleResult], list[str]]:
    """Gate rules on regression versus the baseline (SPEC R-1.8), and warnings.

    * ``max_regression``: fails when the bootstrap interval's upper bound is below
      ``-max_regression`` (the evidence says the drop is larger than allowed); when the
      interval straddles ``-max_regression`` the rule passes with a warning that the
      interval is too wide to decide.
    * ``critical_tag:<tag>``: fails when a critical tag's score dropped with a
      Holm-adjusted p-value below 0.05.
    * ``max_cost_increase`` / ``max_latency_increase``: relative increase of the mean
      cost / mean latency per paired case.

    Returns:
        ``(rules, warnings)``; a rule is only present when the gate configures it.
    """
    rules: list[RuleResult] = []
    warnings: list[str] = []
    ov = comparison.overall
    iv = ov.bootstrap
    ci = f"[{iv.low:+.3f}, {iv.high:+.3f}]"
    if gate.max_regression is not None:
        floor = -gate.max_regression
        failed = iv.high < floor
        rules.append(
            RuleResult(
                rule="max_regression",
                passed=not failed,
                actual=iv.high,
                threshold=floor,
                message=(
                    f"score delta {ov.delta:+.3f}, {iv.confidence:.0%} CI {ci}; "
                    + (
                        f"the whole interval is below {floor:+.3f}"
                        if failed
                        else f"upper bound is at or above {floor:+.3f}"
                    )
                ),
            )
        )
        if not failed and iv.low < floor:
            mde = f"; this dataset detects about {ov.mde:.3f}" if ov.mde is not None else ""
            warnings.append(
                f"inconclusive: the score delta's interval {ci} straddles the allowed "
                f"regression {floor:+.3f}, too wide to decide{mde} — add cases or repeats"
            )
    slices = {s.name: s for s in comparison.by_tag}
    for tag in gate.critical_tags:
        s = slices.get(tag)
        if s is None:
            warnings.append(f"critical tag {tag!r} has no paired cases in this comparison")
            continue
        dropped = s.significant_drop
        where = (
            f"[{s.low:+.3f}, {s.high:+.3f}]" if s.low is not None and s.high is not None else "n/a"
        )
        holm = f"{s.p_holm:.3g}" if s.p_holm is not None else "n/a"
        rules.append(
            RuleResult(
                rule=f"critical_tag:{tag}",
                passed=not dropped,
                actual=s.delta,
                threshold=0.0,
                message=f"tag {tag!r} delta {s.delta:+.3f} (n={s.n}, 95% CI {where}, "
                f"Holm p={holm})" + ("; significant regression" if dropped else ""),
            )
        )
        if not dropped and s.delta < 0:
            warnings.append(
                f"critical tag {tag!r} dropped by {-s.delta:.3f} but not significantly (n={s.n})"
            )
    for rule, res, limit in (
        ("max_cost_increase", comparison.cost_per_case_usd, gate.max_cost_increase),
        ("max_latency_increase", comparison.latency_mean_ms, gate.max_latency_increase),
    ):
        if limit is None:
            continue
        if res.change is None:
            warnings.append(f"{rule}: no baseline value to compare against; rule skipped")
            continue
        rules.append(
            RuleResult(
                rule=rule,
                passed=res.change <= limit,
                actual=res.change,
                threshold=limit,
                message=f"{res.change:+.1%} versus baseline (allowed +{limit:.0%})",
            )
        )
    mc = comparison.mcnemar
    if mc.pass_to_fail > mc.fail_to_pass and mc.p_mid < ALPHA:
        warnings.append(
            f"McNemar: {mc.pass_to_fail} case(s) went from pass to fail and "
            f"{mc.fail_to_pass} from fail to pass (mid-p {mc.p_mid:.3g})"
        )
    if comparison.flaky_head:
        warnings.append(
            f"{len(comparison.flaky_head)} flaky case(s) in head (repeats disagree): "
            + ", ".join(comparison.flaky_head[:10])
        )
    if comparison.n_base_only or comparison.n_head_only:
        warnings.extend(comparison.notes[:1])
    return rules, warnings
