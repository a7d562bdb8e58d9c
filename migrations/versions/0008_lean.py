"""Lean storage: the events table without the index entries no query reads.

Revision ID: 0008_lean
Revises: 0007_resolved_dates
Create Date: 2026-12-04

Each commit used to dirty about one page per event in every index whose key is random
(docs/performance.md#bytes-written). Two of those indexes answered no query:

- the unique index on ``hash`` (``uq_events_hash``): every read goes by position, track,
  type, event id or record time, never by an event's hash; the chain itself makes the
  hashes unique (each one covers the previous one), and ``verify`` checks it;
- ``ix_events_track_valid`` (``track, valid_lower, valid_upper``): valid time is asked of
  a track's events once they are read (the fold), never through the index; the one
  query that names the bounds (``tracks()``, a count per track) reads every row anyway.

Both go. On SQLite a unique constraint can only go with its table, so ``events`` is
rebuilt: a new table is filled from the old one a page of positions at a time (bounded
memory, a progress bar on stderr when there are events), the old one dropped, the new
one renamed and its indexes and append-only triggers made again; ``position`` becomes
the table's rowid (``INTEGER PRIMARY KEY``), which saves SQLite a second index on it.
On PostgreSQL the constraint and the index are dropped in place.

Nothing a hash covers changes: the rows are copied as they are. The migration refuses
to start on a log whose ``verify`` fails, and verifies it again before it commits.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from eventstore.storage.migrating import in_pages, verified
from eventstore.storage.schema import BEFORE_0012

revision = "0008_lean"
down_revision = "0007_resolved_dates"
branch_labels = None
depends_on = None

_NAME = "schema 0008_lean"

# The trigger bodies are fixed text (as in revision 0001).
_SQLITE_TRIGGER = """
CREATE TRIGGER events_refuse_{verb} BEFORE {op} ON events
BEGIN
    SELECT RAISE(ABORT, 'eventstore: {op} on events is refused: the log is append-only');
END
"""


def _lean_events(conn: sa.Connection, name: str) -> tuple[sa.Table, sa.Table]:
    """Create the lean table ``name``: the columns of ``events`` as they are (reflected),
    ``position`` as the rowid, the two unique constraints reads need. Returns the old
    table and the new one."""
    old = sa.Table("events", sa.MetaData(), autoload_with=conn)
    columns = [sa.Column(c.name, sa.Integer if c.name == "position" else c.type,
                         primary_key=c.name == "position", autoincrement=False,
                         nullable=c.nullable) for c in old.columns]
    new = op.create_table(name, *columns,
                          sa.UniqueConstraint("event_id", name="uq_events_event_id"),
                          sa.UniqueConstraint("track", "version",
                                              name="uq_events_track_version"))
    assert new is not None
    return old, new


def _rebuild_sqlite(conn: sa.Connection) -> None:
    """SQLite's table rebuild (its documented 12 steps, foreign keys off: engine.upgrade
    turns them off around the migrations, and the check below stands in for them)."""
    if conn.exec_driver_sql("PRAGMA foreign_keys").scalar():
        raise RuntimeError("schema 0008_lean rebuilds the events table on SQLite and needs "
                           "foreign keys off (run it through `eventstore init`)")
    old, new = _lean_events(conn, "events_lean")
    copy = sa.insert(new).from_select(
        [c.name for c in old.columns],
        sa.select(*old.columns).where(old.c.position > sa.bindparam("after"),
                                      old.c.position <= sa.bindparam("upto"))
        .order_by(old.c.position))
    _, total = in_pages(conn, copy, f"{_NAME}: copying events")
    copied_total = conn.execute(sa.text("SELECT count(*) FROM events_lean")).scalar()
    if copied_total != total:
        raise RuntimeError(f"schema 0008_lean: copied {copied_total} events of {total}")
    op.drop_table("events")
    op.rename_table("events_lean", "events")
    op.create_index("ix_events_type", "events", ["type"])
    op.create_index("ix_events_recorded_position", "events", ["recorded_at", "position"])
    for verb in ("update", "delete"):
        op.execute(_SQLITE_TRIGGER.format(verb=verb, op=verb.upper()))
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"schema 0008_lean: foreign keys broken by the rebuild: {broken[:5]}")


def upgrade() -> None:
    conn = op.get_bind()
    verified(conn, _NAME, "before", BEFORE_0012)
    if conn.dialect.name == "sqlite":
        _rebuild_sqlite(conn)
    else:
        op.drop_constraint("uq_events_hash", "events", type_="unique")
        op.drop_index("ix_events_track_valid", table_name="events")
    verified(conn, _NAME, "after", BEFORE_0012)  # the tree is still in merkle_nodes


def downgrade() -> None:
    raise RuntimeError("eventstore never drops its log; restore from a backup instead")
