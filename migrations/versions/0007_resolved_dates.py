"""Dates the store resolved: mark a valid time worked out from the source's words.

Revision ID: 0007_resolved_dates
Revises: 0006
Create Date: 2026-12-04

A fact may give the source's words for its date and the date they were written
(``date_text``, ``date_anchor``) and no date of its own; the store then resolves the
words ("jeudi" before 2018-08-24 is 2018-08-23) and records that it did, in
``valid_resolved`` (true, or NULL for a date the fact gave). The envelope's ``valid``
says ``"resolved": true`` only for those, so the envelopes, and the hashes, of the events
already stored are unchanged; no row is rewritten (docs/dates.md).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_resolved_dates"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("events", sa.Column("valid_resolved", sa.Boolean, nullable=True))


def downgrade() -> None:
    raise RuntimeError("eventstore never drops its log; restore from a backup instead")
