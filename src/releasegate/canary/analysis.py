"""Automated canary analysis as a pure function: two arms in, one decision out.

:func:`analyze_canary` is safe to re-run after every new observation: every test it
uses is anytime-valid (see ``docs/canary-statistics.md``). Precedence of the outcomes:
rollback > hold > alert > advance / promote > continue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from releasegate.canary import signals as sg
from releasegate.canary.observations import ArmStats, Observation
from releasegate.canary.policy import CanaryPolicy
from releasegate.errors import UsageError

__all__ = ["Action", "Decision", "analyze_canary"]

Action = Literal["continue", "advance", "promote", "hold", "alert", "rollback"]
Number = float | int | None


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of one canary analysis.

    Attributes:
        action: ``continue`` (keep collecting), ``advance`` (next stage), ``promote``
            (after the last stage), ``hold`` (stop and wait for a person), ``alert``
            (stay on this stage and notify), or ``rollback``.
        reasons: sentences a person understands, the deciding ones first.
        stats: every number behind the decision, keyed ``signal.name`` (estimates,
            bounds, alpha spent, thresholds, counts).
        signals: the state of each signal: ``fail``, ``pass``, ``inconclusive``,
            ``no data`` or ``off``.
    """

    action: Action
    reasons: tuple[str, ...]
    stats: dict[str, Number] = field(default_factory=dict)
    signals: dict[str, str] = field(default_factory=dict)


def _stats(arm: Sequence[Observation] | ArmStats, policy: CanaryPolicy, name: str) -> ArmStats:
    if isinstance(arm, ArmStats):
        arm.validate(name)
        if (arm.pass_score, arm.negative_feedback_max) != (
            policy.pass_score,
            policy.negative_feedback_max,
        ):
            raise UsageError(
                f"{name} statistics were counted with pass_score={arm.pass_score} and "
                f"negative_feedback_max={arm.negative_feedback_max}, but the policy says "
                f"{policy.pass_score} and {policy.negative_feedback_max}"
            )
        return arm
    if isinstance(arm, str | bytes) or not isinstance(arm, Sequence):
        raise UsageError(f"{name} must be a sequence of Observation or an ArmStats")
    return ArmStats.from_observations(
        arm,
        pass_score=policy.pass_score,
        negative_feedback_max=policy.negative_feedback_max,
        arm=name,
    )


def _fixed_errors_ok(errors: sg.Signal, p: CanaryPolicy) -> bool:
    """At the end of a stage: the error rate is within its margin by a final single look."""
    up = errors.stats.get("fixed_upper")
    margin = p.error_margin
    return (
        errors.state == "inconclusive"
        and isinstance(up, float)
        and margin is not None
        and up < margin
    )


