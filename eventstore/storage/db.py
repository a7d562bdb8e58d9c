"""The database a store works on: read and write transactions, the write lock, and the
few places where SQLite and PostgreSQL differ.

Every room of the shell reaches the database through a :class:`Database`: ``read()`` for
a connection whose driver errors come out as the store's errors (translated by code in
``errors.py``), ``write()`` for an append transaction that holds the write lock. It owns
what is per database and never changes: the engine, the dialect, the compiled bulk
inserts, and the log's origin (its first event's hash) once known. Imports: ``engine``,
``errors``, ``bulk``, ``schema``; nothing from the other rooms.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from ..errors import AuditError
from . import schema as t
from .bulk import BulkInsert
from .engine import LOCK_TIMEOUT_SECONDS, WRITE_OPTION, safe_url
from .errors import translated

__all__ = ["Database", "chunks", "CHUNK", "NOTIFY_CHANNEL"]

#: Bound parameters per ``IN (...)`` query.
CHUNK = 500

#: The PostgreSQL channel every append transaction notifies (docs/following.md): the
#: payload is ``<schema>:<position>``, the schema the log lives in and its new head.
NOTIFY_CHANNEL = "eventstore_appended"

#: One notification per append transaction, delivered by PostgreSQL when it commits
#: (and dropped if it rolls back).
_NOTIFY = sa.select(sa.func.pg_notify(
    NOTIFY_CHANNEL,
    sa.func.coalesce(sa.func.current_schema(), "") + ":"
    + sa.cast(sa.bindparam("position", type_=sa.BigInteger), sa.Text)))


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    """``items`` in slices of at most ``size`` (one ``IN (...)`` query each)."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


class Database:
    """One database behind an engine, as the rooms of the shell use it. Safe to share
    between threads: it holds no per-call state (a connection per call)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.url = safe_url(engine.url)
        self.sqlite = engine.dialect.name == "sqlite"
        self.bulk = BulkInsert(engine.dialect)
        self._origin: str | None = None

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        """A connection for reads; driver errors come out as the store's."""
        with translated(self.url), self.engine.connect() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """One append transaction under the write lock: committed if the block ends
        normally, rolled back (nothing written) if it raises."""
        with translated(self.url), self.writer() as conn, conn.begin():
            self.lock(conn)
            yield conn

    def writer(self) -> sa.Connection:
        """A connection for one write transaction.

        On PostgreSQL it always runs at READ COMMITTED, whatever the server's or the
        engine's default: the reads after ``LOCK TABLE`` must see the writer that held the
        lock before, which an older snapshot (REPEATABLE READ, SERIALIZABLE) would not.
        """
        conn = self.engine.connect().execution_options(**{WRITE_OPTION: True})
        if not self.sqlite:
            conn = conn.execution_options(isolation_level="READ COMMITTED")
        return conn

    def lock(self, conn: sa.Connection) -> None:
        """Serialise appends: position order is then commit order (see docs/concurrency.md)."""
        if not self.sqlite:  # SQLite's writer lock was taken by BEGIN IMMEDIATE
            conn.execute(sa.select(sa.func.set_config("lock_timeout",
                                                      f"{LOCK_TIMEOUT_SECONDS}s", True)))
            conn.exec_driver_sql("LOCK TABLE events IN SHARE ROW EXCLUSIVE MODE")

    def announce(self, conn: sa.Connection, position: int) -> None:
        """Tell followers that the append transaction on ``conn`` writes up to ``position``.

        On PostgreSQL, a ``pg_notify`` inside the transaction: delivered to listeners at
        commit, never if it rolls back. SQLite has no notifications: its followers poll
        ``PRAGMA data_version`` (see ``subscriptions.py``).
        """
        if not self.sqlite:
            conn.execute(_NOTIFY, {"position": position})

    def stamp(self, moment: dt.datetime) -> Any:
        """A moment as a ``recorded_at`` column compares it (SQLite keeps naive UTC)."""
        moment = moment.astimezone(dt.UTC)
        return moment.replace(tzinfo=None) if self.sqlite else moment

    def now(self) -> Any:
        """The current time, as the bookkeeping columns (``updated_at``) take it."""
        return self.stamp(dt.datetime.now(dt.UTC))

    @staticmethod
    def head_position(conn: sa.Connection) -> int:
        """The log's last position (0 for an empty log)."""
        return int(conn.execute(sa.select(sa.func.max(t.events.c.position))).scalar() or 0)

    def origin(self, conn: sa.Connection) -> str:
        """The log's name in checkpoints: ``eventstore/`` and 16 hex digits of its first
        event's hash, so that a log rebuilt from scratch is another log. Kept once read:
        a log's first event never changes."""
        if self._origin is None:
            first = conn.execute(sa.select(t.events.c.hash)
                                 .where(t.events.c.position == 1)).scalar()
            if first is None:
                raise AuditError("the log is empty: it has no tree head to sign or prove yet")
            self._origin = origin_of(first)
        return self._origin


def origin_of(first_hash: str) -> str:
    """The origin of the log whose first event has this hash."""
    return f"eventstore/{first_hash[:16]}"
