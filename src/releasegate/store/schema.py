"""The relational schema, one definition for SQLite and PostgreSQL.

This module describes the schema as the migrations leave it at head; the repositories
query through these tables. The migrations under ``migrations/versions`` create it and a
test checks that both agree. See ``docs/schema.md`` (generated from the migrations).
Lengths of columns written from user input are the limits declared in
:mod:`releasegate.deploy.names` (checked before anything is written).
"""

from __future__ import annotations

import sqlalchemy as sa

from releasegate.deploy.names import (
    MAX_ACTION,
    MAX_ACTOR,
    MAX_FEATURE,
    MAX_MODEL,
    MAX_PROMPT_NAME,
    MAX_PROMPT_VERSION,
    MAX_STATUS,
    MAX_TOKEN_NAME,
    MAX_VERSION,
)

__all__ = [
    "ACTIVE_WHERE",
    "CANARY_WHERE",
    "api_tokens",
    "arm_latency",
    "arm_stats",
    "audit_log",
    "decisions",
    "deployments",
    "eval_case_results",
    "eval_runs",
    "feedback",
    "interactions",
    "metadata",
    "scores",
    "upstream_health",
]

metadata = sa.MetaData()

ACTIVE_WHERE = "status = 'active'"
"""Predicate of the partial unique index: at most one active deployment per feature."""
CANARY_WHERE = "status = 'canary' OR (status = 'paused' AND paused_from = 'canary')"
"""Predicate of the partial unique index: at most one (possibly paused) canary per feature."""

_TS = sa.DateTime(timezone=True)

