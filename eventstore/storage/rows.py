"""Rows: the only code that turns events, payloads, citations, sources and erasures into
table rows, and rows back into envelopes and events.

An append (``append.py``) and an import (``transfer.py``) both write through the
builders here, so an import writes exactly the rows an append writes; the readers decode
through :func:`decode_event` and :func:`envelope_from_row`. The column order of every
query that is unpacked by position is fixed here (:data:`ENVELOPE_COLUMNS`), not by the
table's definition. Imports: the pure core and ``schema``; no connection is used.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from ..codec import decode_stored
from ..dates import ValidTime
from ..errors import EventStoreError, IntegrityError
from ..events import RecordedEvent, _utc_text, envelope
from ..facts import FactData, Redacted
from ..sources import Citation
from ..tracks import is_multilateral, parties
from . import schema as t

__all__ = ["ENVELOPE_COLUMNS", "envelope_columns", "envelope_from_row", "event_row",
           "payload_row", "citation_rows", "source_row", "source_text_row", "erasure_row",
           "EVENT_ROWS", "events_from", "decode_event", "citation_of", "stored_day", "stored_time",
           "parse_time", "utc"]

_e = t.events.c

#: The ``events`` columns an envelope is made of, in the order :func:`envelope_from_row`
#: unpacks them (by position: several times cheaper than by name on the verify path).
ENVELOPE_COLUMNS = (
    _e.position, _e.event_id, _e.track, _e.version, _e.type, _e.schema_version,
    _e.valid_edtf, _e.valid_lower, _e.valid_upper, _e.valid_text, _e.valid_anchor,
    _e.recorded_at, _e.recorded_by, _e.correlation_id, _e.causation_id, _e.payload_hash,
    _e.citations_hash, _e.prev_hash, _e.valid_resolved)
_WIDTH = len(ENVELOPE_COLUMNS)
_RAW = {"recorded_at", "valid_lower", "valid_upper"}


def envelope_columns(dialect: sa.Dialect) -> list[Any]:
    """:data:`ENVELOPE_COLUMNS` then ``hash``, for :func:`envelope_from_row`. On SQLite the
    times and days come as the stored text, which the envelope's form is cut from directly
    instead of parsing it into a datetime and formatting it back."""
    columns = [*ENVELOPE_COLUMNS, _e.hash]
    if dialect.name != "sqlite":
        return columns
    return [sa.type_coerce(c, sa.String).label(c.name) if c.name in _RAW else c
            for c in columns]


def _iso(day: Any) -> str | None:
    if day is None:
        return None
    return day if isinstance(day, str) else day.isoformat()


def _record_time(value: Any) -> str:
    """``recorded_at`` as the envelope has it; SQLite's ``2026-11-23 11:00:00.123456`` is
    cut into ``2026-11-23T11:00:00.123456Z`` (any other text is parsed)."""
    if isinstance(value, str):
        if len(value) == 26 and value[10] == " " and value[19] == ".":
            return f"{value[:10]}T{value[11:]}Z"
        value = dt.datetime.fromisoformat(value)
    return _utc_text(value)


def envelope_from_row(row: Any) -> dict[str, Any]:
    """The chained envelope of a row that starts with :func:`envelope_columns`."""
    (position, event_id, track, version, type_name, schema_version, valid_edtf, valid_lower,
     valid_upper, valid_text, valid_anchor, recorded_at, recorded_by, correlation_id,
     causation_id, payload_hash, citations_hash, prev_hash, valid_resolved) = row[:_WIDTH]
    valid = None if valid_edtf is None else {
        "edtf": valid_edtf, "lower": _iso(valid_lower), "upper": _iso(valid_upper),
        "text": valid_text, "anchor": valid_anchor}
    if valid_resolved and valid is not None:  # only then: older envelopes stay as they were
        valid["resolved"] = True
    return envelope(position, event_id, track, version, type_name, schema_version, valid,
                    _record_time(recorded_at), recorded_by, correlation_id, causation_id,
                    payload_hash, citations_hash, prev_hash)


# -- writing ---------------------------------------------------------------------------


def stored_day(day: dt.date | None, sqlite: bool) -> Any:
    """A date as the driver takes it (SQLite: the ISO text SQLAlchemy reads back)."""
    if day is None or not sqlite:
        return day
    return day.isoformat()


def stored_time(moment: dt.datetime, sqlite: bool) -> Any:
    """A record time as the driver takes it (SQLite: SQLAlchemy's naive UTC text)."""
    if not sqlite:
        return moment
    return moment.astimezone(dt.UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def parse_time(value: str) -> dt.datetime:
    """A record time of the envelope's form (``…Z``) as an aware datetime."""
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def event_row(envelope: Mapping[str, Any], event_hash: str, *, recorded_at: Any,
              lower: Any, upper: Any, tree_nodes: bytes) -> dict[str, Any]:
    """The ``events`` row of an envelope; ``recorded_at`` and the valid-time bounds as the
    driver takes them (:func:`stored_time`, :func:`stored_day`); ``tree_nodes``, the
    Merkle tree's nodes its leaf completed (:meth:`Frontier.append_leaf`)."""
    valid = envelope["valid"]
    return {
        "position": envelope["position"], "event_id": envelope["event_id"],
        "track": envelope["track"], "version": envelope["version"], "type": envelope["type"],
        "schema_version": envelope["schema_version"],
        "valid_edtf": valid["edtf"] if valid else None, "valid_lower": lower,
        "valid_upper": upper, "valid_text": valid["text"] if valid else None,
        "valid_anchor": valid["anchor"] if valid else None,
        "valid_resolved": True if valid and valid.get("resolved") else None,
        "recorded_at": recorded_at,
        "recorded_by": envelope["recorded_by"], "correlation_id": envelope["correlation_id"],
        "causation_id": envelope["causation_id"], "payload_hash": envelope["payload_hash"],
        "citations_hash": envelope["citations_hash"], "prev_hash": envelope["prev_hash"],
        "hash": event_hash, "tree_nodes": tree_nodes}


def payload_row(position: int, payload_hash: str, body: str) -> dict[str, Any]:
    """The ``payloads`` row: the canonical JSON of the fact's data."""
    return {"position": position, "hash": payload_hash, "body": body}


def citation_rows(position: int, citations: Iterable[Mapping[str, Any]]
                  ) -> list[dict[str, Any]]:
    """The ``citations`` rows of an event, from its citations in their stored JSON form
    (``{source, start, end, exact, prefix, suffix}``), in the order the fact gave them."""
    return [{"position": position, "ordinal": ordinal, "source_id": c["source"],
             "start_offset": c["start"], "end_offset": c["end"], "exact": c["exact"],
             "prefix": c["prefix"], "suffix": c["suffix"]}
            for ordinal, c in enumerate(citations)]


def source_row(registration: Mapping[str, Any], position: int) -> dict[str, Any]:
    """The ``sources`` row of a ``source.registered`` payload (its JSON form, nulls left
    out) registered at ``position``."""
    length = registration["length"]
    return {"id": registration["source"], "original_sha256": registration["original_sha256"],
            "length": length, "body_start": registration.get("body_start") or 0,
            "body_end": registration.get("body_end") or length,
            **{key: registration.get(key) for key in ("title", "outlet", "url", "published",
                                                      "language", "agency", "published_basis",
                                                      "note")},
            "position": position}


def erasure_row(position: int, type_name: str, data: Mapping[str, Any], *, erased_at: Any,
                erased_by: str, event_id: str) -> dict[str, Any]:
    """The ``erasures`` row of the erasure event at ``position`` (what lets the guarded
    triggers through), from its type and its payload's JSON form."""
    source = type_name == "source.erased"
    return {"position": position, "kind": "source" if source else "payload",
            "source_id": data["source"] if source else None,
            "payload_position": None if source else data["position"],
            "reason": data["reason"], "erased_at": erased_at, "erased_by": erased_by,
            "event_id": event_id}


def member_rows(stream: str, version: int) -> list[dict[str, Any]]:
    """The ``stream_members`` rows an event of ``stream`` at ``version`` brings: one per
    country when it is the first event of a multilateral stream, else none."""
    if version != 1 or not is_multilateral(stream):
        return []
    return [{"country": country, "stream": stream} for country in parties(stream)]


def source_text_row(source_id: str, text: str) -> dict[str, Any]:
    """The ``source_texts`` row: the NFC text, apart so that it can be erased."""
    return {"source_id": source_id, "text": text}


# -- reading ---------------------------------------------------------------------------


def events_from(start: int | None = None) -> sa.Select[Any]:
    """Events (:func:`envelope_columns` order, then ``hash``) with their payload's body
    (outer: an erased payload leaves its event readable).

    With ``start``, for positions from ``start`` on: the payloads' side of the join is
    bounded too, or PostgreSQL's merge join walks the payloads from position 1 (a page
    read far into a large log cost a scan of everything before it)."""
    joined = t.payloads.c.position == _e.position
    if start is not None:
        joined = sa.and_(joined, t.payloads.c.position >= start)
    return (sa.select(*ENVELOPE_COLUMNS, _e.hash, t.payloads.c.body)
            .join(t.payloads, joined, isouter=True))


#: Events with their payloads, for reads that are not ranges of positions.
EVENT_ROWS = events_from()


def utc(moment: dt.datetime) -> dt.datetime:
    """An aware UTC datetime (SQLite gives naive UTC ones back)."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _opt_uuid(value: str | None) -> uuid.UUID | None:
    return None if value is None else uuid.UUID(value)


def citation_of(row: Any) -> Citation:
    """The citation of a ``citations`` row."""
    return Citation(source=row.source_id, start=row.start_offset, end=row.end_offset,
                    exact=row.exact, prefix=row.prefix, suffix=row.suffix)


def decode_event(row: Any, citations: tuple[Citation, ...],
                 redacted: Redacted | None = None) -> RecordedEvent:
    """The event of an :data:`EVENT_ROWS` row, with its citations (and, for an erased
    payload, what reads give in its place)."""
    (position, event_id, track, version, type_name, schema_version, valid_edtf, valid_lower,
     valid_upper, valid_text, valid_anchor, recorded_at, recorded_by, correlation_id,
     causation_id, payload_hash, citations_hash, prev_hash, valid_resolved, event_hash,
     body) = row
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
        anchor=valid_anchor, resolved=bool(valid_resolved))
    return RecordedEvent(
        position=position, event_id=uuid.UUID(event_id), track=track, version=version,
        type=type_name, schema_version=schema_version, data=data, valid=valid,
        recorded_at=utc(recorded_at), recorded_by=recorded_by,
        correlation_id=_opt_uuid(correlation_id), causation_id=_opt_uuid(causation_id),
        citations=citations, payload_hash=payload_hash, citations_hash=citations_hash,
        prev_hash=prev_hash, hash=event_hash)
