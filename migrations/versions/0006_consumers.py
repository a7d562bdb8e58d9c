"""Consumers: the position each named follower of the log has handled.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04

A consumer (``store.consumer("alerts")``, ``eventstore follow --consumer alerts``) keeps
the last position it has handled here, written in the same transaction as its results
when it writes them to this database (exactly once), or after handling each event or
batch otherwise (at least once). This is bookkeeping, like ``projections``: the row of a
consumer is updated as it moves on, so the append-only triggers do not apply to it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consumers",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    raise RuntimeError("eventstore never drops its log; restore from a backup instead")
