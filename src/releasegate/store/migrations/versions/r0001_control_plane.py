"""Control plane: deployments, the append-only audit log and API tokens.

A partial unique index allows at most one active deployment per feature (and one canary),
so that two concurrent promotions can never leave two active versions. Triggers refuse
UPDATE and DELETE on ``audit_log``.

Revision ID: 0001_control_plane
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_control_plane"
down_revision = None
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)
_ACTIVE = "status = 'active'"
_CANARY = "status = 'canary' OR (status = 'paused' AND paused_from = 'canary')"

_PG_APPEND_ONLY = """
CREATE FUNCTION releasegate_audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    op.create_table(
        "deployments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("feature", sa.String(200), nullable=False),
        sa.Column("version", sa.String(100), nullable=False),
        sa.Column("prompt_name", sa.String(200), nullable=False),
        sa.Column("prompt_version", sa.String(100), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("paused_from", sa.String(20), nullable=True),
        sa.Column("share", sa.Float, nullable=False),
        sa.Column("salt", sa.String(64), nullable=True),
        sa.Column("min_score", sa.Float, nullable=True),
        sa.Column("eval_summary", sa.JSON, nullable=True),
        sa.Column("plan", sa.JSON, nullable=True),
        sa.Column("stage", sa.Integer, nullable=True),
        sa.Column("shadow", sa.Boolean, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("activated_at", _TS, nullable=True),
        sa.Column("deactivated_at", _TS, nullable=True),
        sa.UniqueConstraint("feature", "version", name="uq_deployments_feature_version"),
        sa.CheckConstraint("share >= 0 AND share <= 1", name="ck_deployments_share"),
    )
    op.create_index(
        "uq_deployments_one_active",
        "deployments",
        ["feature"],
        unique=True,
        sqlite_where=sa.text(_ACTIVE),
        postgresql_where=sa.text(_ACTIVE),
    )
    op.create_index(
        "uq_deployments_one_canary",
        "deployments",
        ["feature"],
        unique=True,
        sqlite_where=sa.text(_CANARY),
        postgresql_where=sa.text(_CANARY),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", _TS, nullable=False),
        sa.Column("feature", sa.String(200), nullable=False),
        sa.Column("version", sa.String(100), nullable=True),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("from_status", sa.String(20), nullable=True),
        sa.Column("to_status", sa.String(20), nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
    )
    op.create_index("ix_audit_log_feature", "audit_log", ["feature", "id"])
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("scope", sa.String(20), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("revoked_at", _TS, nullable=True),
        sa.CheckConstraint("scope IN ('read', 'operate', 'admin')", name="ck_api_tokens_scope"),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
            )
    elif dialect == "postgresql":
        op.execute(_PG_APPEND_ONLY)
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION releasegate_audit_log_append_only()"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS releasegate_audit_log_append_only()")
    op.drop_table("api_tokens")
    op.drop_index("ix_audit_log_feature", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index("uq_deployments_one_canary", table_name="deployments")
    op.drop_index("uq_deployments_one_active", table_name="deployments")
    op.drop_table("deployments")
