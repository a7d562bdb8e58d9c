"""Named consumers: followers of the log whose position is kept in the database.

A consumer (``store.consumer("alerts")``) remembers, in the ``consumers`` table, the last
position it has handled. Handled *exactly once* when its results go to the same
database: :meth:`Consumer.batch` hands over the next events with a transaction in which
the consumer writes its results, and the new position is written in that same
transaction. *At least once* otherwise: :meth:`Consumer.commit` after handling each
event or batch (a crash in between hands the last ones over again). Positions only move
forward, and never past the log's head.

Two processes running the same consumer: on PostgreSQL the second is refused when it
opens the consumer (a session advisory lock, held on a connection of its own while the
consumer is open, and released by the server if the process dies). On both engines,
every commit checks, with the consumer's row locked (``SELECT … FOR UPDATE``; on SQLite
the database's write lock), that the stored position is still the one this process
started its batch from; if another process moved it, nothing is committed
(:class:`ConsumerBusy`).

The store's own catch-up projector (``read_models.py``) is a consumer too, named
``$projections`` (a name no user may give): its read-model writes and its position
commit in one transaction, through :meth:`Consumer.batch` and :meth:`Consumer.moving_to`,
under the same row lock and the same position checks. It differs in one way: every
process's store runs it, so it holds no lock between batches; a process whose batch
finds the position moved by another (:class:`ConsumerBusy`) takes up from there.
Imports: ``db``, ``errors``, ``reads``, ``subscriptions`` and the pure core.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ..errors import ConsumerBusy, ConsumerError, ConsumerNotFound, ValidationError
from ..events import RecordedEvent
from . import schema as t
from .db import Database
from .errors import translated
from .reads import Reads
from .subscriptions import PAGE, Filters, Follower, Subscription, filters_of

__all__ = ["Consumer", "Consumers", "PROJECTOR"]

#: The consumer name of the store's catch-up projector (``read_models.py``).
PROJECTOR = "$projections"

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}\Z")

#: The first key of the PostgreSQL advisory locks that keep a consumer to one process
#: ("evcs"); the second is a hash of the schema and the consumer's name.
_CONSUMER_LOCK = 0x65766373


def check_name(name: str) -> str:
    if name == PROJECTOR:
        raise ValidationError(f"{PROJECTOR!r} is the store's own catch-up projector, not a "
                              "consumer to open (see docs/projections.md)", where="consumer")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValidationError(f"{name!r} is not a consumer name (1 to 64 letters, digits, "
                              "'.', '_', ':' or '-', starting with a letter or digit)",
                              where="consumer")
    return name


class Consumers:
    """Opening named consumers (the room the facade hands ``consumer()`` to)."""

    def __init__(self, db: Database, reads: Reads) -> None:
        self._db = db
        self._reads = reads

    def open(self, name: str, *, create: bool = False, start: int = 0,
             tracks: Iterable[str] | str | None = None,
             types: Iterable[str] | str | None = None) -> Consumer:
        """The consumer ``name``; see :meth:`EventStore.consumer`."""
        check_name(name)
        filters = filters_of(tracks, types)
        c = t.consumers.c
        with self._db.read() as conn:
            position = conn.execute(sa.select(c.position).where(c.name == name)).scalar()
            head = Database.head_position(conn)
        if position is None:
            if not create:
                raise ConsumerNotFound(f"no consumer is named {name!r} (create it first: "
                                       "store.consumer(name, create=True), or "
                                       "`eventstore follow --consumer NAME --create`)")
            if isinstance(start, bool) or not isinstance(start, int) or not 0 <= start <= head:
                raise ValidationError(f"a new consumer starts at a position from 0 to the "
                                      f"log's head ({head}), not {start!r}", where="start")
            position = self._create(name, start)
        lock = self._lock(name)
        return Consumer(self._db, self._reads, name, int(position), filters, lock)

    def projector(self, page: int, position: int | None = None) -> Consumer:
        """The catch-up projector as a consumer reading ``page`` events a batch, at
        ``position`` (just read by the caller) or at the position its row holds (created
        at 0 the first time). It holds no lock: each process's store runs it in turn
        (see above)."""
        if position is None:
            c = t.consumers.c
            with self._db.read() as conn:
                position = conn.execute(sa.select(c.position)
                                        .where(c.name == PROJECTOR)).scalar()
            if position is None:
                position = self._create(PROJECTOR, 0)
        return Consumer(self._db, self._reads, PROJECTOR, int(position), (None, None), None,
                        page=page, listen=False)

    def _create(self, name: str, start: int) -> int:
        values = {"name": name, "position": start, "created_at": self._db.now(),
                  "updated_at": self._db.now()}
        insert = (sqlite.insert(t.consumers) if self._db.sqlite
                  else postgresql.insert(t.consumers))
        with translated(self._db.url, writing=True), self._db.writer() as conn, conn.begin():
            conn.execute(insert.values(**values).on_conflict_do_nothing())
            return int(conn.execute(sa.select(t.consumers.c.position)
                                    .where(t.consumers.c.name == name)).scalar_one())

    def _lock(self, name: str) -> sa.Connection | None:
        """On PostgreSQL, the connection holding this consumer's advisory lock."""
        if self._db.sqlite:
            return None
        key = sa.func.hashtext(sa.func.coalesce(sa.func.current_schema(), "") + "/" + name)
        with translated(self._db.url):
            conn = self._db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            try:
                got = conn.execute(sa.select(sa.func.pg_try_advisory_lock(
                    sa.cast(_CONSUMER_LOCK, sa.Integer), key))).scalar()
            except BaseException:
                conn.close()
                raise
        if not got:
            conn.close()
            raise ConsumerBusy(f"consumer {name!r} is running in another process (its lock "
                               "is held); stop that one first")
        return conn


