"""Reading the log: events in position or version order, one by id, the position a
record time cuts at, and each track's decoded events for cuts.

Every read streams a page at a time (memory stays constant whatever the log's size) and
decodes through ``rows``. Imports: ``db``, ``rows``, ``states``, ``erasure`` (what an
erased payload reads as) and the pure core.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import heapq
import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from ..codec import (
    GENESIS_HASH,
    parse_uuid,
)
from ..collector import gc_paused
from ..errors import (
    EventNotFound,
)
from ..events import RecordedEvent
from ..facts import (
    fact_class,
)
from ..projection import (
    Plain,
)
from ..sources import (
    Citation,
)
from ..tracks import (
    FIXED_STREAMS,
    REGISTRY_STREAMS,
    is_multilateral,
    pairs,
    parse_stream,
    parties,
)
from . import schema as t
from .db import Database, chunks
from .erasure import redactions
from .rows import (
    EVENT_ROWS,
    citation_of,
    decode_event,
    events_from,
    utc,
)
from .states import Budgeted, EventCache, KeptTrack

#: Rows per page when streaming the log (memory stays constant whatever the log's size).
PAGE_SIZE = 1000


@attrs.frozen
class TrackSummary:
    """A track's size and date span (``eventstore tracks``)."""

    track: str
    events: int
    first: dt.date | None
    last: dt.date | None
    position: int
    #: How many of ``events`` are on multilateral streams with both its countries.
    multilateral: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"track": self.track, "events": self.events,
                "first": self.first.isoformat() if self.first else None,
                "last": self.last.isoformat() if self.last else None,
                "position": self.position, "multilateral": self.multilateral}


def _add(old: TrackSummary | None, new: TrackSummary) -> TrackSummary:
    """Two summaries of one track's events (its stream's, a multilateral stream's) as one."""
    if old is None:
        return new
    firsts = [d for d in (old.first, new.first) if d is not None]
    lasts = [d for d in (old.last, new.last) if d is not None]
    return TrackSummary(track=old.track, events=old.events + new.events,
                        first=min(firsts, default=None), last=max(lasts, default=None),
                        position=max(old.position, new.position),
                        multilateral=old.multilateral + new.multilateral)



