"""The event store: register sources, append cited facts, read the log back.

This is the imperative shell around the pure core: it resolves citations against
stored sources, assigns positions, versions and record times under the write lock,
chains the hashes, and writes each batch in one transaction (all or nothing).
"""

from __future__ import annotations

import bisect
import datetime as dt
import enum
import getpass
import json
import os
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal

import attrs
import sqlalchemy as sa

from ..audit import Report, check_prefix
from ..codec import (
    GENESIS_HASH,
    canonical_json,
    decode_stored,
    envelope_json,
    parse_uuid,
    sha256_hex,
    structure_data,
    unstructure_data,
)
from ..dates import ValidTime, parse_valid_time
from ..errors import (
    AmbiguousSourcePrefix,
    AuditError,
    ConcurrencyError,
    DuplicateEventError,
    ErasureError,
    EventNotFound,
    EventStoreError,
    IntegrityError,
    SourceError,
    SourceNotFound,
    ValidationError,
)
from ..events import Fact, RecordedEvent, _utc_text, citations_bytes, envelope_dict, fact_from_dict
from ..facts import (
    FactCorrected,
    FactData,
    MetaFact,
    PayloadErased,
    Redacted,
    SameEvent,
    SourceErased,
    SourceRegistered,
    fact_class,
    long_text,
    short_text,
)
from ..merkle import Frontier
from ..projection import (
    PROJECTION_VERSION,
    ActorRegistry,
    Folded,
    Plain,
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
from ..sources import (
    Citation,
    CitationRequest,
    FoldedText,
    locate_marker,
    prepare_source_text,
    resolve_citation,
)
from ..tracks import ACTORS_STREAM, FIXED_STREAMS, parse_track
from ..verifier import (
    Checkpoint,
    SignerKey,
    VerificationError,
    VerifierKey,
    open_checkpoint,
    sign_checkpoint,
)
from . import schema as t
from . import tree, verify
from .bulk import BulkInsert, sqlite_datetime
from .engine import (
    LOCK_TIMEOUT_SECONDS,
    WRITE_OPTION,
    Durability,
    check_schema,
    make_engine,
    resolve_url,
    safe_url,
    upgrade,
)
from .errors import translated
from .states import EventCache, KeptTrack, StateCache
from .tree import ConsistencyProof, InclusionProof, TreeHead

__all__ = ["EventStore", "ExpectedVersion", "ANY", "NO_STREAM", "STREAM_EXISTS",
           "AppendResult", "Appended", "NewSource", "SourceInfo", "Source", "CitedSpan",
           "Erasure"]

#: Rows per page when streaming the log (memory stays constant whatever the log's size).
PAGE_SIZE = 1000
#: Bound parameters per ``IN (...)`` query.
_CHUNK = 500
#: Sources whose folded text is kept in memory for locating quotes.
_SOURCE_CACHE_SIZE = 64


class ExpectedVersion(enum.Enum):
    """What the caller expects of a track before appending (EventStoreDB's vocabulary).

    Besides these, an ``int`` means "the track is at exactly this version" (0 = empty).
    """

    ANY = "any"
    NO_STREAM = "no-stream"
    STREAM_EXISTS = "stream-exists"


ANY = ExpectedVersion.ANY
NO_STREAM = ExpectedVersion.NO_STREAM
STREAM_EXISTS = ExpectedVersion.STREAM_EXISTS
Expected = ExpectedVersion | int


@attrs.frozen
class StoredCheckpoint:
    """A signed tree head the store issued: the checkpoint and its whole signed note."""

    id: int
    checkpoint: Checkpoint
    note: str
    key_name: str
    key_id: str
    verifier_key: str
    created_at: dt.datetime
    created_by: str


@attrs.frozen
class Change:
    """An event recorded after a replayed moment: a fact added, or one retracted/corrected."""

    position: int
    event_id: str
    track: str
    type: str
    recorded_at: dt.datetime
    kind: Literal["added", "retracted", "corrected", "erased"]
    #: the event a retraction, correction or payload erasure points at; an erased source's id
    target: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"position": self.position, "event_id": self.event_id, "track": self.track,
                "type": self.type, "recorded_at": self.recorded_at.isoformat(),
                "kind": self.kind, "target": self.target}


@attrs.frozen
class Replay:
    """What the store knew at ``known_at``, and what it learned since."""

    known_at: dt.datetime
    position: int  # the last position recorded by then
    size: int  # events in the log now
    states: tuple[TrackState, ...]
    changes: tuple[Change, ...]  # the first ones recorded since (up to a limit)
    counts: dict[str, int]  # all of them, by kind (added, retracted, corrected, erased)
    check: Report | None  # the check of the log against the given checkpoint


def _change_kind(type_name: str) -> Literal["added", "retracted", "corrected", "erased"]:
    if type_name == "fact.retracted":
        return "retracted"
    if type_name == "fact.corrected":
        return "corrected"
    if type_name in ("payload.erased", "source.erased"):
        return "erased"
    return "added"


def _target_of(type_name: str, body: str | None) -> str | None:
    if type_name not in ("fact.retracted", "fact.corrected", "payload.erased",
                         "source.erased") or body is None:
        return None
    data = json.loads(body)
    target = data.get("source") if type_name == "source.erased" else data.get("event")
    return None if target is None else str(target)


@attrs.frozen
class Appended:
    """Where one appended event stands: ``new`` is False when it was already stored."""

    event_id: uuid.UUID
    position: int
    track: str
    version: int
    new: bool


@attrs.frozen
class AppendResult:
    """What an append wrote (or found already written), in the order given."""

    events: tuple[Appended, ...]

    @property
    def positions(self) -> tuple[int, ...]:
        return tuple(e.position for e in self.events)

    @property
    def written(self) -> int:
        return sum(1 for e in self.events if e.new)


@attrs.frozen
class SourceInfo:
    """A registered source's metadata. ``new`` is False when the text was already stored."""

    id: str
    original_sha256: str
    length: int
    body_start: int
    body_end: int
    title: str | None
    outlet: str | None
    url: str | None
    published: str | None
    language: str | None
    position: int
    new: bool = False
    #: What the caller gave that differs from the stored registration (which never changes).
    ignored: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self) | {"ignored": list(self.ignored)}


@attrs.frozen
class NewSource:
    """A source to register: its bytes (or text) and what is known about it."""

    data: bytes | str
    title: str | None = None
    outlet: str | None = None
    url: str | None = None
    published: str | None = None
    language: str | None = None
    #: How error messages name it (a file name).
    name: str = "source"
    #: The article's body starts where this text first occurs (default: at the start).
    body_from: str | None = None
    #: The body ends where this text first occurs after its start: the page furniture
    #: (unrelated headlines, share buttons) from there on can never be cited.
    body_until: str | None = None


def _body(item: NewSource, text: str) -> tuple[int, int]:
    start, end = 0, len(text)
    if item.body_from is not None:
        found = locate_marker(text, item.body_from)
        if found is None:
            raise ValidationError(f"--body-from text {item.body_from!r} is not in the source",
                                  where=item.name)
        start = found
    if item.body_until is not None:
        found = locate_marker(text, item.body_until, after=start + 1)
        if found is None:
            raise ValidationError(f"--body-until text {item.body_until!r} is not in the "
                                  "source after the body's start", where=item.name)
        end = found
    if not text[start:end].strip():
        raise ValidationError("the body is empty", where=item.name)
    return start, end


_METADATA = ("title", "outlet", "url", "published", "language", "body_start", "body_end")


def _check_source(item: NewSource) -> tuple[str, SourceRegistered]:
    raw = item.data.encode("utf-8") if isinstance(item.data, str) else item.data
    text, source_id, original = prepare_source_text(raw, item.name)
    body_start, body_end = _body(item, text)
    if item.published is not None:
        try:
            parse_valid_time(item.published)
        except ValidationError as err:
            raise err.at(f"{item.name}: published") from None
    try:
        payload = SourceRegistered(source=source_id, original_sha256=original, length=len(text),
                                   body_start=body_start, body_end=body_end,
                                   title=item.title, outlet=item.outlet, url=item.url,
                                   published=item.published, language=item.language)
    except (TypeError, ValueError) as err:
        raise ValidationError(str(err), where=item.name) from None
    return text, payload


@attrs.frozen
class Erasure:
    """An erasure for a legal reason: what was erased, by whom, when, and why.

    ``kind`` is ``source`` (a source's text and the quotes of its citations; ``target``
    is the source id) or ``payload`` (a fact's data; ``target`` is its event id and
    ``position`` where it stands). ``event_id``/``at``: the erasure event itself.
    """

    kind: Literal["source", "payload"]
    target: str
    reason: str
    erased_at: dt.datetime
    erased_by: str
    event_id: str
    at: int  # the erasure event's position
    position: int | None = None  # of the erased payload
    #: What the erasure did (only on what ``erase_*`` returns; not part of equality):
    #: quotes blanked (source) or citations kept (payload), and whose answers changed.
    citations: int = attrs.field(default=0, eq=False)
    tracks: tuple[str, ...] = attrs.field(default=(), eq=False)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "target": self.target, "reason": self.reason,
                "erased_at": _utc_text(self.erased_at), "erased_by": self.erased_by,
                "event_id": self.event_id, "at": self.at, "position": self.position,
                "citations": self.citations, "tracks": list(self.tracks)}


