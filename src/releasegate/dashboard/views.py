"""View functions: what each dashboard page shows, read through the services and ports.

Every function takes the control-plane parts (:class:`~releasegate.bootstrap.ControlPlaneParts`)
and returns plain data for a template. Per-arm numbers come from the running statistics
(``arm_stats``) and the stored decisions; the recent rates per version read each
version's latest :data:`RATE_WINDOW` interactions through an index, never the whole
table, so a page costs about the same with a million interactions as with ten.

* :func:`overview`: one :class:`FeatureRow` per feature (active version, canary, last
  decision, alarm).
* :func:`feature_page`: a :class:`FeaturePage` (per-arm numbers, per-check numbers,
  decisions, the quality series the decisions acted on, the audit log).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from releasegate.canary.observations import ArmStats
from releasegate.canary.records import OVERALL, REQUESTS, StoredDecision
from releasegate.deploy.model import AuditEntry, Deployment
from releasegate.deploy.plans import RolloutPlan
from releasegate.deploy.status import Status
from releasegate.online.canary_service import ARMS, CanaryService, arm_totals
from releasegate.ports import VersionRates

if TYPE_CHECKING:
    from releasegate.bootstrap import ControlPlaneParts

__all__ = [
    "ALARM_ACTIONS",
    "ArmRow",
    "CheckRow",
    "FeaturePage",
    "FeatureRow",
    "QualityPoint",
    "alarm_of",
    "feature_page",
    "overview",
]

#: Decisions that need a person's eyes: they stand out on every page.
ALARM_ACTIONS = frozenset({"rollback", "hold", "alert"})
#: How many decisions the feature page reads (the chart and the timeline).
DECISION_LIMIT = 200
#: The recent rates per version are over each version's latest this many interactions.
RATE_WINDOW = 5000


def alarm_of(decision: StoredDecision | None) -> str | None:
    """Why a decision is an alarm (``"rollback"``, ``"hold"``, ``"alert"``,
    ``"sample-ratio mismatch"``), or None when it is not one."""
    if decision is None:
        return None
    if decision.signals.get("srm") == "fail":
        return "sample-ratio mismatch"
    return decision.action if decision.action in ALARM_ACTIONS else None


@dataclass(frozen=True, slots=True)
class FeatureRow:
    """One line of the overview.

    Attributes:
        feature: The feature.
        active: The active version's label, None when the fallback serves.
        canary: The canary (running or paused), None without one.
        last_canary: The most recent canary when none runs (to show how it ended).
        stage: ``"2 of 4"`` for a canary started from a plan, else None.
        last: The latest decision about the current (or most recent) canary.
        alarm: See :func:`alarm_of`.
        deployments: How many versions the feature has.
        backlog: Interactions sampled for online scoring and not yet scored.
        backlog_since: When the oldest of them was recorded (None without a backlog).
    """

    feature: str
    active: str | None
    canary: Deployment | None
    last_canary: Deployment | None
    stage: str | None
    last: StoredDecision | None
    alarm: str | None
    deployments: int
    backlog: int = 0
    backlog_since: datetime | None = None


def _stage_label(d: Deployment | None) -> str | None:
    if d is None or d.plan is None or d.stage is None:
        return None
    total = len(d.plan.get("stages") or ())
    return f"{d.stage + 1} of {total}" if total else str(d.stage + 1)


def _canary_service(parts: ControlPlaneParts) -> CanaryService:
    # Reads only: the service never acts here (apply=False, no alerts).
    return CanaryService(parts.read_uow_factory(), parts.deployments(), apply=False)


def overview(parts: ControlPlaneParts) -> list[FeatureRow]:
    """Every feature, sorted: alarms first, then by name."""
    rows = []
    service = _canary_service(parts)
    with parts.read_uow_factory() as uow:
        backlog = uow.scores.backlog_by_feature()
    for feature in parts.deployments().features():
        status = service.status(feature, limit=1)
        canary = status.canary
        running = canary is not None and canary.status in (Status.CANARY, Status.PAUSED)
        last = status.decisions[0] if status.decisions else None
        with parts.read_uow_factory() as uow:
            count = len(uow.deployments.for_feature(feature))
        rows.append(
            FeatureRow(
                feature=feature,
                active=status.incumbent,
                canary=canary if running else None,
                last_canary=None if running else canary,
                stage=_stage_label(canary) if running else None,
                last=last,
                alarm=alarm_of(last) if running or last is not None else None,
                deployments=count,
                backlog=backlog.get(feature, (0, None))[0],
                backlog_since=backlog.get(feature, (0, None))[1],
            )
        )
    rows.sort(key=lambda r: (r.alarm is None, r.feature))
    return rows


@dataclass(frozen=True, slots=True)
class ArmRow:
    """One arm's numbers since the canary started (None: no data yet)."""

    arm: str
    version: str | None
    requests: int
    errors: int
    error_rate: float | None
    scored: int
    mean_score: float | None
    pass_rate: float | None
    latency_p50: float | None
    latency_p95: float | None
    latency_p99: float | None
    cost_per_request: float | None
    feedback: int
    negative_feedback_rate: float | None
    stats: ArmStats