deployments = sa.Table(
    "deployments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("feature", sa.String(MAX_FEATURE), nullable=False),
    sa.Column("version", sa.String(MAX_VERSION), nullable=False),
    sa.Column("prompt_name", sa.String(MAX_PROMPT_NAME), nullable=False),
    sa.Column("prompt_version", sa.String(MAX_PROMPT_VERSION), nullable=False),
    sa.Column("model", sa.String(MAX_MODEL), nullable=False),
    sa.Column("params", sa.JSON, nullable=False),
    sa.Column("status", sa.String(MAX_STATUS), nullable=False),
    sa.Column("paused_from", sa.String(MAX_STATUS), nullable=True),
    sa.Column("share", sa.Float, nullable=False),
    sa.Column("salt", sa.String(64), nullable=True),
    sa.Column("min_score", sa.Float, nullable=True),
    sa.Column("eval_summary", sa.JSON, nullable=True),
    sa.Column("plan", sa.JSON, nullable=True),
    sa.Column("stage", sa.Integer, nullable=True),
    sa.Column("shadow", sa.Boolean, nullable=False),
    sa.Column("created_by", sa.String(MAX_ACTOR), nullable=False),
    sa.Column("updated_by", sa.String(MAX_ACTOR), nullable=False),
    sa.Column("created_at", _TS, nullable=False),
    sa.Column("updated_at", _TS, nullable=False),
    sa.Column("activated_at", _TS, nullable=True),
    sa.Column("deactivated_at", _TS, nullable=True),
    sa.Column("prompt_snapshot", sa.JSON(none_as_null=True), nullable=True),
    sa.UniqueConstraint("feature", "version", name="uq_deployments_feature_version"),
    sa.CheckConstraint("share >= 0 AND share <= 1", name="ck_deployments_share"),
    sa.Index(
        "uq_deployments_one_active",
        "feature",
        unique=True,
        sqlite_where=sa.text(ACTIVE_WHERE),
        postgresql_where=sa.text(ACTIVE_WHERE),
    ),
    sa.Index(
        "uq_deployments_one_canary",
        "feature",
        unique=True,
        sqlite_where=sa.text(CANARY_WHERE),
        postgresql_where=sa.text(CANARY_WHERE),
    ),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", _TS, nullable=False),
    sa.Column("feature", sa.String(MAX_FEATURE), nullable=False),
    sa.Column("version", sa.String(MAX_VERSION), nullable=True),
    sa.Column("action", sa.String(MAX_ACTION), nullable=False),
    sa.Column("actor", sa.String(MAX_ACTOR), nullable=False),
    sa.Column("from_status", sa.String(MAX_STATUS), nullable=True),
    sa.Column("to_status", sa.String(MAX_STATUS), nullable=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("evidence", sa.JSON, nullable=False),
    sa.Index("ix_audit_log_feature", "feature", "id"),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(MAX_TOKEN_NAME), nullable=False, unique=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("prefix", sa.String(16), nullable=False),
    sa.Column("scope", sa.String(20), nullable=False),
    sa.Column("created_by", sa.String(MAX_ACTOR), nullable=False),
    sa.Column("created_at", _TS, nullable=False),
    sa.Column("revoked_at", _TS, nullable=True),
    sa.CheckConstraint(
        "scope IN ('ingest', 'read', 'operate', 'admin')", name="ck_api_tokens_scope"
    ),
)

# -- the online half; created by migration 0002 -------------------------------

eval_runs = sa.Table(
    "eval_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(64), nullable=False, unique=True),
    sa.Column("suite", sa.String(200), nullable=False),
    sa.Column("feature", sa.String(MAX_FEATURE), nullable=True),
    sa.Column("git_ref", sa.String(100), nullable=True),
    sa.Column("started_at", _TS, nullable=False),
    sa.Column("finished_at", _TS, nullable=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("mean_score", sa.Float, nullable=True),
    sa.Column("pass_rate", sa.Float, nullable=True),
    sa.Column("gate_passed", sa.Boolean, nullable=True),
    sa.Column("identity", sa.JSON, nullable=False),
    sa.Column("summary", sa.JSON, nullable=False),
    # Added by migration 0006 (eval reports).
    sa.Column("prompt_name", sa.String(200), nullable=True),
    sa.Column("prompt_version", sa.String(100), nullable=True),
    sa.Column("report", sa.JSON, nullable=True),
    sa.Index("ix_eval_runs_suite", "suite", "started_at"),
    sa.Index("ix_eval_runs_prompt", "prompt_name", "started_at"),
)

eval_case_results = sa.Table(
    "eval_case_results",
    metadata,
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

interactions = sa.Table(
    "interactions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("request_id", sa.String(64), nullable=False, unique=True),
    sa.Column("feature", sa.String(MAX_FEATURE), nullable=False),
    sa.Column("version", sa.String(MAX_VERSION), nullable=True),
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
    # Added by migration 0003 (recording).
    sa.Column("served_version", sa.String(MAX_VERSION), nullable=True),
    sa.Column("model", sa.String(MAX_MODEL), nullable=True),
    sa.Column("context", sa.JSON, nullable=True),
    sa.Column("ttft_ms", sa.Float, nullable=True),
    sa.Column("fallback_depth", sa.Integer, nullable=False, server_default="0"),
    sa.Column("meta", sa.JSON, nullable=True),
    sa.Column("content_hash", sa.String(64), nullable=False, server_default=""),
    # Added by migration 0005 (scoring).
    sa.Column("score_due", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("canary_id", sa.Integer, nullable=True),
    sa.Column("canary_stage", sa.Integer, nullable=True),
    # Added by migration 0009 (interaction tools).
    sa.Column("tool_calls", sa.JSON(none_as_null=True), nullable=True),
    sa.Column("tools", sa.JSON(none_as_null=True), nullable=True),
    sa.Index("ix_interactions_deployment_time", "deployment_id", "created_at"),
    sa.Index("ix_interactions_score_due", "score_due", "created_at"),
    sa.Index("ix_interactions_created_at", "created_at"),
    sa.Index("ix_interactions_session", "session_id"),
    # Migration 0006: the explorer's keyset pages (newest id first) per filter.
    sa.Index("ix_interactions_feature_id", "feature", "id"),
    sa.Index("ix_interactions_feature_version_id", "feature", "version", "id"),
    sa.Index(
        "ix_interactions_error_id",
        "id",
        sqlite_where=sa.text("error IS NOT NULL"),
        postgresql_where=sa.text("error IS NOT NULL"),
    ),
    sa.Index(
        "ix_interactions_fallback_id",
        "id",
        sqlite_where=sa.text("fallback_depth > 0"),
        postgresql_where=sa.text("fallback_depth > 0"),
    ),
)

scores = sa.Table(
    "scores",
    metadata,
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
    sa.Column("cost_usd", sa.Float, nullable=False, server_default="0"),  # migration 0005
    sa.UniqueConstraint("interaction_id", "check_type", name="uq_scores_interaction_check"),
    sa.Index("ix_scores_check_time", "check_type", "created_at"),
    sa.Index("ix_scores_check_interaction", "check_type", "interaction_id", "value"),  # 0006
)

feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("request_id", sa.String(64), nullable=True),
    sa.Column("session_id", sa.String(200), nullable=True),
    sa.Column("interaction_id", sa.Integer, sa.ForeignKey("interactions.id"), nullable=True),
    sa.Column("rating", sa.Float, nullable=False),
    sa.Column("scale", sa.String(10), nullable=False),
    sa.Column("comment", sa.Text, nullable=True),
    sa.Column("created_at", _TS, nullable=False),
    sa.Column("key", sa.String(64), nullable=True),  # migration 0003
    sa.CheckConstraint(
        "request_id IS NOT NULL OR session_id IS NOT NULL", name="ck_feedback_target"
    ),
    sa.UniqueConstraint("key", name="uq_feedback_key"),
    sa.Index("ix_feedback_request", "request_id"),
    sa.Index("ix_feedback_session", "session_id"),
    sa.Index("ix_feedback_interaction", "interaction_id"),  # migration 0006
)


def _count(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.Integer, nullable=False, server_default="0")


def _sum(name: str) -> sa.Column[float]:
    return sa.Column(name, sa.Float, nullable=False, server_default="0")


# Running sufficient statistics of a canary, per (stage, arm, check): the incumbent's
# rows are kept under the canary's deployment id, so both arms cover the same period.
# check_type "" holds what every request contributes (errors, cost, feedback), "overall"
# the interaction's online quality score. Rows are only ever incremented (migration 0004).
arm_stats = sa.Table(
    "arm_stats",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "deployment_id",
        sa.Integer,
        sa.ForeignKey("deployments.id", ondelete="CASCADE"),
        nullable=False,
    ),
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

# The latency histogram of each arm row (buckets of ratio 1.02, see releasegate.canary).
arm_latency = sa.Table(
    "arm_latency",
    metadata,
    sa.Column(
        "deployment_id",
        sa.Integer,
        sa.ForeignKey("deployments.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("stage", sa.Integer, primary_key=True),
    sa.Column("arm", sa.String(20), primary_key=True),
    sa.Column("check_type", sa.String(100), primary_key=True),
    sa.Column("bucket", sa.Integer, primary_key=True, autoincrement=False),
    _count("n"),
)

decisions = sa.Table(
    "decisions",
    metadata,
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
    sa.Column("signals", sa.JSON, nullable=False),
    sa.Column("applied", sa.String(500), nullable=False, server_default=""),
    sa.Index("ix_decisions_deployment", "deployment_id", "decided_at"),
)

# Each gateway process's breaker state per upstream, replaced every few seconds.
upstream_health = sa.Table(
    "upstream_health",
    metadata,
    sa.Column("upstream", sa.String(200), primary_key=True),
    sa.Column("instance", sa.String(200), primary_key=True),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("failure_rate", sa.Float, nullable=True),
    sa.Column("calls", sa.Integer, nullable=False),
    sa.Column("retry_after_s", sa.Float, nullable=False),
    sa.Column("shared", sa.Boolean, nullable=False),
    sa.Column("updated_at", _TS, nullable=False),
    sa.Index("ix_upstream_health_updated", "updated_at"),
)
