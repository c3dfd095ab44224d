"""The canary service: analyse every running canary, store the decision, act on it.

For each feature with a canary, :meth:`CanaryService.analyze` reads the running
statistics of both arms since the canary started (kept by increments, see
:class:`releasegate.ports.ArmStatsRepository`), runs :func:`releasegate.analyze_canary`
with the deployment's policy and rollout stage, stores the decision with every number,
and applies it through the control-plane services, audited with those numbers:

- ``rollback``: the canary is aborted at once (guarded: only that version's running
  canary, so a person's concurrent promote or rollback is never undone);
- ``advance``: the canary moves to the plan's next stage, unless that stage needs a
  person's approval (then the decision says so and an alert is sent);
- ``promote``: after the last stage, the canary becomes the active version;
- ``hold`` and ``alert``: nothing moves; the alert webhooks are told.

A decision that says what the previous one said (same action from the same signal
states; its numbers may have moved) is stored but not re-sent to the webhooks. An
analysis that finds no new evidence at all (same stage, action, reasons, numbers and
signals as the stored decision, and nothing to apply) stores nothing and returns the
standing decision.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from releasegate.canary.analysis import Decision, analyze_canary
from releasegate.canary.observations import ArmStats, Observation
from releasegate.canary.policy import CanaryPolicy
from releasegate.canary.records import OVERALL, REQUESTS, StoredDecision
from releasegate.control.deployments import DeploymentService
from releasegate.deploy.model import AuditEntry, Deployment, utcnow
from releasegate.deploy.plans import RolloutPlan
from releasegate.deploy.status import Status
from releasegate.errors import ReleasegateError
from releasegate.online.arm_facts import ARMS, request_part, score_part
from releasegate.ports import ArmKey, UnitOfWork

__all__ = ["ACTOR", "ARMS", "AlertSink", "CanaryService", "CanaryStatus", "arm_totals"]

#: Who the audit log says acted when the analysis applied a decision.
ACTOR = "releasegate-canary"
_STARTS = frozenset({"canary"})
_STAGE_STARTS = frozenset({"canary", "advance"})
_NOTIFY = frozenset({"rollback", "hold", "alert"})


class AlertSink(Protocol):
    """Where decisions worth a person's attention are sent (see :mod:`.alerts`)."""

    def send(self, deployment: Deployment, decision: StoredDecision) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class CanaryStatus:
    """What ``releasegate canary status`` shows for one feature.

    Attributes:
        feature: The feature.
        canary: The deployment in canary (or paused in canary), None without one.
        incumbent: The active version's label, None on a first release.
        arms: ``{"incumbent": ArmStats, "canary": ArmStats}`` since the canary started.
        decisions: The latest stored decisions, newest first.
    """

    feature: str
    canary: Deployment | None
    incumbent: str | None
    arms: Mapping[str, ArmStats]
    decisions: list[StoredDecision]

    def to_json(self) -> dict[str, Any]:
        """JSON form (what ``--json`` prints)."""
        c = self.canary
        return {
            "feature": self.feature,
            "canary": None
            if c is None
            else {
                "version": c.version,
                "status": c.status.value,
                "share": c.share,
                "stage": c.stage,
                "plan": (c.plan or {}).get("name"),
            },
            "incumbent": self.incumbent,
            "arms": {arm: _arm_json(s) for arm, s in self.arms.items()},
            "last_decision": self.decisions[0].to_json() if self.decisions else None,
            "decisions": [d.to_json() for d in self.decisions],
        }


def _arm_json(s: ArmStats) -> dict[str, Any]:
    return {
        "requests": s.count,
        "errors": s.errors,
        "scored": s.scored,
        "mean_score": s.score_sum / s.scored if s.scored else None,
        "pass_rate": s.passes / s.scored if s.scored else None,
        "feedback": s.feedback_n,
        "negative_feedback": s.feedback_negative,
        "latency_p95_ms": s.latency_quantile(0.95),
        "cost_per_request_usd": s.cost_sum / s.cost_n if s.cost_n else None,
    }


def arm_totals(rows: Mapping[ArmKey, ArmStats], *, stage: int | None = None) -> dict[str, ArmStats]:
    """Fold stored rows into one :class:`ArmStats` per arm.

    Request-level rows (errors, latency, cost, feedback) and the overall-score rows are
    merged; per-check rows are left out (they are for display). With ``stage``, only
    that stage's rows count (the sample-ratio check compares the current stage's share).
    """
    out = {arm: ArmStats() for arm in ARMS}
    for (st, arm, check), s in rows.items():
        if arm in out and check in (REQUESTS, OVERALL) and (stage is None or st == stage):
            out[arm] = out[arm].merge(s)
    return out


def _stage_start(
    entries: Iterable[AuditEntry], version: str, now: datetime
) -> tuple[datetime, datetime]:
    """When the canary of ``version`` started, and when its current stage started."""
    started = stage = None
    for e in entries:  # oldest first
        if e.version != version:
            continue
        if e.action in _STARTS:
            started = stage = e.at
        elif e.action in _STAGE_STARTS and started is not None:
            stage = e.at
    return (started or now, stage or started or now)


