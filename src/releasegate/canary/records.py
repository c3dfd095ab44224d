"""Stored canary decisions: what the analysis decided for a deployment, and what was done.

Pure data; :class:`releasegate.ports.DecisionRepository` stores it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["OVERALL", "REQUESTS", "StoredDecision"]

#: ``check_type`` key of the statistics every request contributes to (errors, latency,
#: cost, feedback) and of the overall online quality score of an interaction.
REQUESTS = ""
OVERALL = "overall"


@dataclass(slots=True)
class StoredDecision:
    """One analysis of one canary, as stored in the ``decisions`` table.

    Attributes:
        deployment_id: The canary deployment analysed.
        decided_at: When the analysis ran (UTC).
        action: ``continue``, ``advance``, ``promote``, ``hold``, ``alert`` or ``rollback``.
        stage: Index of the rollout stage the canary was in (None without a plan).
        reasons: Sentences a person understands, the deciding ones first.
        stats: Every number behind the decision (see :class:`releasegate.canary.Decision`).
        signals: The state of each signal (``fail``, ``pass``, ``inconclusive`` ...).
        applied: What the service did about it: ``""`` (nothing to do), ``"applied"``,
            ``"awaiting approval"``, ``"dry-run"``, or the error that stopped it.
        id: Database id, None until stored.
    """

    deployment_id: int
    decided_at: datetime
    action: str
    stage: int | None
    reasons: tuple[str, ...]
    stats: dict[str, Any] = field(default_factory=dict)
    signals: dict[str, str] = field(default_factory=dict)
    applied: str = ""
    id: int | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON form (``decided_at`` as ISO 8601)."""
        return {
            "id": self.id,
            "deployment_id": self.deployment_id,
            "decided_at": self.decided_at.isoformat(),
            "action": self.action,
            "stage": self.stage,
            "reasons": list(self.reasons),
            "stats": dict(self.stats),
            "signals": dict(self.signals),
            "applied": self.applied,
        }
