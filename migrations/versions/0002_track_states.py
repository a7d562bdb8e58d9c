"""Read models: the current state of every track, and the projector's checkpoint.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

Unlike the log, these tables are derived and may be rewritten: `eventstore project
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
    op.create_table(
        "projections",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("registry_version", sa.Integer, nullable=False),
        sa.Column("code_version", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("projections")
    op.drop_table("track_states")
