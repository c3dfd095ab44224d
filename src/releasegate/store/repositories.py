"""SQL implementations of the repository ports (SQLAlchemy Core, one connection each)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from releasegate.deploy.model import ApiToken, AuditEntry, Deployment
from releasegate.deploy.status import Status
from releasegate.errors import DeploymentError
from releasegate.ports import AuditRepository, DeploymentRepository, TokenRepository
from releasegate.store.schema import api_tokens, audit_log, deployments

__all__ = ["SqlAuditRepository", "SqlDeploymentRepository", "SqlTokenRepository"]


def to_db(value: datetime | None) -> datetime | None:
    """UTC, without tzinfo on SQLite (which would drop it anyway) -- stored uniformly."""
    if value is None:
        return None
    return value.astimezone(UTC)


def from_db(value: datetime | None) -> datetime | None:
    """Aware UTC datetime from either backend (SQLite returns naive UTC)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _required(value: datetime | None) -> datetime:
    result = from_db(value)
    if result is None:  # pragma: no cover - NOT NULL columns
        raise ValueError("missing timestamp")
    return result


def _conflict(exc: sa.exc.IntegrityError, what: str) -> DeploymentError:
    # A constraint fired that the service's checks should have prevented: another actor
    # changed the feature at the same time. Nothing is written; the caller may retry.
    return DeploymentError(
        f"{what} conflicts with a concurrent change; nothing was changed ({exc.orig})"
    )


class SqlDeploymentRepository(DeploymentRepository):
    """Deployments in the ``deployments`` table."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    @staticmethod
    def _values(d: Deployment) -> dict[str, Any]:
        return {
            "feature": d.feature,
            "version": d.version,
            "prompt_name": d.prompt_name,
            "prompt_version": d.prompt_version,
            "model": d.model,
            "params": d.params,
            "status": d.status.value,
            "paused_from": d.paused_from.value if d.paused_from else None,
            "share": d.share,
            "salt": d.salt,
            "min_score": d.min_score,
            "eval_summary": d.eval_summary,
            "plan": d.plan,
            "stage": d.stage,
            "shadow": d.shadow,
            "created_by": d.created_by,
            "updated_by": d.updated_by,
            "created_at": to_db(d.created_at),
            "updated_at": to_db(d.updated_at),
            "activated_at": to_db(d.activated_at),
            "deactivated_at": to_db(d.deactivated_at),
            "prompt_snapshot": d.prompt_snapshot,
        }

    @staticmethod
    def _row(row: sa.RowMapping) -> Deployment:
        return Deployment(
            id=row["id"],
            feature=row["feature"],
            version=row["version"],
            prompt_name=row["prompt_name"],
            prompt_version=row["prompt_version"],
            model=row["model"],
            params=dict(row["params"] or {}),
            status=Status(row["status"]),
            paused_from=Status(row["paused_from"]) if row["paused_from"] else None,
            share=float(row["share"]),
            salt=row["salt"],
            min_score=row["min_score"],
            eval_summary=row["eval_summary"],
            plan=row["plan"],
            stage=row["stage"],
            shadow=bool(row["shadow"]),
            created_by=row["created_by"],
            updated_by=row["updated_by"],
            created_at=_required(row["created_at"]),
            updated_at=_required(row["updated_at"]),
            activated_at=from_db(row["activated_at"]),
            deactivated_at=from_db(row["deactivated_at"]),
            prompt_snapshot=row["prompt_snapshot"],
        )

    def add(self, deployment: Deployment) -> Deployment:
        try:
            result = self.conn.execute(
                sa.insert(deployments)
                .values(**self._values(deployment))
                .returning(deployments.c.id)
            )
        except sa.exc.IntegrityError as exc:
            raise _conflict(exc, f"registering {deployment.ref}") from exc
        deployment.id = int(result.scalar_one())
        return deployment

    def update(self, deployment: Deployment) -> None:
        if deployment.id is None:
            raise ValueError("cannot update a deployment that was never stored")
        try:
            self.conn.execute(
                sa.update(deployments)
                .where(deployments.c.id == deployment.id)
                .values(**self._values(deployment))
            )
        except sa.exc.IntegrityError as exc:
            raise _conflict(exc, f"changing {deployment.ref}") from exc

    def get(self, feature: str, version: str) -> Deployment | None:
        row = (
            self.conn.execute(
                sa.select(deployments).where(
                    deployments.c.feature == feature, deployments.c.version == version
                )
            )
            .mappings()
            .first()
        )
        return self._row(row) if row is not None else None

    def for_feature(self, feature: str, *, lock: bool = False) -> list[Deployment]:
        query = (
            sa.select(deployments)
            .where(deployments.c.feature == feature)
            .order_by(deployments.c.id)
        )
        if lock:
            # FOR NO KEY UPDATE on PostgreSQL: changes of the feature still wait for each
            # other, but recording does not wait for them (its foreign keys to
            # ``deployments`` take KEY SHARE locks, which FOR UPDATE would block, and a
            # recorder already holding one on the canary's row deadlocked with a
            # promotion locking the rows in turn). SQLite ignores row locks.
            query = query.with_for_update(key_share=True)
        return [self._row(r) for r in self.conn.execute(query).mappings()]

    def features(self) -> list[str]:
        query = sa.select(deployments.c.feature).distinct().order_by(deployments.c.feature)
        return [str(f) for f in self.conn.execute(query).scalars()]

    def prompt_snapshot(self, name: str, version: str) -> dict[str, Any] | None:
        c = deployments.c
        query = (
            sa.select(c.prompt_snapshot)
            .where(
                c.prompt_name == name,
                c.prompt_version == version,
                c.prompt_snapshot.is_not(None),
            )
            .order_by(c.id)
            .limit(1)
        )
        found = self.conn.execute(query).scalar()
        return dict(found) if found else None


class SqlAuditRepository(AuditRepository):
    """The ``audit_log`` table (UPDATE and DELETE are refused by database triggers)."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def append(self, entry: AuditEntry) -> None:
        self.conn.execute(
            sa.insert(audit_log).values(
                at=to_db(entry.at),
                feature=entry.feature,
                version=entry.version,
                action=entry.action,
                actor=entry.actor,
                from_status=entry.from_status,
                to_status=entry.to_status,
                reason=entry.reason,
                evidence=entry.evidence,
            )
        )

    def for_feature(self, feature: str) -> list[AuditEntry]:
        query = sa.select(audit_log).where(audit_log.c.feature == feature).order_by(audit_log.c.id)
        return [
            AuditEntry(
                id=r["id"],
                at=_required(r["at"]),
                feature=r["feature"],
                version=r["version"],
                action=r["action"],
                actor=r["actor"],
                from_status=r["from_status"],
                to_status=r["to_status"],
                reason=r["reason"],
                evidence=dict(r["evidence"] or {}),
            )
            for r in self.conn.execute(query).mappings()
        ]


