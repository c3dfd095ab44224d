"""Prompt snapshots: each deployment keeps the prompt it was registered with.

- ``deployments.prompt_snapshot``: nullable JSON, ``{"content_hash": ..., "prompt":
  {...}}``, written once at registration when the project had the prompt file. The
  gateway serves a version from it first, so a prompt file edited to a new version
  does not take the incumbent's prompt away. Older rows stay NULL.

Revision ID: 0008_prompt_snapshot
Revises: 0007_upstream_health
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_prompt_snapshot"
down_revision = "0007_upstream_health"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        batch.add_column(sa.Column("prompt_snapshot", sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        batch.drop_column("prompt_snapshot")