def _arm_row(arm: str, version: str | None, s: ArmStats) -> ArmRow:
    return ArmRow(
        arm=arm,
        version=version,
        requests=s.count,
        errors=s.errors,
        error_rate=s.errors / s.count if s.count else None,
        scored=s.scored,
        mean_score=s.score_sum / s.scored if s.scored else None,
        pass_rate=s.passes / s.scored if s.scored else None,
        latency_p50=s.latency_quantile(0.5),
        latency_p95=s.latency_quantile(0.95),
        latency_p99=s.latency_quantile(0.99),
        cost_per_request=s.cost_sum / s.cost_n if s.cost_n else None,
        feedback=s.feedback_n,
        negative_feedback_rate=s.feedback_negative / s.feedback_n if s.feedback_n else None,
        stats=s,
    )


@dataclass(frozen=True, slots=True)
class CheckRow:
    """One check's numbers per arm: ``{arm: (scored, mean, pass rate)}``."""

    check: str
    arms: Mapping[str, tuple[int, float | None, float | None]]


def _check_rows(rows: Mapping[tuple[int, str, str], ArmStats]) -> list[CheckRow]:
    by_check: dict[str, dict[str, ArmStats]] = {}
    for (_stage, arm, check), s in rows.items():
        if check in (REQUESTS, OVERALL) or arm not in ARMS:
            continue
        slot = by_check.setdefault(check, {})
        slot[arm] = slot[arm].merge(s) if arm in slot else s
    out = []
    for check in sorted(by_check):
        arms = {}
        for arm in ARMS:
            s = by_check[check].get(arm, ArmStats())
            arms[arm] = (
                s.scored,
                s.score_sum / s.scored if s.scored else None,
                s.passes / s.scored if s.scored else None,
            )
        out.append(CheckRow(check=check, arms=arms))
    return out


@dataclass(frozen=True, slots=True)
class QualityPoint:
    """The quality difference a decision acted on (canary minus incumbent mean score).

    ``margin`` is where the lower bound must rise above to advance (minus the
    non-inferiority margin); ``rollback_at`` where the upper bound falling below rolls
    back (minus the rollback margin).
    """

    at: datetime
    action: str
    estimate: float
    lower: float | None
    upper: float | None
    margin: float | None
    rollback_at: float | None = None


def quality_series(decisions: Sequence[StoredDecision]) -> list[QualityPoint]:
    """The stored decisions' quality estimates and bounds, oldest first (decisions
    without a quality estimate are left out)."""
    out = []
    for d in sorted(decisions, key=lambda d: (d.decided_at, d.id or 0)):
        est = _num(d.stats.get("quality.diff"))
        if est is None:
            continue
        margin = _num(d.stats.get("quality.margin"))
        rollback = _num(d.stats.get("quality.rollback_margin"))
        out.append(
            QualityPoint(
                at=d.decided_at,
                action=d.action,
                estimate=est,
                lower=_num(d.stats.get("quality.lower")),
                upper=_num(d.stats.get("quality.upper")),
                margin=0.0 - margin if margin is not None else None,
                rollback_at=0.0 - rollback if rollback is not None else None,  # never -0.0
            )
        )
    return out


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


@dataclass(frozen=True, slots=True)
class FeaturePage:
    """Everything the feature page shows.

    Attributes:
        feature: The feature.
        active: The active deployment, None when the fallback serves.
        canary: The current canary, or the most recent one (to show how it ended).
        running: Whether ``canary`` is still running or paused.
        stage: See :attr:`FeatureRow.stage`.
        next_stage_needs_approval: The plan's next stage waits for a person.
        last_stage: The canary is on its plan's last stage (promote, not advance).
        deployments: Every deployment of the feature, newest first.
        arms: Per-arm numbers since the canary started (empty without a canary).
        checks: Per-check numbers (``arm_stats`` rows of each check type).
        decisions: The latest decisions, newest first.
        quality: The quality difference and its bounds per decision, oldest first.
        audit: The audit log, newest first.
        shares: The canary's share of traffic over time, ``(time, share)`` steps, oldest
            first, ending now (running) or when it ended.
        alarm: The latest decision's alarm (see :func:`alarm_of`).
        rates: Recent traffic of each version (its latest :data:`RATE_WINDOW`
            interactions), newest version first.
    """

    feature: str
    active: Deployment | None
    canary: Deployment | None
    running: bool
    stage: str | None
    next_stage_needs_approval: bool
    last_stage: bool
    deployments: list[Deployment]
    arms: list[ArmRow] = field(default_factory=list)
    checks: list[CheckRow] = field(default_factory=list)
    decisions: list[StoredDecision] = field(default_factory=list)
    quality: list[QualityPoint] = field(default_factory=list)
    audit: list[AuditEntry] = field(default_factory=list)
    shares: list[tuple[datetime, float]] = field(default_factory=list)
    alarm: str | None = None
    rates: list[VersionRates] = field(default_factory=list)