class Reads:
    """Reading the log: events by position, track or id, the record-time cut, and the
    decoded events of the tracks folded for cuts (kept in a bounded, thread-safe cache,
    brought up to date by decoding only what is new)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._event_cache = EventCache()
        # bilateral track → (the streams' kept events it was merged from, the merge)
        self._views: Budgeted[tuple[tuple[KeptTrack, ...], KeptTrack]] = Budgeted(
            EVENT_VIEWS_BUDGET, lambda kept: len(kept[1].events))

    def head(self) -> tuple[int, str]:
        """The last position and its hash (``(0, GENESIS_HASH)`` for an empty log)."""
        with self._db.read() as conn:
            row = conn.execute(sa.select(t.events.c.position, t.events.c.hash)
                               .order_by(t.events.c.position.desc()).limit(1)).first()
        return (row.position, row.hash) if row else (0, GENESIS_HASH)

    def track_version(self, track: str) -> int:
        """The current version of a track (0 when it has no events)."""
        canonical = stream_name(track)
        with self._db.read() as conn:
            return track_versions(conn, {canonical}).get(canonical, 0)

    def read_all(self, from_position: int = 1, limit: int | None = None, *,
                 track: str | None = None,
                 types: Iterable[str] | None = None) -> Iterator[RecordedEvent]:
        """Stream events in position order from ``from_position``, a page at a time.
        See :meth:`EventStore.read_all`."""
        conditions = []
        if track is not None:
            conditions.append(on_track(stream_name(track)))
        if types is not None:
            names = sorted(set(types))
            for name in names:
                fact_class(name)
            conditions.append(t.events.c.type.in_(names))
        return self._stream(lambda cursor: events_from(cursor).where(*conditions),
                            t.events.c.position, max(1, from_position), limit)

    def read_track(self, track: str, from_version: int = 1) -> Iterator[RecordedEvent]:
        """Stream one track's events in version order from ``from_version``."""
        canonical = stream_name(track)
        query = (EVENT_ROWS.where(t.events.c.track == canonical))
        return self._stream(lambda _: query, t.events.c.version, max(1, from_version), None)

    def get_event(self, event_id: uuid.UUID | str) -> RecordedEvent:
        """One event by its id, or :class:`EventNotFound`."""
        wanted = str(parse_uuid(event_id, "event_id"))
        query = (EVENT_ROWS.where(t.events.c.event_id == wanted))
        with self._db.read() as conn:
            rows = conn.execute(query).all()
            if not rows:
                raise EventNotFound(f"no event has the id {wanted}")
            return self.decode_page(conn, rows)[0]

    def event_at(self, position: int) -> RecordedEvent:
        """The event at ``position``, or :class:`EventNotFound`."""
        # By equality: a `position >= p LIMIT 1` read walks the payloads' index
        # from the start on PostgreSQL (see docs/performance.md#audit).
        with self._db.read() as conn:
            rows = conn.execute(EVENT_ROWS.where(t.events.c.position == position)).all()
            if not rows:
                raise EventNotFound(f"no event at position {position}")
            return self.decode_page(conn, rows)[0]

    def _stream(self, query: Callable[[int], sa.Select[Any]], key: sa.Column[int], start: int,
                limit: int | None) -> Iterator[RecordedEvent]:
        """Pages of ``query(cursor)`` where ``key >= cursor``, in ``key`` order."""
        remaining = limit
        cursor = start
        while remaining is None or remaining > 0:
            size = PAGE_SIZE if remaining is None else min(PAGE_SIZE, remaining)
            page_query = query(cursor).where(key >= cursor).order_by(key).limit(size)
            with self._db.read() as conn:
                rows = conn.execute(page_query).all()
                decoded = self.decode_page(conn, rows)
            yield from decoded
            if len(rows) < size:
                return
            cursor = getattr(rows[-1], key.key) + 1
            if remaining is not None:
                remaining -= len(rows)

    def decode_page(self, conn: sa.Connection, rows: Sequence[Any],
                    cited: sa.Select[Any] | None = None,
                    params: dict[str, Any] | None = None) -> list[RecordedEvent]:
        """The events of ``rows`` (:data:`EVENT_ROWS` rows), with their citations: those
        ``cited`` selects in position and ordinal order, with ``params`` (one statement:
        the citations of a track or of a range of positions, a superset of the rows' is
        fine), else fetched by position in chunks."""
        by_position: dict[int, list[Citation]] = {}
        if cited is not None:
            queries: Iterable[sa.Select[Any]] = [cited] if rows else []
        else:
            queries = (sa.select(t.citations).where(t.citations.c.position.in_(chunk))
                       .order_by(t.citations.c.position, t.citations.c.ordinal)
                       for chunk in chunks([row.position for row in rows]))
        for query in queries:
            for row in conn.execute(query, params).all():
                by_position.setdefault(row.position, []).append(citation_of(row))
        erased = [row.position for row in rows if row.body is None]
        redacted = redactions(conn, erased) if erased else {}
        return [decode_event(row, tuple(by_position.get(row.position, ())),
                        redacted.get(row.position)) for row in rows]

    def read_range(self, conn: sa.Connection, start: int, limit: int) -> list[RecordedEvent]:
        query = (events_from(start).where(t.events.c.position >= start)
                 .order_by(t.events.c.position).limit(limit))
        rows = conn.execute(query).all()
        if not rows:
            return []
        c = t.citations.c  # the range's citations in one statement
        return self.decode_page(conn, rows, sa.select(t.citations).where(
            c.position >= rows[0].position, c.position <= rows[-1].position)
            .order_by(c.position, c.ordinal))

    def view_conn(self, conn: sa.Connection, track: str, upto: int | None = None, *,
                  streams: Sequence[str] | None = None) -> list[RecordedEvent]:
        """The events of a bilateral track's view (its stream's and those of the
        multilateral streams with both its countries) up to position ``upto``, in
        position order. ``streams``: those multilateral streams, when the caller knows."""
        e = t.events.c
        if streams is None:
            streams = multilateral_streams(conn, track)
        if not streams:  # the track's own stream: its (track, version) index gives the order
            return self.read_conn(conn, track, upto=upto)
        # (a list of the streams' ids would make PostgreSQL scan the log)
        query = EVENT_ROWS.where(on_track(track)).order_by(e.position)
        if upto is not None:
            query = query.where(e.position <= upto)
        with gc_paused():
            return self.decode_page(conn, conn.execute(query).all())

    def read_conn(self, conn: sa.Connection, track: str, from_version: int = 1,
                  upto: int | None = None) -> list[RecordedEvent]:
        """A stream's events from ``from_version`` on, in version order (up to position
        ``upto``: a stream's versions follow its positions). Two statements, built once:
        the events, and their citations."""
        params: dict[str, Any] = {"track": track, "from_version": from_version,
                                  "upto": _NO_CUT if upto is None else upto}
        rows = conn.execute(_STREAM_ROWS, params).all()
        if not rows:
            return []
        if conn.dialect.name == "sqlite":
            cited, params = _STREAM_CITED_SQLITE, params | {"to_version": rows[-1].version}
        else:
            cited, params = _STREAM_CITED_PG, {"positions": [row.position for row in rows]}
        with gc_paused():  # thousands of objects, all kept: no cycle for a collection to find
            return self.decode_page(conn, rows, cited, params)

    def position_at(self, known_at: dt.datetime) -> int:
        """The last position recorded at or before ``known_at`` (0 if none)."""
        with self._db.read() as conn:
            return self._position_at(conn, known_at)

    def _position_at(self, conn: sa.Connection, known_at: dt.datetime) -> int:
        moment = utc(known_at)
        stamp = moment.replace(tzinfo=None) if self._db.sqlite else moment  # SQLite keeps UTC
        # The last entry of the (recorded_at, position) index at or before the moment: a
        # seek, where max(position) over the range would read half the log on average.
        return int(conn.execute(_POSITION_AT, {"stamp": stamp}).scalar() or 0)

    def cut(self, known_at: dt.datetime | None) -> int | None:
        return None if known_at is None else self.position_at(known_at)

    def view_at(self, track: str, known_at: dt.datetime | None
                ) -> tuple[int | None, list[RecordedEvent], Plain, tuple[KeptTrack, ...]]:
        """What a fold for a cut reads, in one read of the database: the position
        ``known_at`` cuts at (``None``: no cut), the events of the track's view up to it
        in position order (see :meth:`kept_track`) and the fold's memo, and the registry
        streams' events (:meth:`registry_streams`; the caller cuts them)."""
        with self._db.read() as conn:
            cut = None if known_at is None else self._position_at(conn, known_at)
            kept = self._cached_view(conn, track, cut)
            registry = self.registry_streams(conn)
        events = kept.events
        if cut is not None:
            events = events[:bisect.bisect_right(events, cut, key=_position_of)]
        return cut, events, kept.plain, registry

    def track_events(self, track: str, cut: int | None) -> list[RecordedEvent]:
        """A track's events up to position ``cut`` (all if None), in version order."""
        return self.kept_track(track, cut)[0]

    def kept_track(self, track: str, cut: int | None) -> tuple[list[RecordedEvent], Plain]:
        """The events of a bilateral track's view up to position ``cut`` (all if None), in
        position order, and the fold's memo: the track's own stream's events, merged with
        those of the multilateral streams with both its countries (a fixed stream's own).
        Events after ``cut`` not read yet are not read."""
        kept = self.cached_view(track, cut)
        events = kept.events
        if cut is not None:
            events = events[:bisect.bisect_right(events, cut, key=_position_of)]
        return events, kept.plain

    def cached_view(self, track: str, upto: int | None = None) -> KeptTrack:
        """All the events of a bilateral track's view, in position order (see
        :meth:`kept_track`), from the streams' kept events; merged again only when one of
        them changed. A track no multilateral stream shows on costs the one statement it
        did before there were any: whether one does is asked in the same statement. With
        ``upto``, every event up to that position, and those after it read before."""
        with self._db.read() as conn:
            return self._cached_view(conn, track, upto)

    def _cached_view(self, conn: sa.Connection, track: str, upto: int | None) -> KeptTrack:
        if track in FIXED_STREAMS or is_multilateral(track):
            version, erasure = conn.execute(_PROBE_STREAM, {"track": track}).one()
            return self._brought_up(conn, track, version, erasure, upto)
        first, second = parties(track)
        probe = conn.execute(_PROBE_VIEW, {"track": track, "first": first,
                                           "second": second}).one()
        own = self._brought_up(conn, track, probe[0], probe[1], upto)
        if not probe[2]:
            return own
        streams = multilateral_streams(conn, track)
        versions = track_versions(conn, set(streams))  # one statement for them all
        parts = (own, *(self._brought_up(conn, stream, versions.get(stream), probe[1], upto)
                        for stream in streams))
        key = tuple(id(part) for part in parts)  # the parts are held by the entry
        kept = self._views.get(track, key)
        if kept is not None:
            return kept[1]
        merged = KeptTrack(list(heapq.merge(*(part.events for part in parts),
                                            key=_position_of)), own.plain)
        self._views.put(track, key, (parts, merged))
        return merged

    def cached_track(self, track: str, upto: int | None = None) -> KeptTrack:
        """All of a stream's events (with ``upto``: at least those up to that position),
        decoding only those this store has not decoded yet (see
        :class:`~eventstore.storage.states.EventCache`): one small statement when nothing
        was appended to it since, and no erasure was made."""
        with self._db.read() as conn:
            version, erasure = conn.execute(_PROBE_STREAM, {"track": track}).one()
            return self._brought_up(conn, track, version, erasure, upto)

    def registry_streams(self, conn: sa.Connection | None = None) -> tuple[KeptTrack, ...]:
        """All the events of every registry stream (:data:`~eventstore.tracks.REGISTRY_STREAMS`,
        in that order), as :meth:`cached_track` keeps them: whether any was appended to
        is asked of them all in one statement (on ``conn``, else in a read of its own)."""
        if conn is None:
            with self._db.read() as conn:
                return self.registry_streams(conn)
        *versions, erasure = conn.execute(registry_probe(REGISTRY_STREAMS)).one()
        return tuple(self._brought_up(conn, stream, version, erasure)
                     for stream, version in zip(REGISTRY_STREAMS, versions, strict=True))

    def _brought_up(self, conn: sa.Connection, track: str, version: int | None,
                    erasure: int | None, upto: int | None = None) -> KeptTrack:
        """The kept events of ``track``, read on from where they stop to ``version`` (with
        ``upto``: no further than that position)."""
        kept = self._event_cache.get(track, erasure or 0)
        count = len(kept.events)
        if count == (version or 0):  # versions are gapless from 1
            return kept
        if count > (version or 0):
            kept = KeptTrack()
        elif upto is not None and kept.upto is not None and kept.upto >= upto:
            return kept  # every event up to ``upto`` is held
        events = kept.events + self.read_conn(conn, track, from_version=len(kept.events) + 1,
                                              upto=upto)
        kept = KeptTrack(events, kept.plain,
                         None if upto is None or len(events) >= (version or 0) else upto)
        self._event_cache.put(track, erasure or 0, kept)
        return kept

    def tracks(self) -> list[TrackSummary]:
        """Every bilateral track with its number of events and the span of its dates, by
        the rule of lists by date (``projection.timeline.chronology_key``): a fact with an
        open end counts at its known bound. The events of a multilateral stream count on
        each bilateral track among its parties (``multilateral`` says how many of a
        track's events are theirs)."""
        e = t.events.c
        first = sa.func.min(sa.func.coalesce(e.valid_lower, e.valid_upper))
        last = sa.func.max(sa.func.coalesce(e.valid_upper, e.valid_lower))
        query = (sa.select(e.track, sa.func.count(), first, last, sa.func.max(e.position))
                 .where(e.track.not_in(FIXED_STREAMS)).group_by(e.track).order_by(e.track))
        with self._db.read() as conn:
            rows = conn.execute(query).all()
        summaries: dict[str, TrackSummary] = {}
        for stream, count, lower, upper, position in rows:
            shared = is_multilateral(stream)
            for track in pairs(stream):
                summaries[track] = _add(summaries.get(track), TrackSummary(
                    track=track, events=count, first=_as_date(lower), last=_as_date(upper),
                    position=position, multilateral=count if shared else 0))
        return [summaries[track] for track in sorted(summaries)]


