"""Record-time cuts in O(log n): index events on (recorded_at, position).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23

"Known at T" needs the last position recorded at or before T. With an index on
``recorded_at`` alone, ``max(position) WHERE recorded_at <= T`` reads every index entry
(and, on SQLite, every row) up to T: half the log on average. With ``position`` in the
index, the answer is the last entry at or before T. The old index is a prefix of the
new one and goes.
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_events_recorded_position", "events", ["recorded_at", "position"])
    op.drop_index("ix_events_recorded_at", table_name="events")


def downgrade() -> None:
    raise RuntimeError("eventstore never drops its log; restore from a backup instead")
