"""The read models: each track's folded state, stored beside the log, and the answers
built from them.

The catch-up projector folds what was appended since its position into the stored
states (a new projection code or actor registry rebuilds every track); ``project``
serves a stored state when it is current, folds in memory on a database that takes no
writes, and folds from the log for cuts.

The projector follows the log the way every service does (docs/following.md): it is the
named consumer ``$projections``, whose events come from a consumer's batch and whose
read-model writes commit with its new position in the batch's transaction, under the
consumer's row lock and position checks (one projector at a time). Imports: ``db``,
``reads``, ``consumers``, ``states`` and the pure projection.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import operator
from collections.abc import Sequence
from typing import Any, Literal

import sqlalchemy as sa

from ..errors import (
    ConsumerBusy,
    EventStoreError,
    ReadOnlyDatabase,
)
from ..events import RecordedEvent
from ..projection import (
    PROJECTION_VERSION,
    ActorRegistry,
    Folded,
    Step,
    TrackState,
    dump_folded,
    fold_all,
    fold_more,
    history,
    load_folded,
    project,
    registry_of,
)
from ..tracks import FIXED_STREAMS, REGISTRY_STREAMS, pairs, parse_track
from . import schema as t
from .consumers import PROJECTOR, Consumer, Consumers
from .db import Database, chunks
from .errors import translated
from .reads import Reads, track_versions
from .states import KeptTrack, StateCache


class ReadModels:
    """The read models: each track's folded state, stored beside the log and kept up to
    date by the catch-up projector; and the answers built from them or from the log
    (``project``, ``history``, ``registry``). Decoded states are kept in a bounded,
    thread-safe cache under the identity of the row they came from."""

    def __init__(self, db: Database, reads: Reads, consumers: Consumers) -> None:
        self._db = db
        self._reads = reads
        self._consumers = consumers
        self._states = StateCache()
        # the registry last built: (its key, the streams' kept events it holds, it)
        self._registry_kept: tuple[Any, tuple[KeptTrack, ...], ActorRegistry] | None = None

    def catch_up(self, *, limit: int = 20_000, probe: Any = None) -> int:
        """Fold the events appended since the projector's position into the read models.
        See :meth:`EventStore.catch_up`. ``probe``: a :data:`_PROBE` row just read."""
        folded = 0
        while True:
            if probe is None:
                with self._db.read() as conn:
                    probe = conn.execute(_PROBE).first()
            if _is_caught_up(probe):
                return folded
            try:
                if _rebuild_due(probe):
                    return folded + self._rebuild(limit, probe)[0]
                count = self._fold_batch(limit, probe)
                folded += count
                if count < limit:
                    return folded  # up to the head its batch read
            except (ConsumerBusy, _RebuildDue):
                pass  # another projector moved on meanwhile: take up from there
            probe = None

    def _fold_batch(self, limit: int, probe: Any) -> int:
        """One batch of the projector: the next ``limit`` events folded into their tracks'
        states, written with the new position in one transaction. ``probe`` says where
        the projector was; what it says is checked again under the projector's lock."""
        projector = self._consumers.projector(limit, probe.position)
        with projector, translated(self._db.url), \
                projector.batch(limit, timeout=0) as (new, conn):
            locked = conn.execute(_PROBE).one()
            if _rebuild_due(locked):
                raise _RebuildDue  # since the probe: rolled back, and rebuilt
            if new:
                self._fold_into(conn, new, locked.registry_version)
            return len(new)

    def _caught_up(self) -> bool:
        """True when the read models are current (checked without taking any lock)."""
        with self._db.read() as conn:
            return _is_caught_up(conn.execute(_PROBE).first())

    def rebuild(self) -> int:
        """Refold every track's read model from the log; returns how many tracks."""
        while True:
            with self._db.read() as conn:
                probe = conn.execute(_PROBE).first()
            try:
                return self._rebuild(20_000, probe)[1]
            except ConsumerBusy:
                continue  # another projector moved on meanwhile: rebuild from there

    def _rebuild(self, page: int, probe: Any) -> tuple[int, int]:
        """Every track folded again up to the head ``probe`` read, written with the
        projector's new position (that head) in one transaction; the events and tracks
        folded. ``probe`` is ``None`` before the projector's first catch-up."""
        if probe is None:
            projector = self._projector(page)
            with self._db.read() as conn:
                head = Database.head_position(conn)
        else:
            projector, head = self._consumers.projector(page, probe.position), probe.head or 0
        with projector, translated(self._db.url), projector.moving_to(head) as conn:
            registry_version = _registry_version(conn)
            count = self._rebuild_in(conn, registry_version, head)
            return count, len(self.track_names(conn))

    def _projector(self, page: int) -> Consumer:
        """The projector, read from its row (created, at position 0, if it has none)."""
        with translated(self._db.url, writing=True):
            return self._consumers.projector(page)

    def _save_versions(self, conn: sa.Connection, registry_version: int) -> None:
        conn.execute(sa.update(t.consumers).where(t.consumers.c.name == PROJECTOR).values(
            registry_version=registry_version, code_version=PROJECTION_VERSION,
            updated_at=self._db.now()))

    @staticmethod
    def track_names(conn: sa.Connection) -> list[str]:
        """Every bilateral track with an event: of its own stream or of a multilateral
        stream with both its countries."""
        return sorted(ReadModels._views(conn))

    @staticmethod
    def _views(conn: sa.Connection) -> dict[str, list[str]]:
        """Every bilateral track with an event, and the multilateral streams that show on
        it (from one pass over the streams, not one look-up per track)."""
        e = t.events.c
        views: dict[str, list[str]] = {}
        for stream in conn.execute(sa.select(e.track).where(e.track.not_in(FIXED_STREAMS))
                                   .group_by(e.track).order_by(e.track)).scalars():
            for track in pairs(stream):
                shown = views.setdefault(track, [])
                if stream != track:
                    shown.append(stream)
        return views

    def _rebuild_in(self, conn: sa.Connection, registry_version: int, head: int) -> int:
        """Refold every track up to ``head``, one at a time (memory: the largest track's
        events, and the stored form of the states not written yet); the projector's
        versions become the current ones."""
        registry = self._registry_in(conn)
        count = 0
        views = self._views(conn)
        stored = set(conn.execute(sa.select(t.track_states.c.track)).scalars())
        pending = _Pending(self._db.now())
        for track in sorted(views):
            # appends may commit meanwhile (PostgreSQL): fold nothing beyond the checkpoint
            events = self._reads.view_conn(conn, track, head, streams=views[track])
            if not events:
                continue
            pending.add(track, fold_all(track, events, registry), registry_version,
                        _own_version(track, events), exists=track in stored)
            if pending.full():
                pending.write(conn)
            count += len(events)
        pending.write(conn)
        self._save_versions(conn, registry_version)
        return count

    def _fold_into(self, conn: sa.Connection, new: list[RecordedEvent],
                   registry_version: int) -> None:
        """Fold new events into their tracks' states: incrementally where that is valid."""
        by_track: dict[str, list[RecordedEvent]] = {}
        for event in new:  # a multilateral event goes to each bilateral track among its parties
            if event.track not in FIXED_STREAMS:
                for track in pairs(event.track):
                    by_track.setdefault(track, []).append(event)
        if not by_track:
            return
        registry = self._registry_in(conn)
        rows = {row.track: row for row in conn.execute(
            sa.select(t.track_states).where(t.track_states.c.track.in_(sorted(by_track))))}
        upto = new[-1].position  # the checkpoint this round moves to: fold nothing beyond
        for track, events in by_track.items():
            row = rows.get(track)
            folded = None
            own = [e.version for e in events if e.track == track]
            if row is not None and (not own or row.version == own[0] - 1):
                folded = fold_more(load_folded(row.state), events, registry)
            if folded is None:
                folded = fold_all(track, self._reads.view_conn(conn, track, upto), registry)
            version = own[-1] if own else (0 if row is None else row.version)
            self._save_read_model(conn, track, folded, registry_version, version,
                                  exists=row is not None)

    def _save_read_model(self, conn: sa.Connection, track: str, folded: Folded,
                         registry_version: int, version: int, *,
                         exists: bool | None = None) -> None:
        if exists is None:
            exists = conn.execute(sa.select(t.track_states.c.track).where(
                t.track_states.c.track == track)).first() is not None
        pending = _Pending(self._db.now())
        pending.add(track, folded, registry_version, version, exists=exists)
        pending.write(conn)

    def current(self, track: str) -> TrackState | None:
        """The stored current state of a track, after catching up with the log.

        One statement says whether the projector is caught up and what identity the
        track's row has (and, when this store holds no decoded state of the track, brings
        the row's stored state too); when it is caught up and this store already decoded
        that row, the decoded state is served without reading the row again (see
        ``states.py``). Otherwise the projector catches up first, then the row is read
        and decoded.
        """
        with self._db.read() as conn:
            probe = self._probe_track(conn, track)
            if _is_caught_up(probe):
                return self._stored_state(conn, track, probe)
        try:
            self.catch_up(probe=probe)
        except ReadOnlyDatabase:
            return self._folded_in_memory(track)
        with self._db.read() as conn:
            return self._stored_state(conn, track, self._probe_track(conn, track))

    def _probe_track(self, conn: sa.Connection, track: str) -> Any:
        """The :data:`_PROBE_TRACK` row of ``track``; with its stored state when this
        store holds no decoded state of the track (a first read: one statement, not two)."""
        query = _PROBE_TRACK if self._states.holds(track) else _PROBE_TRACK_STATE
        return conn.execute(query, {"track": track}).first()

    def _folded_in_memory(self, track: str) -> TrackState | None:
        """The current state of a track whose read model is behind and cannot be written
        (a read-only database): its stored state with the newer events folded in, in
        memory. ``None`` when the stored state cannot be carried on (none, an older
        projection code or registry, or a fact about a past fact since): the caller then
        folds the whole track, which is what a rebuild would store."""
        s = t.track_states.c
        with self._db.read() as conn:
            row = conn.execute(sa.select(s.position, s.registry_version, s.code_version, s.state)
                               .where(s.track == track)).first()
            streams = self._reads.registry_streams(conn)
        version = sum(len(kept.events) for kept in streams)  # registry versions are gapless
        if (row is None or row.code_version != PROJECTION_VERSION
                or row.registry_version != version):
            return None
        events = self._reads.track_events(track, None)  # the track's view, in position order
        newer = events[bisect.bisect_right(events, row.position, key=_position_of):]
        folded = fold_more(load_folded(row.state), newer, self._registry_of(streams, None))
        return None if folded is None else folded.state

    def _stored_state(self, conn: sa.Connection, track: str, probe: Any) -> TrackState | None:
        """The state of the track's row, from the cache when the row is the one it holds;
        else decoded from the probe's stored state, or from the row read now."""
        if probe is None or probe.state_code_version != PROJECTION_VERSION:
            return None
        identity = _identity(probe)
        state = self._states.get(track, identity)
        if state is not None:
            return state
        text = getattr(probe, "state", None)
        if text is None:  # the probe did not bring it (or there is none)
            row = conn.execute(_STATE_ROW, {"track": track}).first()
            if row is None or row.state_code_version != PROJECTION_VERSION:
                return None  # rewritten since the probe (PostgreSQL: each statement sees anew)
            identity, text = _identity(row), row.state
        state = load_folded(text).state
        self._states.put(track, identity, state)
        return state

    @staticmethod
    def forget(conn: sa.Connection, tracks: Sequence[str]) -> None:
        """Drop stored states that hold what was just erased (in the caller's transaction)."""
        for chunk in chunks(list(tracks)):
            conn.execute(sa.delete(t.track_states).where(t.track_states.c.track.in_(chunk)))

    @staticmethod
    def forget_checkpoint(conn: sa.Connection) -> None:
        """Make the next catch-up rebuild every track (the actor registry changed)."""
        conn.execute(sa.update(t.consumers).where(t.consumers.c.name == PROJECTOR)
                     .values(code_version=None))

    def refold(self, tracks: Sequence[str]) -> None:
        """Store the read models of ``tracks`` again, folded up to the projector's checkpoint.

        Until this runs (or if it fails), ``project`` folds those tracks from the log:
        answers are right either way, only slower. So a failure here is not the
        caller's: the erasure is done, and the next ``catch_up`` or rebuild stores them.
        """
        try:
            self._refold_now(tracks)
        except EventStoreError:
            pass

    def _refold_now(self, tracks: Sequence[str]) -> None:
        while True:
            self.catch_up()
            projector = self._projector(1)
            try:
                # the projector's turn, staying where it is: no other writes read models
                with projector, translated(self._db.url), \
                        projector.moving_to(projector.position) as conn:
                    locked = conn.execute(_PROBE).one()
                    if locked.code_version != PROJECTION_VERSION:
                        return  # a rebuild is due: it folds these tracks too
                    registry = self._registry_in(conn)
                    for track in tracks:
                        events = self._reads.view_conn(conn, track, projector.position)
                        if events:
                            self._save_read_model(conn, track,
                                                  fold_all(track, events, registry),
                                                  locked.registry_version,
                                                  _own_version(track, events))
                return
            except ConsumerBusy:
                continue  # another projector moved on meanwhile: catch up, then refold

    def registry(self, known_at: dt.datetime | None = None) -> ActorRegistry:
        """The actor registry as the store knew it at ``known_at`` (default: now)."""
        return self._registry_at(self._reads.cut(known_at))

    # -- the registry: the events of its streams (REGISTRY_STREAMS: $actors, $topics) ----

    def _registry_in(self, conn: sa.Connection) -> ActorRegistry:
        """The registry as the log holds it, read on ``conn``."""
        return self._registry_of(self._reads.registry_streams(conn), None)

    def _registry_at(self, cut: int | None) -> ActorRegistry:
        """The registry as it stood at the position ``cut`` (None: now)."""
        return self._registry_of(self._reads.registry_streams(), cut)

    def _registry_of(self, streams: tuple[KeptTrack, ...], cut: int | None) -> ActorRegistry:
        """The registry of the registry streams' events up to ``cut``; the one built last
        is kept, and served again while those events are the same."""
        counts = tuple(len(kept.events) if cut is None
                       else bisect.bisect_right(kept.events, cut, key=_position_of)
                       for kept in streams)
        key = (tuple(id(kept) for kept in streams), counts)  # the kept lists are held below
        last = self._registry_kept
        if last is not None and last[0] == key:
            return last[2]
        registry = registry_of(event for kept, count in zip(streams, counts, strict=True)
                               for event in kept.events[:count])
        self._registry_kept = (key, streams, registry)
        return registry

    def project(self, track: str, *, as_of: dt.date | None = None,
                known_at: dt.datetime | None = None, possible: bool = False) -> TrackState:
        """Where ``track`` stands: as of a date of the world, as known at a moment of the store.
        See :meth:`EventStore.project`."""
        canonical = parse_track(track)
        if as_of is None and known_at is None and not possible:
            stored = self.current(canonical)
            if stored is not None:
                return stored
        cut, events, plain, registry = self._reads.view_at(canonical, known_at)
        return project(canonical, events, as_of=as_of, known_at=known_at, possible=possible,
                       registry=self._registry_of(registry, cut), plain=plain)

    def history(self, track: str, *, by: Literal["valid", "recorded"] = "valid",
                known_at: dt.datetime | None = None) -> list[Step]:
        """One step per fact of ``track``, each saying what it changed, with its citations."""
        canonical = parse_track(track)
        cut, events, _, registry = self._reads.view_at(canonical, known_at)
        return history(canonical, events, by=by, registry=self._registry_of(registry, cut))


