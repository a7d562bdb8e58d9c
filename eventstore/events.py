"""Facts on their way in (:class:`Fact`) and events on their way out (:class:`RecordedEvent`).

A :class:`Fact` is what a caller appends: a typed payload, the track, the valid time
and the citations as the caller wrote them. A :class:`RecordedEvent` is what the log
holds: the same fact with everything the store assigned (position, per-track version,
record time, actor), its citations resolved to exact spans, and its hashes.

The JSON form of a fact (a line of a ``.jsonl`` file; the library's dict form) is::

    {"type": "meeting.held", "track": "RUS-USA", "date": "2018-08-23",
     "date_text": "jeudi", "date_anchor": "2018-08-24",
     "event_id": "…optional UUID…",
     "data": {…the type's fields…},
     "citations": [{"source": "7c3a6282", "quote": "ont eu jeudi une rencontre à Genève"}]}
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, cast

import attrs

from .codec import (
    citations_json,
    envelope_json,
    parse_uuid,
    sha256_hex,
    structure_data,
    unstructure_data,
)
from .dates import ValidTime, parse_valid_time
from .errors import DateError, ValidationError
from .facts import FactData, FieldValueError, fact_class
from .relative import check_words, resolved_valid_time
from .sources import Citation, CitationRequest
from .tracks import parse_stream

__all__ = ["Fact", "RecordedEvent", "fact_from_dict", "fact_to_dict", "envelope",
           "envelope_dict",
           "citations_bytes", "FACT_KEYS"]

#: The keys a fact's JSON form may have.
FACT_KEYS = ("type", "track", "date", "date_text", "date_anchor", "event_id",
             "correlation_id", "causation_id", "data", "citations")
_REQUIRED_KEYS = ("type", "data")
_CITATION_KEYS = ("source", "quote", "start", "end")


def _cite(value: CitationRequest | Mapping[str, Any]) -> CitationRequest:
    if isinstance(value, CitationRequest):
        return value
    return _citation_from_dict(value, "citations")


def _cites(items: Iterable[CitationRequest | Mapping[str, Any]]
           ) -> tuple[CitationRequest, ...]:
    return tuple(_cite(c) for c in items)


@attrs.frozen
class Fact:
    """A fact to append: what happened (``data``), on which track, when, and who says so."""

    data: FactData
    track: str
    valid: ValidTime | None
    citations: tuple[CitationRequest, ...] = attrs.field(converter=_cites)
    event_id: uuid.UUID | None = None
    correlation_id: uuid.UUID | None = None
    causation_id: uuid.UUID | None = None

    def __attrs_post_init__(self) -> None:
        data = self.data
        if data.stream is not None:
            if self.track not in (None, data.stream):
                raise ValidationError(f"{data.type_name} belongs to the {data.stream} stream, "
                                      f"not {self.track}", where="track")
            object.__setattr__(self, "track", data.stream)
        else:
            object.__setattr__(self, "track", _track(self.track))
        if self.valid is None and data.needs_date:
            raise ValidationError("missing: a fact needs the date it happened (or the "
                                  "source's words for it and the date they were written, "
                                  "date_text and date_anchor, that the store can resolve)",
                                  where="date")
        if self.valid is not None and not data.needs_date:
            raise ValidationError(f"a {data.type_name} fact has no date of its own (it is "
                                  "about another fact, or about the registry)", where="date")
        if not self.citations and data.needs_citation:
            raise ValidationError("a fact needs at least one citation", where="citations")
        try:
            data.check_citations(len(self.citations))
        except FieldValueError as err:
            raise ValidationError(str(err), where=f"data.{err.field}") from None
        if self.valid is not None:
            check_words(self.valid)

    @property
    def type(self) -> str:
        return self.data.type_name

    @classmethod
    def create(cls, data: FactData, *, track: str | None = None, date: str | None = None,
               cite: Iterable[CitationRequest | Mapping[str, Any]] = (),
               date_text: str | None = None, date_anchor: str | None = None,
               event_id: uuid.UUID | str | None = None,
               correlation_id: uuid.UUID | str | None = None,
               causation_id: uuid.UUID | str | None = None) -> Fact:
        """Build a fact, checking the track, the date and the ids.

        ``track`` is omitted for types with a stream of their own (``actor.registered``);
        ``date`` and ``cite`` for the types that do not need them (retractions …). A fact
        that gives ``date_text`` and ``date_anchor`` but no ``date`` gets the date the
        words mean, marked ``resolved`` (:mod:`eventstore.relative`); a ``date`` given with
        them must agree with them.
        """
        return cls(
            data=data, track=track,  # type: ignore[arg-type]
            valid=_valid_time(date, date_text, date_anchor, data.needs_date),
            citations=tuple(cite),
            event_id=None if event_id is None else parse_uuid(event_id, "event_id"),
            correlation_id=None if correlation_id is None
            else parse_uuid(correlation_id, "correlation_id"),
            causation_id=None if causation_id is None
            else parse_uuid(causation_id, "causation_id"),
        )


@attrs.frozen
class RecordedEvent:
    """An event as the log holds it, with everything the store assigned."""

    position: int
    event_id: uuid.UUID
    track: str
    version: int
    type: str
    schema_version: int
    data: FactData
    valid: ValidTime | None
    recorded_at: dt.datetime
    recorded_by: str
    correlation_id: uuid.UUID | None
    causation_id: uuid.UUID | None
    citations: tuple[Citation, ...]
    payload_hash: str
    citations_hash: str
    prev_hash: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        """The event as plain JSON-ready data (the ``log --format json`` item shape)."""
        return {
            "position": self.position,
            "event_id": str(self.event_id),
            "track": self.track,
            "version": self.version,
            "type": self.type,
            "schema_version": self.schema_version,
            "valid": None if self.valid is None else self.valid.to_dict(),
            "recorded_at": _utc_text(self.recorded_at),
            "recorded_by": self.recorded_by,
            "correlation_id": _opt_str(self.correlation_id),
            "causation_id": _opt_str(self.causation_id),
            "data": unstructure_data(self.data),
            "citations": [c.to_dict() for c in self.citations],
            "payload_hash": self.payload_hash,
            "citations_hash": self.citations_hash,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


def _opt_str(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


def _utc_text(moment: dt.datetime) -> str:
    """``2026-11-23T11:00:00.123456Z``: always UTC, always microseconds (a naive time is
    taken as UTC, as the store keeps them on SQLite)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds") + "Z"  # the year has 4 digits here


