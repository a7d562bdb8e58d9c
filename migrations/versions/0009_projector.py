"""The catch-up projector becomes a consumer: its checkpoint moves into ``consumers``.

Revision ID: 0009_projector
Revises: 0008_lean
Create Date: 2026-12-04

The store's own read models follow the log the way every service does
(docs/following.md): the projector is the consumer ``$projections``, whose read-model
writes and position commit in one transaction. What it needs beyond a position, the
actor registry's version and the projection code's version it folded with (either
changing means a rebuild), become two columns of ``consumers``, empty for every other
consumer. The projector's row of ``projections`` (named ``tracks``) is copied over as it
stands, so an existing store neither rebuilds nor loses its place, and the table goes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_projector"
down_revision = "0008_lean"
branch_labels = None
depends_on = None

#: The projector's consumer name; ``$`` keeps it out of the names users may give.
PROJECTOR = "$projections"


def upgrade() -> None:
    op.add_column("consumers", sa.Column("registry_version", sa.Integer, nullable=True))
    op.add_column("consumers", sa.Column("code_version", sa.Integer, nullable=True))
    projections = sa.table(
        "projections", sa.column("name", sa.String), sa.column("position", sa.BigInteger),
        sa.column("registry_version", sa.Integer), sa.column("code_version", sa.Integer),
        sa.column("updated_at", sa.DateTime(timezone=True)))
    consumers = sa.table(
        "consumers", sa.column("name", sa.String), sa.column("position", sa.BigInteger),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
        sa.column("registry_version", sa.Integer), sa.column("code_version", sa.Integer))
    p = projections.c
    op.execute(consumers.insert().from_select(
        ["name", "position", "created_at", "updated_at", "registry_version", "code_version"],
        sa.select(sa.literal(PROJECTOR, sa.String), p.position, p.updated_at, p.updated_at,
                  p.registry_version, p.code_version).where(p.name == "tracks")))
    op.drop_table("projections")


def downgrade() -> None:
    raise RuntimeError("eventstore never drops its log; restore from a backup instead")
