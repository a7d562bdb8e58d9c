"""Bulk inserts: statements compiled once from the table metadata, run by the driver.

The append path writes two rows per event and one per citation (the Merkle tree's
nodes are a column of the event's row: schema 0012). Handing SQLAlchemy a list of dicts costs
more per row than everything else the store does for an event, so the INSERT statements
are compiled once per engine (from the tables, never from strings) and executed with the
driver's own ``executemany`` on rows already in the column order the statement expects.
On SQLite, dates and times are given in the text format SQLAlchemy reads back.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from . import schema as t

_TABLES = (t.events, t.payloads, t.citations)


def sqlite_datetime(moment: dt.datetime) -> str:
    """A naive UTC time as SQLAlchemy's SQLite DATETIME text (always with microseconds)."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


class BulkInsert:
    """INSERT statements for the log's tables, compiled for one dialect."""

    def __init__(self, dialect: sa.Dialect) -> None:
        self._statements: dict[str, tuple[str, Callable[[Mapping[str, Any]], Any] | None]] = {}
        for table in _TABLES:
            compiled = table.insert().compile(dialect=dialect)
            order = compiled.positiontup
            getter = operator.itemgetter(*order) if order else None
            self._statements[table.name] = (compiled.string, getter)

    def run(self, conn: sa.Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert ``rows`` (dicts keyed by column name) into ``table`` in one executemany."""
        if not rows:
            return
        statement, getter = self._statements[table.name]
        params: list[Any] = [getter(row) for row in rows] if getter else list(rows)
        conn.exec_driver_sql(statement, params)