@attrs.frozen
class Source:
    """A source with its text (None when the text was erased: see ``erasure``)."""

    info: SourceInfo
    text: str | None
    erasure: Erasure | None = None


@attrs.frozen
class TrackSummary:
    """A track's size and date span (``eventstore tracks``)."""

    track: str
    events: int
    first: dt.date | None
    last: dt.date | None
    position: int

    def to_dict(self) -> dict[str, Any]:
        return {"track": self.track, "events": self.events,
                "first": self.first.isoformat() if self.first else None,
                "last": self.last.isoformat() if self.last else None,
                "position": self.position}


@attrs.frozen
class CitedSpan:
    """A span of a source that a stored event cites."""

    position: int
    event_id: uuid.UUID
    type: str
    citation: Citation


@attrs.frozen
class _Prepared:
    """An event ready to be written: everything but what the store assigns under the lock."""

    event_id: uuid.UUID
    caller_id: bool
    track: str
    type: str
    schema_version: int
    valid: ValidTime | None
    correlation_id: uuid.UUID | None
    causation_id: uuid.UUID | None
    payload_body: str
    payload_hash: str
    citations: tuple[Citation, ...]
    citations_hash: str


def _default_actor() -> str:
    actor = os.environ.get("EVENTSTORE_ACTOR")
    if actor:
        return actor
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _opt_uuid(value: str | None) -> uuid.UUID | None:
    return None if value is None else uuid.UUID(value)


