"""Domain records of the control plane: deployments, audit entries and API tokens."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from releasegate.deploy.status import Status

__all__ = ["ApiToken", "AuditEntry", "Deployment", "utcnow"]


def utcnow() -> datetime:
    """Timezone-aware current UTC time (the store keeps every timestamp in UTC)."""
    return datetime.now(UTC)


@dataclass(slots=True)
class Deployment:
    """One (feature, version): a pinned prompt version and model, and its rollout state.

    Attributes:
        feature: The application feature (``"support-chat"``).
        version: The deployment's version label, unique within the feature.
        prompt_name: Name of the prompt file served.
        prompt_version: Semantic version of that prompt.
        model: Pinned model name.
        params: Generation parameters.
        status: Current status (see :mod:`releasegate.deploy.status`).
        share: Traffic fraction in [0, 1] while in canary.
        salt: Bucketing salt of the rollout, fixed when the canary starts.
        min_score: Lowest eval score an approving report may have.
        eval_summary: Summary of the report that justified approval.
        plan: The rollout plan (JSON form), when started from a plan.
        stage: Index of the current plan stage.
        paused_from: The status a paused deployment resumes to.
        prompt_snapshot: The prompt as it was at registration, when the project had
            it: ``{"content_hash": str, "prompt": {...}}`` (the prompt model's JSON
            dump). Never changed after registration; None for older rows and for
            versions registered without the prompt file. Read back through the API
            it holds only ``content_hash``.
        id: Database id, ``None`` until stored.
    """

    feature: str
    version: str
    prompt_name: str
    prompt_version: str
    model: str
    params: dict[str, Any] = field(default_factory=dict)
    status: Status = Status.PENDING
    share: float = 0.0
    salt: str | None = None
    min_score: float | None = None
    eval_summary: dict[str, Any] | None = None
    plan: dict[str, Any] | None = None
    stage: int | None = None
    shadow: bool = False
    paused_from: Status | None = None
    created_by: str = "unknown"
    updated_by: str = "unknown"
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    activated_at: datetime | None = None
    deactivated_at: datetime | None = None
    prompt_snapshot: dict[str, Any] | None = None
    id: int | None = None

    @property
    def snapshot_hash(self) -> str | None:
        """Content hash of the prompt snapshot, None without a snapshot."""
        if self.prompt_snapshot is None:
            return None
        return str(self.prompt_snapshot.get("content_hash") or "") or None

    @property
    def ref(self) -> str:
        """``feature@version``, used in messages."""
        return f"{self.feature}@{self.version}"

    @property
    def prompt(self) -> str:
        """``name@version`` of the prompt."""
        return f"{self.prompt_name}@{self.prompt_version}"

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (documented in ``docs/deployments.md``)."""
        return {
            "id": self.id,
            "feature": self.feature,
            "version": self.version,
            "prompt": self.prompt,
            "model": self.model,
            "params": self.params,
            "status": self.status.value,
            "paused_from": self.paused_from.value if self.paused_from else None,
            "share": self.share,
            "salt": self.salt,
            "min_score": self.min_score,
            "eval_summary": self.eval_summary,
            "plan": self.plan,
            "stage": self.stage,
            "shadow": self.shadow,
            "created_by": self.created_by,
            "updated_by": self.updated_by,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "activated_at": self.activated_at.isoformat() if self.activated_at else None,
            "deactivated_at": self.deactivated_at.isoformat() if self.deactivated_at else None,
            "prompt_snapshot": (
                {"content_hash": self.snapshot_hash} if self.prompt_snapshot else None
            ),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Deployment:
        """Inverse of :meth:`to_json` (used by the API client)."""
        name, _, pver = str(data["prompt"]).rpartition("@")

        def ts(key: str) -> datetime | None:
            value = data.get(key)
            return datetime.fromisoformat(value) if value else None

        return cls(
            id=data.get("id"),
            feature=data["feature"],
            version=data["version"],
            prompt_name=name,
            prompt_version=pver,
            model=data["model"],
            params=dict(data.get("params") or {}),
            status=Status(data["status"]),
            paused_from=Status(data["paused_from"]) if data.get("paused_from") else None,
            share=float(data.get("share") or 0.0),
            salt=data.get("salt"),
            min_score=data.get("min_score"),
            eval_summary=data.get("eval_summary"),
            plan=data.get("plan"),
            stage=data.get("stage"),
            shadow=bool(data.get("shadow")),
            created_by=data.get("created_by", "unknown"),
            updated_by=data.get("updated_by", "unknown"),
            created_at=ts("created_at") or utcnow(),
            updated_at=ts("updated_at") or utcnow(),
            activated_at=ts("activated_at"),
            deactivated_at=ts("deactivated_at"),
            prompt_snapshot=data.get("prompt_snapshot"),
        )


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One append-only audit record of a change."""

    feature: str
    action: str
    actor: str
    version: str | None = None
    from_status: str | None = None
    to_status: str | None = None
    reason: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    at: datetime = field(default_factory=utcnow)
    id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "feature": self.feature,
            "version": self.version,
            "action": self.action,
            "actor": self.actor,
            "from": self.from_status,
            "to": self.to_status,
            "reason": self.reason,
            "evidence": self.evidence,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AuditEntry:
        return cls(
            id=data.get("id"),
            at=datetime.fromisoformat(data["at"]),
            feature=data["feature"],
            version=data.get("version"),
            action=data["action"],
            actor=data["actor"],
            from_status=data.get("from"),
            to_status=data.get("to"),
            reason=data.get("reason") or "",
            evidence=dict(data.get("evidence") or {}),
        )


@dataclass(slots=True)
class ApiToken:
    """An API token as stored: only the hash of the secret is kept."""

    name: str
    scope: str
    token_hash: str
    prefix: str
    created_by: str = "unknown"
    created_at: datetime = field(default_factory=utcnow)
    revoked_at: datetime | None = None
    id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "scope": self.scope,
            "prefix": self.prefix,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }
