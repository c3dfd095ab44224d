"""The deployment status machine, pure and without I/O.

::

    pending ──> evaluating ──> approved ──> canary ──> active ──> superseded
                     │             │          │          │            │
                     └─> rejected  └──────────┼──> active└─> rolled_back
                                              └─> rolled_back         └─> active (restored)

Any of pending, evaluating, approved and canary may be paused; a paused deployment resumes
to exactly the status it was paused from, or is ended while paused (a paused canary may be
rolled back, a paused evaluation rejected). ``superseded`` is the status of a version that
served as active and was replaced by a promotion: it is "a previous good version" and the
only status a rollback may restore. ``rejected`` and ``rolled_back`` are terminal.
"""

from __future__ import annotations

from enum import StrEnum

from releasegate.errors import IllegalTransition

__all__ = [
    "ALLOWED",
    "PAUSABLE",
    "TERMINAL",
    "Status",
    "check_transition",
    "is_allowed",
]


class Status(StrEnum):
    """Lifecycle status of one deployment (one feature@version)."""

    PENDING = "pending"
    EVALUATING = "evaluating"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANARY = "canary"
    ACTIVE = "active"
    SUPERSEDED = "superseded"
    ROLLED_BACK = "rolled_back"
    PAUSED = "paused"


PAUSABLE: frozenset[Status] = frozenset(
    {Status.PENDING, Status.EVALUATING, Status.APPROVED, Status.CANARY}
)
"""Statuses a deployment may be paused from (and resumes to)."""

TERMINAL: frozenset[Status] = frozenset({Status.REJECTED, Status.ROLLED_BACK})

ALLOWED: dict[Status, frozenset[Status]] = {
    Status.PENDING: frozenset({Status.EVALUATING, Status.PAUSED}),
    Status.EVALUATING: frozenset({Status.APPROVED, Status.REJECTED, Status.PAUSED}),
    # approved -> active is a direct promotion without a canary (first version of a
    # feature, internal tools); it is audited like any other promotion.
    Status.APPROVED: frozenset({Status.CANARY, Status.ACTIVE, Status.PAUSED}),
    Status.CANARY: frozenset({Status.ACTIVE, Status.ROLLED_BACK, Status.PAUSED}),
    Status.ACTIVE: frozenset({Status.SUPERSEDED, Status.ROLLED_BACK}),
    Status.SUPERSEDED: frozenset({Status.ACTIVE}),
    Status.REJECTED: frozenset(),
    Status.ROLLED_BACK: frozenset(),
    # Leaving "paused" depends on the remembered status, see is_allowed.
    Status.PAUSED: PAUSABLE,
}


def is_allowed(current: Status, target: Status, *, paused_from: Status | None = None) -> bool:
    """Whether ``current -> target`` is a legal transition.

    Args:
        current: The deployment's status now.
        target: The status asked for.
        paused_from: For a paused deployment, the status it was paused from.
    """
    if current is Status.PAUSED:
        if paused_from is None:
            return False
        return target is paused_from or (target in TERMINAL and target in ALLOWED[paused_from])
    return target in ALLOWED[current]


def check_transition(
    current: Status,
    target: Status,
    *,
    subject: str,
    paused_from: Status | None = None,
) -> None:
    """Raise :class:`IllegalTransition` unless ``current -> target`` is legal.

    Args:
        current: The deployment's status now.
        target: The status asked for.
        subject: Names the deployment in the message (``"chat@v2"``).
        paused_from: For a paused deployment, the status it was paused from.

    Raises:
        IllegalTransition: naming the deployment, both statuses and what is allowed.
    """
    if is_allowed(current, target, paused_from=paused_from):
        return
    if current is Status.PAUSED:
        allowed = (
            [paused_from.value, *sorted(s.value for s in ALLOWED[paused_from] & TERMINAL)]
            if paused_from
            else []
        )
    else:
        allowed = sorted(s.value for s in ALLOWED[current])
    hint = (
        f"allowed from {current.value}: {', '.join(allowed)}"
        if allowed
        else (f"{current.value} is final")
    )
    if current is Status.PAUSED and paused_from is not None and target is not paused_from:
        hint += f"; `deploy resume` returns it to {paused_from.value} first"
    raise IllegalTransition(
        f"deployment {subject}: cannot go from {current.value} to {target.value} ({hint})"
    )