class EventStore:
    """An append-only log of cited facts in an SQLite or PostgreSQL database.

    Open one with :meth:`open` (a URL) or build it from an SQLAlchemy engine. Every
    method either does all it was asked or raises an :class:`EventStoreError` and
    writes nothing.
    """

    def __init__(self, engine: sa.Engine, *, actor: str | None = None,
                 check: bool = True) -> None:
        self.engine = engine
        self.url = safe_url(engine.url)
        self.actor = actor or _default_actor()
        try:
            short_text(None, attrs.fields(SourceRegistered).title, self.actor)
        except (TypeError, ValueError) as err:
            raise ValidationError(str(err).replace("title", "actor", 1), where="actor") from None
        self._sqlite = engine.dialect.name == "sqlite"
        self._bulk = BulkInsert(engine.dialect)
        self._known_sources: set[str] = set()
        self._folded: OrderedDict[str, tuple[FoldedText, tuple[int, int]]] = OrderedDict()
        self._states = StateCache()
        self._event_cache = EventCache()
        #: The tree's right edge after this store's last append: (size, head hash, edge).
        self._edge: tuple[int, str, Frontier] | None = None
        if check:
            check_schema(engine)

    @classmethod
    def open(cls, url: str | None = None, *, actor: str | None = None,
             durability: Durability = "full", create: bool = False,
             **engine_options: Any) -> EventStore:
        """Open the store at ``url`` (default: ``$EVENTSTORE_URL`` or ``sqlite:///facts.db``).

        With ``create``, a missing database is created and migrated to the current schema
        (what ``eventstore init`` does); otherwise it must exist and be current.
        """
        engine = make_engine(resolve_url(url), durability=durability, must_exist=not create,
                             **engine_options)
        if create:
            upgrade(engine)
        return cls(engine, actor=actor)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- transactions ---------------------------------------------------------------

    def _writer(self) -> sa.Connection:
        """A connection for one append transaction.

        On PostgreSQL it always runs at READ COMMITTED, whatever the server's or the
        engine's default: the reads after ``LOCK TABLE`` must see the writer that held the
        lock before, which an older snapshot (REPEATABLE READ, SERIALIZABLE) would not.
        """
        conn = self.engine.connect().execution_options(**{WRITE_OPTION: True})
        if not self._sqlite:
            conn = conn.execution_options(isolation_level="READ COMMITTED")
        return conn

    def _lock(self, conn: sa.Connection) -> None:
        """Serialise appends: position order is then commit order (see docs/concurrency.md)."""
        if not self._sqlite:  # SQLite's writer lock was taken by BEGIN IMMEDIATE
            conn.execute(sa.select(sa.func.set_config("lock_timeout",
                                                      f"{LOCK_TIMEOUT_SECONDS}s", True)))
            conn.exec_driver_sql("LOCK TABLE events IN SHARE ROW EXCLUSIVE MODE")

    # -- sources --------------------------------------------------------------------

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
        prepared: dict[str, tuple[_Prepared, str, SourceRegistered]] = {}
        order = []
        for item in items:
            text, payload = _check_source(item)
            order.append(payload.source)
            if payload.source not in prepared:
                prepared[payload.source] = (self._prepare_system(payload), text, payload)
        with translated(self.url), self._writer() as conn, conn.begin():
            self._lock(conn)
            stored = set(conn.execute(sa.select(t.sources.c.id)
                                      .where(t.sources.c.id.in_(list(prepared)))).scalars())
            fresh = [source_id for source_id in prepared if source_id not in stored]
            appended = self._write(conn, [prepared[s][0] for s in fresh], {})
            for source_id, where in zip(fresh, appended, strict=True):
                _, text, payload = prepared[source_id]
                conn.execute(t.sources.insert(), {
                    "id": source_id, "original_sha256": payload.original_sha256,
                    "length": payload.length, "body_start": payload.body_start,
                    "body_end": payload.body_end, "title": payload.title, "outlet": payload.outlet,
                    "url": payload.url, "published": payload.published,
                    "language": payload.language, "position": where.position})
                conn.execute(t.source_texts.insert(), {"source_id": source_id, "text": text})
        infos = []
        for item, source_id in zip(items, order, strict=True):
            info = self._source_info(source_id)
            assert info is not None
            given = prepared[source_id][2]
            ignored = tuple(name for name in _METADATA if getattr(given, name) is not None
                            and getattr(given, name) != getattr(info, name))
            if item.body_from is None and item.body_until is None:
                ignored = tuple(n for n in ignored if not n.startswith("body_"))
            infos.append(attrs.evolve(info, new=source_id in fresh, ignored=ignored))
        return infos

    def _source_info(self, source_id: str) -> SourceInfo | None:
        with translated(self.url), self.engine.connect() as conn:
            row = conn.execute(sa.select(t.sources).where(t.sources.c.id == source_id)).first()
        return None if row is None else SourceInfo(**row._asdict())

    def resolve_source_id(self, ref: str) -> str:
        """The full id of the source ``ref`` names: its id, or a unique prefix (≥ 8 hex digits)."""
        prefix = ref.strip().lower() if isinstance(ref, str) else ""
        if len(prefix) < 8 or len(prefix) > 64 or any(c not in "0123456789abcdef" for c in prefix):
            raise SourceNotFound(f"{ref!r} is not a source id: give the id or a prefix of at "
                                 "least 8 hex digits (see `eventstore source list`)")
        if prefix in self._known_sources:  # a full id seen before: sources never go away
            return prefix
        upper = prefix + "g"  # every id with this prefix sorts in [prefix, prefix + "g")
        with translated(self.url), self.engine.connect() as conn:
            rows = conn.execute(sa.select(t.sources.c.id)
                                .where(t.sources.c.id >= prefix, t.sources.c.id < upper)
                                .order_by(t.sources.c.id).limit(6)).scalars().all()
        if not rows:
            raise SourceNotFound(f"no source has the id {ref!r} "
                                 "(see `eventstore source list`)")
        if len(rows) > 1:
            raise AmbiguousSourcePrefix(f"source prefix {ref!r} is ambiguous: it matches "
                                        + ", ".join(r[:16] for r in rows[:5])
                                        + "; give more digits")
        self._known_sources.add(str(rows[0]))  # only full ids: a prefix may turn ambiguous
        return str(rows[0])

    def get_source(self, ref: str) -> Source:
        """A source's metadata and text, by id or unique prefix."""
        source_id = self.resolve_source_id(ref)
        with translated(self.url), self.engine.connect() as conn:
            row = conn.execute(sa.select(t.sources, t.source_texts.c.text)
                               .join(t.source_texts, t.source_texts.c.source_id == t.sources.c.id,
                                     isouter=True)
                               .where(t.sources.c.id == source_id)).one()
            erasure = None if row.text is not None else _erasure_of(conn, source_id=source_id)
        fields = row._asdict()
        text = fields.pop("text")
        return Source(info=SourceInfo(**fields), text=text, erasure=erasure)

    def list_sources(self) -> list[SourceInfo]:
        """Every registered source, in the order they were registered."""
        with translated(self.url), self.engine.connect() as conn:
            rows = conn.execute(sa.select(t.sources).order_by(t.sources.c.position)).all()
        return [SourceInfo(**row._asdict()) for row in rows]

    def citations_of(self, ref: str) -> list[CitedSpan]:
        """Every span of a source that stored events cite, in log order."""
        source_id = self.resolve_source_id(ref)
        query = (sa.select(t.citations, t.events.c.event_id, t.events.c.type)
                 .join(t.events, t.events.c.position == t.citations.c.position)
                 .where(t.citations.c.source_id == source_id)
                 .order_by(t.citations.c.position, t.citations.c.ordinal))
        with translated(self.url), self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [CitedSpan(position=r.position, event_id=uuid.UUID(r.event_id), type=r.type,
                          citation=_citation(r)) for r in rows]

    def _folded_text(self, source_id: str) -> tuple[FoldedText, tuple[int, int]]:
        """A source's folded text and body, cached (sources never change)."""
        folded = self._folded.get(source_id)
        if folded is None:
            query = (sa.select(t.source_texts.c.text, t.sources.c.body_start,
                               t.sources.c.body_end)
                     .join(t.sources, t.sources.c.id == t.source_texts.c.source_id)
                     .where(t.source_texts.c.source_id == source_id))
            with translated(self.url), self.engine.connect() as conn:
                row = conn.execute(query).first()
                erasure = None if row is not None else _erasure_of(conn, source_id=source_id)
            if row is None:
                when = (f" on {_utc_text(erasure.erased_at)} by {erasure.erased_by} "
                        f"({erasure.reason})") if erasure else ""
                raise SourceError(f"source {source_id[:16]} was erased{when}: its text is gone "
                                  "and it can no longer be cited")
            folded = (FoldedText.of(row.text), (row.body_start, row.body_end))
            self._folded[source_id] = folded
            if len(self._folded) > _SOURCE_CACHE_SIZE:
                self._folded.popitem(last=False)
        else:
            self._folded.move_to_end(source_id)
        return folded

    # -- append ---------------------------------------------------------------------

    def append(self, track: str, facts: Iterable[Fact | Mapping[str, Any]],
               expected_version: Expected = ANY) -> AppendResult:
        """Append facts to one track, all or nothing; returns where each one stands.

        ``expected_version`` is :data:`ANY`, :data:`NO_STREAM`, :data:`STREAM_EXISTS` or the
        exact current version; a mismatch raises :class:`ConcurrencyError`. An event id that
        is already stored with the same content is not written again: its original position
        is returned. The same id with other content raises :class:`DuplicateEventError`.
        """
        canonical = _stream_name(track)
        items = [dict(f, track=f.get("track", canonical)) if isinstance(f, Mapping) else f
                 for f in facts]
        parsed = self._parse(items, None)
        for index, fact in enumerate(parsed):
            if fact.track != canonical:
                raise ValidationError(f"the fact is for track {fact.track}, not {canonical}",
                                      where=f"facts[{index}].track")
        return self._append(parsed, {canonical: expected_version}, None)

    def append_many(self, facts: Iterable[Fact | Mapping[str, Any]], *,
                    labels: Sequence[str] | None = None) -> AppendResult:
        """Append facts for any tracks in one transaction, all or nothing (expected: any).

        ``labels`` name each fact in error messages (``line 3`` for a JSONL file); by
        default they are ``facts[i]``.
        """
        items = list(facts)
        return self._append(self._parse(items, labels), {}, labels)

    @staticmethod
    def _parse(items: Sequence[Fact | Mapping[str, Any]],
               labels: Sequence[str] | None) -> list[Fact]:
        parsed = []
        for index, item in enumerate(items):
            try:
                if isinstance(item, Fact):
                    _check_built(item)
                    parsed.append(item)
                else:
                    parsed.append(fact_from_dict(item))
            except ValidationError as err:
                raise err.at(labels[index] if labels else f"facts[{index}]") from None
        return parsed

    def _append(self, facts: list[Fact], expected: Mapping[str, Expected],
                labels: Sequence[str] | None) -> AppendResult:
        for value in expected.values():
            if not isinstance(value, ExpectedVersion) and (
                    isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise ValidationError(f"expected_version {value!r} is not any, no-stream, "
                                      "stream-exists or a version number ≥ 0")
        refs: dict[str, str] = {}  # source reference → full id, for this batch
        names = [labels[i] if labels else f"facts[{i}]" for i in range(len(facts))]
        self._check_references(facts, names)
        prepared = [self._prepare(fact, name, refs)
                    for fact, name in zip(facts, names, strict=True)]
        with translated(self.url), self._writer() as conn, conn.begin():
            self._lock(conn)
            return AppendResult(events=tuple(self._write(conn, prepared, expected)))

    def _check_references(self, facts: Sequence[Fact], labels: Sequence[str]) -> None:
        """Facts about facts must name an event of their own track (stored or in the batch).

        A correction's data must fit the type of the fact it corrects. Events are never
        deleted, so what is checked here before the write lock still holds under it.
        """
        in_batch = {str(f.event_id): (f.track, f.type) for f in facts if f.event_id}
        wanted = {ref for f in facts if isinstance(f.data, MetaFact)
                  for ref in _references(f.data)} - set(in_batch)
        stored: dict[str, tuple[str, str]] = {}
        if wanted:
            with translated(self.url), self.engine.connect() as conn:
                for chunk in _chunks(sorted(wanted)):
                    query = (sa.select(t.events.c.event_id, t.events.c.track, t.events.c.type)
                             .where(t.events.c.event_id.in_(chunk)))
                    stored.update({r.event_id: (r.track, r.type) for r in conn.execute(query)})
        known = stored | in_batch
        for fact, label in zip(facts, labels, strict=True):
            if isinstance(fact.data, MetaFact):
                _check_targets(fact, known, label)

    def _prepare(self, fact: Fact, label: str, refs: dict[str, str]) -> _Prepared:
        citations = []
        for index, request in enumerate(fact.citations):
            where = f"{label}: citations[{index}]"
            citations.append(self._resolve(request, where, refs))
        payload_body = canonical_json(unstructure_data(fact.data)).decode("utf-8")
        resolved = tuple(citations)
        return _Prepared(
            event_id=fact.event_id or uuid.uuid4(), caller_id=fact.event_id is not None,
            track=fact.track, type=fact.type, schema_version=fact.data.schema_version,
            valid=fact.valid, correlation_id=fact.correlation_id,
            causation_id=fact.causation_id, payload_body=payload_body,
            payload_hash=sha256_hex(payload_body.encode("utf-8")), citations=resolved,
            citations_hash=sha256_hex(citations_bytes(resolved)))

    def _resolve(self, request: CitationRequest, where: str, refs: dict[str, str]) -> Citation:
        source_id = refs.get(request.source)
        if source_id is None:
            try:
                source_id = self.resolve_source_id(request.source)
            except SourceError as err:
                raise type(err)(f"{where}.source: {err}") from None
            refs[request.source] = source_id
        try:
            folded, body = self._folded_text(source_id)
            return resolve_citation(folded, source_id, request.quote, request.start,
                                    request.end, body=body)
        except ValidationError as err:
            raise err.at(where) from None

    def _prepare_system(self, data: FactData) -> _Prepared:
        """An event the store writes about itself, on its type's fixed stream."""
        assert data.stream is not None
        payload_body = canonical_json(unstructure_data(data)).decode("utf-8")
        return _Prepared(
            event_id=uuid.uuid4(), caller_id=False, track=data.stream, type=data.type_name,
            schema_version=data.schema_version, valid=None, correlation_id=None,
            causation_id=None, payload_body=payload_body,
            payload_hash=sha256_hex(payload_body.encode("utf-8")), citations=(),
            citations_hash=sha256_hex(citations_bytes(())))

    def _write(self, conn: sa.Connection, prepared: list[_Prepared],
               expected: Mapping[str, Expected]) -> list[Appended]:
        """Write prepared events under the lock: dedupe, check versions, chain, insert."""
        results: list[Appended | None] = [None] * len(prepared)
        fresh = self._dedupe(conn, prepared, results)
        if fresh or not prepared:
            tracks = {prepared[i].track for i in fresh} | set(expected)
            versions = self._versions(conn, tracks)
            for track, wanted in expected.items():
                _check_expected(track, wanted, versions.get(track, 0))
            if fresh:
                self._insert(conn, [prepared[i] for i in fresh], versions, fresh, results)
        return [r for r in results if r is not None]

    def _dedupe(self, conn: sa.Connection, prepared: list[_Prepared],
                results: list[Appended | None]) -> list[int]:
        """Fill ``results`` for events already stored; return the indexes still to write."""
        supplied = [str(p.event_id) for p in prepared if p.caller_id]
        if len(set(supplied)) != len(supplied):
            twice = next(e for e in supplied if supplied.count(e) > 1)
            raise ValidationError(f"event id {twice} appears twice in the batch")
        stored: dict[str, Any] = {}
        for chunk in _chunks(supplied):
            rows = conn.execute(sa.select(t.events).where(t.events.c.event_id.in_(chunk)))
            stored.update({row.event_id: row for row in rows})
        fresh = []
        for index, item in enumerate(prepared):
            row = stored.get(str(item.event_id))
            if row is None:
                fresh.append(index)
                continue
            if _content(row) != _content_of(item):
                raise DuplicateEventError(
                    f"event id {item.event_id} is already stored (position {row.position}) with "
                    "different content; an event is never changed: append a correction instead")
            results[index] = Appended(event_id=item.event_id, position=row.position,
                                      track=row.track, version=row.version, new=False)
        return fresh

    @staticmethod
    def _versions(conn: sa.Connection, tracks: set[str]) -> dict[str, int]:
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

    def _insert(self, conn: sa.Connection, items: list[_Prepared], versions: dict[str, int],
                indexes: list[int], results: list[Appended | None]) -> None:
        head = conn.execute(_HEAD).first()
        position, prev_hash = (head.position, head.hash) if head else (0, GENESIS_HASH)
        now = dt.datetime.now(dt.UTC)
        if head is not None:
            # Record time never goes backwards, and each append gets its own instant, so
            # that "known at T" always separates one append from the next.
            now = max(now, _utc(head.recorded_at) + dt.timedelta(microseconds=1))
        sqlite = self._sqlite
        stamp: Any = sqlite_datetime(now.replace(tzinfo=None)) if sqlite else now
        # The tree's right edge: kept from this store's last append when the log's head is
        # still the event it ended with (the head's hash fixes every leaf before it), else
        # read; a log written before the tree existed gets its tree rows first.
        kept = self._edge
        if (kept is not None and head is not None and head.in_tree
                and (kept[0], kept[1]) == (position, prev_hash)):
            edge = kept[2].copy()
        else:
            edge = tree.frontier(conn, position) or tree.extend(conn, position)
        event_rows: list[dict[str, Any]] = []
        payload_rows: list[dict[str, Any]] = []
        citation_rows: list[dict[str, Any]] = []
        node_rows: list[dict[str, Any]] = []
        for index, item in zip(indexes, items, strict=True):
            position += 1
            version = versions.get(item.track, 0) + 1
            versions[item.track] = version
            envelope = envelope_dict(
                position=position, event_id=item.event_id, track=item.track, version=version,
                type=item.type, schema_version=item.schema_version, valid=item.valid,
                recorded_at=now, recorded_by=self.actor, correlation_id=item.correlation_id,
                causation_id=item.causation_id, payload_hash=item.payload_hash,
                citations_hash=item.citations_hash, prev_hash=prev_hash)
            leaf = envelope_json(envelope)
            event_hash = sha256_hex(leaf)
            node_rows.append({"position": position, "hashes": edge.append_leaf(leaf)})
            valid = item.valid
            event_rows.append({
                "position": position, "event_id": str(item.event_id), "track": item.track,
                "version": version, "type": item.type, "schema_version": item.schema_version,
                "valid_edtf": valid.edtf if valid else None,
                "valid_lower": _day(valid.lower, sqlite) if valid else None,
                "valid_upper": _day(valid.upper, sqlite) if valid else None,
                "valid_text": valid.text if valid else None,
                "valid_anchor": valid.anchor if valid else None,
                "recorded_at": stamp, "recorded_by": self.actor,
                "correlation_id": envelope["correlation_id"],
                "causation_id": envelope["causation_id"],
                "payload_hash": item.payload_hash, "citations_hash": item.citations_hash,
                "prev_hash": prev_hash, "hash": event_hash})
            payload_rows.append({"position": position, "hash": item.payload_hash,
                                 "body": item.payload_body})
            citation_rows.extend(
                {"position": position, "ordinal": ordinal, "source_id": c.source,
                 "start_offset": c.start, "end_offset": c.end, "exact": c.exact,
                 "prefix": c.prefix, "suffix": c.suffix}
                for ordinal, c in enumerate(item.citations))
            results[index] = Appended(event_id=item.event_id, position=position,
                                      track=item.track, version=version, new=True)
            prev_hash = event_hash
        self._bulk.run(conn, t.events, event_rows)
        self._bulk.run(conn, t.payloads, payload_rows)
        self._bulk.run(conn, t.citations, citation_rows)
        self._bulk.run(conn, t.merkle_nodes, node_rows)
        # Kept even if this transaction rolls back: no committed head will match it then.
        self._edge = (position, prev_hash, edge.copy())

    # -- erasure for legal reasons --------------------------------------------------

    def erase_source(self, ref: str, *, reason: str) -> Erasure:
        """Erase a source's text, and the quotes of every citation of it, for a legal reason.

        The erasure is an event (``source.erased``, by this store's actor, with
        ``reason``) appended in the same transaction. The source's id, length and
        metadata, the citations' spans and every hash stay, so the chain, the tree, the
        proofs and the checkpoints stay valid; ``audit verify`` reports the source as
        erased. This is the only operation that changes what past answers show: the
        quotes are gone from every projection and replay, whatever its date.
        """
        source_id = self.resolve_source_id(ref)
        data = SourceErased(source=source_id, reason=_reason(reason))
        c = t.citations.c
        with translated(self.url), self._writer() as conn, conn.begin():
            self._lock(conn)
            _not_erased(conn, f"source {source_id[:16]}", source_id=source_id)
            erasure = self._write_erasure(conn, data, "source", source_id, None)
            cited = conn.execute(sa.update(t.citations).where(c.source_id == source_id)
                                 .values(exact="", prefix="", suffix=""))
            conn.execute(sa.delete(t.source_texts)
                         .where(t.source_texts.c.source_id == source_id))
            tracks = tuple(conn.execute(
                sa.select(t.events.c.track).distinct()
                .join(t.citations, c.position == t.events.c.position)
                .where(c.source_id == source_id, t.events.c.track.not_in(FIXED_STREAMS))
                .order_by(t.events.c.track)).scalars())
            self._forget_read_models(conn, tracks)
        self._folded.pop(source_id, None)
        self._refold(tracks)
        return attrs.evolve(erasure, citations=cited.rowcount, tracks=tracks)

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
        wanted = str(parse_uuid(event, "event"))
        text = _reason(reason)
        e = t.events.c
        with translated(self.url), self._writer() as conn, conn.begin():
            self._lock(conn)
            row = conn.execute(sa.select(e.position, e.track, e.type)
                               .where(e.event_id == wanted)).first()
            if row is None:
                raise EventNotFound(f"no event has the id {wanted}")
            cls = fact_class(row.type)
            if cls.system or issubclass(cls, MetaFact):
                raise ErasureError(
                    f"event {wanted} is a {row.type}, whose payload cannot be erased: only "
                    "a fact's data can be (erase a source's text with `source erase`)")
            _not_erased(conn, f"the payload of event {wanted}", position=row.position)
            data = PayloadErased(event=wanted, position=row.position, type=row.type,
                                 reason=text)
            erasure = self._write_erasure(conn, data, "payload", wanted, row.position)
            conn.execute(sa.delete(t.payloads).where(t.payloads.c.position == row.position))
            kept = conn.execute(sa.select(sa.func.count()).select_from(t.citations)
                                .where(t.citations.c.position == row.position)).scalar()
            if row.track == ACTORS_STREAM:  # the registry changed: every track's names
                tracks = tuple(self._track_names(conn))
                conn.execute(sa.delete(t.projections)
                             .where(t.projections.c.name == _PROJECTOR))
            else:
                tracks = (row.track,)
            self._forget_read_models(conn, tracks)
        self._refold(tracks)
        return attrs.evolve(erasure, citations=int(kept or 0), tracks=tracks)

    def erasures(self) -> list[Erasure]:
        """Every erasure, in the order they were made."""
        with translated(self.url), self.engine.connect() as conn:
            rows = conn.execute(_ERASURE_ROWS.order_by(t.erasures.c.position)).all()
        return [_erasure(row) for row in rows]

    def _write_erasure(self, conn: sa.Connection, data: SourceErased | PayloadErased,
                       kind: Literal["source", "payload"], target: str,
                       position: int | None) -> Erasure:
        """Append the erasure event and the row that lets the guarded triggers through."""
        appended = self._write(conn, [self._prepare_system(data)], {})[0]
        erased_at = conn.execute(sa.select(t.events.c.recorded_at)
                                 .where(t.events.c.position == appended.position)
                                 ).scalar_one()
        reason = data.reason
        conn.execute(t.erasures.insert().values(
            position=appended.position, kind=kind,
            source_id=target if kind == "source" else None, payload_position=position,
            reason=reason, erased_at=erased_at, erased_by=self.actor,
            event_id=str(appended.event_id)))
        return Erasure(kind=kind, target=target, reason=reason, erased_at=_utc(erased_at),
                       erased_by=self.actor, event_id=str(appended.event_id),
                       at=appended.position, position=position)

    @staticmethod
    def _forget_read_models(conn: sa.Connection, tracks: Sequence[str]) -> None:
        """Drop stored states that hold what was just erased (same transaction)."""
        for chunk in _chunks(list(tracks)):
            conn.execute(sa.delete(t.track_states).where(t.track_states.c.track.in_(chunk)))

    def _refold(self, tracks: Sequence[str]) -> None:
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
        self.catch_up()
        with translated(self.url), self._projector() as conn:
            row = self._checkpoint(conn)
            if row is not None and row.code_version == PROJECTION_VERSION:
                registry = registry_of(self._read_conn(conn, ACTORS_STREAM))
                for track in tracks:
                    events = [e for e in self._read_conn(conn, track)
                              if e.position <= row.position]
                    if events:
                        self._save_read_model(conn, track, fold_all(track, events, registry),
                                              row.registry_version, events[-1].version)
            conn.commit()

    # -- read models ----------------------------------------------------------------

    def catch_up(self, *, limit: int = 20_000) -> int:
        """Fold the events appended since the projector's checkpoint into the read models.

        Each round folds at most ``limit`` events and writes the touched tracks' states
        and the new checkpoint in one transaction. A new projection code version or a
        change to the actor registry rebuilds every track instead. Returns how many events
        were folded. ``project`` calls it before it serves a stored state.
        """
        if self._caught_up():
            return 0
        folded = 0
        while True:
            with translated(self.url), self._projector() as conn:
                row = self._checkpoint(conn)
                registry_version = self._versions(conn, {ACTORS_STREAM}).get(ACTORS_STREAM, 0)
                if (row is None or row.code_version != PROJECTION_VERSION
                        or row.registry_version != registry_version):
                    count = self._rebuild_in(conn, registry_version, row is not None)
                    conn.commit()
                    return folded + count
                new = self._read_range(conn, row.position + 1, limit)
                if not new:
                    conn.commit()
                    return folded
                self._fold_into(conn, new, registry_version)
                self._save_checkpoint(conn, new[-1].position, registry_version, exists=True)
                conn.commit()
                folded += len(new)

    def _caught_up(self) -> bool:
        """True when the read models are current (checked without taking any lock)."""
        with translated(self.url), self.engine.connect() as conn:
            return _is_caught_up(conn.execute(_probe()).first())

    def rebuild(self) -> int:
        """Refold every track's read model from the log; returns how many tracks."""
        with translated(self.url), self._projector() as conn:
            row = self._checkpoint(conn)
            registry_version = self._versions(conn, {ACTORS_STREAM}).get(ACTORS_STREAM, 0)
            self._rebuild_in(conn, registry_version, row is not None)
            tracks = len(self._track_names(conn))
            conn.commit()
            return tracks

    def _projector(self) -> sa.Connection:
        """A transaction that owns the read models: one projector at a time.

        On SQLite the transaction starts with BEGIN IMMEDIATE (the writer's lock); on
        PostgreSQL an advisory transaction lock keeps projectors apart without blocking
        appends (positions are commit-ordered, so reading the log needs no lock).
        """
        conn = self._writer()
        conn.begin()
        if not self._sqlite:
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_PROJECTOR_LOCK)))
        return conn

    @staticmethod
    def _checkpoint(conn: sa.Connection) -> Any:
        return conn.execute(sa.select(t.projections).where(
            t.projections.c.name == _PROJECTOR)).first()

    def _save_checkpoint(self, conn: sa.Connection, position: int, registry_version: int,
                         *, exists: bool) -> None:
        values = {"position": position, "registry_version": registry_version,
                  "code_version": PROJECTION_VERSION, "updated_at": self._now()}
        if exists:
            conn.execute(t.projections.update().where(t.projections.c.name == _PROJECTOR)
                         .values(**values))
        else:
            conn.execute(t.projections.insert().values(name=_PROJECTOR, **values))

    def _now(self) -> dt.datetime:
        now = dt.datetime.now(dt.UTC)
        return now.replace(tzinfo=None) if self._sqlite else now

    @staticmethod
    def _track_names(conn: sa.Connection) -> list[str]:
        e = t.events.c
        return list(conn.execute(sa.select(e.track).where(e.track.not_in(FIXED_STREAMS))
                                 .group_by(e.track).order_by(e.track)).scalars())

    def _rebuild_in(self, conn: sa.Connection, registry_version: int, exists: bool) -> int:
        """Refold every track, one at a time (memory: the largest track's events)."""
        head = conn.execute(sa.select(sa.func.max(t.events.c.position))).scalar() or 0
        registry = registry_of(self._read_conn(conn, ACTORS_STREAM))
        count = 0
        for track in self._track_names(conn):
            # appends may commit meanwhile (PostgreSQL): fold nothing beyond the checkpoint
            events = [e for e in self._read_conn(conn, track) if e.position <= head]
            if not events:
                continue
            self._save_read_model(conn, track, fold_all(track, events, registry),
                                  registry_version, events[-1].version)
            count += len(events)
        self._save_checkpoint(conn, head, registry_version, exists=exists)
        return count

    def _fold_into(self, conn: sa.Connection, new: list[RecordedEvent],
                   registry_version: int) -> None:
        """Fold new events into their tracks' states: incrementally where that is valid."""
        by_track: dict[str, list[RecordedEvent]] = {}
        for event in new:
            if event.track not in FIXED_STREAMS:
                by_track.setdefault(event.track, []).append(event)
        if not by_track:
            return
        registry = registry_of(self._read_conn(conn, ACTORS_STREAM))
        rows = {row.track: row for row in conn.execute(
            sa.select(t.track_states).where(t.track_states.c.track.in_(sorted(by_track))))}
        upto = new[-1].position  # the checkpoint this round moves to: fold nothing beyond
        for track, events in by_track.items():
            row = rows.get(track)
            folded = None
            if row is not None and row.version == events[0].version - 1:
                folded = fold_more(load_folded(row.state), events, registry)
            if folded is None:
                known = [e for e in self._read_conn(conn, track) if e.position <= upto]
                folded = fold_all(track, known, registry)
            self._save_read_model(conn, track, folded, registry_version, events[-1].version,
                                  exists=row is not None)

    def _save_read_model(self, conn: sa.Connection, track: str, folded: Folded,
                         registry_version: int, version: int, *,
                         exists: bool | None = None) -> None:
        if exists is None:
            exists = conn.execute(sa.select(t.track_states.c.track).where(
                t.track_states.c.track == track)).first() is not None
        values = {"version": version, "position": folded.state.position,
                  "registry_version": registry_version, "code_version": PROJECTION_VERSION,
                  "state": dump_folded(folded), "updated_at": self._now()}
        if exists:
            conn.execute(t.track_states.update().where(t.track_states.c.track == track)
                         .values(**values))
        else:
            conn.execute(t.track_states.insert().values(track=track, **values))

    def _read_range(self, conn: sa.Connection, start: int, limit: int) -> list[RecordedEvent]:
        query = (_events_from(start).where(t.events.c.position >= start)
                 .order_by(t.events.c.position).limit(limit))
        return self._decode_page(conn, conn.execute(query).all())

    def _read_conn(self, conn: sa.Connection, track: str,
                   from_version: int = 1) -> list[RecordedEvent]:
        query = (_EVENT_ROWS.where(t.events.c.track == track, t.events.c.version >= from_version)
                 .order_by(t.events.c.version))
        return self._decode_page(conn, conn.execute(query).all())

    def _current_read_model(self, track: str) -> TrackState | None:
        """The stored current state of a track, after catching up with the log.

        One statement says whether the projector is caught up and what identity the
        track's row has; when it is caught up and this store already decoded that row, the
        decoded state is served without reading the row again (see ``states.py``).
        Otherwise the projector catches up first, then the row is read and decoded.
        """
        with translated(self.url), self.engine.connect() as conn:
            probe = conn.execute(_probe(track)).first()
            if _is_caught_up(probe):
                return self._stored_state(conn, track, probe)
        self.catch_up()
        with translated(self.url), self.engine.connect() as conn:
            return self._stored_state(conn, track, conn.execute(_probe(track)).first())

    def _stored_state(self, conn: sa.Connection, track: str, probe: Any) -> TrackState | None:
        """The state of the track's row, from the cache when the row is the one it holds."""
        if probe is None or probe.state_code_version != PROJECTION_VERSION:
            return None
        state = self._states.get(track, _identity(probe))
        if state is not None:
            return state
        s = t.track_states.c
        row = conn.execute(sa.select(*_STATE_IDENTITY, s.state).where(s.track == track)).first()
        if row is None or row.state_code_version != PROJECTION_VERSION:
            return None  # rewritten since the probe (PostgreSQL: each statement sees anew)
        state = load_folded(row.state).state
        self._states.put(track, _identity(row), state)
        return state

    # -- projections ----------------------------------------------------------------

    def position_at(self, known_at: dt.datetime) -> int:
        """The last position recorded at or before ``known_at`` (0 if none)."""
        moment = _utc(known_at)
        stamp = moment.replace(tzinfo=None) if self._sqlite else moment  # SQLite keeps UTC
        e = t.events.c
        # The last entry of the (recorded_at, position) index at or before the moment: a
        # seek, where max(position) over the range would read half the log on average.
        query = (sa.select(e.position).where(e.recorded_at <= stamp)
                 .order_by(e.recorded_at.desc(), e.position.desc()).limit(1))
        with translated(self.url), self.engine.connect() as conn:
            return int(conn.execute(query).scalar() or 0)

    def _cut(self, known_at: dt.datetime | None) -> int | None:
        return None if known_at is None else self.position_at(known_at)

    def _track_events(self, track: str, cut: int | None) -> list[RecordedEvent]:
        """A track's events up to position ``cut`` (all if None), in version order."""
        return self._kept_track(track, cut)[0]

    def _kept_track(self, track: str, cut: int | None) -> tuple[list[RecordedEvent], Plain]:
        """A track's events up to position ``cut`` (all if None), and the fold's memo."""
        kept = self._cached_track(track)
        events = kept.events
        if cut is not None:
            events = events[:bisect.bisect_right(events, cut, key=_position_of)]
        return events, kept.plain

    def _cached_track(self, track: str) -> KeptTrack:
        """All of a track's events, decoding only those this store has not decoded yet
        (see :class:`~eventstore.storage.states.EventCache`): one small statement when
        nothing was appended to the track since, and no erasure was made."""
        e = t.events.c
        probe = sa.select(
            sa.select(sa.func.max(e.version)).where(e.track == track).scalar_subquery(),
            sa.select(sa.func.max(t.erasures.c.position)).scalar_subquery())
        with translated(self.url), self.engine.connect() as conn:
            version, erasure = conn.execute(probe).one()
            kept = self._event_cache.get(track, erasure or 0)
            if len(kept.events) == (version or 0):  # versions are gapless from 1
                return kept
            if len(kept.events) > (version or 0):
                kept = KeptTrack()
            kept = KeptTrack(kept.events + self._read_conn(
                conn, track, from_version=len(kept.events) + 1), kept.plain)
        self._event_cache.put(track, erasure or 0, kept)
        return kept

    def registry(self, known_at: dt.datetime | None = None) -> ActorRegistry:
        """The actor registry as the store knew it at ``known_at`` (default: now)."""
        return registry_of(self._track_events(ACTORS_STREAM, self._cut(known_at)))

    def project(self, track: str, *, as_of: dt.date | None = None,
                known_at: dt.datetime | None = None, possible: bool = False) -> TrackState:
        """Where ``track`` stands: as of a date of the world, as known at a moment of the store.

        ``as_of`` cuts valid time (facts that certainly happened by then; with ``possible``,
        also those that may have); ``known_at`` cuts record time (only what the store had
        recorded by then, later corrections included). See docs/projections.md.
        """
        canonical = parse_track(track)
        if as_of is None and known_at is None and not possible:
            stored = self._current_read_model(canonical)
            if stored is not None:
                return stored
        cut = self._cut(known_at)
        events, plain = self._kept_track(canonical, cut)
        return project(canonical, events, as_of=as_of, known_at=known_at, possible=possible,
                       registry=registry_of(self._track_events(ACTORS_STREAM, cut)),
                       plain=plain)

    def history(self, track: str, *, by: Literal["valid", "recorded"] = "valid",
                known_at: dt.datetime | None = None) -> list[Step]:
        """One step per fact of ``track``, each saying what it changed, with its citations."""
        canonical = parse_track(track)
        cut = self._cut(known_at)
        return history(canonical, self._track_events(canonical, cut), by=by,
                       registry=registry_of(self._track_events(ACTORS_STREAM, cut)))

    def tracks(self) -> list[TrackSummary]:
        """Every bilateral track with its number of events and the span of its dates."""
        e = t.events.c
        query = (sa.select(e.track, sa.func.count(), sa.func.min(e.valid_lower),
                           sa.func.max(e.valid_upper), sa.func.max(e.position))
                 .where(e.track.not_in(FIXED_STREAMS)).group_by(e.track).order_by(e.track))
        with translated(self.url), self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [TrackSummary(track=r[0], events=r[1], first=_as_date(r[2]), last=_as_date(r[3]),
                             position=r[4]) for r in rows]

    # -- the Merkle tree and checkpoints --------------------------------------------

    def _tree_conn(self) -> sa.Connection:
        """A read connection on a log whose tree covers every event.

        Only a log written before the tree existed (schema 0002) lags; its tree is then
        completed once, under the writer lock.
        """
        with translated(self.url), self.engine.connect() as conn:
            behind = tree.tree_size(conn) < self._head_position(conn)
        if behind:
            with translated(self.url), self._writer() as conn, conn.begin():
                self._lock(conn)
                tree.extend(conn, self._head_position(conn))
        return self.engine.connect()

    @staticmethod
    def _head_position(conn: sa.Connection) -> int:
        return int(conn.execute(sa.select(sa.func.max(t.events.c.position))).scalar() or 0)

    def _size(self, conn: sa.Connection, size: int | None, what: str = "size") -> int:
        head = self._head_position(conn)
        if size is None:
            return head
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ValidationError(f"{what} must be a whole number ≥ 0, not {size!r}")
        if size > head:
            raise AuditError(f"{what} {size:,} is larger than the log ({head:,} events)")
        return size

    def origin(self) -> str:
        """The log's name in checkpoints: ``eventstore/`` and 16 hex digits of its first
        event's hash, so that a log rebuilt from scratch is another log."""
        with translated(self.url), self.engine.connect() as conn:
            first = conn.execute(sa.select(t.events.c.hash)
                                 .where(t.events.c.position == 1)).scalar()
        if first is None:
            raise AuditError("the log is empty: it has no tree head to sign or prove yet")
        return f"eventstore/{first[:16]}"

    def tree_head(self, size: int | None = None) -> TreeHead:
        """The root of the tree over the first ``size`` events (default: all of them)."""
        with translated(self.url), self._tree_conn() as conn:
            wanted = self._size(conn, size)
            return TreeHead(size=wanted, root=tree.root_at(conn, wanted))

    def inclusion_proof(self, event: uuid.UUID | str | int, size: int | None = None
                        ) -> tuple[RecordedEvent, InclusionProof]:
        """The event (by id, or by position) and the proof that it is in the tree of
        ``size`` (default: the whole log)."""
        if isinstance(event, (uuid.UUID, str)):
            found = self.get_event(event)
        else:
            # By equality: a `position >= p LIMIT 1` read walks the payloads' index
            # from the start on PostgreSQL (see docs/performance.md#audit).
            with translated(self.url), self.engine.connect() as conn:
                rows = conn.execute(_EVENT_ROWS.where(t.events.c.position == event)).all()
                if not rows:
                    raise EventNotFound(f"no event at position {event}")
                found = self._decode_page(conn, rows)[0]
        with translated(self.url), self._tree_conn() as conn:
            wanted = self._size(conn, size)
            if found.position > wanted:
                raise AuditError(f"event {found.event_id} is at position {found.position:,}, "
                                 f"after the tree of size {wanted:,}: it was appended later")
            return found, tree.inclusion(conn, found.position - 1, wanted)

    def consistency_proof(self, size1: int, size2: int | None = None) -> ConsistencyProof:
        """The proof that the tree of ``size1`` is a prefix of that of ``size2``."""
        with translated(self.url), self._tree_conn() as conn:
            second = self._size(conn, size2, "size2")
            first = self._size(conn, size1, "size1")
            if first < 1:
                raise AuditError("size1 must be at least 1: every log extends the empty one, "
                                 "there is nothing to prove")
            if first > second:
                raise AuditError(f"size1 ({first:,}) is larger than size2 ({second:,})")
            return tree.consistency(conn, first, second)

    def checkpoint(self, key: SignerKey) -> StoredCheckpoint:
        """Sign the current tree head (a C2SP checkpoint) and keep it in the database."""
        origin = self.origin()
        with translated(self.url), self._writer() as conn, conn.begin():
            self._lock(conn)
            size = self._head_position(conn)
            edge = tree.frontier(conn, size) or tree.extend(conn, size)
            head = Checkpoint(origin=origin, size=size, root=edge.root())
            note = sign_checkpoint(head, key)
            now = dt.datetime.now(dt.UTC)
            row = tree.checkpoint_row(head, note, key.verifier(), now, self.actor)
            new_id = conn.execute(t.checkpoints.insert().values(**row)
                                  .returning(t.checkpoints.c.id)).scalar_one()
        return StoredCheckpoint(id=new_id, checkpoint=head, note=note, key_name=key.name,
                                key_id=row["key_id"], verifier_key=row["verifier_key"],
                                created_at=now, created_by=self.actor)

    def checkpoints(self) -> list[StoredCheckpoint]:
        """Every checkpoint the store issued, oldest first."""
        c = t.checkpoints.c
        with translated(self.url), self.engine.connect() as conn:
            rows = conn.execute(sa.select(t.checkpoints).order_by(c.id)).all()
        return [StoredCheckpoint(
            id=row.id, checkpoint=Checkpoint(origin=row.origin, size=row.size,
                                             root=bytes.fromhex(row.root)),
            note=row.note, key_name=row.key_name, key_id=row.key_id,
            verifier_key=row.verifier_key, created_at=_utc(row.created_at),
            created_by=row.created_by) for row in rows]

    def verify(self, keys: Sequence[VerifierKey] = ()) -> Report:
        """Check the whole stored log (see :mod:`eventstore.audit`): chain, versions,
        payloads, citations against their sources, the tree, every checkpoint, and that
        the immutability triggers are in place. ``keys``: the verifier keys you trust."""
        with translated(self.url), self.engine.connect() as conn:
            return verify.verify_connection(conn, keys)

    def export(self) -> Iterator[str]:
        """The whole log as JSON lines (``docs/auditing.md``), a page at a time."""
        with translated(self.url), self._tree_conn() as conn:
            yield from verify.export_lines(conn)

    def import_export(self, lines: Callable[[], Iterable[str]], name: str = "export",
                      keys: Sequence[VerifierKey] = ()) -> Report:
        """Load an export into this empty store, after checking all of it.

        ``lines`` is called twice (check, then load), each call giving the lines anew.
        Nothing is written unless the whole export checks out.
        """
        report = verify.verify_export(lines(), name, keys)
        if not report.ok:
            raise IntegrityError(f"{name} does not check out, nothing imported: {report.first}")
        with translated(self.url), self._writer() as conn, conn.begin():
            self._lock(conn)
            verify.import_export(conn, lines(), name)
            root = tree.root_at(conn, report.events)
            if root != report.root:
                raise IntegrityError(f"{name}: the imported tree's root is not the export's")
        return report

    def replay(self, to: dt.datetime, *, track: str | None = None,
               checkpoint: str | None = None, key: VerifierKey | None = None,
               changes_limit: int = 1_000) -> Replay:
        """What the store knew at record time ``to``: the track states as they stood then,
        and what was recorded since (facts added, retracted, corrected).

        With a ``checkpoint`` (a signed note, checked with ``key``), the log is first
        checked from its start to the larger of the checkpoint's size and the replayed
        prefix, and the checkpoint's root must be the log's at its size.
        """
        moment = _utc(to)
        position = self.position_at(moment)
        canonical = None if track is None else parse_track(track)
        check = None
        if checkpoint is not None:
            if key is None:
                raise AuditError("a checkpoint is checked with the verifier key that signed it: "
                                 "give the key too")
            try:
                signed = open_checkpoint(checkpoint, key)
            except VerificationError as err:
                raise AuditError(f"checkpoint: {err}") from None
            with translated(self.url), self.engine.connect() as conn:
                check_prefix(signed, self._head_position(conn))
                check = verify.verify_connection(
                    conn, [key], upto=max(signed.size, position),
                    checkpoints=[{"id": "given", "note": checkpoint,
                                  "key_name": key.name}])
        states = tuple(self.project(name, known_at=moment)
                       for name in self._tracks_at(position, canonical))
        return Replay(known_at=moment, position=position, size=self.head()[0],
                      states=states, changes=self._changes_after(position, canonical,
                                                                 changes_limit),
                      counts=self._change_counts(position, canonical), check=check)

    def _tracks_at(self, position: int, track: str | None) -> list[str]:
        e = t.events.c
        query = (sa.select(e.track).distinct().where(e.position <= position,
                                                      e.track.not_in(FIXED_STREAMS))
                 .order_by(e.track))
        if track is not None:
            query = query.where(e.track == track)
        with translated(self.url), self.engine.connect() as conn:
            names = list(conn.execute(query).scalars())
        return names or ([track] if track is not None else [])

    def _changes_after(self, position: int, track: str | None, limit: int) -> tuple[Change, ...]:
        e = t.events.c
        query = (sa.select(e.position, e.event_id, e.track, e.type, e.recorded_at,
                           t.payloads.c.body)
                 .join(t.payloads, t.payloads.c.position == e.position, isouter=True)
                 .where(e.position > position).order_by(e.position).limit(limit))
        if track is not None:
            query = query.where(e.track == track)
        with translated(self.url), self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return tuple(Change(position=r.position, event_id=r.event_id, track=r.track,
                            type=r.type, recorded_at=_utc(r.recorded_at),
                            kind=_change_kind(r.type),
                            target=_target_of(r.type, r.body)) for r in rows)

    def _change_counts(self, position: int, track: str | None) -> dict[str, int]:
        e = t.events.c
        query = (sa.select(e.type, sa.func.count()).where(e.position > position)
                 .group_by(e.type))
        if track is not None:
            query = query.where(e.track == track)
        counts = {"added": 0, "retracted": 0, "corrected": 0, "erased": 0}
        with translated(self.url), self.engine.connect() as conn:
            for type_name, count in conn.execute(query):
                counts[_change_kind(type_name)] += count
        return counts

    # -- read -----------------------------------------------------------------------

    def head(self) -> tuple[int, str]:
        """The last position and its hash (``(0, GENESIS_HASH)`` for an empty log)."""
        with translated(self.url), self.engine.connect() as conn:
            row = conn.execute(sa.select(t.events.c.position, t.events.c.hash)
                               .order_by(t.events.c.position.desc()).limit(1)).first()
        return (row.position, row.hash) if row else (0, GENESIS_HASH)

    def track_version(self, track: str) -> int:
        """The current version of a track (0 when it has no events)."""
        canonical = _stream_name(track)
        with translated(self.url), self.engine.connect() as conn:
            return self._versions(conn, {canonical}).get(canonical, 0)

    def read_all(self, from_position: int = 1, limit: int | None = None, *,
                 track: str | None = None,
                 types: Iterable[str] | None = None) -> Iterator[RecordedEvent]:
        """Stream events in position order from ``from_position``, a page at a time.

        Memory stays constant whatever the size of the log. A reader that remembers the
        last position it saw and calls again from the next one never misses an event.
        """
        conditions = []
        if track is not None:
            conditions.append(t.events.c.track == _stream_name(track))
        if types is not None:
            names = sorted(set(types))
            for name in names:
                fact_class(name)
            conditions.append(t.events.c.type.in_(names))
        return self._stream(lambda cursor: _events_from(cursor).where(*conditions),
                            t.events.c.position, max(1, from_position), limit)

    def read_track(self, track: str, from_version: int = 1) -> Iterator[RecordedEvent]:
        """Stream one track's events in version order from ``from_version``."""
        canonical = _stream_name(track)
        query = (_EVENT_ROWS.where(t.events.c.track == canonical))
        return self._stream(lambda _: query, t.events.c.version, max(1, from_version), None)

    def get_event(self, event_id: uuid.UUID | str) -> RecordedEvent:
        """One event by its id, or :class:`EventNotFound`."""
        wanted = str(parse_uuid(event_id, "event_id"))
        query = (_EVENT_ROWS.where(t.events.c.event_id == wanted))
        with translated(self.url), self.engine.connect() as conn:
            rows = conn.execute(query).all()
            if not rows:
                raise EventNotFound(f"no event has the id {wanted}")
            return self._decode_page(conn, rows)[0]

    def _stream(self, query: Callable[[int], sa.Select[Any]], key: sa.Column[int], start: int,
                limit: int | None) -> Iterator[RecordedEvent]:
        """Pages of ``query(cursor)`` where ``key >= cursor``, in ``key`` order."""
        remaining = limit
        cursor = start
        while remaining is None or remaining > 0:
            size = PAGE_SIZE if remaining is None else min(PAGE_SIZE, remaining)
            page_query = query(cursor).where(key >= cursor).order_by(key).limit(size)
            with translated(self.url), self.engine.connect() as conn:
                rows = conn.execute(page_query).all()
                decoded = self._decode_page(conn, rows)
            yield from decoded
            if len(rows) < size:
                return
            cursor = getattr(rows[-1], key.key) + 1
            if remaining is not None:
                remaining -= len(rows)

    def _decode_page(self, conn: sa.Connection, rows: Sequence[Any]) -> list[RecordedEvent]:
        by_position: dict[int, list[Citation]] = {}
        positions = [row.position for row in rows]
        for chunk in _chunks(positions):
            query = (sa.select(t.citations).where(t.citations.c.position.in_(chunk))
                     .order_by(t.citations.c.position, t.citations.c.ordinal))
            for row in conn.execute(query):
                by_position.setdefault(row.position, []).append(_citation(row))
        erased = [row.position for row in rows if row.body is None]
        redacted = _redactions(conn, erased) if erased else {}
        return [_decode(row, tuple(by_position.get(row.position, ())),
                        redacted.get(row.position)) for row in rows]