class _RebuildDue(Exception):
    """The projector's versions changed between its probe and its batch's lock."""


#: Read model rows a rebuild keeps before writing them (each write one ``executemany``),
#: and the bytes of their stored states at most.
_PENDING_ROWS = 50
_PENDING_BYTES = 2**20  # (8 MiB of them raised the peak RSS of a rebuild by 15 MiB)


class _Pending:
    """Read model rows to write, new ones and rewritten ones, written together by
    :meth:`write` (an insert and an update, each of all the rows at once)."""

    def __init__(self, now: dt.datetime) -> None:
        self._now = now
        self._inserts: list[dict[str, Any]] = []
        self._updates: list[dict[str, Any]] = []
        self._bytes = 0

    def add(self, track: str, folded: Folded, registry_version: int, version: int, *,
            exists: bool) -> None:
        state = dump_folded(folded)
        values = {"version": version, "position": folded.state.position,
                  "registry_version": registry_version, "code_version": PROJECTION_VERSION,
                  "state": state, "updated_at": self._now}
        if exists:
            self._updates.append({"row_track": track, **values})
        else:
            self._inserts.append({"track": track, **values})
        self._bytes += len(state)

    def full(self) -> bool:
        return (len(self._inserts) + len(self._updates) >= _PENDING_ROWS
                or self._bytes >= _PENDING_BYTES)

    def write(self, conn: sa.Connection) -> None:
        if self._inserts:
            conn.execute(_INSERT_STATE, self._inserts)
        if self._updates:
            conn.execute(_UPDATE_STATE, self._updates)
        self._inserts, self._updates, self._bytes = [], [], 0


