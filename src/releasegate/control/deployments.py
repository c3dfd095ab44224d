"""Deployment services: every change is one transaction plus an audit row.

Each public method opens the unit of work, locks the feature's deployments, checks the
state machine, writes the new state and the audit entry, and commits. A refused operation
raises before anything is written, so a failure never leaves a partial change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from releasegate.control.evidence import check_prompt_known, check_report, eval_evidence
from releasegate.control.readiness import OnlineChecks, canary_gaps
from releasegate.control.snapshots import check_same_prompt, make_snapshot
from releasegate.deploy.model import AuditEntry, Deployment
from releasegate.deploy.names import (
    MAX_MODEL,
    MAX_VERSION,
    check_actor,
    check_feature,
    check_lookup,
    check_name,
    check_params,
    check_prompt_ref,
    check_text,
    check_unreserved,
    is_reserved,
)
from releasegate.deploy.plans import RolloutPlan
from releasegate.deploy.status import Status
from releasegate.deploy.steps import check_move, command, next_steps
from releasegate.errors import DeploymentError, NotFound, UsageError
from releasegate.ports import Clock, RandomSalts, SaltSource, SystemClock, UnitOfWork
from releasegate.prompts import Prompt
from releasegate.results.report import EvalReport

__all__ = [
    "DeploymentService",
    "FeatureState",
    "check_prompt_known",
    "eval_evidence",
    "parse_prompt_ref",
]


def parse_prompt_ref(ref: str) -> tuple[str, str]:
    """Split ``name@version``; raise :class:`UsageError` when malformed.

    Both parts are checked against their grammar and length limit
    (:func:`releasegate.deploy.names.check_prompt_ref`).
    """
    return check_prompt_ref(ref)


def _check_change(feature: str, actor: str, reason: str) -> None:
    # Every change: the feature is not reserved, the actor and reason can be stored.
    check_unreserved(feature)
    check_actor(actor)
    check_text("reason", reason, multiline=True)


def _canary_words(canary: Deployment) -> str:
    if canary.status is Status.PAUSED:
        return f"a paused canary ({canary.version})"
    return f"a canary running ({canary.version})"


def _settle(canary: Deployment) -> str:
    # The commands that end a canary: promote it or roll it back.
    promote = command("promote", canary.feature, canary.version)
    rollback = command("rollback", canary.feature, "--reason", "TEXT")
    return f"promote it ({promote}) or roll it back ({rollback})"


def _canary_taken(canary: Deployment, asked: Deployment) -> str:
    # Why a canary cannot start (or change share): the feature's canary slot is taken.
    feature, version = canary.feature, canary.version
    if canary.status is not Status.PAUSED:
        return f"feature {feature!r} already has a canary ({version}); {_settle(canary)} first"
    resume = command("resume", feature, version)
    if asked.version == version:
        return f"{canary.ref} is a paused canary; resume it first ({resume}), then change its share"
    return (
        f"feature {feature!r} already has a paused canary ({version}); resume it ({resume}) "
        f"and then {_settle(canary)}"
    )


def _is_canary(d: Deployment) -> bool:
    return d.status is Status.CANARY or (
        d.status is Status.PAUSED and d.paused_from is Status.CANARY
    )


@dataclass(frozen=True, slots=True)
class FeatureState:
    """What serves a feature now: the active version, the canary and every deployment."""

    feature: str
    active: Deployment | None
    canary: Deployment | None
    deployments: list[Deployment] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "active": self.active.version if self.active else None,
            "canary": self.canary.version if self.canary else None,
            "canary_share": self.canary.share if self.canary else 0.0,
            "deployments": [d.to_json() for d in self.deployments],
        }


def _state(feature: str, deps: list[Deployment]) -> FeatureState:
    active = next((d for d in deps if d.status is Status.ACTIVE), None)
    canary = next((d for d in deps if _is_canary(d)), None)
    return FeatureState(feature=feature, active=active, canary=canary, deployments=deps)


class DeploymentService:
    """Control-plane operations over a :class:`~releasegate.ports.UnitOfWork`.

    Args:
        uow: The unit of work; it is entered once per operation.
        clock: Stamps every change and audit entry (default: the system's UTC time).
        salts: Gives each canary its rollout salt (default: secure random salts).
    """

    def __init__(
        self,
        uow: UnitOfWork,
        *,
        clock: Clock | None = None,
        salts: SaltSource | None = None,
        online_checks: OnlineChecks | None = None,
    ) -> None:
        self.uow = uow
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.salts: SaltSource = salts if salts is not None else RandomSalts()
        #: None: no readiness check (a library caller with no project); the CLI and the
        #: API pass the project's lookup, so starting a canary checks readiness there.
        self.online_checks = online_checks

    # -- reads ---------------------------------------------------------------------

    def get(self, feature: str, version: str) -> Deployment:
        """One deployment; raises :class:`NotFound` when it does not exist."""
        check_unreserved(feature)
        with self.uow:
            return self._get(feature, version)

    def status(self, feature: str) -> FeatureState:
        """The feature's current state; raises :class:`NotFound` for an unknown feature."""
        check_unreserved(feature)
        with self.uow:
            deps = self.uow.deployments.for_feature(feature)
        if not deps:
            raise NotFound(f"feature {feature!r} has no deployments")
        return _state(feature, deps)

    def history(self, feature: str) -> list[AuditEntry]:
        """Every audit entry of the feature, oldest first.

        Raises:
            UsageError: for a reserved name (token changes are read through
                :meth:`releasegate.deploy.tokens.TokenService.history`, admin only).
            NotFound: for an unknown feature.
        """
        check_unreserved(feature)
        with self.uow:
            entries = self.uow.audit.for_feature(feature)
            if not entries and not self.uow.deployments.for_feature(feature):
                raise NotFound(f"feature {feature!r} has no deployments")
        return entries

    def features(self) -> list[str]:
        """Every feature with a deployment, sorted (reserved names never appear)."""
        with self.uow:
            return [f for f in self.uow.deployments.features() if not is_reserved(f)]

    # -- writes --------------------------------------------------------------------

    def register(
        self,
        feature: str,
        version: str,
        *,
        prompt: str,
        model: str,
        params: dict[str, Any] | None = None,
        min_score: float | None = None,
        actor: str,
        snapshot: Prompt | None = None,
    ) -> Deployment:
        """Record a new candidate in status ``pending``.

        Every value is checked before the store is touched: the feature and version
        against the name grammar, the prompt reference, the model and the actor against
        their limits (:mod:`releasegate.deploy.names`).

        ``snapshot`` is the prompt ``name@version`` as the project holds it; it is kept
        with the deployment (its JSON dump and content hash) so the gateway serves this
        version's prompt even after the prompt file moves on to another version. A
        prompt version has one content in the registry: a snapshot whose content differs
        from one already stored for the same ``name@version`` is refused.

        Raises:
            UsageError: naming the value that breaks a rule, or a snapshot that is not
                the prompt ``prompt`` names.
            DeploymentError: when the deployment already exists, or when the prompt
                version was registered before with other content.
        """
        check_feature(feature)
        check_name("version", version, MAX_VERSION)
        if not model.strip():
            raise UsageError("model must not be empty")
        check_text("model", model, MAX_MODEL)
        check_actor(actor)
        if min_score is not None and not 0.0 <= min_score <= 1.0:
            raise UsageError(f"--min-score must be in [0, 1], got {min_score}")
        prompt_name, prompt_version = parse_prompt_ref(prompt)
        check_params(dict(params or {}))
        stored = make_snapshot(snapshot, prompt_name, prompt_version)
        now = self.clock.now()
        with self.uow:
            if self.uow.deployments.get(feature, version) is not None:
                raise DeploymentError(f"deployment {feature}@{version} already exists")
            if stored is not None:
                existing = self.uow.deployments.prompt_snapshot(prompt_name, prompt_version)
                check_same_prompt(existing, stored, prompt)
            dep = self.uow.deployments.add(
                Deployment(
                    feature=feature,
                    version=version,
                    prompt_name=prompt_name,
                    prompt_version=prompt_version,
                    model=model,
                    params=dict(params or {}),
                    min_score=min_score,
                    created_by=actor,
                    updated_by=actor,
                    created_at=now,
                    updated_at=now,
                    prompt_snapshot=stored,
                )
            )
            evidence: dict[str, Any] = {"model": model}
            if stored is not None:
                evidence["prompt_hash"] = stored["content_hash"]
            self._audit(dep, "register", actor, None, Status.PENDING, "", evidence)
            self.uow.commit()
            return dep

    def approve(
        self,
        feature: str,
        version: str,
        *,
        actor: str,
        reason: str = "",
        report: EvalReport | None = None,
        override_reason: str | None = None,
    ) -> Deployment:
        """Approve a candidate, optionally on an eval report.

        A pending deployment passes through ``evaluating``. When the deployment has a
        minimum score, a report is required and must be complete and reach the score.
        A report whose gate failed, or that evaluated another prompt version or model
        than the deployment pins, is refused unless ``override_reason`` says why it is
        accepted anyway; the reason and what it overrode are kept in the audit entry.

        Raises:
            DeploymentError: when the evidence is missing or insufficient (nothing changes).
            UsageError: for an empty or unstorable ``override_reason``.
        """
        _check_change(feature, actor, reason)
        if override_reason is not None:
            if not override_reason.strip():
                raise UsageError("--override-reason must say why the report is accepted")
            check_text("override reason", override_reason, multiline=True)
        with self.uow:
            self.uow.deployments.for_feature(feature, lock=True)
            dep = self._get(feature, version)
            evidence = check_report(dep, report, override_reason)
            self._start_evaluation(dep, actor, reason)
            self._move(dep, Status.APPROVED, "approve", actor, reason, evidence)
            dep.eval_summary = evidence or dep.eval_summary
            self.uow.deployments.update(dep)
            self.uow.commit()
            return dep

    def reject(
        self,
        feature: str,
        version: str,
        *,
        actor: str,
        reason: str = "",
        report: EvalReport | None = None,
    ) -> Deployment:
        """Reject a candidate (final)."""
        _check_change(feature, actor, reason)
        with self.uow:
            self.uow.deployments.for_feature(feature, lock=True)
            dep = self._get(feature, version)
            evidence = eval_evidence(report) if report else {}
            self._start_evaluation(dep, actor, reason)
            self._move(dep, Status.REJECTED, "reject", actor, reason, evidence)
            if evidence:
                dep.eval_summary = evidence
            self.uow.deployments.update(dep)
            self.uow.commit()
            return dep

    def canary(
        self,
        feature: str,
        version: str,
        *,
        actor: str,
        share: float | None = None,
        plan: RolloutPlan | None = None,
        reason: str = "",
        first_release: bool = False,
        override_reason: str | None = None,
    ) -> Deployment:
        """Start a canary at ``share`` (a fraction), or change a running canary's share.

        With a ``plan`` and no share, the canary starts at the plan's first stage. The
        rollout salt is drawn once, when the canary starts, and kept for its whole life so
        that raising the share only moves units from the incumbent to the canary.

        When the service was built with an ``online_checks`` lookup (the CLI and the API
        do), a new canary is refused unless the version is ready
        (:func:`releasegate.control.readiness.canary_gaps`): a passing eval report,
        online checks for the feature, and an active version to roll back to unless
        ``first_release``. ``override_reason`` starts it anyway; the reason and what was
        missing are kept in the audit entry.

        Raises:
            DeploymentError: not ready (every missing item listed), or another canary runs.
            UsageError: a bad share, or an empty or unstorable ``override_reason``.
        """
        if share is None and plan is None:
            raise UsageError("give a share or a rollout plan")
        if share is not None and not 0.0 < share <= 1.0:
            raise UsageError(f"canary share must be in (0, 100] percent, got {share * 100:g}%")
        _check_change(feature, actor, reason)
        if override_reason is not None:
            if not override_reason.strip():
                raise UsageError("--override-reason must say why the canary starts anyway")
            check_text("override reason", override_reason, multiline=True)
        with self.uow:
            state = _state(feature, self.uow.deployments.for_feature(feature, lock=True))
            dep = self._get(feature, version)
            if dep.status is Status.CANARY:
                if share is None:
                    raise UsageError(f"{dep.ref} is already in canary; give --share to change it")
                old = dep.share
                dep.share = share
                self._touch(dep, actor)
                self.uow.deployments.update(dep)
                self._audit(
                    dep,
                    "set_share",
                    actor,
                    Status.CANARY,
                    Status.CANARY,
                    reason,
                    {"share_from": old, "share_to": share},
                )
                self.uow.commit()
                return dep
            if state.canary is not None:
                raise DeploymentError(_canary_taken(state.canary, dep))
            check_move(dep, Status.CANARY)
            readiness = self._readiness(dep, state.active, first_release, override_reason)
            if plan is not None:
                first = plan.stage(0)
                dep.plan, dep.stage, dep.shadow = plan.to_json(), 0, first.shadow
                share = first.share if share is None else share
            dep.share = float(share or 0.0)
            dep.salt = self.salts.new_salt()
            evidence = {
                "share": dep.share,
                "salt": dep.salt,
                "incumbent": state.active.version if state.active else None,
                "plan": plan.name if plan else None,
                **readiness,
            }
            self._move(dep, Status.CANARY, "canary", actor, reason, evidence)
            self.uow.deployments.update(dep)
            self.uow.commit()
            return dep

    def promote(
        self,
        feature: str,
        version: str,
        *,
        actor: str,
        reason: str = "",
        evidence: Mapping[str, Any] | None = None,
    ) -> Deployment:
        """Make ``version`` the only active version of its feature, in one transaction.

        ``evidence`` (e.g. the canary analysis' numbers) is recorded in the audit entry.
        """
        _check_change(feature, actor, reason)
        with self.uow:
            state = _state(feature, self.uow.deployments.for_feature(feature, lock=True))
            dep = self._get(feature, version)
            if state.canary is not None and state.canary.version != version:
                raise DeploymentError(
                    f"feature {feature!r} has {_canary_words(state.canary)}; "
                    f"{_settle(state.canary)} before promoting another version"
                )
            check_move(dep, Status.ACTIVE)
            old = state.active
            # The old version leaves "active" first: the one-active-per-feature index is
            # checked per statement.
            if old is not None:
                self._move(old, Status.SUPERSEDED, "supersede", actor, reason, {"by": version})
                old.deactivated_at = self.clock.now()
                self.uow.deployments.update(old)
            moved = {"replaced": old.version if old else None, "share_was": dep.share}
            self._move(dep, Status.ACTIVE, "promote", actor, reason, {**moved, **(evidence or {})})
            dep.share, dep.activated_at, dep.deactivated_at = 1.0, self.clock.now(), None
            self.uow.deployments.update(dep)
            self.uow.commit()
            return dep

    def rollback(
        self,
        feature: str,
        *,
        actor: str,
        reason: str,
        to: str | None = None,
        expect_canary: str | None = None,
        evidence: Mapping[str, Any] | None = None,
    ) -> Deployment | None:
        """Undo the latest step of a feature's rollout.

        A running canary is aborted (the incumbent keeps serving). Otherwise the active
        version is rolled back and ``to`` -- or else the most recently replaced version --
        becomes active again at once.

        Returns:
            The deployment that now serves: the incumbent or the restored version; None
            when an aborted canary had no incumbent (the fallback serves).

        ``expect_canary`` guards an automated abort: when given, only that version's running
        canary is rolled back, and nothing else ever is (a canary that a person already
        promoted or rolled back is left alone). ``evidence`` is added to the audit entry.

        Raises:
            DeploymentError: when there is nothing to restore, or ``expect_canary`` is not
                the feature's running canary; nothing is changed.
        """
        if not reason.strip():
            raise UsageError("a rollback needs a reason (--reason)")
        _check_change(feature, actor, reason)
        with self.uow:
            deps = self.uow.deployments.for_feature(feature, lock=True)
            if not deps:
                raise NotFound(f"feature {feature!r} has no deployments")
            state = _state(feature, deps)
            if expect_canary is not None and (
                state.canary is None or state.canary.version != expect_canary
            ):
                running = state.canary.version if state.canary else "none"
                raise DeploymentError(
                    f"{feature}@{expect_canary} is no longer the running canary "
                    f"(running: {running}); nothing was changed"
                )
            if state.canary is not None and to is None:
                canary = state.canary
                aborted = {
                    "aborted_canary": canary.version,
                    "share": canary.share,
                    **(evidence or {}),
                }
                self._move(canary, Status.ROLLED_BACK, "rollback", actor, reason, aborted)
                canary.share = 0.0
                self.uow.deployments.update(canary)
                self.uow.commit()
                return state.active
            if state.canary is not None:
                raise DeploymentError(
                    f"feature {feature!r} has {_canary_words(state.canary)}; roll it back "
                    f"first ({command('rollback', feature, '--reason', 'TEXT')}, without --to)"
                )
            target = self._rollback_target(feature, deps, to)
            current = state.active
            restored: dict[str, Any] = {
                "restored": target.version,
                "replaced": current.version if current else None,
                **(evidence or {}),
            }
            if current is not None:
                self._move(current, Status.ROLLED_BACK, "rollback", actor, reason, restored)
                current.deactivated_at = self.clock.now()
                self.uow.deployments.update(current)
            self._move(target, Status.ACTIVE, "restore", actor, reason, restored)
            target.activated_at, target.deactivated_at, target.share = self.clock.now(), None, 1.0
            self.uow.deployments.update(target)
            self.uow.commit()
            return target

    def advance(
        self,
        feature: str,
        version: str,
        *,
        actor: str,
        reason: str = "",
        evidence: Mapping[str, Any] | None = None,
        approved: bool = False,
    ) -> Deployment:
        """Move a canary started from a rollout plan to the plan's next stage.

        The share (and shadow mode) become the next stage's; the salt is kept, so units
        only move from the incumbent to the canary. A stage that needs manual approval
        is entered only with ``approved=True`` (a person's command, never the analysis).

        Raises:
            DeploymentError: the version is not in canary, has no plan, is on the plan's
                last stage (promote instead), or the next stage needs approval.
        """
        _check_change(feature, actor, reason)
        with self.uow:
            self.uow.deployments.for_feature(feature, lock=True)
            dep = self._get(feature, version)
            if dep.status is not Status.CANARY:
                raise DeploymentError(f"{dep.ref} is {dep.status.value}, not in canary")
            if dep.plan is None or dep.stage is None:
                raise DeploymentError(f"{dep.ref} was not started from a rollout plan")
            plan = RolloutPlan.model_validate(dep.plan)
            if dep.stage + 1 >= len(plan.stages):
                raise DeploymentError(
                    f"{dep.ref} is on the last stage of plan {plan.name!r}; promote it instead"
                )
            nxt = plan.stage(dep.stage + 1)
            if nxt.manual_approval and not approved:
                raise DeploymentError(
                    f"stage {dep.stage + 1} of plan {plan.name!r} needs a person's approval"
                )
            moved = {
                "stage_from": dep.stage,
                "stage_to": dep.stage + 1,
                "share_from": dep.share,
                "share_to": nxt.share,
            }
            dep.stage, dep.share, dep.shadow = dep.stage + 1, nxt.share, nxt.shadow
            self._touch(dep, actor)
            self.uow.deployments.update(dep)
            self._audit(
                dep,
                "advance",
                actor,
                Status.CANARY,
                Status.CANARY,
                reason,
                {**moved, **(evidence or {})},
            )
            self.uow.commit()
            return dep

    def pause(self, feature: str, version: str, *, actor: str, reason: str = "") -> Deployment:
        """Freeze a deployment's rollout; a paused canary keeps its share but never advances."""
        _check_change(feature, actor, reason)
        with self.uow:
            self.uow.deployments.for_feature(feature, lock=True)
            dep = self._get(feature, version)
            before = dep.status
            self._move(dep, Status.PAUSED, "pause", actor, reason, {})
            dep.paused_from = before
            self.uow.deployments.update(dep)
            self.uow.commit()
            return dep

    def resume(self, feature: str, version: str, *, actor: str, reason: str = "") -> Deployment:
        """Return a paused deployment to the status it was paused from."""
        _check_change(feature, actor, reason)
        with self.uow:
            self.uow.deployments.for_feature(feature, lock=True)
            dep = self._get(feature, version)
            if dep.status is not Status.PAUSED or dep.paused_from is None:
                raise DeploymentError(
                    f"deployment {dep.ref} is {dep.status.value}, not paused; next: "
                    + "; ".join(next_steps(dep))
                )
            self._move(dep, dep.paused_from, "resume", actor, reason, {})
            dep.paused_from = None
            self.uow.deployments.update(dep)
            self.uow.commit()
            return dep

    # -- helpers -------------------------------------------------------------------

    def _readiness(
        self,
        dep: Deployment,
        incumbent: Deployment | None,
        first_release: bool,
        override_reason: str | None,
    ) -> dict[str, Any]:
        """Audit evidence of the readiness check; raises when not ready, not overridden."""
        if self.online_checks is None:
            return {"first_release": True} if first_release else {}
        gaps = canary_gaps(
            dep,
            incumbent,
            online_checks=self.online_checks(dep.feature),
            first_release=first_release,
        )
        evidence: dict[str, Any] = {"first_release": True} if first_release else {}
        if gaps and override_reason is None:
            listed = "".join(f"\n  - {g}" for g in gaps)
            raise DeploymentError(
                f"{dep.ref} is not ready for a canary:{listed}\nto start it anyway, say why "
                "with --override-reason TEXT (kept in the audit log)"
            )
        if gaps:
            evidence["readiness_override"] = {"reason": override_reason, "missing": gaps}
        return evidence

    def _get(self, feature: str, version: str) -> Deployment:
        check_lookup("version", version)
        dep = self.uow.deployments.get(feature, version)
        if dep is None:
            known = [d.version for d in self.uow.deployments.for_feature(feature)]
            hint = f" (known versions: {', '.join(known)})" if known else " (unknown feature)"
            raise NotFound(f"no deployment {feature}@{version}{hint}")
        return dep

    def _rollback_target(self, feature: str, deps: list[Deployment], to: str | None) -> Deployment:
        if to is not None:
            check_lookup("version", to)
            target = next((d for d in deps if d.version == to), None)
            if target is None:
                raise NotFound(f"no deployment {feature}@{to} to roll back to")
            if target.status is not Status.SUPERSEDED:
                raise DeploymentError(
                    f"cannot roll back to {target.ref}: it is {target.status.value}; only a "
                    "version that served before (superseded) can be restored"
                )
            return target
        previous = [d for d in deps if d.status is Status.SUPERSEDED]
        if not previous:
            raise DeploymentError(
                f"feature {feature!r} has no previous good version to roll back to; "
                "nothing was changed"
            )
        return max(previous, key=lambda d: (d.deactivated_at or d.updated_at, d.id or 0))

    def _start_evaluation(self, dep: Deployment, actor: str, reason: str) -> None:
        if dep.status is Status.PENDING:
            self._move(dep, Status.EVALUATING, "evaluate", actor, reason, {})

    def _move(
        self,
        dep: Deployment,
        target: Status,
        action: str,
        actor: str,
        reason: str,
        evidence: dict[str, Any],
    ) -> None:
        check_move(dep, target)
        before = dep.status
        dep.status = target
        if before is Status.PAUSED:
            dep.paused_from = None
        self._touch(dep, actor)
        self._audit(dep, action, actor, before, target, reason, evidence)

    def _touch(self, dep: Deployment, actor: str) -> None:
        dep.updated_by, dep.updated_at = actor, self.clock.now()

    def _audit(
        self,
        dep: Deployment,
        action: str,
        actor: str,
        before: Status | None,
        after: Status | None,
        reason: str,
        evidence: dict[str, Any],
    ) -> None:
        self.uow.audit.append(
            AuditEntry(
                feature=dep.feature,
                version=dep.version,
                action=action,
                actor=actor,
                from_status=before.value if before else None,
                to_status=after.value if after else None,
                reason=reason,
                evidence=evidence,
                at=self.clock.now(),
            )
        )