_PROJECTOR = "tracks"
#: The PostgreSQL advisory lock key that lets one projector run at a time.
_PROJECTOR_LOCK = 0x65767374  # "evst"

#: What identifies a stored read model row: any rewrite of the row changes it.
_STATE_IDENTITY = (
    t.track_states.c.version.label("state_version"),
    t.track_states.c.position.label("state_position"),
    t.track_states.c.registry_version.label("state_registry_version"),
    t.track_states.c.code_version.label("state_code_version"),
    t.track_states.c.updated_at.label("state_updated_at"),
)


#: The log's last event, where the next append goes on from, and whether the tree has
#: its row (a log written before the tree may not).
_HEAD = (sa.select(t.events.c.position, t.events.c.hash, t.events.c.recorded_at,
                   sa.exists().where(t.merkle_nodes.c.position == t.events.c.position)
                   .label("in_tree"))
         .order_by(t.events.c.position.desc()).limit(1))


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


def _probe(track: str | None = None) -> sa.Select[Any]:
    """The projector's checkpoint, the log's head and the registry's version, in one row
    (none before the first catch-up); with a track, its read model row's identity too
    (``NULL`` when it has none). Each part is a primary-key or index seek."""
    p, e = t.projections.c, t.events.c
    head = sa.select(sa.func.max(e.position)).scalar_subquery()
    registry = (sa.select(sa.func.max(e.version)).where(e.track == ACTORS_STREAM)
                .scalar_subquery())
    query = sa.select(p.position, p.registry_version, p.code_version, head.label("head"),
                      registry.label("registry"))
    if track is None:
        return query.where(p.name == _PROJECTOR)
    joined = t.projections.outerjoin(t.track_states, t.track_states.c.track == track)
    return query.add_columns(*_STATE_IDENTITY).select_from(joined).where(
        p.name == _PROJECTOR)


