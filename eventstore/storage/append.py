"""Appending facts: the write path of the log.

Everything a caller can get wrong is checked before the write lock is taken (the fact,
its citations against the stored sources, the events it refers to); under the lock only
what depends on the log's head is done (dedupe by event id, expected versions,
positions, the record time, the chain, the tree). A batch is one transaction: all of it
or nothing. Rows are built by ``rows``. Imports: ``db``, ``rows``, ``tree``, ``reads``
(track versions), ``sources`` and the pure core.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import os
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import attrs
import sqlalchemy as sa

from ..audit.merkle import Frontier
from ..audit.verifier import (
    SignerKey,
)
from ..codec import (
    GENESIS_HASH,
    canonical_json,
    citations_json,
    decode_stored,
    envelope_json,
    payload_json,
    sha256_hex,
    structure_data,
    unstructure_data,
)
from ..dates import ValidTime
from ..errors import (
    ConcurrencyError,
    DuplicateEventError,
    EventNotFound,
    SourceError,
    ValidationError,
)
from ..events import Fact, envelope_dict, fact_from_dict
from ..facts import (
    FactCorrected,
    FactData,
    MetaFact,
    SameEvent,
    fact_class,
)
from ..jsonl import lone_surrogate
from ..sources import (
    Citation,
    CitationRequest,
    resolve_citation,
)
from ..tracks import FIXED_STREAMS, is_multilateral, parse_stream, parties
from . import schema as t
from . import tree
from .db import Database, chunks, origin_of
from .reads import track_versions
from .rows import (
    citation_rows,
    event_row,
    member_rows,
    payload_row,
    stored_day,
    stored_time,
    utc,
)
from .sources import Sources


def uuid7() -> uuid.UUID:
    """A new event id: a time-ordered UUID version 7 (RFC 9562: 48 bits of Unix time in
    milliseconds, then 74 random bits). The ids the store makes follow one another in the
    unique index on ``event_id``, so an append writes to its last pages instead of one
    random page per event (docs/performance.md#bytes-written); ids a caller gives are
    kept as given."""
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10))
    value = ((millis & 0xFFFF_FFFF_FFFF) << 80 | 0x7 << 76 | (rand >> 64 & 0xFFF) << 64
             | 0b10 << 62 | rand & 0x3FFF_FFFF_FFFF_FFFF)
    return uuid.UUID(int=value)


#: The ``citations_hash`` of an event that cites nothing (a source registration, an erasure).
_NO_CITATIONS_HASH = sha256_hex(citations_json([]))


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
class Appended:
    """Where one appended event stands: ``new`` is False when it was already stored."""

    event_id: uuid.UUID
    position: int
    track: str
    version: int
    new: bool


@attrs.frozen
class AppendResult:
    """What an append wrote (or found already written), in the order given; for a check
    (``dry_run``), what it would write if nothing were appended meanwhile."""

    events: tuple[Appended, ...]
    dry_run: bool = False

    @property
    def positions(self) -> tuple[int, ...]:
        return tuple(e.position for e in self.events)

    @property
    def written(self) -> int:
        return sum(1 for e in self.events if e.new)


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
    #: The resolved citations in their stored JSON form (what ``citations_hash`` covers).
    cited: tuple[dict[str, Any], ...]
    citations_hash: str
    label: str = ""  # where the caller gave it (``facts.jsonl: line 3``), for errors



class Appender:
    """Appends facts: parse and check them, resolve their citations, then, under the
    write lock, assign positions, versions and the record time, chain the hashes, grow
    the tree, write the rows (one transaction per batch) and, with a signing key, store
    a signed checkpoint of the new tree head. Safe to share between threads: the right
    edge it keeps is replaced whole, and used only while the log's head is still the
    event it ended with."""

    def __init__(self, db: Database, sources: Sources, actor: str,
                 signer: SignerKey | None) -> None:
        self._db = db
        self._sources = sources
        self.actor = actor
        self.signer = signer
        #: The tree's right edge after this appender's last write: (size, head hash, edge).
        self._edge: tuple[int, str, Frontier] | None = None

    def append(self, track: str, facts: Iterable[Fact | Mapping[str, Any]],
               expected_version: Expected = ANY) -> AppendResult:
        """Append facts to one track, all or nothing; returns where each one stands.
        See :meth:`EventStore.append`."""
        canonical, parsed = self._on_track(track, facts, None)
        return self._append(parsed, {canonical: expected_version}, None)

    def check(self, facts: Iterable[Fact | Mapping[str, Any]], *, track: str | None = None,
              expected_version: Expected = ANY, labels: Sequence[str] | None = None
              ) -> AppendResult:
        """What an append would do, checked exactly as it would be, writing nothing.
        See :meth:`EventStore.check`."""
        if track is None:
            items = list(facts)
            return self._append(self._parse(items, labels), {}, labels, dry_run=True)
        canonical, parsed = self._on_track(track, facts, labels)
        return self._append(parsed, {canonical: expected_version}, labels, dry_run=True)

    def _on_track(self, track: str, facts: Iterable[Fact | Mapping[str, Any]],
                  labels: Sequence[str] | None) -> tuple[str, list[Fact]]:
        """The facts for one track, parsed (a fact without a track gets this one)."""
        canonical = _stream_name(track)
        items = [dict(f, track=f.get("track", canonical)) if isinstance(f, Mapping) else f
                 for f in facts]
        parsed = self._parse(items, labels)
        for index, fact in enumerate(parsed):
            if fact.track != canonical:
                raise ValidationError(f"the fact is for track {fact.track}, not {canonical}",
                                      where=labels[index] if labels else f"facts[{index}].track")
        return canonical, parsed

    def append_many(self, facts: Iterable[Fact | Mapping[str, Any]], *,
                    labels: Sequence[str] | None = None) -> AppendResult:
        """Append facts for any tracks in one transaction, all or nothing (expected: any).
        See :meth:`EventStore.append_many`."""
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
                labels: Sequence[str] | None, *, dry_run: bool = False) -> AppendResult:
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
        if dry_run:  # the same checks, on a read connection, and nothing written
            with self._db.read() as conn:
                return AppendResult(events=tuple(self.write(conn, prepared, expected,
                                                            dry_run=True)), dry_run=True)
        with self._db.write() as conn:
            return AppendResult(events=tuple(self.write(conn, prepared, expected)))

    def _check_references(self, facts: Sequence[Fact], labels: Sequence[str]) -> None:
        """Facts about facts must name an event of their own track (stored or in the batch).

        A correction's data must fit the type of the fact it corrects. Events are never
        deleted, so what is checked here before the write lock still holds under it.
        """
        in_batch = {str(f.event_id): (f.track, f.type) for f in facts if f.event_id}
        wanted = ({ref for f in facts if isinstance(f.data, MetaFact)
                   for ref in _references(f.data)}
                  | {_referred(f.data) for f in facts if _refers(f.data)}) - set(in_batch)
        stored: dict[str, tuple[str, str]] = {}
        if wanted:
            with self._db.read() as conn:
                for chunk in chunks(sorted(wanted)):
                    query = (sa.select(t.events.c.event_id, t.events.c.track, t.events.c.type)
                             .where(t.events.c.event_id.in_(chunk)))
                    stored.update({r.event_id: (r.track, r.type) for r in conn.execute(query)})
        known = stored | in_batch
        for fact, label in zip(facts, labels, strict=True):
            if isinstance(fact.data, MetaFact):
                _check_targets(fact, known, label)
            elif _refers(fact.data):
                _check_referred(fact, known, label)

    def _prepare(self, fact: Fact, label: str, refs: dict[str, str]) -> _Prepared:
        citations = []
        for index, request in enumerate(fact.citations):
            where = f"{label}: citations[{index}]"
            citations.append(self._resolve(request, where, refs))
        payload_body = _payload_body(fact, label)
        cited = tuple(c.to_dict() for c in citations)
        return _Prepared(
            event_id=fact.event_id or uuid7(), caller_id=fact.event_id is not None,
            track=fact.track, type=fact.type, schema_version=fact.data.stored_version(),
            valid=fact.valid, correlation_id=fact.correlation_id,
            causation_id=fact.causation_id, payload_body=payload_body,
            payload_hash=sha256_hex(payload_body.encode("utf-8")), cited=cited,
            citations_hash=sha256_hex(citations_json(cited)), label=label)

    def _resolve(self, request: CitationRequest, where: str, refs: dict[str, str]) -> Citation:
        source_id = refs.get(request.source)
        if source_id is None:
            try:
                source_id = self._sources.resolve(request.source)
            except SourceError as err:
                raise type(err)(f"{where}.source: {err}") from None
            refs[request.source] = source_id
        try:
            folded, body = self._sources.folded_text(source_id)
            return resolve_citation(folded, source_id, request.quote, request.start,
                                    request.end, body=body)
        except ValidationError as err:
            raise err.at(where) from None

    def prepare_system(self, data: FactData) -> _Prepared:
        """An event the store writes about itself, on its type's fixed stream."""
        assert data.stream is not None
        payload_body = payload_json(data, unstructure_data(data)).decode("utf-8")
        return _Prepared(
            event_id=uuid7(), caller_id=False, track=data.stream, type=data.type_name,
            schema_version=data.stored_version(), valid=None, correlation_id=None,
            causation_id=None, payload_body=payload_body,
            payload_hash=sha256_hex(payload_body.encode("utf-8")), cited=(),
            citations_hash=_NO_CITATIONS_HASH)

    def write(self, conn: sa.Connection, prepared: list[_Prepared],
              expected: Mapping[str, Expected], *, dry_run: bool = False) -> list[Appended]:
        """Write prepared events under the lock: dedupe, check versions, chain, insert.
        With ``dry_run``, everything but the insert: where each would go."""
        results: list[Appended | None] = [None] * len(prepared)
        fresh = self._dedupe(conn, prepared, results)
        if fresh or not prepared:
            tracks = {prepared[i].track for i in fresh} | set(expected)
            versions = track_versions(conn, tracks)
            for track, wanted in expected.items():
                _check_expected(track, wanted, versions.get(track, 0))
            if fresh and dry_run:
                _place(conn, [prepared[i] for i in fresh], versions, fresh, results)
            elif fresh:
                self._insert(conn, [prepared[i] for i in fresh], versions, fresh, results)
                self._db.announce(conn, max(r.position for r in results if r is not None))
        return [r for r in results if r is not None]

    def _dedupe(self, conn: sa.Connection, prepared: list[_Prepared],
                results: list[Appended | None]) -> list[int]:
        """Fill ``results`` for events already stored; return the indexes still to write."""
        supplied: dict[str, int] = {}  # event id → the index that first gave it
        for index, item in enumerate(prepared):
            first = supplied.setdefault(str(item.event_id), index) if item.caller_id else index
            if first != index:
                raise ValidationError(f"event id {item.event_id} appears twice in the batch "
                                      f"(first at {prepared[first].label})", where=item.label)
        stored: dict[str, Any] = {}
        for chunk in chunks(list(supplied)):
            rows = conn.execute(sa.select(t.events).where(t.events.c.event_id.in_(chunk)))
            stored.update({row.event_id: row for row in rows})
        fresh = []
        for index, item in enumerate(prepared):
            row = stored.get(str(item.event_id))
            if row is None:
                fresh.append(index)
                continue
            if _content(row) != _content_of(item) and not _same_upcast(conn, row, item):
                raise DuplicateEventError(
                    f"{item.label}: event id {item.event_id} is already stored (position "
                    f"{row.position}) with different content; an event is never changed: "
                    "append a correction instead")
            results[index] = Appended(event_id=item.event_id, position=row.position,
                                      track=row.track, version=row.version, new=False)
        return fresh

    def _insert(self, conn: sa.Connection, items: list[_Prepared], versions: dict[str, int],
                indexes: list[int], results: list[Appended | None]) -> None:
        head = conn.execute(_HEAD).first()
        position, prev_hash = (head.position, head.hash) if head else (0, GENESIS_HASH)
        now = dt.datetime.now(dt.UTC)
        if head is not None:
            # Record time never goes backwards, and each append gets its own instant, so
            # that "known at T" always separates one append from the next.
            now = max(now, utc(head.recorded_at) + dt.timedelta(microseconds=1))
        sqlite = self._db.sqlite
        stamp = stored_time(now, sqlite)
        # The tree's right edge: kept from this store's last append when the log's head is
        # still the event it ended with (the head's hash fixes every leaf before it), else
        # read.
        kept = self._edge
        if kept is not None and head is not None and (kept[0], kept[1]) == (position, prev_hash):
            edge = kept[2].copy()
        else:
            edge = tree.frontier(conn, position) or tree.missing(position)
        event_rows: list[dict[str, Any]] = []
        payload_rows: list[dict[str, Any]] = []
        cited_rows: list[dict[str, Any]] = []
        members: list[dict[str, Any]] = []
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
            valid = item.valid
            event_rows.append(event_row(
                envelope, event_hash, recorded_at=stamp,
                lower=stored_day(valid.lower, sqlite) if valid else None,
                upper=stored_day(valid.upper, sqlite) if valid else None,
                tree_nodes=edge.append_leaf(leaf)))
            payload_rows.append(payload_row(position, item.payload_hash,
                                                 item.payload_body))
            cited_rows.extend(citation_rows(position, item.cited))
            members.extend(member_rows(item.track, version))
            results[index] = Appended(event_id=item.event_id, position=position,
                                      track=item.track, version=version, new=True)
            prev_hash = event_hash
        self._db.bulk.run(conn, t.events, event_rows)
        self._db.bulk.run(conn, t.payloads, payload_rows)
        self._db.bulk.run(conn, t.citations, cited_rows)
        if members:
            conn.execute(t.stream_members.insert(), members)
        if self.signer is not None:
            origin = (origin_of(event_rows[0]["hash"]) if event_rows[0]["position"] == 1
                      else self._db.origin(conn))
            tree.store_checkpoint(conn, origin, position, edge.root(), self.signer, now,
                                  self.actor)
        # Kept even if this transaction rolls back: no committed head will match it then.
        self._edge = (position, prev_hash, edge.copy())


#: The log's last event, where the next append goes on from.
_HEAD = (sa.select(t.events.c.position, t.events.c.hash, t.events.c.recorded_at)
         .order_by(t.events.c.position.desc()).limit(1))


def _place(conn: sa.Connection, items: list[_Prepared], versions: dict[str, int],
           indexes: list[int], results: list[Appended | None]) -> None:
    """Where each new event would go if it were appended now (a check writes nothing)."""
    head = conn.execute(_HEAD).first()
    position = head.position if head else 0
    for index, item in zip(indexes, items, strict=True):
        position += 1
        versions[item.track] = versions.get(item.track, 0) + 1
        results[index] = Appended(event_id=item.event_id, position=position,
                                  track=item.track, version=versions[item.track], new=True)


def _stream_name(track: str) -> str:
    return track if track in FIXED_STREAMS else parse_stream(track)


def _shows_on(stream: str, track: str) -> bool:
    """Whether the events of ``stream`` show on the bilateral ``track`` (a multilateral
    stream with both its countries): a ``fact.same_as`` on the track may name one of them
    as the original of the track's own report."""
    return (is_multilateral(stream) and not is_multilateral(track)
            and track not in FIXED_STREAMS and set(parties(track)) <= set(parties(stream)))


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
        if track != fact.track and not (field == "same_as" and _shows_on(track, fact.track)):
            also = (f" or a multilateral stream with both {' and '.join(parties(fact.track))}"
                    if field == "same_as" and not is_multilateral(fact.track) else "")
            raise ValidationError(f"event {ref} is on track {track}, not {fact.track}{also}",
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


def _refers(data: FactData) -> tuple[str, str] | None:
    """``(field, type)`` for a plain fact that names another event (``statement.withdrawn``
    names its ``statement.made``), else None."""
    refers: tuple[str, str] | None = getattr(data, "refers", None)
    return refers


def _referred(data: FactData) -> str:
    refers = _refers(data)
    assert refers is not None
    return str(uuid.UUID(getattr(data, refers[0])))


def _check_referred(fact: Fact, known: Mapping[str, tuple[str, str]], label: str) -> None:
    """The event a plain fact names is stored or earlier in the batch, on its track, and
    of the type it must be."""
    refers = _refers(fact.data)
    assert refers is not None
    field, wanted_type = refers
    ref = _referred(fact.data)
    where = f"{label}: data.{field}"
    if ref not in known:
        raise EventNotFound(f"{where}: no event has the id {ref} (a {fact.type} names a "
                            f"{wanted_type} already in the log, or earlier in the same batch)")
    track, type_name = known[ref]
    if track != fact.track:
        raise ValidationError(f"event {ref} is on track {track}, not {fact.track}", where=where)
    if type_name != wanted_type:
        raise ValidationError(f"event {ref} is a {type_name}; a {fact.type} names a "
                              f"{wanted_type}", where=where)


def _payload_body(fact: Fact, label: str) -> str:
    """The fact's canonical payload; a lone surrogate in its text is refused, naming the field."""
    data = unstructure_data(fact.data)
    words = fact.valid.text if fact.valid is not None else None
    try:
        body = payload_json(fact.data, data).decode("utf-8")
        if words is not None:
            canonical_json(words)  # written to the envelope later, under the lock
    except ValidationError as err:
        raise (lone_surrogate({"data": data, "date_text": words}, label) or err.at(label)
               ) from None
    return body


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


def _same_upcast(conn: sa.Connection, row: Any, item: _Prepared) -> bool:
    """Whether a stored event of an older schema version is the fact re-sent in the current
    shape: its payload upcast is the new payload, and the rest of its content is the
    item's. A file of facts appended before a type changed shape (``action.announced``'s
    ``actor`` became ``actors``) is then still re-sent idempotently, once rewritten in the
    new shape; the stored row stays as it was."""
    if row.schema_version >= item.schema_version:
        return False
    as_stored = attrs.evolve(item, schema_version=row.schema_version,
                             payload_hash=row.payload_hash)
    if _content(row) != _content_of(as_stored):
        return False
    body = conn.execute(sa.select(t.payloads.c.body)
                        .where(t.payloads.c.position == row.position)).scalar()
    if body is None:  # erased: nothing to compare
        return False
    try:
        upcast = decode_stored(row.type, row.schema_version, json.loads(body))
    except (ValidationError, KeyError, TypeError, ValueError):
        return False
    return canonical_json(unstructure_data(upcast)).decode("utf-8") == item.payload_body


def _content(row: Any) -> tuple[Any, ...]:
    return (row.track, row.type, row.schema_version, row.valid_edtf, row.valid_text,
            row.valid_anchor, bool(row.valid_resolved), row.payload_hash, row.citations_hash,
            row.correlation_id, row.causation_id)


def _content_of(item: _Prepared) -> tuple[Any, ...]:
    valid = item.valid
    return (item.track, item.type, item.schema_version, valid.edtf if valid else None,
            valid.text if valid else None, valid.anchor if valid else None,
            bool(valid and valid.resolved), item.payload_hash, item.citations_hash,
            _opt_text(item.correlation_id), _opt_text(item.causation_id))


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