def track_versions(conn: sa.Connection, tracks: set[str]) -> dict[str, int]:
    """Each track's current version: one statement, one index seek per track.

    (``max(version) … GROUP BY track`` would read every row of each track; a scalar
    ``max`` per track is answered from the end of the (track, version) index.) The
    tracks are one bound parameter, so the statement is compiled once per engine.
    """
    if not tracks:
        return {}
    wanted = sorted(tracks)
    if conn.dialect.name == "sqlite":
        rows = conn.execute(_VERSIONS_SQLITE, {"tracks": json.dumps(wanted)})
    else:
        rows = conn.execute(_VERSIONS_PG, {"tracks": wanted})
    return {track: version for track, version in rows if version is not None}


def _versions_query(wanted: Any) -> sa.Select[Any]:
    """Each wanted track with its latest version (NULL for a new track)."""
    e = t.events.c
    latest = sa.select(sa.func.max(e.version)).where(e.track == wanted.c.value)
    return sa.select(wanted.c.value, latest.scalar_subquery())


#: The tracks as a JSON array (``json_each``) on SQLite, a text array on PostgreSQL.
_VERSIONS_SQLITE = _versions_query(
    sa.func.json_each(sa.bindparam("tracks", type_=sa.String))
    .table_valued("value").alias("wanted"))


