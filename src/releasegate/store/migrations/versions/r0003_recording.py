"""Recording: the full interaction record, idempotent feedback and the ingest scope.

Interactions gain what the recording API accepts beyond the first sketch: the version
and model that actually served (after a fallback they differ from the assigned one), the
retrieved context, time to first token, the fallback depth, flat metadata and a content
hash that tells a retried record from a conflicting one. Feedback gains an optional
idempotency key and an index for joining feedback given by session. API tokens may have
the ``ingest`` scope.

Revision ID: 0003_recording
Revises: 0002_online
Create Date: 2025-01-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_recording"
down_revision = "0002_online"
branch_labels = None
depends_on = None

_SCOPES_BEFORE = "scope IN ('read', 'operate', 'admin')"
_SCOPES_AFTER = "scope IN ('ingest', 'read', 'operate', 'admin')"


def _scope_check(predicate: str) -> None:
    # On SQLite the table is copied; the named check constraint is reflected and dropped.
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_constraint("ck_api_tokens_scope", type_="check")
        batch.create_check_constraint("ck_api_tokens_scope", sa.text(predicate))


def upgrade() -> None:
    with op.batch_alter_table("interactions") as batch:
        batch.add_column(sa.Column("served_version", sa.String(100), nullable=True))
        batch.add_column(sa.Column("model", sa.String(200), nullable=True))
        batch.add_column(sa.Column("context", sa.JSON, nullable=True))
        batch.add_column(sa.Column("ttft_ms", sa.Float, nullable=True))
        batch.add_column(
            sa.Column("fallback_depth", sa.Integer, nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("meta", sa.JSON, nullable=True))
        batch.add_column(
            sa.Column("content_hash", sa.String(64), nullable=False, server_default="")
        )
    with op.batch_alter_table("feedback") as batch:
        batch.add_column(sa.Column("key", sa.String(64), nullable=True))
        batch.create_unique_constraint("uq_feedback_key", ["key"])
    op.create_index("ix_feedback_session", "feedback", ["session_id"])
    _scope_check(_SCOPES_AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM api_tokens WHERE scope = 'ingest'")
    _scope_check(_SCOPES_BEFORE)
    op.drop_index("ix_feedback_session", table_name="feedback")
    with op.batch_alter_table("feedback") as batch:
        batch.drop_constraint("uq_feedback_key", type_="unique")
        batch.drop_column("key")
    with op.batch_alter_table("interactions") as batch:
        for column in (
            "content_hash",
            "meta",
            "fallback_depth",
            "ttft_ms",
            "context",
            "model",
            "served_version",
        ):
            batch.drop_column(column)
