"""What an intruder with the database's password does, done for real with raw SQL.

Shared by the audit tests: bypass the immutability triggers (and put them back, as a
careful intruder would), change rows, and recompute the hash chain and the Merkle tree
from some position on so that the log is consistent again.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from eventstore import Checkpoint, EventStore, SignerKey, generate_key
from eventstore.audit import Frontier, sign_checkpoint
from eventstore.codec import GENESIS_HASH, envelope_json, sha256_hex
from eventstore.storage import schema as t
from eventstore.storage.engine import make_engine
from eventstore.storage.rows import envelope_columns, envelope_from_row
from eventstore.storage.tree import frontier

#: The tables whose rows share an event's position (the tree's nodes are in ``events``).
POSITIONED = (t.events, t.payloads, t.citations)


def _trigger_ddl(conn: sa.Connection) -> list[tuple[str, str, str]]:
    """(name, table, CREATE statement) of every trigger, read from the catalogue."""
    if conn.dialect.name == "sqlite":
        rows = conn.execute(sa.text(
            "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'")).all()
    else:
        rows = conn.execute(sa.text(
            "SELECT tgname, relname, pg_get_triggerdef(pg_trigger.oid) FROM pg_trigger "
            "JOIN pg_class ON pg_class.oid = tgrelid WHERE NOT tgisinternal "
            "AND relnamespace = to_regnamespace(current_schema())::oid")).all()
    return [(str(name), str(table), str(ddl)) for name, table, ddl in rows]


def drop_triggers(conn: sa.Connection) -> list[tuple[str, str, str]]:
    """Drop every trigger; return what it takes to put them back."""
    triggers = _trigger_ddl(conn)
    for name, table, _ in triggers:  # names read from the catalogue
        if conn.dialect.name == "sqlite":
            conn.execute(sa.text(f'DROP TRIGGER "{name}"'))
        else:
            conn.execute(sa.text(f'DROP TRIGGER "{name}" ON "{table}"'))
    if conn.dialect.name != "sqlite":
        conn.execute(sa.text("SET session_replication_role = replica"))  # no FK checks
    return triggers


def tamper(store: EventStore, change: Callable[[sa.Connection], None], *,
           restore_triggers: bool = False) -> None:
    """Drop the triggers, change, and (a careful intruder) put the triggers back."""
    engine = make_engine(str(store.engine.url.render_as_string(hide_password=False)))
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":  # outside any transaction, or it does nothing
            conn.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")
        triggers = drop_triggers(conn)
        conn.commit()
        with conn.begin():
            change(conn)
            if restore_triggers:
                for _, _, ddl in triggers:
                    conn.execute(sa.text(ddl))
    engine.dispose()


def fact_position(store: EventStore, n: int = 10) -> int:
    return [e.position for e in store.read_all() if e.citations][n]


def last_position(conn: sa.Connection) -> int:
    return int(conn.execute(sa.select(sa.func.max(t.events.c.position))).scalar() or 0)


def rechain(conn: sa.Connection, start: int) -> None:
    """Recompute every hash and tree row from ``start`` on, from the rows as they are now:
    afterwards the chain and the tree are consistent again."""
    e = t.events.c
    prev = (conn.execute(sa.select(e.hash).where(e.position == start - 1)).scalar()
            or GENESIS_HASH)
    edge = frontier(conn, start - 1) if start > 1 else Frontier()
    assert edge is not None
    rows = conn.execute(sa.select(*envelope_columns(conn.dialect)).where(e.position >= start)
                        .order_by(e.position)).all()
    for row in rows:
        envelope = envelope_from_row(row)
        envelope["prev_hash"] = prev
        body = envelope_json(envelope)
        event_hash = sha256_hex(body)
        conn.execute(sa.update(t.events).where(e.position == row.position)
                     .values(prev_hash=prev, hash=event_hash,
                             tree_nodes=edge.append_leaf(body)))
        prev = event_hash


def delete_event(conn: sa.Connection, position: int) -> None:
    for table in reversed(POSITIONED):
        conn.execute(sa.delete(table).where(table.c.position == position))


def delete_tail(conn: sa.Connection, count: int) -> None:
    last = last_position(conn)
    for position in range(last, last - count, -1):
        delete_event(conn, position)


def swap(conn: sa.Connection, a: int, b: int) -> None:
    columns = [c for c in t.events.columns if c.name not in ("position", "tree_nodes")]
    row_a = conn.execute(sa.select(*columns).where(t.events.c.position == a)).one()
    row_b = conn.execute(sa.select(*columns).where(t.events.c.position == b)).one()
    conn.execute(sa.update(t.events).where(t.events.c.position == a).values(
        event_id="00000000-0000-4000-8000-000000000000", hash="x", version=-1))
    conn.execute(sa.update(t.events).where(t.events.c.position == b)
                 .values(**row_a._asdict()))
    conn.execute(sa.update(t.events).where(t.events.c.position == a)
                 .values(**row_b._asdict()))


def _copy_rows(conn: sa.Connection, source: int, target: int, **event: Any) -> None:
    """A copy of the event at ``source`` (its payload and citations too) at ``target``."""
    for table in (t.events, t.payloads, t.citations):
        for row in conn.execute(sa.select(table).where(table.c.position == source)).all():
            values = {**row._asdict(), "position": target}
            if table is t.events:  # a hash of its own until the chain is recomputed
                values.update(event, hash=uuid.uuid4().hex * 2)
            conn.execute(sa.insert(table).values(values))


def make_room(conn: sa.Connection, position: int) -> None:
    """Move every event from ``position`` on one place up, from the end."""
    for moved in range(last_position(conn), position - 1, -1):
        for table in POSITIONED:
            conn.execute(sa.update(table).where(table.c.position == moved)
                         .values(position=moved + 1))


def insert_in_the_middle(conn: sa.Connection, position: int) -> None:
    """An event inserted before ``position``, with nothing recomputed."""
    e = t.events.c
    copy = conn.execute(sa.select(t.events).where(e.position == position)).one()._asdict()
    make_room(conn, position)
    conn.execute(sa.insert(t.events).values(
        {**copy, "event_id": "00000000-0000-4000-8000-000000000001",
         "version": 999, "hash": "f" * 64}))


def insert_and_rechain(conn: sa.Connection, position: int) -> None:
    """A well-formed event inserted before ``position`` (a copy of the fact there, on a
    track of its own), with the chain and the tree recomputed from there on."""
    make_room(conn, position)
    _copy_rows(conn, position + 1, position, event_id=str(uuid.uuid4()), track="CHN-USA",
               version=1)
    rechain(conn, position)


def forge_append(conn: sa.Connection, after_last: dt.timedelta) -> int:
    """A well-formed event appended after the last one (a copy of it, next version), with
    a valid chain and tree, recorded ``after_last`` the last event (negative: backdated);
    returns its position."""
    e = t.events.c
    last = conn.execute(sa.select(t.events).where(e.position == last_position(conn))).one()
    recorded = last.recorded_at + after_last
    version = conn.execute(sa.select(sa.func.max(e.version))
                           .where(e.track == last.track)).scalar_one() + 1
    _copy_rows(conn, last.position, last.position + 1, event_id=str(uuid.uuid4()),
               version=version, recorded_at=recorded)
    rechain(conn, last.position + 1)
    return int(last.position + 1)


def rewrite_history(conn: sa.Connection, position: int) -> None:
    """Change who recorded the event at ``position``, then recompute chain and tree."""
    conn.execute(sa.update(t.events).where(t.events.c.position == position)
                 .values(recorded_by="mallory"))
    rechain(conn, position)


def delete_checkpoints(conn: sa.Connection) -> None:
    conn.execute(sa.delete(t.checkpoints))


def forged_checkpoint(store: EventStore, key_name: str) -> dict[str, Any]:
    """A checkpoint claiming the current size with another root, signed by another key of
    the same name."""
    mallory: SignerKey = generate_key(key_name)
    size = store.head()[0]
    note = sign_checkpoint(Checkpoint(store.origin(), size, b"\x01" * 32), mallory)
    return {"origin": store.origin(), "size": size, "root": "01" * 32,
            "key_name": mallory.name, "key_id": mallory.key_id.hex(), "note": note,
            "verifier_key": mallory.verifier().text(),
            "created_at": dt.datetime.now(dt.UTC), "created_by": "mallory"}