_VERSIONS_PG = _versions_query(
    sa.func.unnest(sa.bindparam("tracks", type_=sa.ARRAY(sa.String)))
    .table_valued("value").render_derived(name="wanted"))


def _position_of(event: RecordedEvent) -> int:
    return event.position


def _as_date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def stream_name(track: str) -> str:
    """The canonical id of a stream: a fixed one, a bilateral track or a multilateral one."""
    return track if track in FIXED_STREAMS else parse_stream(track)


#: Budget (events, summed) of the merged views of bilateral tracks with multilateral events.
EVENT_VIEWS_BUDGET = 50_000


def _members_with(first: Any, second: Any) -> sa.Select[Any]:
    """The multilateral streams with both countries: a seek per country in the key."""
    a, b = t.stream_members.alias("a"), t.stream_members.alias("b")
    return (sa.select(a.c.stream).join(b, b.c.stream == a.c.stream)
            .where(a.c.country == first, b.c.country == second))


_STREAMS_WITH = _members_with(sa.bindparam("first"), sa.bindparam("second")).order_by("stream")


def _probe_parts() -> list[Any]:
    """A stream's last version and the log's last erasure (scalar subqueries)."""
    e = t.events.c
    return [sa.select(sa.func.max(e.version)).where(e.track == sa.bindparam("track"))
            .scalar_subquery(),
            sa.select(sa.func.max(t.erasures.c.position)).scalar_subquery()]