def _is_caught_up(probe: Any) -> bool:
    """Whether a :func:`_probe` row says the read models are current."""
    return bool(probe is not None and probe.code_version == PROJECTION_VERSION
                and probe.position == (probe.head or 0)
                and probe.registry_version == (probe.registry or 0))


def _identity(row: Any) -> tuple[Any, ...]:
    return (row.state_version, row.state_position, row.state_registry_version,
            row.state_code_version, row.state_updated_at)


def _position_of(event: RecordedEvent) -> int:
    return event.position


def _as_date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _stream_name(track: str) -> str:
    return track if track in FIXED_STREAMS else parse_track(track)


def _references(data: MetaFact) -> list[str]:
    refs = [str(uuid.UUID(data.event))]
    if isinstance(data, SameEvent):
        refs.append(str(uuid.UUID(data.same_as)))
    return refs


def _check_targets(fact: Fact, known: Mapping[str, tuple[str, str]], label: str) -> None:
    data = fact.data
    assert isinstance(data, MetaFact)
    types = []
    for field, ref in zip(("event", "same_as"), _references(data), strict=False):
        where = f"{label}: data.{field}"
        if ref not in known:
            raise EventNotFound(f"{where}: no event has the id {ref} (a {fact.type} names an "
                                "event already in the log, or earlier in the same batch)")
        track, type_name = known[ref]
        if track != fact.track:
            raise ValidationError(f"event {ref} is on track {track}, not {fact.track}",
                                  where=where)
        if fact_class(type_name).system or fact_class(type_name).stream is not None:
            raise ValidationError(f"event {ref} is of type {type_name}, which facts about "
                                  "facts do not apply to", where=where)
        if issubclass(fact_class(type_name), MetaFact):
            raise ValidationError(f"event {ref} is itself a fact about a fact ({type_name}); "
                                  "facts about facts apply to plain facts only", where=where)
        types.append(type_name)
    if isinstance(data, SameEvent) and types[0] != types[1]:
        raise ValidationError(f"a fact of type {types[0]} cannot be the same event as one of "
                              f"type {types[1]}",
                              where=f"{label}: data.same_as")
    if isinstance(data, FactCorrected) and data.data is not None:
        if fact_class(types[0]).needs_date is False:
            raise ValidationError(f"a fact of type {types[0]} cannot be corrected; retract it "
                              "instead",
                                  where=f"{label}: data.event")
        try:
            structure_data(types[0], data.data, path="data.data")
        except ValidationError as err:
            raise err.at(label) from None