_INSERT_STATE = t.track_states.insert()
_UPDATE_STATE = t.track_states.update().where(
    t.track_states.c.track == sa.bindparam("row_track"))


#: What identifies a stored read model row: any rewrite of the row changes it.
_STATE_IDENTITY = (
    t.track_states.c.version.label("state_version"),
    t.track_states.c.position.label("state_position"),
    t.track_states.c.registry_version.label("state_registry_version"),
    t.track_states.c.code_version.label("state_code_version"),
    t.track_states.c.updated_at.label("state_updated_at"),
)


def _probe_query(*, track: bool = False, state: bool = False) -> sa.Select[Any]:
    """The projector's position and versions, the log's head and the registry's version,
    in one row (none before the first catch-up); with ``track``, the identity of the read
    model row of the track bound as ``:track`` too (``NULL`` when it has none), and with
    ``state`` its stored state. Each part is a primary-key or index seek. Built once, at
    import (the track is a parameter): building it per call took half the time of a
    current ``project(track)``."""
    p, e = t.consumers.c, t.events.c
    head = sa.select(sa.func.max(e.position)).scalar_subquery()
    # the registry's version: the sum of its streams' versions (see _registry_version)
    registry = functools.reduce(operator.add, (
        sa.func.coalesce(sa.select(sa.func.max(e.version)).where(e.track == stream)
                         .scalar_subquery(), 0)
        for stream in REGISTRY_STREAMS))
    query = sa.select(p.position, p.registry_version, p.code_version, head.label("head"),
                      registry.label("registry"))
    if not track:
        return query.where(p.name == PROJECTOR)
    s = t.track_states.c
    joined = t.consumers.outerjoin(t.track_states, s.track == sa.bindparam("track"))
    query = query.add_columns(*_STATE_IDENTITY)
    if state:
        query = query.add_columns(s.state)
    return query.select_from(joined).where(p.name == PROJECTOR)


