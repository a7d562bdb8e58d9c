"""Following the log: subscriptions that catch up from a position, then wait for new
events and hand them over as they commit, in position order, each once.

Positions are assigned under the write lock, so what a reader can see is always a gapless
prefix of the log (docs/concurrency.md): a follower needs nothing but the last position
it has read. Each poll reads the head, then the events after its cursor up to that head
(filtered by track and type), and moves its cursor to the head: events of other tracks
and types are passed over once, not read again.

Waking: on PostgreSQL every append transaction sends one ``pg_notify`` (``db.announce``),
which a dedicated listening connection (autocommit, reconnected when it drops) turns
into a wake-up; the follower also polls every second, so a lost notification only
delays. SQLite has no notifications: the follower polls every 50 ms, and skips the query
when ``PRAGMA data_version`` says no other connection committed since. Imports: ``db``,
``rows``, ``reads`` (decoding pages, track names) and the pure core.
"""

from __future__ import annotations

import contextlib
import inspect
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from typing import Any

import sqlalchemy as sa

from ..errors import DatabaseUnavailable, ValidationError
from ..events import RecordedEvent
from ..facts import fact_class
from . import schema as t
from .db import NOTIFY_CHANNEL, Database
from .reads import Reads, on_track, stream_name
from .rows import events_from

__all__ = ["Subscription", "Follower", "POLL_SQLITE", "POLL_POSTGRESQL", "Filters",
           "filters_of"]

#: Seconds between polls on SQLite (each one a ``PRAGMA data_version`` when nothing changed).
POLL_SQLITE = 0.05
#: Seconds between polls on PostgreSQL, where notifications wake followers at once: the
#: longest a lost notification can delay an event.
POLL_POSTGRESQL = 1.0
#: Events read per query (and the most a subscription holds in memory).
PAGE = 500
#: Seconds a follower keeps retrying a lost database connection before giving up.
RETRY_FOR = 60.0

Filters = tuple[tuple[str, ...] | None, tuple[str, ...] | None]


def filters_of(tracks: Iterable[str] | str | None,
               types: Iterable[str] | str | None) -> Filters:
    """Checked filters: canonical track names (a bilateral track, which includes the
    events of the multilateral streams with both its countries; a multilateral stream,
    its own; ``$sources`` and the other fixed streams) and known fact types; a malformed
    track or an unknown type is an error."""
    wanted_tracks = None
    if tracks is not None:
        items = [tracks] if isinstance(tracks, str) else list(tracks)
        try:
            wanted_tracks = tuple(sorted({stream_name(track) for track in items}))
        except ValidationError as err:
            raise err.at("tracks") from None
    wanted_types = None
    if types is not None:
        names = [types] if isinstance(types, str) else list(types)
        for name in names:
            try:
                fact_class(name)
            except ValidationError as err:
                raise type(err)(err.detail, where="types", problems=err.problems) from None
        wanted_types = tuple(sorted(set(names)))
    return wanted_tracks, wanted_types


class Follower:
    """A cursor over the log: :meth:`poll` gives the next events after it (filtered) and
    moves it on; :meth:`wait` sleeps until an append may have happened. Not shared
    between threads, except :meth:`stop` and :meth:`wake`, which any thread may call.

    Without ``listen`` it reads whenever polled and is woken only by :meth:`wake` or the
    poll interval: no listening connection, no ``data_version`` probe (the catch-up
    projector, which reads what is there and never waits)."""

    def __init__(self, db: Database, reads: Reads, after: int, filters: Filters,
                 poll_interval: float | None = None, *, listen: bool = True) -> None:
        self._db = db
        self._reads = reads
        #: Every event up to here has been read (or did not match the filters).
        self.cursor = after
        tracks, types = filters
        e = t.events.c
        self._conditions: list[sa.ColumnElement[bool]] = []
        if tracks is not None:  # a bilateral track with the multilateral streams that show on it
            self._conditions.append(sa.or_(*(on_track(track) for track in tracks)))
        if types is not None:
            self._conditions.append(e.type.in_(types))
        self.interval = poll_interval if poll_interval is not None else (
            POLL_SQLITE if db.sqlite else POLL_POSTGRESQL)
        self.stopped = False
        self._wake = threading.Event()
        self._pending = True  # read before trusting data_version
        self._probe: _DataVersion | None = None
        self._listener: _Listener | None = None
        if not listen:
            pass
        elif db.sqlite:
            self._probe = _DataVersion(db.engine)
        else:
            self._listener = _Listener(db.engine, self._wake)

    def poll(self, limit: int = PAGE) -> list[RecordedEvent]:
        """The next (at most ``limit``) events after the cursor; moves the cursor on to the
        last one, or to the head when the page holds everything up to it."""
        if not self._pending and self._probe is not None and not self._probe.changed():
            return []
        e = t.events.c
        deadline = time.monotonic() + RETRY_FOR
        while True:
            try:
                with self._db.read() as conn:
                    head = Database.head_position(conn)
                    if head <= self.cursor:
                        self._pending = False
                        return []
                    query = (events_from(self.cursor + 1)
                             .where(e.position > self.cursor, e.position <= head,
                                    *self._conditions)
                             .order_by(e.position).limit(limit))
                    rows = conn.execute(query).all()
                    events = self._reads.decode_page(conn, rows)
                break
            except DatabaseUnavailable:
                # A lost connection (a restarted server, pg_terminate_backend): the pool
                # reconnects on the next try; the cursor has not moved, nothing is lost.
                if self.stopped or time.monotonic() > deadline:
                    raise
                self.wait(min(self.interval, 0.5) + 0.1)
        self._pending = len(rows) == limit
        self.cursor = rows[-1].position if self._pending else head
        return events

    def rewind(self, position: int) -> None:
        """Read again from after ``position`` (a batch that was not committed)."""
        self.cursor = position
        self._pending = True

    def wait(self, timeout: float | None = None) -> None:
        """Sleep until an append may have committed (or ``timeout``, default the poll
        interval, or :meth:`stop`)."""
        if not self.stopped:
            self._wake.wait(self.interval if timeout is None else timeout)
        self._wake.clear()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """Make :meth:`wait` return at once, and every later one too (any thread)."""
        self.stopped = True
        self._wake.set()

    def close(self) -> None:
        self.stop()
        if self._listener is not None:
            self._listener.close()
        if self._probe is not None:
            self._probe.close()


