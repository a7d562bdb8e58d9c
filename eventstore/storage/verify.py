"""Verify a stored log end to end; export it; import an export into an empty database.

The imperative shell around :class:`eventstore.audit.LogChecker`: it streams the log
from the database (or from an export file) a page at a time, in constant memory, and
hands each event to the checker with its stored payload, citations and tree row.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from ..audit import LogChecker, Report
from ..codec import ENVELOPE_KEYS, canonical_json, envelope_json
from ..errors import AuditError, ValidationError
from ..events import _utc_text
from ..jsonl import loads, parse_lines
from ..merkle import Frontier
from ..tracks import ERASURES_STREAM, SOURCES_STREAM
from ..verifier import VerifierKey, checkpoint_of_note, parse_verifier_key
from . import schema as t
from .rows import (
    citation_rows,
    envelope_columns,
    envelope_from_row,
    erasure_row,
    event_row,
    parse_time,
    payload_row,
    source_row,
    source_text_row,
)
from .tree import checkpoint_row

__all__ = ["verify_connection", "triggers_missing", "export_lines", "verify_export",
           "import_export", "EXPORT_FORMAT"]

EXPORT_FORMAT = "eventstore-export/1"
_PAGE = 5_000


def _expected_triggers(dialect: str) -> dict[str, str]:
    """Trigger name → what it guards, for every append-only table."""
    if dialect == "sqlite":
        return {f"{table}_refuse_{verb}": f"{verb.upper()} on {table}"
                for table in t.APPEND_ONLY_TABLES for verb in ("update", "delete")}
    names = {f"{table}_refuse_change": f"UPDATE and DELETE on {table}"
             for table in t.APPEND_ONLY_TABLES}
    names.update({f"{table}_refuse_truncate": f"TRUNCATE on {table}"
                  for table in t.APPEND_ONLY_TABLES})
    return names


def triggers_missing(conn: sa.Connection) -> list[str]:
    """What the immutability triggers no longer refuse (empty when all are in place)."""
    dialect = conn.dialect.name
    expected = _expected_triggers(dialect)
    if dialect == "sqlite":
        query = sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    else:
        query = sa.text("SELECT tgname FROM pg_trigger JOIN pg_class ON pg_class.oid = tgrelid "
                        "WHERE NOT tgisinternal AND tgenabled <> 'D' "
                        "AND pg_class.relnamespace = to_regnamespace(current_schema())::oid")
    present = {row[0] for row in conn.execute(query)}
    return sorted(what for name, what in expected.items() if name not in present)


def _checkpoint_rows(conn: sa.Connection) -> list[dict[str, Any]]:
    rows = conn.execute(sa.select(t.checkpoints).order_by(t.checkpoints.c.id)).all()
    return [dict(row._mapping) for row in rows]


_Page = list[tuple[Any, str | None, list[dict[str, Any]], bytes | None]]


def _pages(conn: sa.Connection, upto: int | None = None) -> Iterator[_Page]:
    """The log a page at a time: (event row, payload body, citations, tree row)."""
    e, p, m, c = t.events.c, t.payloads.c, t.merkle_nodes.c, t.citations.c
    query = (sa.select(*envelope_columns(conn.dialect), p.body, m.hashes)
             .join(t.payloads, p.position == e.position, isouter=True)
             .join(t.merkle_nodes, m.position == e.position, isouter=True))
    if upto is not None:
        query = query.where(e.position <= upto)
    after = 0
    while True:
        rows = conn.execute(query.where(e.position > after).order_by(e.position)
                            .limit(_PAGE)).all()
        if not rows:
            return
        first, last = rows[0].position, rows[-1].position
        cited: dict[int, list[dict[str, Any]]] = {}
        for row in conn.execute(sa.select(t.citations)
                                .where(c.position >= first, c.position <= last)
                                .order_by(c.position, c.ordinal)):
            cited.setdefault(row.position, []).append({
                "source": row.source_id, "start": row.start_offset, "end": row.end_offset,
                "exact": row.exact, "prefix": row.prefix, "suffix": row.suffix})
        yield [(row, row.body, cited.get(row.position, []),
                None if row.hashes is None else bytes(row.hashes)) for row in rows]
        after = last


def verify_connection(conn: sa.Connection, keys: Sequence[VerifierKey] = (), *,
                      upto: int | None = None,
                      checkpoints: Sequence[Mapping[str, Any]] | None = None,
                      known_at: dt.datetime | None = None,
                      require_signed: bool = False) -> Report:
    """Check everything the database holds (see :mod:`eventstore.audit`).

    ``upto`` checks only the first events (a prefix: replay at record time ``known_at``),
    against ``checkpoints`` given by the caller instead of the stored ones; every event
    after the prefix must then have been recorded after ``known_at``. With
    ``require_signed``, events that no signed checkpoint covers are a problem.
    """

    @functools.lru_cache(maxsize=64)
    def text_of(source_id: str) -> str | None:
        return conn.execute(sa.select(t.source_texts.c.text)
                            .where(t.source_texts.c.source_id == source_id)).scalar()

    checker = LogChecker(texts=text_of, keys=keys, now=dt.datetime.now(dt.UTC))
    checker.checkpoints(_checkpoint_rows(conn) if checkpoints is None else checkpoints)
    erasures = [dict(row._mapping) for row in
                conn.execute(sa.select(t.erasures).order_by(t.erasures.c.position))]
    if upto is not None:
        checker.later_erasures(row for row in erasures if row["position"] > upto)
        erasures = [row for row in erasures if row["position"] <= upto]
    checker.erasure_rows(erasures)
    for page in _pages(conn, upto):
        for row, body, citations, tree_row in page:
            checker.event(envelope_from_row(row), row.hash, body, citations,
                          stored_tree=tree_row, tree_expected=True)
    if upto is not None and known_at is not None:
        e = t.events.c
        checker.later_than(known_at, conn.execute(
            sa.select(e.position, e.recorded_at).where(e.position > upto)
            .where(e.recorded_at <= _stamp(conn, known_at)).order_by(e.position).limit(1)))
    for source_id in checker.unloaded_sources():  # texts no citation led to
        checker.source(source_id, text_of(source_id))
    for what in triggers_missing(conn):
        checker.problem(None, f"the database no longer refuses {what}: an immutability "
                              "trigger was dropped or disabled")
    query = sa.select(sa.func.count()).select_from(t.events)
    if upto is not None:
        query = query.where(t.events.c.position <= upto)
    return checker.finish(stored_events=int(conn.execute(query).scalar() or 0),
                          require_signed=require_signed)


def _stamp(conn: sa.Connection, moment: dt.datetime) -> dt.datetime:
    """A moment as the ``recorded_at`` column compares it (SQLite keeps naive UTC)."""
    moment = moment.astimezone(dt.UTC)
    return moment.replace(tzinfo=None) if conn.dialect.name == "sqlite" else moment


# -- export -------------------------------------------------------------------------------


def export_lines(conn: sa.Connection) -> Iterator[str]:
    """The whole log as JSON lines (see ``docs/auditing.md#the-export-format``)."""
    checkpoints = _checkpoint_rows(conn)
    size = conn.execute(sa.select(sa.func.count()).select_from(t.events)).scalar() or 0
    yield _line({"kind": "header", "format": EXPORT_FORMAT, "events": int(size),
                 "checkpoints": len(checkpoints),
                 "exported_at": _utc_text(dt.datetime.now(dt.UTC))})
    for row in checkpoints:
        yield _line({"kind": "checkpoint", "note": row["note"],
                     "verifier_key": row["verifier_key"], "key_name": row["key_name"],
                     "created_at": _utc_text(row["created_at"]), "created_by": row["created_by"]})
    s = t.sources.c
    for page in _pages(conn):
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
    the same chain and the same tree; the tree rows are recomputed from the envelopes.
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
                lower=_day(valid.get("lower")), upper=_day(valid.get("upper"))))
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
            batch["merkle_nodes"].append({"position": position,
                                          "hashes": edge.append_leaf(envelope_json(envelope))})
        elif kind == "source":
            registration, position = registrations[record["id"]]
            batch["sources"].append(source_row(registration, position))
            if record["text"] is not None:
                batch["source_texts"].append(source_text_row(record["id"], record["text"]))
        if len(batch["events"]) >= _PAGE:
            _flush(conn, batch)
    _flush(conn, batch)
    if batch["checkpoints"]:
        conn.execute(t.checkpoints.insert(), batch["checkpoints"])
    return edge.size


_IMPORT_ORDER = ("events", "payloads", "sources", "source_texts", "citations", "merkle_nodes",
                 "erasures", "checkpoints")


def _flush(conn: sa.Connection, batch: dict[str, list[dict[str, Any]]]) -> None:
    for table in _IMPORT_ORDER:
        if table == "checkpoints":
            continue  # after every event: a checkpoint never precedes what it signs
        if batch[table]:
            conn.execute(t.metadata.tables[table].insert(), batch[table])
            batch[table] = []


def _day(value: str | None) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(value)