def _clean(stats: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in stats.items()
    }


class CanaryService:
    """Runs the analysis for running canaries and applies its decisions.

    Args:
        uow: The unit of work (statistics, decisions, deployments, audit).
        deployments: The control-plane service the decisions are applied through.
        policy_for: The analysis policy of a deployment (alpha, margins, floors ...);
            the stage fields are filled in here. Default: :class:`CanaryPolicy()` with
            the deployment's ``min_score`` as the online score floor.
        alerts: Where rollback, hold and alert decisions are sent (None: nowhere).
        clock: Current UTC time (tests pass a fixed clock).
        apply: False records decisions without acting on them (a dry run).
    """

    def __init__(
        self,
        uow: UnitOfWork,
        deployments: DeploymentService,
        *,
        policy_for: Callable[[Deployment], CanaryPolicy] | None = None,
        alerts: AlertSink | None = None,
        clock: Callable[[], datetime] = utcnow,
        apply: bool = True,
    ) -> None:
        self.uow = uow
        self.deployments = deployments
        self.policy_for = policy_for or _default_policy
        self.alerts = alerts
        self.clock = clock
        self.apply = apply

    # -- writes of statistics ---------------------------------------------------------

    def observe(
        self,
        canary: Deployment,
        arm: str,
        observations: Iterable[Observation] | ArmStats,
        *,
        check: str = REQUESTS,
    ) -> None:
        """Add observations of one arm of ``canary`` to its running statistics.

        Recording adds the request-level facts (``check=""``: requests, errors, latency,
        cost, feedback; scores in them are ignored); scoring adds the overall score
        (``check="overall"``) or one check's (only the scores of those count).

        Raises:
            UsageError: an unknown arm or an invalid observation (says which).
        """
        if arm not in ARMS:
            from releasegate.errors import UsageError

            raise UsageError(f"arm must be one of {', '.join(ARMS)}, got {arm!r}")
        if canary.id is None:
            raise ValueError("the canary deployment was never stored")
        policy = self.policy_for(canary)
        delta = (
            observations
            if isinstance(observations, ArmStats)
            else ArmStats.from_observations(
                observations,
                pass_score=policy.pass_score,
                negative_feedback_max=policy.negative_feedback_max,
                arm=arm,
            )
        )
        # A request counts once, where it was recorded; a score row holds only scores
        # (the same rule as recording and scoring: releasegate.online.arm_facts).
        delta = request_part(delta) if check == REQUESTS else score_part(delta)
        with self.uow:
            self.uow.arm_stats.merge(canary.id, (canary.stage or 0, arm, check), delta)
            self.uow.commit()

    # -- reads -------------------------------------------------------------------------

    def status(self, feature: str, *, limit: int = 10) -> CanaryStatus:
        """The feature's canary, both arms' numbers and its latest decisions.

        Raises:
            NotFound: the feature has no deployments.
        """
        state = self.deployments.status(feature)
        canary = state.canary
        if canary is None:
            # the most recent canary, to show how it ended
            past = [d for d in state.deployments if d.plan is not None or d.salt is not None]
            canary = max(past, key=lambda d: d.updated_at) if past else None
        arms: Mapping[str, ArmStats] = {}
        decisions: list[StoredDecision] = []
        if canary is not None and canary.id is not None:
            with self.uow:
                rows = self.uow.arm_stats.for_deployment(canary.id)
                decisions = self.uow.decisions.for_deployment(canary.id, limit=limit)
            arms = arm_totals(rows)
        return CanaryStatus(
            feature=feature,
            canary=canary,
            incumbent=state.active.version if state.active else None,
            arms=arms,
            decisions=decisions,
        )

    # -- analysis ----------------------------------------------------------------------

    def analyze_all(self) -> list[StoredDecision]:
        """Analyse every feature's running canary (paused ones are left alone)."""
        out = []
        for feature in self.deployments.features():
            decision = self.analyze(feature)
            if decision is not None:
                out.append(decision)
        return out

    def analyze(self, feature: str) -> StoredDecision | None:
        """Analyse ``feature``'s running canary, store the decision and apply it.

        Returns:
            The stored decision, or None when the feature has no running canary.
        """
        state = self.deployments.status(feature)
        canary = state.canary
        if canary is None or canary.status is not Status.CANARY or canary.id is None:
            return None
        history = self.deployments.history(feature)
        now = self.clock()
        started, stage_started = _stage_start(history, canary.version, now)
        with self.uow:
            rows = self.uow.arm_stats.for_deployment(canary.id)
            previous = self.uow.decisions.for_deployment(canary.id, limit=1)
        policy = self._policy(canary, rows, (now - stage_started).total_seconds())
        totals = arm_totals(rows)
        inc, can = (
            replace(
                totals[a],
                pass_score=policy.pass_score,
                negative_feedback_max=policy.negative_feedback_max,
            )
            for a in ARMS
        )
        decision = analyze_canary(inc, can, policy)
        decision = self._stage_gate(canary, decision, rows)
        stored = StoredDecision(
            deployment_id=canary.id,
            decided_at=now,
            action=decision.action,
            stage=canary.stage,
            reasons=decision.reasons,
            stats={**_clean(decision.stats), "canary.started_at": started.isoformat()},
            signals=dict(decision.signals),
        )
        if previous and _repeats(stored, previous[0]):
            return previous[0]  # no new evidence: the stored decision still stands
        stored.applied = self._apply(canary, stored) if self.apply else "dry-run"
        with self.uow:
            self.uow.decisions.add(stored)
            self.uow.commit()
        if self.alerts is not None and self._worth_sending(stored, previous):
            self.alerts.send(canary, stored)
        return stored

    # -- helpers -----------------------------------------------------------------------

    def _policy(
        self, canary: Deployment, rows: Mapping[ArmKey, ArmStats], elapsed_s: float
    ) -> CanaryPolicy:
        base = self.policy_for(canary)
        plan = RolloutPlan.model_validate(canary.plan) if canary.plan else None
        index = canary.stage or 0
        stage = plan.stage(index) if plan is not None else None
        current = arm_totals(rows, stage=index)
        return replace(
            base,
            last_stage=plan is None or index == len(plan.stages) - 1,
            stage_index=index,
            elapsed_s=max(0.0, elapsed_s),
            min_duration_s=max(base.min_duration_s, stage.min_duration_s if stage else 0.0),
            # no sample-ratio check in shadow (share 0) or at 100% (no incumbent traffic)
            canary_share=canary.share if 0.0 < canary.share < 1.0 and not canary.shadow else None,
            requests=(current["incumbent"].count, current["canary"].count),
        )

    @staticmethod
    def _stage_gate(
        canary: Deployment, decision: Decision, rows: Mapping[ArmKey, ArmStats]
    ) -> Decision:
        # The plan's per-stage minimum of scored canary requests applies on top of the
        # analysis' own minimum: a stage with fewer keeps collecting.
        if decision.action not in ("advance", "promote") or not canary.plan:
            return decision
        index = canary.stage or 0
        stage = RolloutPlan.model_validate(canary.plan).stage(index)
        scored = arm_totals(rows, stage=index)["canary"].scored
        if scored >= stage.min_samples:
            return decision
        why = (
            f"stage {index} needs {stage.min_samples} scored canary requests before it "
            f"may advance; it has {scored}"
        )
        return replace(decision, action="continue", reasons=(why, *decision.reasons))

    def _apply(self, canary: Deployment, d: StoredDecision) -> str:
        evidence = {
            "decision": d.action,
            "reasons": list(d.reasons),
            "numbers": d.stats,
            "signals": d.signals,
        }
        reason = d.reasons[0] if d.reasons else d.action
        try:
            if d.action == "rollback":
                self.deployments.rollback(
                    canary.feature,
                    actor=ACTOR,
                    reason=reason,
                    expect_canary=canary.version,
                    evidence=evidence,
                )
            elif d.action == "promote":
                self.deployments.promote(
                    canary.feature, canary.version, actor=ACTOR, reason=reason, evidence=evidence
                )
            elif d.action == "advance":
                plan = RolloutPlan.model_validate(canary.plan) if canary.plan else None
                index = (canary.stage or 0) + 1
                if plan is not None and plan.stage(index).manual_approval:
                    return "awaiting approval"
                self.deployments.advance(
                    canary.feature, canary.version, actor=ACTOR, reason=reason, evidence=evidence
                )
            else:
                return ""
        except ReleasegateError as exc:
            return f"not applied: {exc}"
        return "applied"

    @staticmethod
    def _worth_sending(d: StoredDecision, previous: list[StoredDecision]) -> bool:
        if d.action not in _NOTIFY and d.applied != "awaiting approval":
            return False
        if not previous:
            return True
        last = previous[0]
        # the reasons carry the latest numbers, so they change with every analysis: a
        # repeat is the same action from the same signal states
        return (last.action, last.signals, last.applied) != (d.action, d.signals, d.applied)


#: Decisions whose application changes nothing (advance only while it awaits approval).
_STANDING = frozenset({"continue", "hold", "alert"})


def _repeats(new: StoredDecision, last: StoredDecision) -> bool:
    """True when ``new`` says exactly what ``last`` said (same stage, action, reasons,
    signals and numbers but the time elapsed) and applying it would change nothing:
    two analyses with no new evidence between them (a periodic one meeting one run
    after new scores)."""
    if new.action not in _STANDING and not (
        new.action == "advance" and last.applied == "awaiting approval"
    ):
        return False
    return (new.stage, new.action, new.reasons, _evidence(new.stats), new.signals) == (
        last.stage,
        last.action,
        tuple(last.reasons),
        _evidence(last.stats),
        last.signals,
    )


def _evidence(stats: Mapping[str, Any]) -> dict[str, Any]:
    """The numbers without the clock's (time elapsed moves between any two analyses)."""
    return {k: v for k, v in stats.items() if not k.endswith("elapsed_s")}


def _default_policy(deployment: Deployment) -> CanaryPolicy:
    return CanaryPolicy(min_score=deployment.min_score)
