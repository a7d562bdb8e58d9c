"""Multilateral streams: the countries of each stream of three or more.

Revision ID: 0011_multilateral
Revises: 0010_source_publication
Create Date: 2026-12-04

An event of three or more countries (a trilateral meeting, a summit) is recorded once,
on a stream named by their sorted codes (``CHN-IND-RUS``), and shows on every bilateral
track among them. ``stream_members`` says which countries each multilateral stream
has, so that "the multilateral streams with both CHN and IND" is two index seeks
whatever the size of the log. The appender writes a stream's rows with its first
event; this migration writes those of the streams already in the log (none before
this revision: the store refused such ids). Like the log, the table is append-only.

On PostgreSQL ``events.track`` widens from 16 characters to 200 (the id of a stream of
50 countries), a change of the catalogue only. SQLite does not enforce a VARCHAR's
length, and its column is left as it is (widening it would rebuild the events table
and its triggers).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_multilateral"
down_revision = "0010_source_publication"
branch_labels = None
depends_on = None

_SQLITE_TRIGGER = """
CREATE TRIGGER stream_members_refuse_{verb} BEFORE {op} ON stream_members
BEGIN
    SELECT RAISE(ABORT, 'eventstore: {op} on stream_members is refused: the log is append-only');
END
"""

_PG_TRIGGERS = (
    "CREATE TRIGGER stream_members_refuse_change BEFORE UPDATE OR DELETE ON stream_members "
    "FOR EACH ROW EXECUTE FUNCTION eventstore_refuse_change()",
    "CREATE TRIGGER stream_members_refuse_truncate BEFORE TRUNCATE ON stream_members "
    "FOR EACH STATEMENT EXECUTE FUNCTION eventstore_refuse_change()",
)


def upgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    if dialect == "postgresql":
        op.alter_column("events", "track", type_=sa.String(200),
                        existing_type=sa.String(16), existing_nullable=False)
    members = op.create_table(
        "stream_members",
        sa.Column("country", sa.String(3), primary_key=True),
        sa.Column("stream", sa.String(200), primary_key=True),
    )
    events = sa.table("events", sa.column("track", sa.String))
    streams = bind.execute(sa.select(events.c.track).distinct()
                           .where(events.c.track.like("%-%-%"),
                                  events.c.track.not_like("$%"))).scalars().all()
    rows = [{"country": country, "stream": stream}
            for stream in streams for country in stream.split("-")]
    if rows:
        op.bulk_insert(members, rows)
    if dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(_SQLITE_TRIGGER.format(op=verb, verb=verb.lower()))
    else:
        for statement in _PG_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    raise RuntimeError("eventstore never drops its log; restore from a backup instead")
