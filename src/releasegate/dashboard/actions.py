"""The operate buttons: each one a control-plane operation, audited like the CLI's.

:data:`ACTIONS` describes each button (its label, what the confirmation page says,
whether it needs a reason); :func:`perform` runs it through
:class:`~releasegate.control.deployments.DeploymentService`, which checks the state
machine, writes the change and its audit entry in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from releasegate.deploy.model import Deployment
from releasegate.errors import UsageError

if TYPE_CHECKING:
    from releasegate.bootstrap import ControlPlaneParts

__all__ = ["ACTIONS", "Action", "describe", "perform"]

_RESTORE = (
    "Roll back {version}, the active version of {feature}: the version it replaced "
    "becomes active again at once."
)


@dataclass(frozen=True, slots=True)
class Action:
    """One operate button.

    Attributes:
        name: URL name (``rollback``).
        label: The button's text.
        explain: What happens, shown on the confirmation page (``{version}`` and
            ``{feature}`` are filled in).
        reason_required: The confirmation needs a reason.
        danger: Drawn as a destructive action.
    """

    name: str
    label: str
    explain: str
    reason_required: bool = False
    danger: bool = False


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action(
            "approve",
            "Approve next stage",
            "Move the canary {version} of {feature} to the next stage of its rollout plan "
            "(a stage that waits for a person's approval).",
        ),
        Action(
            "promote",
            "Promote",
            "Make {version} the only active version of {feature}; the current active version "
            "is superseded and can be restored by a rollback.",
        ),
        Action(
            "rollback",
            "Roll back",
            "Abort the canary {version} of {feature} at once: the incumbent serves everyone again.",
            reason_required=True,
            danger=True,
        ),
        Action(
            "pause",
            "Pause",
            "Freeze the rollout of {version}: it keeps its share but never advances until resumed.",
        ),
        Action("resume", "Resume", "Let the rollout of {version} continue where it was paused."),
    )
}


def describe(parts: ControlPlaneParts, action: Action, feature: str, version: str) -> str:
    """What ``action`` on ``feature@version`` will do, for the confirmation page."""
    text = action.explain
    if action.name == "rollback":
        canary = parts.deployments().status(feature).canary
        if canary is None or canary.version != version:
            text = _RESTORE
    return text.format(feature=feature, version=version)


def perform(
    parts: ControlPlaneParts, action: str, feature: str, version: str, *, actor: str, reason: str
) -> Deployment | None:
    """Run ``action`` on ``feature@version`` as ``actor``.

    Returns:
        The deployment changed (or, for a rollback, the one that now serves).

    Raises:
        UsageError: an unknown action, or a rollback without a reason.
        DeploymentError: the state machine refuses (nothing is changed).
        NotFound: no such deployment.
    """
    service = parts.deployments()
    reason = reason.strip()
    if action == "approve":
        return service.advance(feature, version, actor=actor, reason=reason, approved=True)
    if action == "promote":
        return service.promote(feature, version, actor=actor, reason=reason)
    if action == "rollback":
        if not reason:
            raise UsageError("a rollback needs a reason")
        current = service.status(feature)
        if current.canary is not None and current.canary.version == version:
            return service.rollback(feature, actor=actor, reason=reason, expect_canary=version)
        if current.canary is None and current.active is not None:
            if current.active.version != version:
                raise UsageError(f"{feature}@{version} is not the active version or the canary")
            return service.rollback(feature, actor=actor, reason=reason)
        raise UsageError(f"{feature}@{version} is not the active version or the canary")
    if action == "pause":
        return service.pause(feature, version, actor=actor, reason=reason)
    if action == "resume":
        return service.resume(feature, version, actor=actor, reason=reason)
    raise UsageError(f"unknown action {action!r}")
