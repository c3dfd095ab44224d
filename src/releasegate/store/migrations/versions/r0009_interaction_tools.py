"""Tool use in recorded interactions: the calls an answer made and the tools offered.

- ``interactions.tool_calls``: nullable JSON, the function calls of the answer as
  received (OpenAI shape ``[{id, type: function, function: {name, arguments}}]``,
  entries kept even when malformed), redacted like the response. The response column
  keeps only the answer's text. NULL for a text answer and for older rows.
- ``interactions.tools``: nullable JSON, the function tools the request offered the
  model (the version's prompt tools, or the caller's), so online checks grade a call
  against the tools it was shown. NULL when none were offered and for older rows.

Revision ID: 0009_interaction_tools
Revises: 0008_prompt_snapshot
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_interaction_tools"
down_revision = "0008_prompt_snapshot"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("interactions") as batch:
        batch.add_column(sa.Column("tool_calls", sa.JSON(none_as_null=True), nullable=True))
        batch.add_column(sa.Column("tools", sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("interactions") as batch:
        batch.drop_column("tools")
        batch.drop_column("tool_calls")