def _check_built(fact: Fact) -> None:
    """A fact built in Python gets the checks a JSON fact gets (enum values, item types…).

    attrs does not check types on construction, and a payload that cannot be read back
    would poison the immutable log for ever; so it goes through its own JSON form once.
    """
    if not isinstance(fact.data, FactData):
        raise ValidationError(f"data must be a fact payload, not {type(fact.data).__name__}")
    if fact.data.system:
        raise ValidationError(f"{fact.type} is written by the store itself and cannot be "
                              "appended", where="type")
    try:
        plain = unstructure_data(fact.data)
    except (AttributeError, TypeError, ValueError) as err:
        raise ValidationError(f"{fact.type}: {err}", where="data") from None
    if structure_data(fact.type, plain) != fact.data:
        raise ValidationError(f"{fact.type}: a field has a value of the wrong type", where="data")


def _day(day: dt.date | None, sqlite: bool) -> Any:
    """A date as the driver takes it (SQLite: the ISO text SQLAlchemy reads back)."""
    if day is None or not sqlite:
        return day
    return day.isoformat()


def _citation(row: Any) -> Citation:
    return Citation(source=row.source_id, start=row.start_offset, end=row.end_offset,
                    exact=row.exact, prefix=row.prefix, suffix=row.suffix)


def _events_from(start: int | None = None) -> sa.Select[Any]:
    """Events with their payloads (outer: an erased payload leaves its event readable).

    With ``start``, for positions from ``start`` on: the payloads' side of the join is
    bounded too, or PostgreSQL's merge join walks the payloads from position 1 (a page
    read far into a large log cost a scan of everything before it)."""
    joined = t.payloads.c.position == t.events.c.position
    if start is not None:
        joined = sa.and_(joined, t.payloads.c.position >= start)
    return sa.select(t.events, t.payloads.c.body).join(t.payloads, joined, isouter=True)


