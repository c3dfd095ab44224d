"""Online evaluation: eval runs, interactions, scores, feedback, arm statistics, decisions.

Prepares the online half: offline reports kept for the dashboard and baselines; one
row per served request with its scores and user feedback; running sufficient statistics
per (deployment, arm, check) so canary analysis never rescans interactions; and every
canary decision with its reason and numbers.

Revision ID: 0002_online
Revises: 0001_control_plane
Create Date: 2025-01-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_online"
down_revision = "0001_control_plane"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "eval_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), nullable=False, unique=True),
        sa.Column("suite", sa.String(200), nullable=False),
        sa.Column("feature", sa.String(200), nullable=True),
        sa.Column("git_ref", sa.String(100), nullable=True),
        sa.Column("started_at", _TS, nullable=False),
        sa.Column("finished_at", _TS, nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("mean_score", sa.Float, nullable=True),
        sa.Column("pass_rate", sa.Float, nullable=True),
        sa.Column("gate_passed", sa.Boolean, nullable=True),
        sa.Column("identity", sa.JSON, nullable=False),
        sa.Column("summary", sa.JSON, nullable=False),
    )
    op.create_index("ix_eval_runs_suite", "eval_runs", ["suite", "started_at"])
    op.create_table(
        "eval_case_results",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "eval_run_id",
            sa.Integer,
            sa.ForeignKey("eval_runs.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("case_id", sa.String(200), nullable=False),
        sa.Column("repeat", sa.Integer, nullable=False),
        sa.Column("score", sa.Float, nullable=True),
        sa.Column("passed", sa.Boolean, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("result", sa.JSON, nullable=False),
        sa.UniqueConstraint("eval_run_id", "case_id", "repeat", name="uq_eval_case_results_case"),
    )
    op.create_table(
        "interactions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(64), nullable=False, unique=True),
        sa.Column("feature", sa.String(200), nullable=False),
        sa.Column("version", sa.String(100), nullable=True),
        sa.Column("deployment_id", sa.Integer, sa.ForeignKey("deployments.id"), nullable=True),
        sa.Column("arm", sa.String(20), nullable=False),
        sa.Column("unit_key", sa.String(200), nullable=True),
        sa.Column("session_id", sa.String(200), nullable=True),
        sa.Column("prompt", sa.JSON, nullable=True),
        sa.Column("response", sa.Text, nullable=True),
        sa.Column("latency_ms", sa.Float, nullable=True),
        sa.Column("prompt_tokens", sa.Integer, nullable=False, server_default="0"),
        sa.Column("completion_tokens", sa.Integer, nullable=False, server_default="0"),
        sa.Column("cost_usd", sa.Float, nullable=False, server_default="0"),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("fallback_used", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("shadow", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", _TS, nullable=False),
    )
    op.create_index(
        "ix_interactions_deployment_time", "interactions", ["deployment_id", "created_at"]
    )
    op.create_index("ix_interactions_created_at", "interactions", ["created_at"])
    op.create_index("ix_interactions_session", "interactions", ["session_id"])
    op.create_table(
        "scores",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "interaction_id",
            sa.Integer,
            sa.ForeignKey("interactions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("check_type", sa.String(100), nullable=False),
        sa.Column("value", sa.Float, nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", _TS, nullable=False),
        sa.UniqueConstraint("interaction_id", "check_type", name="uq_scores_interaction_check"),
    )
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("session_id", sa.String(200), nullable=True),
        sa.Column("interaction_id", sa.Integer, sa.ForeignKey("interactions.id"), nullable=True),
        sa.Column("rating", sa.Float, nullable=False),
        sa.Column("scale", sa.String(10), nullable=False),
        sa.Column("comment", sa.Text, nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.CheckConstraint(
            "request_id IS NOT NULL OR session_id IS NOT NULL", name="ck_feedback_target"
        ),
    )
    op.create_index("ix_feedback_request", "feedback", ["request_id"])
    op.create_table(
        "arm_stats",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "deployment_id",
            sa.Integer,
            sa.ForeignKey("deployments.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("arm", sa.String(20), nullable=False),
        sa.Column("check_type", sa.String(100), nullable=False),
        sa.Column("n", sa.Integer, nullable=False, server_default="0"),
        sa.Column("total", sa.Float, nullable=False, server_default="0"),
        sa.Column("total_sq", sa.Float, nullable=False, server_default="0"),
        sa.Column("n_errors", sa.Integer, nullable=False, server_default="0"),
        sa.Column("n_feedback", sa.Integer, nullable=False, server_default="0"),
        sa.Column("n_negative", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated_at", _TS, nullable=False),
        sa.UniqueConstraint("deployment_id", "arm", "check_type", name="uq_arm_stats_key"),
    )
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "deployment_id",
            sa.Integer,
            sa.ForeignKey("deployments.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("decided_at", _TS, nullable=False),
        sa.Column("decision", sa.String(20), nullable=False),
        sa.Column("stage", sa.Integer, nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("numbers", sa.JSON, nullable=False),
        sa.Column("applied", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_decisions_deployment", "decisions", ["deployment_id", "decided_at"])


def downgrade() -> None:
    op.drop_index("ix_decisions_deployment", table_name="decisions")
    op.drop_table("decisions")
    op.drop_table("arm_stats")
    op.drop_index("ix_feedback_request", table_name="feedback")
    op.drop_table("feedback")
    op.drop_table("scores")
    op.drop_index("ix_interactions_session", table_name="interactions")
    op.drop_index("ix_interactions_created_at", table_name="interactions")
    op.drop_index("ix_interactions_deployment_time", table_name="interactions")
    op.drop_table("interactions")
    op.drop_table("eval_case_results")
    op.drop_index("ix_eval_runs_suite", table_name="eval_runs")
    op.drop_table("eval_runs")
