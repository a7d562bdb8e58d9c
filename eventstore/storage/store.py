"""The event store: a small facade over the rooms of the storage shell.

:class:`EventStore` is the library's entry point. It holds no logic of its own: each
method hands the call to the room that owns its concern, and each room says in its
docstring what it owns and what it may import (docs/design.md draws them):

* ``db``: the engine, read and write transactions, the write lock;
* ``sources``: registering articles and finding them;
* ``append``: the write path (parse, check, resolve, chain, write);
* ``erasure``: erasure for a legal reason;
* ``reads``: reading the log, and the record-time cut;
* ``read_models``: the stored track states, and ``project``/``history``;
* ``auditing``: tree heads, proofs, checkpoints, verify, export/import, replay;
* ``subscriptions`` and ``consumers``: following the log as it grows, and named
  followers whose position is kept in the database;
* ``rows``: the only code that turns facts into rows and rows into events.

An ``EventStore`` may be shared by the threads of a process: the rooms keep no per-call
state, and what they keep between calls (decoded states and events, folded source texts,
the tree's right edge, the log's origin) sits in thread-safe caches or is replaced whole.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal

import attrs
import sqlalchemy as sa

from ..audit.checker import Report
from ..audit.verifier import SignerKey, VerifierKey
from ..errors import ValidationError
from ..events import Fact, RecordedEvent
from ..facts import SourceRegistered, short_text
from ..projection import ActorRegistry, Step, TrackState
from .append import (
    ANY,
    NO_STREAM,
    STREAM_EXISTS,
    Appended,
    Appender,
    AppendResult,
    Expected,
    ExpectedVersion,
)
from .auditing import Auditing, Change, Replay
from .consumers import Consumer, Consumers
from .db import Database
from .engine import Durability, check_schema, make_engine, resolve_url, upgrade
from .erasure import Erasure, Erasures
from .read_models import ReadModels
from .reads import Reads, TrackSummary
from .sources import CitedSpan, NewSource, Source, SourceInfo, Sources
from .subscriptions import Follower, Subscription, filters_of
from .tree import ConsistencyProof, InclusionProof, StoredCheckpoint, TreeHead

__all__ = ["EventStore", "ExpectedVersion", "ANY", "NO_STREAM", "STREAM_EXISTS",
           "AppendResult", "Appended", "NewSource", "SourceInfo", "Source", "CitedSpan",
           "Erasure", "Change", "Replay", "StoredCheckpoint", "TrackSummary",
           "Subscription", "Consumer"]


def _default_actor() -> str:
    actor = os.environ.get("EVENTSTORE_ACTOR")
    if actor:
        return actor
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


class EventStore:
    """An append-only log of cited facts in an SQLite or PostgreSQL database.

    Open one with :meth:`open` (a URL) or build it from an SQLAlchemy engine. Every
    method either does all it was asked or raises an :class:`EventStoreError` and
    writes nothing. One store may be used from several threads at once.
    """

    def __init__(self, engine: sa.Engine, *, actor: str | None = None,
                 check: bool = True, signer: SignerKey | None = None) -> None:
        self.engine = engine
        self.actor = actor or _default_actor()
        try:
            short_text(None, attrs.fields(SourceRegistered).title, self.actor)
        except (TypeError, ValueError) as err:
            raise ValidationError(str(err).replace("title", "actor", 1), where="actor") from None
        db = Database(engine)
        self.url = db.url
        self._sources = Sources(db)
        #: With a key, every append transaction also stores a checkpoint of the new tree
        #: head signed with it (docs/auditing.md#sign-every-append).
        self._appender = Appender(db, self._sources, self.actor, signer)
        self._reads = Reads(db)
        self._consumers = Consumers(db, self._reads)
        self._read_models = ReadModels(db, self._reads, self._consumers)
        self._erasures = Erasures(db, self._appender, self._sources, self._read_models)
        self._auditing = Auditing(db, self._reads, self._read_models, self.actor)
        self._db = db
        if check:
            check_schema(engine)

    @property
    def signer(self) -> SignerKey | None:
        """The key every append transaction signs a checkpoint with (None: no signing)."""
        return self._appender.signer

    @classmethod
    def open(cls, url: str | None = None, *, actor: str | None = None,
             durability: Durability = "full", create: bool = False,
             signer: SignerKey | None = None, **engine_options: Any) -> EventStore:
        """Open the store at ``url`` (default: ``$EVENTSTORE_URL`` or ``sqlite:///facts.db``).

        With ``create``, a missing database is created and migrated to the current schema
        (what ``eventstore init`` does); otherwise it must exist and be current. With a
        ``signer`` key, every append transaction also stores a signed checkpoint.
        """
        engine = make_engine(resolve_url(url), durability=durability, must_exist=not create,
                             **engine_options)
        if create:
            upgrade(engine)
        return cls(engine, actor=actor, signer=signer)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def add_source(self, data: bytes | str, *, title: str | None = None,
                   outlet: str | None = None, url: str | None = None,
                   published: str | None = None, language: str | None = None,
                   name: str = "source", body_from: str | None = None,
                   body_until: str | None = None) -> SourceInfo:
        """Register an article's text; the same text again returns the same id, writing nothing.

        The text must be non-empty UTF-8; it is stored normalised to NFC, identified by the
        SHA-256 of that form. Registration is an event (``source.registered``) in the log.
        ``body_from``/``body_until`` mark where the article's body starts and ends (see
        :class:`NewSource`); only the body can be cited.
        """
        return self.add_sources([NewSource(data=data, title=title, outlet=outlet, url=url,
                                           published=published, language=language,
                                           name=name, body_from=body_from,
                                           body_until=body_until)])[0]

    def add_sources(self, items: Sequence[NewSource]) -> list[SourceInfo]:
        """Register several sources in one transaction: all of them, or none if one is bad."""
        return self._sources.add(items, self._appender)

    def resolve_source_id(self, ref: str) -> str:
        """The full id of the source ``ref`` names: its id, or a unique prefix (≥ 8 hex digits)."""
        return self._sources.resolve(ref)

    def get_source(self, ref: str) -> Source:
        """A source's metadata and text, by id or unique prefix."""
        return self._sources.get(ref)

    def list_sources(self) -> list[SourceInfo]:
        """Every registered source, in the order they were registered."""
        return self._sources.registered()

    def citations_of(self, ref: str) -> list[CitedSpan]:
        """Every span of a source that stored events cite, in log order."""
        return self._sources.citations_of(ref)

    def append(self, track: str, facts: Iterable[Fact | Mapping[str, Any]],
               expected_version: Expected = ANY) -> AppendResult:
        """Append facts to one track, all or nothing; returns where each one stands.

        ``expected_version`` is :data:`ANY`, :data:`NO_STREAM`, :data:`STREAM_EXISTS` or the
        exact current version; a mismatch raises :class:`ConcurrencyError`. An event id that
        is already stored with the same content is not written again: its original position
        is returned. The same id with other content raises :class:`DuplicateEventError`.
        """
        return self._appender.append(track, facts, expected_version)

    def check(self, facts: Iterable[Fact | Mapping[str, Any]], *, track: str | None = None,
              expected_version: Expected = ANY, labels: Sequence[str] | None = None
              ) -> AppendResult:
        """Check facts exactly as an append would, and write nothing.

        With ``track``, as :meth:`append` (``track``, ``expected_version``); without, as
        :meth:`append_many`. Every fact is parsed and validated, its citations resolved
        against the stored sources, the events it refers to looked up, event ids already
        stored compared, expected versions checked: the first bad fact raises the error the
        append would raise. The result (``dry_run`` set) says where each fact would go if
        nothing else were appended meanwhile.
        """
        return self._appender.check(facts, track=track, expected_version=expected_version,
                                    labels=labels)

    def append_many(self, facts: Iterable[Fact | Mapping[str, Any]], *,
                    labels: Sequence[str] | None = None) -> AppendResult:
        """Append facts for any tracks in one transaction, all or nothing (expected: any).

        ``labels`` name each fact in error messages (``line 3`` for a JSONL file); by
        default they are ``facts[i]``.
        """
        return self._appender.append_many(facts, labels=labels)

    def erase_source(self, ref: str, *, reason: str) -> Erasure:
        """Erase a source's text, and the quotes of every citation of it, for a legal reason.

        The erasure is an event (``source.erased``, by this store's actor, with
        ``reason``) appended in the same transaction. The source's id, length and
        metadata, the citations' spans and every hash stay, so the chain, the tree, the
        proofs and the checkpoints stay valid; ``audit verify`` reports the source as
        erased. This is the only operation that changes what past answers show: the
        quotes are gone from every projection and replay, whatever its date.
        """
        return self._erasures.erase_source(ref, reason=reason)

    def erase_payload(self, event: uuid.UUID | str, *, reason: str) -> Erasure:
        """Erase a fact's payload (its data) for a legal reason.

        The erasure is an event (``payload.erased``, by this store's actor, with
        ``reason``) appended in the same transaction. The event's envelope, citations and
        hashes stay; reads give a :class:`~eventstore.facts.Redacted` in place of its
        data, projections list it under ``redacted``, and ``audit verify`` reports it as
        erased. Facts about facts (a retraction, a correction…), the store's own events
        and erasures cannot be erased. This is the only operation that changes what past
        answers show.
        """
        return self._erasures.erase_payload(event, reason=reason)

    def erasures(self) -> list[Erasure]:
        """Every erasure, in the order they were made."""
        return self._erasures.erasures()

    def catch_up(self, *, limit: int = 20_000) -> int:
        """Fold the events appended since the projector's position into the read models.

        The projector is the consumer ``$projections`` (docs/projections.md): each batch
        folds at most ``limit`` events and writes the touched tracks' states and its new
        position in one transaction. A new projection code version or a
        change to the actor registry rebuilds every track instead. Returns how many events
        were folded. ``project`` calls it before it serves a stored state.
        """
        return self._read_models.catch_up(limit=limit)

    def rebuild(self) -> int:
        """Refold every track's read model from the log; returns how many tracks."""
        return self._read_models.rebuild()

    def position_at(self, known_at: dt.datetime) -> int:
        """The last position recorded at or before ``known_at`` (0 if none)."""
        return self._reads.position_at(known_at)

    def registry(self, known_at: dt.datetime | None = None) -> ActorRegistry:
        """The actor registry as the store knew it at ``known_at`` (default: now)."""
        return self._read_models.registry(known_at)

    def project(self, track: str, *, as_of: dt.date | None = None,
                known_at: dt.datetime | None = None, possible: bool = False) -> TrackState:
        """Where ``track`` stands: as of a date of the world, as known at a moment of the store.

        ``as_of`` cuts valid time (facts that certainly happened by then; with ``possible``,
        also those that may have); ``known_at`` cuts record time (only what the store had
        recorded by then, later corrections included). See docs/projections.md.
        """
        return self._read_models.project(track, as_of=as_of, known_at=known_at, possible=possible)

    def history(self, track: str, *, by: Literal["valid", "recorded"] = "valid",
                known_at: dt.datetime | None = None) -> list[Step]:
        """One step per fact of ``track``, each saying what it changed, with its citations."""
        return self._read_models.history(track, by=by, known_at=known_at)

    def tracks(self) -> list[TrackSummary]:
        """Every bilateral track with its number of events and the span of its dates."""
        return self._reads.tracks()

    def origin(self) -> str:
        """The log's name in checkpoints: ``eventstore/`` and 16 hex digits of its first
        event's hash, so that a log rebuilt from scratch is another log."""
        return self._auditing.origin()

    def tree_head(self, size: int | None = None) -> TreeHead:
        """The root of the tree over the first ``size`` events (default: all of them)."""
        return self._auditing.tree_head(size)

    def inclusion_proof(self, event: uuid.UUID | str | int, size: int | None = None
                        ) -> tuple[RecordedEvent, InclusionProof]:
        """The event (by id, or by position) and the proof that it is in the tree of
        ``size`` (default: the whole log)."""
        return self._auditing.inclusion_proof(event, size)

    def consistency_proof(self, size1: int, size2: int | None = None) -> ConsistencyProof:
        """The proof that the tree of ``size1`` is a prefix of that of ``size2``."""
        return self._auditing.consistency_proof(size1, size2)

    def checkpoint(self, key: SignerKey) -> StoredCheckpoint:
        """Sign the current tree head (a C2SP checkpoint) and keep it in the database."""
        return self._auditing.checkpoint(key)

    def checkpoints(self) -> list[StoredCheckpoint]:
        """Every checkpoint the store issued, oldest first."""
        return self._auditing.checkpoints()

    def verify(self, keys: Sequence[VerifierKey] = (), *,
               require_signed: bool = False) -> Report:
        """Check the whole stored log (see :mod:`eventstore.audit.checker`): chain, record times,
        versions, payloads, citations against their sources, the tree, every checkpoint,
        and that the immutability triggers are in place. ``keys``: the verifier keys you
        trust. The report says how many events at the log's end no signed checkpoint
        covers (:attr:`Report.unsigned`); with ``require_signed`` any such event is a
        problem (see docs/auditing.md#who-can-forge-what)."""
        return self._auditing.verify(keys, require_signed=require_signed)

    def export(self) -> Iterator[str]:
        """The whole log as JSON lines (``docs/auditing.md``), a page at a time."""
        return self._auditing.export()

    def import_export(self, lines: Callable[[], Iterable[str | bytes]], name: str = "export",
                      keys: Sequence[VerifierKey] = ()) -> Report:
        """Load an export into this empty store, after checking all of it.

        ``lines`` is called twice (check, then load), each call giving the lines anew: the
        file's lines split on ``\\n`` only, as text or UTF-8 bytes (a file opened ``"rb"``).
        Nothing is written unless the whole export checks out; a line that is not strict
        JSON (see :mod:`eventstore.jsonl`) raises :class:`AuditError` naming it.
        """
        return self._auditing.import_export(lines, name, keys)

    def replay(self, to: dt.datetime, *, track: str | None = None,
               checkpoint: str | None = None, key: VerifierKey | None = None,
               changes_limit: int = 1_000) -> Replay:
        """What the store knew at record time ``to``: the track states as they stood then,
        and what was recorded since (facts added, retracted, corrected).

        With a ``checkpoint`` (a signed note, checked with ``key``), the log is first
        checked from its start to the larger of the checkpoint's size and the replayed
        prefix, and the checkpoint's root must be the log's at its size; every event after
        the prefix must have been recorded after ``to``. When that check fails, no track
        state is given (``states`` is empty): the report says why.
        """
        return self._auditing.replay(to, track=track, checkpoint=checkpoint, key=key,
                                     changes_limit=changes_limit)

    def head(self) -> tuple[int, str]:
        """The last position and its hash (``(0, GENESIS_HASH)`` for an empty log)."""
        return self._reads.head()

    def track_version(self, track: str) -> int:
        """The current version of a track (0 when it has no events)."""
        return self._reads.track_version(track)

    def read_all(self, from_position: int = 1, limit: int | None = None, *,
                 track: str | None = None,
                 types: Iterable[str] | None = None) -> Iterator[RecordedEvent]:
        """Stream events in position order from ``from_position``, a page at a time.

        Memory stays constant whatever the size of the log. A reader that remembers the
        last position it saw and calls again from the next one never misses an event.
        """
        return self._reads.read_all(from_position, limit, track=track, types=types)

    def read_track(self, track: str, from_version: int = 1) -> Iterator[RecordedEvent]:
        """Stream one track's events in version order from ``from_version``."""
        return self._reads.read_track(track, from_version)

    def get_event(self, event_id: uuid.UUID | str) -> RecordedEvent:
        """One event by its id, or :class:`EventNotFound`."""
        return self._reads.get_event(event_id)

    def subscribe(self, from_position: int = 0, *,
                  tracks: Iterable[str] | str | None = None,
                  types: Iterable[str] | str | None = None,
                  poll_interval: float | None = None,
                  on_caught_up: Callable[[int], None] | None = None) -> Subscription:
        """Follow the log: the events after ``from_position`` (0: from the start;
        ``store.head()[0]``: only new ones), then each new one as it commits, in position
        order, each once, until the subscription is stopped or closed.

        ``tracks`` and ``types`` filter (a malformed track or an unknown type is an
        error, as is a position beyond the log's head). ``on_caught_up(position)`` is
        called once everything committed has been handed over, and again after each
        new burst of events. On PostgreSQL new
        events wake the subscription at once (LISTEN/NOTIFY) and it polls every second
        besides; on SQLite it polls every 50 ms (``poll_interval``). See
        docs/following.md.
        """
        filters = filters_of(tracks, types)
        if isinstance(from_position, bool) or not isinstance(from_position, int) \
                or from_position < 0:
            raise ValidationError(f"a position is a whole number ≥ 0, not {from_position!r}",
                                  where="from_position")
        head, _ = self._reads.head()
        if from_position > head:
            raise ValidationError(f"position {from_position} is beyond the log's head "
                                  f"({head})", where="from_position")
        return Subscription(Follower(self._db, self._reads, from_position, filters,
                                     poll_interval), on_caught_up)

    def consumer(self, name: str, *, create: bool = False, start: int = 0,
                 tracks: Iterable[str] | str | None = None,
                 types: Iterable[str] | str | None = None) -> Consumer:
        """The named consumer ``name``, whose position the database keeps (see
        :class:`Consumer`); with ``create``, a new one starts after position ``start``.

        An unknown name without ``create`` raises :class:`ConsumerNotFound`; on
        PostgreSQL a consumer open in another process raises :class:`ConsumerBusy`.
        ``tracks`` and ``types`` filter what it is handed.
        """
        return self._consumers.open(name, create=create, start=start, tracks=tracks,
                                    types=types)