class Consumer:
    """A named follower of the log whose position is kept in the database.

    ``position`` is the last position it has committed. :meth:`batch` hands over the next
    events with a transaction to write results in, committing them and the new position
    together (exactly once); :meth:`subscribe` and :meth:`commit` follow the log and
    store the position after handling (at least once). Close it (or use ``with``) to let
    another process run it. One thread at a time.
    """

    def __init__(self, db: Database, reads: Reads, name: str, position: int,
                 filters: Filters, lock: sa.Connection | None, *, page: int = PAGE,
                 listen: bool = True) -> None:
        self._db = db
        self._reads = reads
        self.name = name
        self.position = position
        self._filters = filters
        self._lock = lock
        self._page = page  # the most events a batch holds
        self._listen = listen  # wake on appends (False: the projector, which never waits)
        self._follower: Follower | None = None

    def subscribe(self, *, poll_interval: float | None = None,
                  on_caught_up: Callable[[int], None] | None = None) -> Subscription:
        """The events after this consumer's position, as they commit (see
        :class:`Subscription`); call :meth:`commit` after handling them."""
        return Subscription(Follower(self._db, self._reads, self.position, self._filters,
                                     poll_interval), on_caught_up)

    def commit(self, position: int) -> None:
        """Store ``position`` as handled (at least once: call it after handling events).

        Refused, committing nothing, when it would move the position back or past the
        log's head, or when another process moved it meanwhile (:class:`ConsumerBusy`).
        """
        if position == self.position:
            return
        with self.moving_to(position):
            pass

    @contextmanager
    def batch(self, limit: int = 100, timeout: float | None = None
              ) -> Iterator[tuple[list[RecordedEvent], sa.Connection]]:
        """The next events (at most ``limit``; waiting up to ``timeout`` seconds for one,
        or for ever) and a transaction on this database: what the block writes with it
        and the consumer's new position commit together, or neither (exactly once).

        The batch may be empty (the timeout passed, or :meth:`stop` was called); its
        position still moves past the events the filters left out. If the block raises,
        nothing is committed and the same events come again in the next batch. On SQLite
        the transaction holds the database's write lock: keep the block short.
        """
        if limit < 1:
            raise ValidationError(f"a batch holds at least one event, not {limit}",
                                  where="limit")
        follower = self._following()
        events = self._gather(follower, min(limit, self._page), timeout)
        try:
            with self.moving_to(follower.cursor) as conn:
                yield events, conn
        except BaseException:
            follower.rewind(self.position)
            raise

    @contextmanager
    def moving_to(self, position: int) -> Iterator[sa.Connection]:
        """A transaction on this database in which what the block writes and the consumer's
        new ``position`` commit together, or neither (what :meth:`batch` commits in; for a
        caller that read the events itself). The consumer's row is locked first, and the
        transaction refused, before the block runs, when the position would move back or
        past the log's head, or another process moved it (:class:`ConsumerBusy`)."""
        if isinstance(position, bool) or not isinstance(position, int):
            raise ValidationError(f"a position is a whole number, not {position!r}")
        with translated(self._db.url, writing=True), self._db.writer() as conn, conn.begin():
            self._advance(conn, position)
            yield conn
        self.position = position
        if self._follower is not None and self._follower.cursor < position:
            self._follower.rewind(position)

    def stop(self) -> None:
        """Make a :meth:`batch` waiting for events return an empty one at once (any thread)."""
        if self._follower is not None:
            self._follower.stop()

    def close(self) -> None:
        """Let go: stop waiting, and (PostgreSQL) release the lock that keeps other
        processes from running this consumer."""
        if self._follower is not None:
            self._follower.close()
        if self._lock is not None:
            lock, self._lock = self._lock, None
            lock.invalidate()  # the server drops the session's advisory lock with it
            lock.close()

    def __enter__(self) -> Consumer:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _following(self) -> Follower:
        if self._follower is None or self._follower.stopped:
            if self._follower is not None:
                self._follower.close()
            self._follower = Follower(self._db, self._reads, self.position, self._filters,
                                      listen=self._listen)
        return self._follower

    @staticmethod
    def _gather(follower: Follower, limit: int, timeout: float | None) -> list[RecordedEvent]:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            events = follower.poll(limit)
            if events or follower.stopped:
                return events
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return events
            follower.wait(None if left is None else min(left, follower.interval))

    def _advance(self, conn: sa.Connection, position: int) -> None:
        """Move the stored position from ``self.position`` to ``position``, row locked."""
        if position < self.position:
            raise ConsumerError(f"consumer {self.name!r} is at position {self.position}: "
                                f"it cannot move back to {position}")
        c = t.consumers.c
        stored = conn.execute(sa.select(c.position).where(c.name == self.name)
                              .with_for_update()).scalar()
        if stored is None:
            raise ConsumerNotFound(f"no consumer is named {self.name!r} any more")
        if stored != self.position:
            raise ConsumerBusy(f"consumer {self.name!r} is at position {stored}, not "
                               f"{self.position}: another process ran it meanwhile; nothing "
                               "was committed")
        head = Database.head_position(conn)
        if position > head:
            raise ConsumerError(f"consumer {self.name!r} cannot move to position {position}: "
                                f"the log ends at {head}")
        if position != stored:
            conn.execute(sa.update(t.consumers).where(c.name == self.name)
                         .values(position=position, updated_at=self._db.now()))
        else:  # still a write, so that a database that takes none refuses it here, at once
            conn.execute(_WRITABLE)


#: A write that changes nothing: a database that takes no writes refuses it at once.
_WRITABLE = (sa.update(t.consumers).where(sa.false())
             .values(position=t.consumers.c.position))
