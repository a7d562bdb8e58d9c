"""Export a stored log, check an export with no database, import one into an empty
database.

The export is JSON lines (docs/auditing.md#the-export-format); reading one is as strict
as reading facts (``eventstore.jsonl``), and checking it is the same
:class:`eventstore.audit.checker.LogChecker` that ``verify`` feeds from a database. An
import writes through ``rows``, the row builders the append path uses, so both stores
hold the same rows. Imports: ``rows``, ``tree``, ``verify``, ``schema`` and the pure core.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from ..audit.checker import LogChecker, Report
from ..audit.merkle import Frontier
from ..audit.verifier import VerifierKey, checkpoint_of_note, parse_verifier_key
from ..codec import ENVELOPE_KEYS, canonical_json, envelope_json
from ..errors import AuditError, ValidationError
from ..events import _utc_text
from ..jsonl import loads, parse_lines
from ..tracks import ERASURES_STREAM, SOURCES_STREAM
from . import schema as t
from .rows import (
    citation_rows,
    envelope_from_row,
    erasure_row,
    event_row,
    member_rows,
    parse_time,
    payload_row,
    source_row,
    source_text_row,
)
from .tree import checkpoint_row
from .verify import PAGE, checkpoint_rows, pages

__all__ = ["export_lines", "verify_export", "import_export", "ExportRecords", "EXPORT_FORMAT"]

EXPORT_FORMAT = "eventstore-export/1"


# -- export -------------------------------------------------------------------------------


def export_lines(conn: sa.Connection) -> Iterator[str]:
    """The whole log as JSON lines (see ``docs/auditing.md#the-export-format``)."""
    checkpoints = checkpoint_rows(conn)
    size = conn.execute(sa.select(sa.func.count()).select_from(t.events)).scalar() or 0
    yield _line({"kind": "header", "format": EXPORT_FORMAT, "events": int(size),
                 "checkpoints": len(checkpoints),
                 "exported_at": _utc_text(dt.datetime.now(dt.UTC))})
    for row in checkpoints:
        yield _line({"kind": "checkpoint", "note": row["note"],
                     "verifier_key": row["verifier_key"], "key_name": row["key_name"],
                     "created_at": _utc_text(row["created_at"]), "created_by": row["created_by"]})
    s = t.sources.c
    for page in pages(conn):
        registered = [row.position for row, *_ in page if row.track == SOURCES_STREAM]
        sources = {r.position: r for r in conn.execute(
            sa.select(t.sources, t.source_texts.c.text)
            .join(t.source_texts, t.source_texts.c.source_id == s.id, isouter=True)
            .where(s.position.in_(registered)))} if registered else {}
        for row, body, citations, _ in page:
            envelope = envelope_from_row(row)
            yield _line({"kind": "event", **envelope, "hash": row.hash, "payload": body,
                         "citations": citations})
            source = sources.get(row.position)
            if source is not None:
                yield _line({"kind": "source", "id": source.id, "text": source.text})


def _line(value: Mapping[str, Any]) -> str:
    return canonical_json(value).decode("utf-8")


# -- reading an export ----------------------------------------------------------------------


class ExportRecords:
    """The records of an export file, checked for shape as they are read.

    ``lines`` are the file's lines, split on ``\\n`` only, as text or as UTF-8 bytes
    (see :func:`eventstore.jsonl.parse_lines`).
    """

    def __init__(self, lines: Iterable[str | bytes], name: str) -> None:
        self._lines = lines
        self.name = name
        self.header: dict[str, Any] | None = None

    def __iter__(self) -> Iterator[tuple[int, str, dict[str, Any]]]:
        try:
            for number, where, record in parse_lines(self._lines, self.name):
                if not isinstance(record, dict) or not isinstance(record.get("kind"), str):
                    raise AuditError(f"{where}: not an export record (an object with a kind)")
                if number == 1:
                    if record.get("kind") != "header" or record.get("format") != EXPORT_FORMAT:
                        raise AuditError(f"{where}: not an eventstore export (the first line "
                                         f"must be a header of format {EXPORT_FORMAT})")
                    self.header = record
                    continue
                yield number, where, record
        except ValidationError as err:
            raise AuditError(f"{err}; the export is damaged, truncated or edited") from None


def verify_export(lines: Iterable[str | bytes], name: str,
                  keys: Sequence[VerifierKey] = (), *, require_signed: bool = False) -> Report:
    """Check an export file with no database: the same checks as a stored log's.

    Each line, and each event's payload, is read as strictly as a fact (see
    :mod:`eventstore.jsonl`): a line that is not one record of an export raises
    :class:`AuditError` naming it.
    """
    records = ExportRecords(lines, name)
    checker = LogChecker(keys=keys, now=dt.datetime.now(dt.UTC))
    checkpoints: list[dict[str, Any]] = []
    started = False
    for _, where, record in records:
        kind = record["kind"]
        try:
            if kind == "checkpoint":
                if started:
                    raise AuditError("checkpoints must come before the events")
                checkpoints.append(record)
            elif kind == "event":
                if not started:
                    checker.checkpoints(checkpoints)
                    started = True
                if isinstance(record.get("payload"), str):
                    loads(record["payload"], "payload")
                checker.event({key: record.get(key) for key in ENVELOPE_KEYS},
                              str(record.get("hash")), record.get("payload"),
                              list(record.get("citations") or []))
            elif kind == "source":
                checker.source(str(record.get("id")), record.get("text"))
            else:
                raise AuditError(f"unknown record kind {kind!r}")
        except (AuditError, ValidationError, KeyError, TypeError, ValueError) as err:
            raise AuditError(f"{where}: {err}") from None
    if records.header is None:
        raise AuditError(f"{name}: empty file, not an eventstore export")
    if not started:
        checker.checkpoints(checkpoints)
    declared = records.header.get("events")
    return checker.finish(stored_events=declared if isinstance(declared, int) else None,
                          require_signed=require_signed)


# -- import ---------------------------------------------------------------------------------


def import_export(conn: sa.Connection, lines: Iterable[str | bytes], name: str) -> int:
    """Load a checked export into the empty database behind ``conn`` (in its transaction).

    Rows are written as exported (positions, record times, hashes), so both stores have
    the same chain and the same tree; the tree's nodes are recomputed from the envelopes.
    """
    held = conn.execute(sa.select(sa.func.count()).select_from(t.events)).scalar()
    if held:
        raise AuditError(f"the database already holds {held:,} events: import loads an export "
                         "into an empty database only")
    edge = Frontier()
    batch: dict[str, list[dict[str, Any]]] = {table: [] for table in _IMPORT_ORDER}
    registrations: dict[str, tuple[dict[str, Any], int]] = {}  # id → (payload, position)
    for _, _, record in ExportRecords(lines, name):
        kind = record["kind"]
        if kind == "checkpoint":
            batch["checkpoints"].append(checkpoint_row(
                checkpoint_of_note(record["note"]), record["note"],
                parse_verifier_key(record["verifier_key"]),
                parse_time(record["created_at"]), record["created_by"]))
        elif kind == "event":
            envelope = {key: record[key] for key in ENVELOPE_KEYS}
            position, payload = envelope["position"], record["payload"]
            valid = envelope["valid"] or {}
            recorded_at = parse_time(envelope["recorded_at"])
            batch["events"].append(event_row(
                envelope, record["hash"], recorded_at=recorded_at,
                lower=_day(valid.get("lower")), upper=_day(valid.get("upper")),
                tree_nodes=edge.append_leaf(envelope_json(envelope))))
            if payload is not None:
                batch["payloads"].append(payload_row(position, envelope["payload_hash"],
                                                     payload))
                if envelope["track"] == SOURCES_STREAM:
                    registrations[json.loads(payload)["source"]] = (json.loads(payload),
                                                                    position)
                elif envelope["track"] == ERASURES_STREAM:
                    batch["erasures"].append(erasure_row(
                        position, envelope["type"], json.loads(payload),
                        erased_at=recorded_at, erased_by=envelope["recorded_by"],
                        event_id=envelope["event_id"]))
            batch["citations"].extend(citation_rows(position, record["citations"]))
            batch["stream_members"].extend(member_rows(envelope["track"],
                                                       envelope["version"]))
        elif kind == "source":
            registration, position = registrations[record["id"]]
            batch["sources"].append(source_row(registration, position))
            if record["text"] is not None:
                batch["source_texts"].append(source_text_row(record["id"], record["text"]))
        if len(batch["events"]) >= PAGE:
            _flush(conn, batch)
    _flush(conn, batch)
    if batch["checkpoints"]:
        conn.execute(t.checkpoints.insert(), batch["checkpoints"])
    return edge.size


_IMPORT_ORDER = ("events", "payloads", "sources", "source_texts", "citations", "erasures",
                 "stream_members", "checkpoints")


def _flush(conn: sa.Connection, batch: dict[str, list[dict[str, Any]]]) -> None:
    for table in _IMPORT_ORDER:
        if table == "checkpoints":
            continue  # after every event: a checkpoint never precedes what it signs
        if batch[table]:
            conn.execute(t.metadata.tables[table].insert(), batch[table])
            batch[table] = []


def _day(value: str | None) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(value)