class _DataVersion:
    """SQLite's cheap change detection: ``PRAGMA data_version`` on one connection of its
    own changes when another connection (of any process) commits."""

    def __init__(self, engine: sa.Engine) -> None:
        self._conn: Any = engine.raw_connection()
        self._version = self._read()

    def _read(self) -> int:
        cursor = self._conn.cursor()
        try:
            return int(cursor.execute("PRAGMA data_version").fetchone()[0])
        finally:
            cursor.close()

    def changed(self) -> bool:
        version = self._read()
        changed, self._version = version != self._version, version
        return changed

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._conn.close()


class _Listener:
    """PostgreSQL ``LISTEN`` on a connection of its own (autocommit, taken out of the
    pool), in a thread that sets ``wake`` on each notification for this schema's log.

    The connection listens before the follower first reads, so no append is missed
    between the two. When it drops, the thread reconnects (waiting a little longer each
    time, up to 5 s) and wakes the follower once listening again: what was appended in
    between is read then. Meanwhile the follower's polling carries on.
    """

    def __init__(self, engine: sa.Engine, wake: threading.Event) -> None:
        self._engine = engine
        self._wake = wake
        self._closed = threading.Event()
        self._conn: Any = None
        self._schema = ""
        #: The listening connection's server process (for monitoring, and tests).
        self.backend_pid: int | None = None
        with contextlib.suppress(Exception):  # unreachable now: the thread retries
            self._connect()
        self._thread = threading.Thread(target=self._run, name="eventstore-listen",
                                        daemon=True)
        self._thread.start()

    def _connect(self) -> None:
        raw = self._engine.raw_connection()
        conn = raw.driver_connection
        raw.detach()  # ours for good: closed by us, never handed back to the pool
        assert conn is not None
        try:
            conn.rollback()
            conn.autocommit = True
            schema = conn.execute("SELECT current_schema()").fetchone()
            conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
        except BaseException:
            raw.close()
            raise
        self._schema = f"{schema[0] if schema and schema[0] else ''}:"
        self._conn = conn
        self.backend_pid = conn.info.backend_pid

    def _run(self) -> None:
        delay = 0.1
        while not self._closed.is_set():
            if self._conn is None:
                try:
                    self._connect()
                except Exception:
                    self._closed.wait(delay)
                    delay = min(delay * 2, 5.0)
                    continue
                delay = 0.1
                self._wake.set()  # read what was appended while no one listened
            try:
                for note in self._conn.notifies(timeout=0.2):
                    if note.payload.startswith(self._schema):
                        self._wake.set()
            except Exception:
                self._drop()

    def _drop(self) -> None:
        conn, self._conn, self.backend_pid = self._conn, None, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    def close(self) -> None:
        self._closed.set()
        self._thread.join(timeout=5)
        self._drop()


class Subscription(Iterator[RecordedEvent]):
    """The events after a position, as they commit: first those already in the log (the
    catch-up), then each new one as soon as it is appended, in position order, never
    skipping and never repeating one. Iterating waits for new events until :meth:`stop`
    (from any thread) or the end of a ``with`` block.

    ``position`` is how far the subscription has handed events over: the last event's
    position, or further when the events after it did not match the filters. It is the
    position to store to resume later (``subscribe(from_position=sub.position)``).
    ``caught_up`` is set once every event committed when the subscription started has
    been handed over; ``on_caught_up(position)`` is called then, and again each time the
    subscription has handed over new events and found nothing more committed.
    """

    def __init__(self, follower: Follower,
                 on_caught_up: Callable[[int], None] | None = None) -> None:
        self._follower = follower
        self._on_caught_up = on_caught_up
        self.position = follower.cursor
        self.caught_up = threading.Event()
        self._events = self._run()

    def _run(self) -> Generator[RecordedEvent, None, None]:
        follower = self._follower
        try:
            while not follower.stopped:
                page = follower.poll(PAGE)
                for event in page:
                    if follower.stopped:
                        return
                    self.position = event.position
                    yield event
                self.position = follower.cursor
                if len(page) == PAGE:
                    continue  # more is waiting: read on before saying we are caught up
                if not follower.stopped and (page or not self.caught_up.is_set()):
                    self.caught_up.set()
                    if self._on_caught_up is not None:
                        self._on_caught_up(self.position)
                follower.wait()
        finally:
            follower.close()

    def __iter__(self) -> Subscription:
        return self

    def __next__(self) -> RecordedEvent:
        return next(self._events)

    def stop(self) -> None:
        """End the iteration: the next ``next()`` (or the one waiting now, within the poll
        interval at most) raises ``StopIteration``. Safe from any thread or a signal
        handler's thread."""
        self._follower.stop()

    def close(self) -> None:
        """Stop, and let go of the listening connection (or SQLite's probe). Called from
        another thread while one iterates, it stops it; that thread lets go on its way out."""
        self._follower.stop()
        if inspect.getgeneratorstate(self._events) != inspect.GEN_RUNNING:
            self._events.close()
            self._follower.close()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
