"""One function per signal of the canary analysis; each returns a :class:`Signal`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from releasegate.canary.observations import ArmStats
from releasegate.canary.policy import CanaryPolicy
from releasegate.stats.sequential import (
    diff_bound,
    fixed_lower_bound,
    mean_bound,
    share_e_value,
    srm_p_value,
)

__all__ = ["Signal", "cost", "events", "floors", "latency", "quality", "srm"]

State = Literal["fail", "pass", "inconclusive", "no data", "off"]
Number = float | int | None


@dataclass(slots=True)
class Signal:
    """The verdict of one signal: a state, a sentence, and its numbers."""

    name: str
    state: State
    reason: str = ""
    stats: dict[str, Number] = field(default_factory=dict)


def _pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def quality(c: ArmStats, i: ArmStats, p: CanaryPolicy) -> Signal:
    """Difference in mean score: roll back when shown worse, advance when non-inferior."""
    sig = Signal("quality", "no data", stats={"n_canary": c.scored, "n_incumbent": i.scored})
    if c.scored < 2 or i.scored < 2:
        sig.reason = "Waiting for scored requests: each arm needs at least two."
        return sig
    ca, ia = (c.scored, c.score_sum, c.score_sumsq), (i.scored, i.score_sum, i.score_sumsq)
    a_rb, a_ni = p.alpha_for("quality"), p.alpha
    ni = diff_bound(ca, ia, alpha=a_ni, n_star=p.n_star, prior_var=p.prior_var)
    sig.stats.update(
        canary_mean=c.score_sum / c.scored,
        incumbent_mean=i.score_sum / i.scored,
        diff=ni.estimate,
        se=ni.se,
        lower=ni.lower,
        alpha_advance=a_ni,
        margin=p.margin,
        rollback_margin=p.rollback_margin,
        fixed_lower=fixed_lower_bound(ni, p.alpha),
        min_samples=p.min_samples,
        n_star=p.n_star,
    )
    upper = None
    if a_rb > 0:
        upper = diff_bound(ca, ia, alpha=a_rb, n_star=p.n_star, prior_var=p.prior_var).upper
        sig.stats.update(upper=upper, alpha_rollback=a_rb)
    d = f"{ni.estimate:+.4f}"
    if c.scored < p.min_samples:
        sig.state = "inconclusive"
        sig.reason = f"Quality: {c.scored} of {p.min_samples} scored canary requests needed."
    elif upper is not None and upper < -p.rollback_margin:
        sig.state = "fail"
        sig.reason = (
            f"Quality is worse: mean score difference {d}, and even its upper bound "
            f"{upper:+.4f} is below {0.0 - p.rollback_margin + 0.0:+.4f} (alpha {a_rb:.4g})."
        )
    elif ni.lower > -p.margin:
        sig.state = "pass"
        sig.reason = (
            f"Quality is not worse: difference {d}, lower bound {ni.lower:+.4f} "
            f"above the margin {-p.margin:+.4f}."
        )
    else:
        sig.state = "inconclusive"
        sig.reason = (
            f"Quality is not yet conclusive: difference {d}, lower bound {ni.lower:+.4f} "
            f"not above the margin {-p.margin:+.4f}."
        )
    return sig


def events(name: str, c: ArmStats, i: ArmStats, p: CanaryPolicy) -> Signal:
    """Errors or negative feedback (``name``): is the canary's share of them too large?"""
    alpha = p.alpha_for(name)
    if name == "feedback":
        k, kc = c.feedback_negative, i.feedback_negative
        n, nc, what = c.feedback_n, i.feedback_n, "negative feedback rate"
    else:
        k, kc, n, nc, what = c.errors, i.errors, c.count, i.count, "error rate"
    sig = Signal(name, "no data", stats={"n_canary": n, "n_incumbent": nc})
    if alpha <= 0:
        sig.state = "off"
        return sig
    if n == 0 or nc == 0:
        sig.reason = f"Waiting for {name} data: one arm has none yet."
        return sig
    sig = _share_test(sig, what, k, kc, n, nc, alpha, p)
    if name == "errors" and sig.state == "pass" and p.error_margin is not None:
        # advancing also needs the error rate shown within error_margin of the incumbent's
        if n < 2 or nc < 2:
            sig.state = "inconclusive"
            return sig
        b = diff_bound((n, k, k), (nc, kc, kc), alpha=p.alpha, n_star=p.n_star,
                       prior_var=p.prior_var)  # fmt: skip
        fixed_upper = b.estimate + (b.estimate - fixed_lower_bound(b, p.alpha))
        sig.stats.update(diff_upper=b.upper, fixed_upper=fixed_upper, error_margin=p.error_margin)
        if b.upper >= p.error_margin:
            sig.state = "inconclusive"
            sig.reason += (
                f" Not yet shown within {_pct(p.error_margin)} of the incumbent's "
                f"(upper bound of the difference {_pct(min(b.upper, 1.0))})."
            )
    return sig


def _share_test(
    sig: Signal, what: str, k: int, kc: int, n: int, nc: int, alpha: float, p: CanaryPolicy
) -> Signal:
    share = n / (n + nc)
    e = share_e_value(k, k + kc, share, ratio=p.event_ratio, strength=p.event_strength)
    rc, ri = k / n, kc / nc
    sig.stats.update(
        events_canary=k,
        events_incumbent=kc,
        rate_canary=rc,
        rate_incumbent=ri,
        share=share,
        e_value=e,
        threshold=1.0 / alpha,
        alpha=alpha,
    )
    if e >= 1.0 / alpha:
        sig.state = "fail"
        sig.reason = (
            f"The canary's {what} is higher: {_pct(rc)} vs {_pct(ri)} "
            f"(e-value {e:.4g} >= {1 / alpha:.4g})."
        )
    else:
        sig.state = "pass"
        sig.reason = f"{what.capitalize()}: {_pct(rc)} vs {_pct(ri)} (e-value {e:.4g})."
    return sig


