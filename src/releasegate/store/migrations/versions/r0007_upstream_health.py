"""Upstream health: the circuit breaker state each gateway process publishes.

- ``upstream_health``: one row per (upstream, gateway instance), replaced every few
  seconds: state, failure rate and calls in the window, retry-after, whether the state
  is shared through Redis, when it was published. The dashboard shows the newest row
  of each upstream.

Revision ID: 0007_upstream_health
Revises: 0005_scoring
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_upstream_health"
down_revision = "0006_eval_reports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "upstream_health",
        sa.Column("upstream", sa.String(200), primary_key=True),
        sa.Column("instance", sa.String(200), primary_key=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("failure_rate", sa.Float, nullable=True),
        sa.Column("calls", sa.Integer, nullable=False),
        sa.Column("retry_after_s", sa.Float, nullable=False),
        sa.Column("shared", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_upstream_health_updated", "upstream_health", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_upstream_health_updated", table_name="upstream_health")
    op.drop_table("upstream_health")
