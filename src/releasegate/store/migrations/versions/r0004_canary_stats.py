"""Canary statistics as increments: arm_stats by stage, a latency histogram, full decisions.

``arm_stats`` and ``decisions`` were created by 0002 but written by nothing before this
revision, so they are re-created (not altered) in their final shape:

- ``arm_stats`` gains the rollout stage in its key and every count the analysis reads
  (scored, passes, cost sums); each column is only ever incremented in one statement,
  so concurrent writers never lose counts;
- ``arm_latency`` holds each row's latency histogram (one row per bucket);
- ``decisions`` keeps every signal's state and says what the service did about it.

Revision ID: 0004_canary_stats
Revises: 0003_recording
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_canary_stats"
down_revision = "0003_recording"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def _deployment_fk(primary_key: bool = False) -> sa.Column[int]:
    return sa.Column(
        "deployment_id",
        sa.Integer,
        sa.ForeignKey("deployments.id", ondelete="CASCADE"),
        nullable=False,
        primary_key=primary_key,
    )


def _count(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.Integer, nullable=False, server_default="0")


def _sum(name: str) -> sa.Column[float]:
    return sa.Column(name, sa.Float, nullable=False, server_default="0")


def upgrade() -> None:
    op.drop_index("ix_decisions_deployment", table_name="decisions")
    op.drop_table("decisions")
    op.drop_table("arm_stats")
    op.create_table(
        "arm_stats",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _deployment_fk(),
        sa.Column("stage", sa.Integer, nullable=False, server_default="0"),
        sa.Column("arm", sa.String(20), nullable=False),
        sa.Column("check_type", sa.String(100), nullable=False),
        _count("count"),
        _count("errors"),
        _count("scored"),
        _sum("score_sum"),
        _sum("score_sumsq"),
        _count("passes"),
        _count("cost_n"),
        _sum("cost_sum"),
        _sum("cost_sumsq"),
        _count("feedback_n"),
        _count("feedback_negative"),
        sa.Column("updated_at", _TS, nullable=False),
        sa.UniqueConstraint("deployment_id", "stage", "arm", "check_type", name="uq_arm_stats_key"),
    )
    op.create_table(
        "arm_latency",
        _deployment_fk(primary_key=True),
        sa.Column("stage", sa.Integer, primary_key=True),
        sa.Column("arm", sa.String(20), primary_key=True),
        sa.Column("check_type", sa.String(100), primary_key=True),
        sa.Column("bucket", sa.Integer, primary_key=True, autoincrement=False),
        _count("n"),
    )
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _deployment_fk(),
        sa.Column("decided_at", _TS, nullable=False),
        sa.Column("decision", sa.String(20), nullable=False),
        sa.Column("stage", sa.Integer, nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("numbers", sa.JSON, nullable=False),
        sa.Column("signals", sa.JSON, nullable=False),
        sa.Column("applied", sa.String(500), nullable=False, server_default=""),
    )
    op.create_index("ix_decisions_deployment", "decisions", ["deployment_id", "decided_at"])


def downgrade() -> None:
    op.drop_index("ix_decisions_deployment", table_name="decisions")
    op.drop_table("decisions")
    op.drop_table("arm_latency")
    op.drop_table("arm_stats")
    op.create_table(
        "arm_stats",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _deployment_fk(),
        sa.Column("arm", sa.String(20), nullable=False),
        sa.Column("check_type", sa.String(100), nullable=False),
        _count("n"),
        _sum("total"),
        _sum("total_sq"),
        _count("n_errors"),
        _count("n_feedback"),
        _count("n_negative"),
        sa.Column("updated_at", _TS, nullable=False),
        sa.UniqueConstraint("deployment_id", "arm", "check_type", name="uq_arm_stats_key"),
    )
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _deployment_fk(),
        sa.Column("decided_at", _TS, nullable=False),
        sa.Column("decision", sa.String(20), nullable=False),
        sa.Column("stage", sa.Integer, nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("numbers", sa.JSON, nullable=False),
        sa.Column("applied", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_decisions_deployment", "decisions", ["deployment_id", "decided_at"])