#: Events with their payloads, for reads that are not ranges of positions.
_EVENT_ROWS = _events_from()

#: The columns of ``select(events, payloads.body)``, in order: rows are unpacked by
#: position, which is several times cheaper than by name on the read hot path.
_ROW_COLUMNS = (*(c.name for c in t.events.columns), "body")
assert _ROW_COLUMNS == (
    "position", "event_id", "track", "version", "type", "schema_version", "valid_edtf",
    "valid_lower", "valid_upper", "valid_text", "valid_anchor", "recorded_at", "recorded_by",
    "correlation_id", "causation_id", "payload_hash", "citations_hash", "prev_hash", "hash",
    "body"), "update _decode to the events table's columns"


def _decode(row: Any, citations: tuple[Citation, ...],
            redacted: Redacted | None = None) -> RecordedEvent:
    (position, event_id, track, version, type_name, schema_version, valid_edtf, valid_lower,
     valid_upper, valid_text, valid_anchor, recorded_at, recorded_by, correlation_id,
     causation_id, payload_hash, citations_hash, prev_hash, event_hash, body) = row
    data: FactData
    if body is None:
        if redacted is None:
            raise IntegrityError(f"position {position}: the payload is missing and no erasure "
                                 "names it (run `eventstore audit verify`)")
        data = redacted
    else:
        try:
            data = decode_stored(type_name, schema_version, json.loads(body))
        except (EventStoreError, ValueError, TypeError) as err:
            raise EventStoreError(f"position {position}: the stored payload cannot be read: "
                                  f"{err}") from None
    valid = None if valid_edtf is None else ValidTime(
        edtf=valid_edtf, lower=valid_lower, upper=valid_upper, text=valid_text,
        anchor=valid_anchor)
    return RecordedEvent(
        position=position, event_id=uuid.UUID(event_id), track=track, version=version,
        type=type_name, schema_version=schema_version, data=data, valid=valid,
        recorded_at=_utc(recorded_at), recorded_by=recorded_by,
        correlation_id=_opt_uuid(correlation_id), causation_id=_opt_uuid(causation_id),
        citations=citations, payload_hash=payload_hash, citations_hash=citations_hash,
        prev_hash=prev_hash, hash=event_hash)