def _plan_position(d: Deployment | None) -> tuple[bool, bool]:
    """(next stage needs approval, on the last stage) of a canary's plan."""
    if d is None or d.plan is None or d.stage is None:
        return False, d is not None
    plan = RolloutPlan.model_validate(d.plan)
    if d.stage + 1 >= len(plan.stages):
        return False, True
    return plan.stage(d.stage + 1).manual_approval, False


def feature_page(parts: ControlPlaneParts, feature: str) -> FeaturePage:
    """The feature page's data.

    Raises:
        NotFound: the feature has no deployments.
        UsageError: a reserved name.
    """
    service = _canary_service(parts)
    status = service.status(feature, limit=DECISION_LIMIT)
    deployments_svc = parts.deployments()
    state = deployments_svc.status(feature)
    audit = deployments_svc.history(feature)
    canary = status.canary
    running = canary is not None and canary.status in (Status.CANARY, Status.PAUSED)
    rows: Mapping[tuple[int, str, str], ArmStats] = {}
    newest = sorted(state.deployments, key=lambda d: d.created_at, reverse=True)
    with parts.read_uow_factory() as uow:
        if canary is not None and canary.id is not None:
            rows = uow.arm_stats.for_deployment(canary.id)
        rates = uow.interactions.version_rates(
            feature, [d.version for d in newest], window=RATE_WINDOW
        )
    totals = arm_totals(rows) if rows else {}
    incumbent = _incumbent_of(canary, audit, state.active)
    versions = {"incumbent": incumbent, "canary": canary.version if canary else None}
    approval, last_stage = _plan_position(canary if running else None)
    return FeaturePage(
        feature=feature,
        active=state.active,
        canary=canary,
        running=running,
        stage=_stage_label(canary) if running else None,
        next_stage_needs_approval=approval,
        last_stage=last_stage,
        deployments=newest,
        arms=[_arm_row(a, versions[a], totals[a]) for a in ARMS if a in totals],
        checks=_check_rows(rows),
        decisions=status.decisions,
        quality=quality_series(status.decisions),
        audit=list(reversed(audit)),
        shares=share_series(audit, canary, status.decisions, parts.clock.now(), running),
        alarm=alarm_of(status.decisions[0]) if status.decisions else None,
        rates=[r for r in rates if r.requests],
    )


_SHARE_KEYS = {"canary": "share", "set_share": "share_to", "advance": "share_to"}


def share_series(
    audit: Sequence[AuditEntry],
    canary: Deployment | None,
    decisions: Sequence[StoredDecision],
    now: datetime,
    running: bool,
) -> list[tuple[datetime, float]]:
    """The canary's share of traffic after each change, from the audit log (oldest
    first), with a last point at the end: now while it runs, else when it ended."""
    if canary is None:
        return []
    out: list[tuple[datetime, float]] = []
    for e in audit:
        if e.version != canary.version:
            continue
        key = _SHARE_KEYS.get(e.action)
        if key is not None and isinstance(e.evidence.get(key), int | float):
            out.append((e.at, float(e.evidence[key])))
        elif out and e.action == "rollback":
            out.append((e.at, 0.0))
        elif out and e.action == "promote":
            out.append((e.at, 1.0))
    if not out:
        return []
    last = max([out[-1][0], *(d.decided_at for d in decisions)])
    end = max(last, now) if running else out[-1][0]
    if end > out[-1][0]:
        out.append((end, out[-1][1]))
    return out


def _incumbent_of(
    canary: Deployment | None, audit: Sequence[AuditEntry], active: Deployment | None
) -> str | None:
    """The version the canary was compared against (recorded when it started)."""
    if canary is not None:
        for e in reversed(audit):
            if e.version == canary.version and e.action == "canary":
                found = e.evidence.get("incumbent")
                return str(found) if found else None
    return active.version if active else None
