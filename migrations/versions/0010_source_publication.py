"""Sources as they are published: the wire agency, how the date is known, a note.

Revision ID: 0010_source_publication
Revises: 0009_projector
Create Date: 2026-12-04

``source.registered`` version 2 says more about a source (docs/facts.md): the news
agency whose wire copy a site republished (``agency``), how its publication date is
known (``published_basis``: stated, url, dateline or inferred) and a free ``note``. The
``sources`` row holds each, like the rest of the registration; a source registered
before has none of them (null), which is what its version 1 registration says.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_source_publication"
down_revision = "0009_projector"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sources", sa.Column("agency", sa.Text, nullable=True))
    op.add_column("sources", sa.Column("published_basis", sa.Text, nullable=True))
    op.add_column("sources", sa.Column("note", sa.Text, nullable=True))


def downgrade() -> None:
    raise RuntimeError("eventstore never drops its log; restore from a backup instead")