class SqlTokenRepository(TokenRepository):
    """The ``api_tokens`` table."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    @staticmethod
    def _row(r: sa.RowMapping) -> ApiToken:
        return ApiToken(
            id=r["id"],
            name=r["name"],
            scope=r["scope"],
            token_hash=r["token_hash"],
            prefix=r["prefix"],
            created_by=r["created_by"],
            created_at=_required(r["created_at"]),
            revoked_at=from_db(r["revoked_at"]),
        )

    def add(self, token: ApiToken) -> ApiToken:
        try:
            result = self.conn.execute(
                sa.insert(api_tokens)
                .values(
                    name=token.name,
                    scope=token.scope,
                    token_hash=token.token_hash,
                    prefix=token.prefix,
                    created_by=token.created_by,
                    created_at=to_db(token.created_at),
                    revoked_at=to_db(token.revoked_at),
                )
                .returning(api_tokens.c.id)
            )
        except sa.exc.IntegrityError as exc:
            raise _conflict(exc, f"creating token {token.name!r}") from exc
        token.id = int(result.scalar_one())
        return token

    def _one(self, where: sa.ColumnElement[bool]) -> ApiToken | None:
        row = self.conn.execute(sa.select(api_tokens).where(where)).mappings().first()
        return self._row(row) if row is not None else None

    def by_hash(self, token_hash: str) -> ApiToken | None:
        return self._one(api_tokens.c.token_hash == token_hash)

    def by_name(self, name: str) -> ApiToken | None:
        return self._one(api_tokens.c.name == name)

    def all(self) -> list[ApiToken]:
        query = sa.select(api_tokens).order_by(api_tokens.c.id)
        return [self._row(r) for r in self.conn.execute(query).mappings()]

    def update(self, token: ApiToken) -> None:
        self.conn.execute(
            sa.update(api_tokens)
            .where(api_tokens.c.id == token.id)
            .values(scope=token.scope, revoked_at=to_db(token.revoked_at))
        )