#: The projector's probe (see :func:`_probe_query`).
_PROBE = _probe_query()
#: The same, with the identity of the read model row of ``:track``.
_PROBE_TRACK = _probe_query(track=True)
#: The same, with that row's stored state too.
_PROBE_TRACK_STATE = _probe_query(track=True, state=True)
#: A track's read model row: its identity and stored state.
_STATE_ROW = (sa.select(*_STATE_IDENTITY, t.track_states.c.state)
              .where(t.track_states.c.track == sa.bindparam("track")))


def _registry_version(conn: sa.Connection) -> int:
    """The registry's version: the sum of its streams' versions (each gapless, so it
    grows with every registration, of an actor or of a topic)."""
    return sum(track_versions(conn, set(REGISTRY_STREAMS)).values())


def _is_caught_up(probe: Any) -> bool:
    """Whether a :data:`_PROBE` row says the read models are current."""
    return not _rebuild_due(probe) and probe.position == (probe.head or 0)


def _rebuild_due(probe: Any) -> bool:
    """Whether a :data:`_PROBE` row says every track must be folded again: no read models
    yet, or folded by another projection code or with another actor registry."""
    return bool(probe is None or probe.code_version != PROJECTION_VERSION
                or probe.registry_version != (probe.registry or 0))


def _own_version(track: str, events: Sequence[RecordedEvent]) -> int:
    """The version of the track's own stream among the events of its view (0: none)."""
    return max((e.version for e in events if e.track == track), default=0)


def _position_of(event: RecordedEvent) -> int:
    return event.position


def _identity(row: Any) -> tuple[Any, ...]:
    return (row.state_version, row.state_position, row.state_registry_version,
            row.state_code_version, row.state_updated_at)