#: Erasure rows with the id of the event whose payload they erased, if any.
_ERASED_EVENT = t.events.alias("erased_event")
_ERASURE_ROWS = (sa.select(t.erasures, _ERASED_EVENT.c.event_id.label("erased_event_id"))
                 .join(_ERASED_EVENT, _ERASED_EVENT.c.position == t.erasures.c.payload_position,
                       isouter=True))


def _erasure(row: Any) -> Erasure:
    payload = row.kind == "payload"
    return Erasure(kind=row.kind, target=row.erased_event_id if payload else row.source_id,
                   reason=row.reason, erased_at=_utc(row.erased_at), erased_by=row.erased_by,
                   event_id=row.event_id, at=row.position,
                   position=row.payload_position if payload else None)


def _erasure_of(conn: sa.Connection, *, source_id: str | None = None,
                position: int | None = None) -> Erasure | None:
    e = t.erasures.c
    where = e.source_id == source_id if source_id is not None else e.payload_position == position
    row = conn.execute(_ERASURE_ROWS.where(where)).first()
    return None if row is None else _erasure(row)


def _not_erased(conn: sa.Connection, what: str, **target: Any) -> None:
    done = _erasure_of(conn, **target)
    if done is not None:
        raise ErasureError(f"{what} was already erased on {_utc_text(done.erased_at)} by "
                           f"{done.erased_by} ({done.reason}); nothing written")


def _redactions(conn: sa.Connection, positions: Sequence[int]) -> dict[int, Redacted]:
    """What reads give in place of the erased payloads at ``positions``."""
    found: dict[int, Redacted] = {}
    e = t.erasures.c
    for chunk in _chunks(list(positions)):
        for row in conn.execute(sa.select(t.erasures, t.events.c.type)
                                .join(t.events, t.events.c.position == e.payload_position)
                                .where(e.payload_position.in_(chunk))):
            found[row.payload_position] = Redacted(
                erased_type=row.type, reason=row.reason,
                erased_at=_utc_text(_utc(row.erased_at)), erased_by=row.erased_by,
                erasure=row.event_id)
    return found


def _reason(reason: Any) -> str:
    """The reason an erasure gives: required, one line or more of text."""
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationError("an erasure needs a reason (who asked, on what legal ground)",
                              where="reason")
    try:
        long_text(None, attrs.fields(SourceErased).reason, reason)
    except (TypeError, ValueError) as err:
        raise ValidationError(str(err), where="reason") from None
    return reason.strip()


def _content(row: Any) -> tuple[Any, ...]:
    return (row.track, row.type, row.schema_version, row.valid_edtf, row.valid_text,
            row.valid_anchor, row.payload_hash, row.citations_hash, row.correlation_id,
            row.causation_id)


def _content_of(item: _Prepared) -> tuple[Any, ...]:
    valid = item.valid
    return (item.track, item.type, item.schema_version, valid.edtf if valid else None,
            valid.text if valid else None, valid.anchor if valid else None,
            item.payload_hash, item.citations_hash, _opt_text(item.correlation_id),
            _opt_text(item.causation_id))


def _opt_text(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


def _check_expected(track: str, wanted: Expected, actual: int) -> None:
    ok: bool
    label: Literal["no-stream", "stream-exists", "any"] | int
    if wanted is ANY:
        return
    if wanted is NO_STREAM:
        ok, label = actual == 0, "no-stream"
    elif wanted is STREAM_EXISTS:
        ok, label = actual > 0, "stream-exists"
    else:
        assert isinstance(wanted, int)
        ok, label = actual == wanted, wanted
    if not ok:
        raise ConcurrencyError(track, label, actual)
