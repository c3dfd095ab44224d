"""Online scoring: interactions due a score, where their facts went, what judges cost.

- ``interactions.score_due``: sampled for scoring when recorded (decided once, so a
  retried batch decides the same and the backlog is a query);
- ``interactions.canary_id`` / ``canary_stage``: the running canary (and its rollout
  stage) the request's facts were added to, so its scores and feedback go to the same
  arm statistics;
- ``scores.cost_usd``: what the checks of one score spent on model calls (judges);
- indexes for the backlog and the throughput queries.

Revision ID: 0005_scoring
Revises: 0004_canary_stats
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_scoring"
down_revision = "0004_canary_stats"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("interactions") as batch:
        batch.add_column(
            sa.Column("score_due", sa.Boolean, nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("canary_id", sa.Integer, nullable=True))
        batch.add_column(sa.Column("canary_stage", sa.Integer, nullable=True))
    with op.batch_alter_table("scores") as batch:
        batch.add_column(sa.Column("cost_usd", sa.Float, nullable=False, server_default="0"))
    op.create_index("ix_interactions_score_due", "interactions", ["score_due", "created_at"])
    op.create_index("ix_scores_check_time", "scores", ["check_type", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_scores_check_time", table_name="scores")
    op.drop_index("ix_interactions_score_due", table_name="interactions")
    with op.batch_alter_table("scores") as batch:
        batch.drop_column("cost_usd")
    with op.batch_alter_table("interactions") as batch:
        batch.drop_column("canary_stage")
        batch.drop_column("canary_id")
        batch.drop_column("score_due")