def citations_bytes(citations: Iterable[Citation]) -> bytes:
    return citations_json([c.to_dict() for c in citations])


def envelope(position: int, event_id: str, track: str, version: int, type: str,
             schema_version: int, valid: Mapping[str, Any] | None, recorded_at: str,
             recorded_by: str, correlation_id: str | None, causation_id: str | None,
             payload_hash: str, citations_hash: str, prev_hash: str) -> dict[str, Any]:
    """The chained envelope of an event, from its values in JSON form: what its ``hash``
    is the SHA-256 of (canonically; docs/integrity.md). The one place it is assembled:
    from typed values (:func:`envelope_dict`), from a stored row
    (``storage.rows.envelope_from_row``)."""
    return {
        "position": position,
        "event_id": event_id,
        "track": track,
        "version": version,
        "type": type,
        "schema_version": schema_version,
        "valid": valid,
        "recorded_at": recorded_at,
        "recorded_by": recorded_by,
        "correlation_id": correlation_id,
        "causation_id": causation_id,
        "payload_hash": payload_hash,
        "citations_hash": citations_hash,
        "prev_hash": prev_hash,
    }


def envelope_dict(*, position: int, event_id: uuid.UUID, track: str, version: int, type: str,
                  schema_version: int, valid: ValidTime | None, recorded_at: dt.datetime,
                  recorded_by: str, correlation_id: uuid.UUID | None,
                  causation_id: uuid.UUID | None, payload_hash: str, citations_hash: str,
                  prev_hash: str) -> dict[str, Any]:
    """The chained envelope of an event, from typed values (see :func:`envelope`)."""
    return envelope(position, str(event_id), track, version, type, schema_version,
                    None if valid is None else valid.to_dict(), _utc_text(recorded_at),
                    recorded_by, _opt_str(correlation_id), _opt_str(causation_id),
                    payload_hash, citations_hash, prev_hash)


def envelope_hash(envelope: Mapping[str, Any]) -> str:
    return sha256_hex(envelope_json(envelope))


def _citation_from_dict(value: Any, where: str) -> CitationRequest:
    if not isinstance(value, Mapping):
        raise ValidationError("a citation must be an object such as "
                              '{"source": "7c3a6282", "quote": "…"}', where=where)
    extra = sorted(set(value) - set(_CITATION_KEYS))
    if extra:
        raise ValidationError(f"unknown field {', '.join(map(repr, extra))} "
                              f"(a citation has {', '.join(_CITATION_KEYS)})", where=where)
    source = value.get("source")
    if not isinstance(source, str) or not source.strip():
        raise ValidationError("missing source id", where=f"{where}.source")
    quote = value.get("quote")
    if quote is not None and not isinstance(quote, str):
        raise ValidationError("the quote must be text", where=f"{where}.quote")
    for name in ("start", "end"):
        offset = value.get(name)
        if offset is not None and (isinstance(offset, bool) or not isinstance(offset, int)
                                   or offset < 0):
            raise ValidationError("must be a non-negative integer", where=f"{where}.{name}")
    if quote is None and (value.get("start") is None or value.get("end") is None):
        raise ValidationError("give a quote, or both start and end", where=where)
    return CitationRequest(source=source.strip(), quote=quote,
                           start=value.get("start"), end=value.get("end"))


