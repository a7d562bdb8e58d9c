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

import sys
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0012_tree_in_events"
down_revision = "0011_multilateral"
branch_labels = None
depends_on = None

#: Positions moved per statement.
PAGE = 5_000

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


def _verified(conn: sa.Connection, when: str) -> None:
    """Refuse (raise) unless the log checks out. Before: the tree read from
    ``merkle_nodes``, completed first for a log written before the tree (0002); after:
    from the events."""
    from eventstore.errors import IntegrityError
    from eventstore.storage import tree
    from eventstore.storage.verify import verify_connection

    head = conn.execute(sa.text("SELECT max(position) FROM events")).scalar() or 0
    if not head:
        return
    kept = tree.BEFORE_0012 if when == "before" else tree.IN_EVENTS
    if when == "before" and tree.tree_size(conn, kept) < head:
        tree.extend(conn, head)
    report = verify_connection(conn, kept=kept)
    if not report.ok:
        raise IntegrityError(f"{_NAME}: the log does not verify {when} the migration "
                             f"({report.first}); nothing was changed. Run `eventstore audit "
                             "verify` to see every problem")


def _progress(total: int) -> Any:
    """A progress bar on stderr (rich), or None for an empty log."""
    if not total:
        return None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    return Progress("[progress.description]{task.description}", BarColumn(),
                    MofNCompleteColumn(), TimeRemainingColumn(),
                    console=Console(stderr=True), transient=False,
                    disable=not sys.stderr.isatty())


def _in_pages(conn: sa.Connection, statement: Any, what: str) -> int:
    """Run ``statement`` (bound by ``after`` and ``upto``) over every page of positions,
    with a progress bar; returns the rows it touched."""
    total = conn.execute(sa.text("SELECT count(*) FROM events")).scalar() or 0
    head = conn.execute(sa.text("SELECT max(position) FROM events")).scalar() or 0
    bar = _progress(total)
    if bar is not None:
        bar.start()
        task = bar.add_task(f"{_NAME}: {what}", total=total)
    done = 0
    try:
        after = 0
        while after < head:
            upto = after + PAGE
            count = conn.execute(statement, {"after": after, "upto": upto}).rowcount
            done += count
            if bar is not None:
                bar.advance(task, count)
            after = upto
    finally:
        if bar is not None:
            bar.stop()
    if done != total:
        raise RuntimeError(f"{_NAME}: moved the tree nodes of {done} events of {total}")
    return done


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
    _in_pages(conn, copy, "moving the tree into events")
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
    _in_pages(conn, fill, "moving the tree into events")
    op.execute(_PG_ENABLE)
    op.alter_column("events", "tree_nodes", nullable=False, existing_type=sa.LargeBinary)
    op.drop_table("merkle_nodes")


def upgrade() -> None:
    conn = op.get_bind()
    _verified(conn, "before")
    if conn.dialect.name == "sqlite":
        _rebuild_sqlite(conn)
    else:
        _fill_postgresql(conn)
    _verified(conn, "after")


def downgrade() -> None:
    raise RuntimeError("eventstore never drops its log; restore from a backup instead")
