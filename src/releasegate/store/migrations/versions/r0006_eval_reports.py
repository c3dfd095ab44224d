"""Offline eval reports in the store, and indexes for the dashboard's explorer.

- ``eval_runs.prompt_name`` / ``prompt_version``: what was evaluated, to list runs per
  prompt; ``eval_runs.report``: the whole JSON report (cases, gate, baseline comparison)
  as ``releasegate eval --store`` wrote it;
- indexes that keyset pages of the interactions explorer walk: by feature, by feature
  and version, failed and fallback requests only (partial indexes), scores by check,
  feedback by interaction; runs by prompt.

Revision ID: 0006_eval_reports
Revises: 0005_scoring
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_eval_reports"
down_revision = "0005_scoring"
branch_labels = None
depends_on = None

ERROR_WHERE = "error IS NOT NULL"
FALLBACK_WHERE = "fallback_depth > 0"


def upgrade() -> None:
    with op.batch_alter_table("eval_runs") as batch:
        batch.add_column(sa.Column("prompt_name", sa.String(200), nullable=True))
        batch.add_column(sa.Column("prompt_version", sa.String(100), nullable=True))
        batch.add_column(sa.Column("report", sa.JSON, nullable=True))
    op.create_index("ix_eval_runs_prompt", "eval_runs", ["prompt_name", "started_at"])
    op.create_index("ix_interactions_feature_id", "interactions", ["feature", "id"])
    op.create_index(
        "ix_interactions_feature_version_id", "interactions", ["feature", "version", "id"]
    )
    op.create_index(
        "ix_interactions_error_id",
        "interactions",
        ["id"],
        sqlite_where=sa.text(ERROR_WHERE),
        postgresql_where=sa.text(ERROR_WHERE),
    )
    op.create_index(
        "ix_interactions_fallback_id",
        "interactions",
        ["id"],
        sqlite_where=sa.text(FALLBACK_WHERE),
        postgresql_where=sa.text(FALLBACK_WHERE),
    )
    op.create_index(
        "ix_scores_check_interaction", "scores", ["check_type", "interaction_id", "value"]
    )
    op.create_index("ix_feedback_interaction", "feedback", ["interaction_id"])


def downgrade() -> None:
    op.drop_index("ix_feedback_interaction", table_name="feedback")
    op.drop_index("ix_scores_check_interaction", table_name="scores")
    op.drop_index("ix_interactions_fallback_id", table_name="interactions")
    op.drop_index("ix_interactions_error_id", table_name="interactions")
    op.drop_index("ix_interactions_feature_version_id", table_name="interactions")
    op.drop_index("ix_interactions_feature_id", table_name="interactions")
    op.drop_index("ix_eval_runs_prompt", table_name="eval_runs")
    with op.batch_alter_table("eval_runs") as batch:
        batch.drop_column("report")
        batch.drop_column("prompt_version")
        batch.drop_column("prompt_name")