#: ``upto`` when a read is not cut (the largest position either engine can store).
_NO_CUT = 2**63 - 1
#: A stream's events, ``:from_version`` on, up to position ``:upto``, in version order.
_STREAM_ROWS = EVENT_ROWS.where(
    t.events.c.track == sa.bindparam("track"), t.events.c.version >= sa.bindparam("from_version"),
    t.events.c.position <= sa.bindparam("upto")).order_by(t.events.c.version)
# Their citations in one statement, not in chunks of positions: on SQLite joined to the
# events (the (track, version) index, then each citation's key); on PostgreSQL, whose
# planner hashed the whole citations table for that join (twice the time), by
# ``position = ANY(array of the rows' positions)``.
_STREAM_CITED_SQLITE = (
    sa.select(t.citations).join(t.events, t.events.c.position == t.citations.c.position)
    .where(t.events.c.track == sa.bindparam("track"),
           t.events.c.version >= sa.bindparam("from_version"),
           t.events.c.version <= sa.bindparam("to_version"))
    .order_by(t.citations.c.position, t.citations.c.ordinal))
_STREAM_CITED_PG = (
    sa.select(t.citations)
    .where(t.citations.c.position == sa.any_(sa.bindparam(
        "positions", type_=postgresql.ARRAY(sa.BigInteger))))
    .order_by(t.citations.c.position, t.citations.c.ordinal))