def _optional_text(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise ValidationError("must be text", where=key)
    return value


def fact_from_dict(obj: Any) -> Fact:
    """Parse the JSON form of a fact; a :class:`ValidationError` names the field at fault."""
    if not isinstance(obj, Mapping):
        raise ValidationError(f"a fact must be a JSON object, not {type(obj).__name__}")
    extra = sorted(set(obj) - set(FACT_KEYS))
    if extra:
        raise ValidationError(f"unknown key {', '.join(map(repr, extra))}; a fact has the keys "
                              + ", ".join(FACT_KEYS))
    missing = [key for key in _REQUIRED_KEYS if key not in obj]
    if missing:
        raise ValidationError(f"missing key {', '.join(map(repr, missing))}")
    type_name = obj["type"]
    cls = fact_class(type_name)
    if cls.system:
        raise ValidationError(f"{type_name} is written by the store itself and cannot be "
                              "appended", where="type")
    worded = obj.get("date_text") is not None and obj.get("date_anchor") is not None
    needed = [key for key, needs in (("track", cls.stream is None),
                                     ("date", cls.needs_date and not worded),
                                     ("citations", cls.needs_citation))
              if needs and key not in obj]
    if needed:
        raise ValidationError(f"missing key {', '.join(map(repr, needed))}")
    data = structure_data(type_name, obj["data"])
    citations = obj.get("citations", [])
    if not isinstance(citations, list) or (cls.needs_citation and not citations):
        raise ValidationError("a fact needs a non-empty list of citations", where="citations")
    requests = [_citation_from_dict(c, f"citations[{i}]") for i, c in enumerate(citations)]
    valid = None
    date = obj.get("date")
    if date is not None or cls.needs_date:
        if not isinstance(date, str) and not (date is None and worded):
            raise ValidationError("must be an EDTF date string such as 2018-08-23", where="date")
        try:
            valid = _valid_time(date, _optional_text(obj, "date_text"),
                                _optional_text(obj, "date_anchor"), cls.needs_date)
        except DateError as err:
            raise (err if err.where else err.at("date")) from None
    ids = {key: None if obj.get(key) is None else parse_uuid(obj[key], key)
           for key in ("event_id", "correlation_id", "causation_id")}
    track = cast(str, obj.get("track"))  # None for a stream type: Fact fills it in
    return Fact(data=data, track=track, valid=valid, citations=requests, **ids)


def _valid_time(date: str | None, text: str | None, anchor: str | None,
                needs_date: bool) -> ValidTime | None:
    """The fact's valid time: ``date`` with its words, or, when only the words and their
    anchor are given, the date they mean (marked ``resolved``)."""
    if date is not None:
        return parse_valid_time(date, text=text, anchor=anchor)
    if needs_date and text is not None and anchor is not None:
        return resolved_valid_time(text, anchor)
    return None


def _track(value: Any) -> str:
    if value is None:
        raise ValidationError("missing: a fact needs its track, e.g. RUS-USA", where="track")
    try:
        return parse_stream(value)
    except ValidationError as err:
        raise err.at("track") from None


def fact_to_dict(fact: Fact) -> dict[str, Any]:
    """The JSON form of a fact (the inverse of :func:`fact_from_dict`)."""
    result: dict[str, Any] = {"type": fact.type}
    if fact.data.stream is None:
        result["track"] = fact.track
    if fact.valid is not None:
        if not fact.valid.resolved:  # a resolved date is the words', worked out again
            result["date"] = fact.valid.edtf
        if fact.valid.text is not None:
            result["date_text"] = fact.valid.text
        if fact.valid.anchor is not None:
            result["date_anchor"] = fact.valid.anchor
    for key in ("event_id", "correlation_id", "causation_id"):
        value = getattr(fact, key)
        if value is not None:
            result[key] = str(value)
    result["data"] = unstructure_data(fact.data)
    result["citations"] = [
        {k: v for k, v in (("source", c.source), ("quote", c.quote), ("start", c.start),
                           ("end", c.end)) if v is not None}
        for c in fact.citations
    ]
    return result