def analyze_canary(
    incumbent: Sequence[Observation] | ArmStats,
    canary: Sequence[Observation] | ArmStats,
    policy: CanaryPolicy | None = None,
) -> Decision:
    """Decide what a canary rollout should do next.

    Both arms are grouped by *assigned* arm (a request served by a fallback counts for
    the arm its unit was assigned to). Raw observations and running statistics give the
    same decision.

    Args:
        incumbent: the incumbent's observations since the canary started, or their
            :class:`~releasegate.canary.ArmStats`.
        canary: the canary's observations (or statistics) over the same period.
        policy: the decision policy; defaults to :class:`CanaryPolicy()`.

    Returns:
        A :class:`Decision` with the action, the reasons and every number.

    Raises:
        UsageError: an observation or statistic is invalid (says which arm and index).
    """
    p = policy if policy is not None else CanaryPolicy()
    inc, can = _stats(incumbent, p, "incumbent"), _stats(canary, p, "canary")
    stats: dict[str, Number] = {
        "canary.requests": can.count,
        "incumbent.requests": inc.count,
        "stage.index": p.stage_index,
        "stage.elapsed_s": p.elapsed_s,
        "stage.min_duration_s": p.min_duration_s,
        "stage.max_duration_s": p.max_duration_s,
        "alpha": p.alpha,
    }
    grace_over = p.elapsed_s >= p.grace_period_s
    if can.count == 0 or inc.count == 0:
        empty = "canary" if can.count == 0 else "incumbent"
        msg = f"No data: the {empty} has no recorded requests yet"
        if grace_over:
            return Decision("hold", (f"{msg} after the {p.grace_period_s:.0f} s grace period.",),
                            stats, {"data": "no data"})  # fmt: skip
        return Decision(
            "continue", (f"{msg}; waiting (grace period).",), stats, {"data": "no data"}
        )

    sigs = [
        sg.quality(can, inc, p),
        sg.events("errors", can, inc, p),
        sg.events("feedback", can, inc, p),
        sg.latency(can, inc, p),
        *sg.floors(can, p),
        sg.cost(can, inc, p),
        sg.srm(can, inc, p),
    ]
    for s in sigs:
        for k, v in s.stats.items():
            stats[f"{s.name}.{k}"] = v
    states: dict[str, str] = {s.name: s.state for s in sigs}
    by = {s.name: s for s in sigs}

    rollback: list[str] = []
    hold: list[str] = []
    alert: list[str] = []
    notes: list[str] = []
    for s in sigs:
        if s.state != "fail":
            continue
        mode = p.mode(s.name) if s.name != "srm" else "pause"
        if mode == "dry-run":
            notes.append(f"[dry-run, no action] {s.reason}")
        elif s.name == "cost":
            (alert if mode == "enforce" else hold).append(s.reason)
        elif mode == "pause" or s.name == "srm":
            hold.append(s.reason + ("" if s.name == "srm" else " Held for a person (pause mode)."))
        else:
            rollback.append(s.reason)
    others = [s.reason for s in sigs if s.state != "fail" and s.reason] + notes

    def out(action: Action, first: list[str], rest: list[str] | None = None) -> Decision:
        return Decision(action, tuple(first + (others if rest is None else rest)), stats, states)

    if rollback:
        return out("rollback", rollback, hold + alert + others)
    if hold:
        return out("hold", hold, alert + others)

    quality = by["quality"]

    def ok(name: str) -> bool:  # a dry-run signal never acts, not even by blocking
        return states[name] in ("pass", "off") or p.mode(name) == "dry-run"

    n_scored = int(quality.stats.get("n_canary") or 0)
    floors_ok = ok("score_floor") and ok("pass_floor")
    errors_ok = ok("errors")
    quality_ok = quality.state == "pass" or (
        p.mode("quality") == "dry-run" and n_scored >= p.min_samples
    )
    timed_out = p.max_duration_s is not None and p.elapsed_s >= p.max_duration_s
    ready = quality_ok and errors_ok and floors_ok and p.elapsed_s >= p.min_duration_s
    go: Action = "promote" if p.last_stage else "advance"
    stage = f"stage {p.stage_index}"
    if alert:
        return out("alert", alert)
    if ready:
        return out(
            go,
            [f"Ready to leave {stage}: no guardrail fails; quality and errors are not worse."],
        )
    if quality.state == "no data" and grace_over:
        return out("hold", [f"No scores after the {p.grace_period_s:.0f} s grace period."])
    if timed_out:
        fixed = quality.stats.get("fixed_lower")
        stats["timeout.fixed_lower"] = fixed
        if (
            p.on_timeout == "advance"
            and floors_ok
            and (errors_ok or _fixed_errors_ok(by["errors"], p))
            and isinstance(fixed, float)
            and fixed > -p.margin
            and n_scored >= p.min_samples
        ):
            return out(go, [
                f"{stage} reached its maximum duration; the final fixed-horizon lower bound "
                f"{fixed:+.4f} of the quality difference is above {-p.margin:+.4f}."
            ])  # fmt: skip
        return out("hold", [
            f"{stage} reached its maximum duration ({p.max_duration_s:.0f} s) without a "
            "conclusive result; held for a person."
        ])  # fmt: skip
    waiting = []
    if quality.state == "pass" and p.elapsed_s < p.min_duration_s:
        waiting.append(f"Waiting for the minimum duration ({p.elapsed_s:.0f} of "
                       f"{p.min_duration_s:.0f} s).")  # fmt: skip
    return out("continue", waiting)
