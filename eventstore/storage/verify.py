"""Verify a stored log end to end.

The imperative shell around :class:`eventstore.audit.checker.LogChecker`: it streams
the log from the database a page at a time, in constant memory, and hands each event to
the checker with its stored payload, citations and tree row; then the source texts, the
erasures table and the immutability triggers. Imports: ``rows``, ``schema`` and the
pure audit code.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from ..audit.checker import LogChecker, Report
from ..audit.verifier import VerifierKey
from . import schema as t
from .rows import (
    envelope_columns,
    envelope_from_row,
)

__all__ = ["verify_connection", "triggers_missing", "checkpoint_rows", "pages", "PAGE"]

#: Events per page when streaming the log.
PAGE = 5_000


#: Append-only tables a later revision adds: a log checked before that revision is
#: migrated (as 0008_lean checks it) has none yet, and no trigger of theirs to miss.
_ADDED_LATER = ("stream_members",)  # 0011_multilateral
#: Append-only tables a later revision drops: a log checked before that revision is
#: migrated (as 0012_tree_in_events checks it) still has them, and their triggers.
_DROPPED_LATER = ("merkle_nodes",)  # 0012_tree_in_events


def _expected_triggers(dialect: str, tables: Sequence[str]) -> dict[str, str]:
    """Trigger name → what it guards, for every append-only table of ``tables``."""
    if dialect == "sqlite":
        return {f"{table}_refuse_{verb}": f"{verb.upper()} on {table}"
                for table in tables for verb in ("update", "delete")}
    names = {f"{table}_refuse_change": f"UPDATE and DELETE on {table}" for table in tables}
    names.update({f"{table}_refuse_truncate": f"TRUNCATE on {table}" for table in tables})
    return names


def triggers_missing(conn: sa.Connection) -> list[str]:
    """What the immutability triggers no longer refuse (empty when all are in place)."""
    dialect = conn.dialect.name
    inspector = sa.inspect(conn)
    expected = _expected_triggers(dialect, [
        table for table in (*t.APPEND_ONLY_TABLES, *_DROPPED_LATER)
        if table not in (*_ADDED_LATER, *_DROPPED_LATER) or inspector.has_table(table)])
    if dialect == "sqlite":
        query = sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    else:
        query = sa.text("SELECT tgname FROM pg_trigger JOIN pg_class ON pg_class.oid = tgrelid "
                        "WHERE NOT tgisinternal AND tgenabled <> 'D' "
                        "AND pg_class.relnamespace = to_regnamespace(current_schema())::oid")
    present = {row[0] for row in conn.execute(query)}
    return sorted(what for name, what in expected.items() if name not in present)


def checkpoint_rows(conn: sa.Connection) -> list[dict[str, Any]]:
    rows = conn.execute(sa.select(t.checkpoints).order_by(t.checkpoints.c.id)).all()
    return [dict(row._mapping) for row in rows]


_Page = list[tuple[Any, str | None, list[dict[str, Any]], bytes | None]]


def pages(conn: sa.Connection, upto: int | None = None,
          kept: t.NodeColumns = t.IN_EVENTS) -> Iterator[_Page]:
    """The log a page at a time: (event row, payload body, citations, tree nodes).
    ``kept`` says where the tree's nodes are (a migration before 0012 reads them from
    ``merkle_nodes``)."""
    e, p, c = t.events.c, t.payloads.c, t.citations.c
    query = (sa.select(*envelope_columns(conn.dialect), p.body, kept.hashes.label("hashes"))
             .join(t.payloads, p.position == e.position, isouter=True))
    if kept is not t.IN_EVENTS:
        query = query.join(kept.position.table, kept.position == e.position, isouter=True)
    if upto is not None:
        query = query.where(e.position <= upto)
    after = 0
    while True:
        rows = conn.execute(query.where(e.position > after).order_by(e.position)
                            .limit(PAGE)).all()
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
                      require_signed: bool = False,
                      kept: t.NodeColumns = t.IN_EVENTS) -> Report:
    """Check everything the database holds (see :mod:`eventstore.audit.checker`).

    ``upto`` checks only the first events (a prefix: replay at record time ``known_at``),
    against ``checkpoints`` given by the caller instead of the stored ones; every event
    after the prefix must then have been recorded after ``known_at``. With
    ``require_signed``, events that no signed checkpoint covers are a problem. ``kept``
    says where the tree's nodes are (:data:`schema.BEFORE_0012` for a migration before 0012).
    """

    @functools.lru_cache(maxsize=64)
    def text_of(source_id: str) -> str | None:
        return conn.execute(sa.select(t.source_texts.c.text)
                            .where(t.source_texts.c.source_id == source_id)).scalar()

    checker = LogChecker(texts=text_of, keys=keys, now=dt.datetime.now(dt.UTC))
    checker.checkpoints(checkpoint_rows(conn) if checkpoints is None else checkpoints)
    erasures = [dict(row._mapping) for row in
                conn.execute(sa.select(t.erasures).order_by(t.erasures.c.position))]
    if upto is not None:
        checker.later_erasures(row for row in erasures if row["position"] > upto)
        erasures = [row for row in erasures if row["position"] <= upto]
    checker.erasure_rows(erasures)
    if upto is None and sa.inspect(conn).has_table(t.stream_members.name):
        checker.stream_member_rows(dict(row._mapping)
                                   for row in conn.execute(sa.select(t.stream_members)))
    for page in pages(conn, upto, kept):
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
