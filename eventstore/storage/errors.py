"""Driver errors, translated into the store's own errors in this one place, by code.

PostgreSQL names every error with a SQLSTATE (``err.orig.sqlstate``), SQLite with a result
code (``sqlite_errorcode``). Their message texts are for people, and PostgreSQL translates
them (``lc_messages``), so nothing here reads them: a driver's message is only ever shown,
after the store's own words. The table is in docs/errors.md.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
import sqlalchemy.exc as sa_exc

from ..errors import (
    DatabaseBusy,
    DatabaseError,
    DatabaseUnavailable,
    EventStoreError,
    ImmutabilityViolation,
    ReadOnlyDatabase,
    SchemaError,
)
from .schema import metadata

# PostgreSQL SQLSTATEs (https://www.postgresql.org/docs/current/errcodes-appendix.html).
_PG_LOCK_NOT_AVAILABLE = "55P03"  # lock_timeout ran out
_PG_QUERY_CANCELED = "57014"  # statement_timeout, or a cancel request
_PG_SERIALIZATION = ("40001", "40P01")  # serialization_failure, deadlock_detected
_PG_UNDEFINED_TABLE = "42P01"
_PG_INSUFFICIENT_PRIVILEGE = "42501"  # also what the append-only triggers raise
_PG_READ_ONLY = "25006"  # read_only_sql_transaction (also on a hot standby)
_PG_SHUTDOWN = ("57P01", "57P02", "57P03")  # admin_shutdown, crash_shutdown, cannot_connect_now
_PG_CONNECTION_CLASS = "08"
_PG_STATEMENT_CLASS = "42"  # syntax error or access rule violation: a statement of ours
#: The server function behind a PL/pgSQL ``RAISE``: only the append-only triggers raise
#: insufficient_privilege that way (a refused GRANT comes from the privilege checks).
_PG_RAISE = "exec_stmt_raise"

# SQLite result codes (https://www.sqlite.org/rescode.html); extended codes keep the primary
# code in their low byte.
_SQLITE_ERROR = 1  # the generic code: a missing table, a missing column, a syntax error
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
_SQLITE_READONLY = 8
_SQLITE_CANTOPEN = 14
_SQLITE_NOTADB = 26
_SQLITE_CONSTRAINT_TRIGGER = 1811  # RAISE(ABORT, …) in a trigger: the append-only ones

_LOCKED = "another writer held the write lock too long; nothing was written, try again"


def describe(err: BaseException, url: str, *, writing: bool = False) -> EventStoreError:
    """The store's error for a driver error raised while talking to the database at ``url``.

    ``writing``: the statement only writes (it reads nothing), so a refused privilege means
    that this role may not write here, which is a read-only database for it.
    """
    orig = getattr(err, "orig", None)
    driver = err if orig is None else orig  # SQLAlchemy wraps the driver's error
    first = _first_line(driver)
    if isinstance(err, sa_exc.DBAPIError) and err.connection_invalidated:
        return _unavailable(err, url, first)
    if isinstance(driver, sqlite3.Error):
        return _sqlite(driver, url, first)
    if hasattr(driver, "sqlstate"):  # psycopg
        return _postgresql(err, driver, url, first, writing)
    return DatabaseError(f"{url}: {first}")


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def _postgresql(err: BaseException, orig: BaseException, url: str, first: str,
                writing: bool) -> EventStoreError:
    code: str = getattr(orig, "sqlstate", None) or ""
    if code == _PG_INSUFFICIENT_PRIVILEGE:
        diag = getattr(orig, "diag", None)
        if getattr(diag, "source_function", None) == _PG_RAISE:
            return ImmutabilityViolation(getattr(diag, "message_primary", None) or first)
        if writing:
            return _read_only(url, f"this role may not write: {first}")
        return DatabaseError(f"{url}: permission denied: {first}")
    if code == _PG_READ_ONLY:
        return _read_only(url, "a read-only transaction, or a hot standby")
    if code == _PG_LOCK_NOT_AVAILABLE:
        return DatabaseBusy(f"{url}: {_LOCKED}")
    if code == _PG_QUERY_CANCELED:
        return DatabaseBusy(f"{url}: the database cancelled the statement (a statement "
                            "timeout, or a cancel request); nothing was written, try again")
    if code in _PG_SERIALIZATION:
        return DatabaseBusy(f"{url}: the database stopped the transaction to keep it apart "
                            "from another (serialization failure or deadlock); nothing was "
                            "written, try again")
    if code == _PG_UNDEFINED_TABLE:
        return _no_schema(url)
    if (code.startswith(_PG_CONNECTION_CLASS) or code in _PG_SHUTDOWN
            or (not code and isinstance(err, (sa_exc.OperationalError,
                                              sa_exc.InterfaceError)))):
        # No SQLSTATE at all: psycopg's own verdict that the connection failed or is gone.
        return _unavailable(err, url, first)
    if code.startswith(_PG_STATEMENT_CLASS):
        return _bug(url, first)
    return DatabaseError(f"{url}: {first}")


def _sqlite(orig: sqlite3.Error, url: str, first: str) -> EventStoreError:
    code: int = getattr(orig, "sqlite_errorcode", None) or 0
    primary = code & 0xFF
    if code == _SQLITE_CONSTRAINT_TRIGGER:
        return ImmutabilityViolation(first)
    if primary in (_SQLITE_BUSY, _SQLITE_LOCKED):
        return DatabaseBusy(f"{url}: {_LOCKED}")
    if primary == _SQLITE_READONLY:
        return _read_only(url, "a file opened read-only, or that this user may not write")
    if primary == _SQLITE_NOTADB:
        return DatabaseError(f"{url}: this file is not an SQLite database "
                             "(give another --db, or move the file away)")
    if primary == _SQLITE_CANTOPEN:
        return DatabaseUnavailable(f"{url}: cannot open the database file (does its folder "
                                   "exist, and may you write there?)")
    if primary == _SQLITE_ERROR:
        # SQLite gives a missing table no code of its own: ask the database instead.
        return _no_schema(url) if _sqlite_schema_missing(url) else _bug(url, first)
    return DatabaseError(f"{url}: {first}")


def _read_only(url: str, why: str) -> ReadOnlyDatabase:
    return ReadOnlyDatabase(f"{url}: the database is read-only ({why}); nothing was written")


def _no_schema(url: str) -> SchemaError:
    return SchemaError(f"{url}: the database has no eventstore schema "
                       "(run `eventstore init` first)")


def _bug(url: str, first: str) -> DatabaseError:
    return DatabaseError(f"{url}: the database refused a statement of eventstore's ({first}): "
                         "a bug in eventstore, or a database it does not support; please "
                         "report it")


def _unavailable(err: BaseException, url: str, first: str) -> DatabaseUnavailable:
    if getattr(err, "statement", None) is None:  # failed while connecting
        return DatabaseUnavailable(f"{url}: cannot reach the database: {first}")
    return DatabaseUnavailable(f"{url}: lost the connection to the database: {first}")


def _sqlite_schema_missing(url: str) -> bool:
    """Whether the SQLite database at ``url`` lacks eventstore's tables, asked of it anew."""
    try:
        parsed = sa.make_url(url)
    except sa_exc.ArgumentError:
        return False
    if parsed.database in (None, "", ":memory:") or parsed.query.get("mode") == "memory":
        return False  # a new connection would open another, empty database
    engine = sa.create_engine(parsed, poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            present = set(sa.inspect(conn).get_table_names())
    except sa_exc.SQLAlchemyError:
        return False
    finally:
        engine.dispose()
    return not set(metadata.tables) <= present


@contextmanager
def translated(url: str, *, writing: bool = False) -> Iterator[None]:
    """Run a block, turning SQLAlchemy/driver errors into :class:`DatabaseError` subclasses.

    ``writing``: the block only writes (see :func:`describe`).
    """
    try:
        yield
    except (sa_exc.DBAPIError, sa_exc.ArgumentError, sa_exc.NoSuchModuleError) as err:
        raise describe(err, url, writing=writing) from err