#: The last position recorded at or before ``:stamp`` (the last entry of the
#: ``(recorded_at, position)`` index at or before it).
_POSITION_AT = (sa.select(t.events.c.position)
                .where(t.events.c.recorded_at <= sa.bindparam("stamp"))
                .order_by(t.events.c.recorded_at.desc(), t.events.c.position.desc()).limit(1))
#: A stream's last version and the log's last erasure (the stream bound as ``:track``).
_PROBE_STREAM = sa.select(*_probe_parts())
#: The same, and whether a multilateral stream shows on the track (one key seek).
_PROBE_VIEW = sa.select(*_probe_parts(), sa.exists(
    _members_with(sa.bindparam("first"), sa.bindparam("second"))).label("shared"))
@functools.cache
def registry_probe(streams: tuple[str, ...]) -> sa.Select[Any]:
    """Each of the registry ``streams``' last version, in their order, then the log's last
    erasure: one row (built once)."""
    e = t.events.c
    return sa.select(*(sa.select(sa.func.max(e.version)).where(e.track == stream)
                       .scalar_subquery() for stream in streams),
                     sa.select(sa.func.max(t.erasures.c.position)).scalar_subquery())


def multilateral_streams(conn: sa.Connection, track: str) -> list[str]:
    """The multilateral streams whose events show on the bilateral ``track``, in order."""
    first, second = parties(track)
    found = conn.execute(_STREAMS_WITH, {"first": first, "second": second}).scalars()
    # the rows only say what the streams' names say: a row that does not is not believed
    return [stream for stream in found if {first, second} <= set(parties(stream))]


def on_track(stream: str) -> sa.ColumnElement[bool]:
    """The events that belong to ``stream`` (canonical) as a reader sees it: a bilateral
    track's own and those of the multilateral streams with both its countries (a
    subquery, so that a stream begun later is included too); any other stream's own."""
    e = t.events.c
    if stream in FIXED_STREAMS or is_multilateral(stream):
        return e.track == stream
    first, second = parties(stream)
    # One IN over a UNION, not "= … OR IN (…)": PostgreSQL turns an OR with a subquery
    # into a scan of the whole log; this it joins to the track index, stream by stream.
    streams = sa.union_all(sa.select(sa.literal(stream, t.STREAM).label("stream")),
                           _members_with(first, second))
    return e.track.in_(sa.select(streams.subquery().c.stream))