def latency(c: ArmStats, i: ArmStats, p: CanaryPolicy) -> Signal:
    """p95 guardrail: requests slower than the incumbent's p95 plus a tolerance."""
    n, nc = c.latency_n, i.latency_n
    sig = Signal("latency", "no data", stats={"n_canary": n, "n_incumbent": nc})
    alpha = p.alpha_for("latency")
    if alpha <= 0:
        sig.state = "off"
        return sig
    p95_i, p95_c = i.latency_quantile(0.95), c.latency_quantile(0.95)
    if p95_i is None or p95_c is None:
        sig.reason = "Waiting for latency data: one arm has none yet."
        return sig
    cut = p95_i * (1.0 + p.latency_tolerance)
    sig.stats.update(p95_canary_ms=p95_c, p95_incumbent_ms=p95_i, slow_above_ms=cut)
    sig = _share_test(
        sig, f"share of requests slower than {cut:.0f} ms", c.latency_above(cut),
        i.latency_above(cut), n, nc, alpha, p,
    )  # fmt: skip
    sig.reason += f" p95 {p95_c:.0f} ms vs {p95_i:.0f} ms."
    return sig


def floors(c: ArmStats, p: CanaryPolicy) -> list[Signal]:
    """Absolute floors on the canary's own mean score and pass rate."""
    out = []
    for name, floor, sums, label in (
        ("score_floor", p.min_score, (c.scored, c.score_sum, c.score_sumsq), "mean score"),
        ("pass_floor", p.min_pass_rate, (c.scored, c.passes, c.passes), "pass rate"),
    ):
        sig = Signal(name, "off", stats={"n_canary": c.scored})
        out.append(sig)
        alpha = p.alpha_for(name)
        if floor is None or alpha <= 0:
            continue
        if c.scored < 2:
            sig.state, sig.reason = "no data", f"No scores yet for the {label} floor."
            continue
        b = mean_bound(sums, alpha=alpha, n_star=p.n_star, prior_var=p.prior_var)
        sig.stats.update(estimate=b.estimate, upper=b.upper, floor=floor, alpha=alpha)
        if c.scored >= p.min_samples and b.upper < floor:
            sig.state = "fail"
            sig.reason = (
                f"The canary's {label} {b.estimate:.4f} is below the floor {floor:.4f} "
                f"(upper bound {b.upper:.4f}, alpha {alpha:.4g})."
            )
        elif b.estimate < floor:
            sig.state = "inconclusive"
            sig.reason = f"The canary's {label} {b.estimate:.4f} is under the floor {floor:.4f}."
        else:
            sig.state = "pass"
            sig.reason = f"The canary's {label} {b.estimate:.4f} meets the floor {floor:.4f}."
    return out


def cost(c: ArmStats, i: ArmStats, p: CanaryPolicy) -> Signal:
    """Cost per request up by more than ``cost_alert_share`` (alerts, never rolls back)."""
    sig = Signal("cost", "off", stats={"n_canary": c.cost_n, "n_incumbent": i.cost_n})
    share = p.cost_alert_share
    if share is None:
        return sig
    if c.cost_n < 2 or i.cost_n < 2 or i.cost_sum <= 0:
        sig.state, sig.reason = "no data", "Waiting for cost data: one arm has none yet."
        return sig
    b = diff_bound(
        (c.cost_n, c.cost_sum, c.cost_sumsq), (i.cost_n, i.cost_sum, i.cost_sumsq),
        alpha=p.alpha, n_star=p.n_star, scale_b=1.0 + share,
    )  # fmt: skip
    mc, mi = c.cost_sum / c.cost_n, i.cost_sum / i.cost_n
    sig.stats.update(
        canary_mean_usd=mc, incumbent_mean_usd=mi, change=mc / mi - 1.0,
        alert_share=share, lower=b.lower, alpha=p.alpha,
    )  # fmt: skip
    if c.cost_n >= p.min_samples and b.lower > 0:
        sig.state = "fail"
        sig.reason = (
            f"Cost per request is up {_pct(mc / mi - 1.0)} (${mc:.6f} vs ${mi:.6f}), "
            f"shown above the alert share {_pct(share)}."
        )
    else:
        sig.state = "pass"
        sig.reason = f"Cost per request ${mc:.6f} vs ${mi:.6f}."
    return sig


def srm(c: ArmStats, i: ArmStats, p: CanaryPolicy) -> Signal:
    """Sample ratio mismatch of units and requests against the configured share."""
    sig = Signal("srm", "off")
    share = p.canary_share
    if share is None:
        return sig
    sig.state = "pass"
    sig.stats.update(configured_share=share, srm_p_threshold=p.srm_p)
    requests = p.requests if p.requests is not None else (i.count, c.count)
    bad = []
    for what, counts in (("units", p.units), ("requests", requests)):
        if counts is None:
            continue
        pv = srm_p_value(counts, share)
        tot = sum(counts)
        sig.stats[f"{what}_incumbent"], sig.stats[f"{what}_canary"] = counts
        sig.stats[f"{what}_p_value"] = pv
        if pv < p.srm_p:
            bad.append(f"{what} {counts[1]} of {tot} ({_pct(counts[1] / tot)}, p={pv:.2g})")
    if bad:
        sig.state = "fail"
        sig.reason = (
            f"Sample ratio mismatch: the canary got {' and '.join(bad)} against a configured "
            f"share of {_pct(share)}; assignment or logging is broken, so the comparison "
            "cannot be trusted."
        )
    return sig
