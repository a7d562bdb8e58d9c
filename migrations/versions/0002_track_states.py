"""Read models: the current state of every track, kept up to date as facts are appended.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

Unlike the log, this table is derived and may be rewritten: `eventstore project
--rebuild` refolds every track from the log.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "track_states",
        sa.Column("track", sa.String(16), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("registry_version", sa.Integer, nullable=False),
        sa.Column("code_version", sa.Integer, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("track_states")
