"""The Merkle tree's nodes in the event's own row: one row fewer per event.

Revision ID: 0012_tree_in_events
Revises: 0011_multilateral
Create Date: 2026-12-04

Each event wrote a row of ``merkle_nodes`` beside its ``events`` row: the hashes of the
RFC 9162 tree nodes its leaf completed (32 bytes a node, the leaf first). The append
computes them before it inserts the event, so they now go into the event's own row,
``events.tree_nodes``, in the same INSERT: one row, one statement and one primary-key
index entry fewer per event (docs/performance.md#rows-per-event-issue-15).

The bytes are moved as they are. A log written before the tree existed (schema 0002)
gets its missing nodes first, computed from the events, as its next append would have
given them. On SQLite ``events`` is rebuilt, as 0008_lean rebuilt it (a new table filled
from the old one joined to ``merkle_nodes``, a page of positions at a time, with a
progress bar on stderr; the old one dropped, the new one renamed, its indexes and
append-only triggers made again), so that the new column is ``NOT NULL``. On PostgreSQL
the column is added, filled a page at a time with the append-only trigger disabled inside
the migration's transaction, and then made ``NOT NULL`` (every row is rewritten once: a
``VACUUM`` afterwards gives the space of the old versions back). ``merkle_nodes`` is then
dropped.

Nothing a hash covers changes, and every proof, root and checkpoint answers as before.
The migration refuses to start on a log whose ``verify`` fails, and verifies it again
(the nodes now read from the events) before it commits.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from eventstore.storage.migrating import in_pages, verified
from eventstore.storage.schema import BEFORE_0012, IN_EVENTS

revision = "0012_tree_in_events"
down_revision = "0011_multilateral"
branch_labels = None
depends_on = None

_NAME = "schema 0012_tree_in_events"

# The trigger bodies and statements are fixed text (as in revisions 0001 and 0008).
_SQLITE_TRIGGER = """
CREATE TRIGGER events_refuse_{verb} BEFORE {op} ON events
BEGIN
    SELECT RAISE(ABORT, 'eventstore: {op} on events is refused: the log is append-only');
END
"""
_PG_DISABLE = "ALTER TABLE events DISABLE TRIGGER events_refuse_change"
_PG_ENABLE = "ALTER TABLE events ENABLE TRIGGER events_refuse_change"


def _rebuild_sqlite(conn: sa.Connection) -> None:
    """SQLite's table rebuild (foreign keys off, as for 0008_lean; checked at the end)."""
    if conn.exec_driver_sql("PRAGMA foreign_keys").scalar():
        raise RuntimeError(f"{_NAME} rebuilds the events table on SQLite and needs "
                           "foreign keys off (run it through `eventstore init`)")
    old = sa.Table("events", sa.MetaData(), autoload_with=conn)
    nodes = sa.Table("merkle_nodes", sa.MetaData(), autoload_with=conn)
    columns = [sa.Column(c.name, c.type, primary_key=c.primary_key, autoincrement=False,
                         nullable=c.nullable) for c in old.columns]
    new = op.create_table("events_with_tree", *columns,
                          sa.Column("tree_nodes", sa.LargeBinary, nullable=False),
                          sa.UniqueConstraint("event_id", name="uq_events_event_id"),
                          sa.UniqueConstraint("track", "version",
                                              name="uq_events_track_version"))
    assert new is not None
    copy = sa.insert(new).from_select(
        [*(c.name for c in old.columns), "tree_nodes"],
        sa.select(*old.columns, nodes.c.hashes)
        .join(nodes, nodes.c.position == old.c.position)
        .where(old.c.position > sa.bindparam("after"), old.c.position <= sa.bindparam("upto"))
        .order_by(old.c.position))
    _moved(conn, copy)
    op.drop_table("merkle_nodes")
    op.drop_table("events")
    op.rename_table("events_with_tree", "events")
    op.create_index("ix_events_type", "events", ["type"])
    op.create_index("ix_events_recorded_position", "events", ["recorded_at", "position"])
    for verb in ("update", "delete"):
        op.execute(_SQLITE_TRIGGER.format(verb=verb, op=verb.upper()))
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"{_NAME}: foreign keys broken by the rebuild: {broken[:5]}")


def _fill_postgresql(conn: sa.Connection) -> None:
    """Add the column, fill it in place (the append-only trigger off meanwhile, in this
    transaction only), make it NOT NULL, drop ``merkle_nodes``."""
    op.add_column("events", sa.Column("tree_nodes", sa.LargeBinary, nullable=True))
    events = sa.table("events", sa.column("position", sa.BigInteger),
                      sa.column("tree_nodes", sa.LargeBinary))
    nodes = sa.table("merkle_nodes", sa.column("position", sa.BigInteger),
                     sa.column("hashes", sa.LargeBinary))
    fill = (sa.update(events).values(tree_nodes=nodes.c.hashes)
            .where(nodes.c.position == events.c.position,
                   events.c.position > sa.bindparam("after"),
                   events.c.position <= sa.bindparam("upto")))
    op.execute(_PG_DISABLE)
    _moved(conn, fill)
    op.execute(_PG_ENABLE)
    op.alter_column("events", "tree_nodes", nullable=False, existing_type=sa.LargeBinary)
    op.drop_table("merkle_nodes")


def _moved(conn: sa.Connection, statement: Any) -> None:
    """Every event's nodes moved by ``statement``, a page at a time; all of them."""
    done, total = in_pages(conn, statement, f"{_NAME}: moving the tree into events")
    if done != total:
        raise RuntimeError(f"{_NAME}: moved the tree nodes of {done} events of {total}")


def upgrade() -> None:
    conn = op.get_bind()
    verified(conn, _NAME, "before", BEFORE_0012)  # from merkle_nodes, completed first
    if conn.dialect.name == "sqlite":
        _rebuild_sqlite(conn)
    else:
        _fill_postgresql(conn)
    verified(conn, _NAME, "after", IN_EVENTS)


def downgrade() -> None:
    raise RuntimeError("eventstore never drops its log; restore from a backup instead")
