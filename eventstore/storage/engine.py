"""Opening a database: which URL, engine set-up per engine, migrations and schema checks.

SQLite (the default, ``sqlite:///facts.db``) runs in WAL mode with ``synchronous=FULL``
so that an append that returned survives a power cut; ``durability="normal"`` trades
that for speed. Writers take the database lock up front (``BEGIN IMMEDIATE``) so that
appends are serialised; readers never wait for writers.

PostgreSQL (``postgresql+psycopg://…``) serialises appends with a table lock taken at
the start of the append transaction (see ``docs/concurrency.md`` for why).

Opening a store only compares the revision the database records with
:data:`HEAD_REVISION`; Alembic (slow to import) is loaded to migrate, and to explain a
database that is not at that revision.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa
import sqlalchemy.exc as sa_exc

from ..errors import DatabaseError, ReadOnlyDatabase, SchemaError
from .errors import describe, translated

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["DEFAULT_URL", "resolve_url", "make_engine", "upgrade", "check_schema",
           "head_revision", "Durability", "WRITE_OPTION"]

DEFAULT_URL = "sqlite:///facts.db"
#: The revision of the newest migration (``migrations/versions``): the schema this code
#: needs. A test checks it against the migration scripts.
HEAD_REVISION = "0012_tree_in_events"
#: Seconds a writer waits for the lock held by another writer before giving up.
LOCK_TIMEOUT_SECONDS = 60
#: Execution option that marks a connection as a writer (``BEGIN IMMEDIATE`` on SQLite).
WRITE_OPTION = "eventstore_write"

Durability = Literal["full", "normal"]


def resolve_url(db: str | None = None) -> str:
    """The database URL: ``db`` if given, else ``$EVENTSTORE_URL``, else ``sqlite:///facts.db``.

    A bare path (no ``://``) means an SQLite file at that path.
    """
    url = db or os.environ.get("EVENTSTORE_URL") or DEFAULT_URL
    if "://" not in url:
        url = f"sqlite:///{url}"
    return url


def safe_url(url: str | sa.URL) -> str:
    """The URL with any password hidden, for messages."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa_exc.ArgumentError:
        return str(url)


def _parse(url: str) -> sa.URL:
    try:
        parsed = sa.make_url(url)
    except (sa_exc.ArgumentError, ValueError):
        raise DatabaseError(f"{url!r} is not a database URL (examples: sqlite:///facts.db, "
                            "postgresql+psycopg://user@host:5432/dbname)") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise DatabaseError(f"{safe_url(url)}: eventstore runs on SQLite or PostgreSQL, "
                            f"not {parsed.get_backend_name()}")
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() != "psycopg":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def sqlite_path(url: sa.URL) -> Path | None:
    """The file an SQLite URL points at, or ``None`` for an in-memory database.

    A URI filename (``sqlite:///file:facts.db?mode=ro&uri=true``) names its file too.
    """
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    if url.query.get("uri") == "true" and url.database.startswith("file:"):
        if url.query.get("mode") == "memory":
            return None
        return Path(unquote(urlsplit(url.database).path))
    return Path(url.database)


def make_engine(url: str, *, durability: Durability = "full", must_exist: bool = False,
                **kwargs: Any) -> sa.Engine:
    """An engine for ``url`` set up for eventstore (pragmas, write locking).

    With ``must_exist``, a missing SQLite file is an error instead of being created.
    """
    parsed = _parse(url)
    path = sqlite_path(parsed)
    if must_exist and path is not None and not path.exists():
        raise SchemaError(f"no database at {path} (run `eventstore init` to create it, "
                          "or give --db / EVENTSTORE_URL)")
    try:
        if parsed.get_backend_name() == "sqlite":
            engine = sa.create_engine(parsed, **kwargs)
            _setup_sqlite(engine, durability)
        else:
            _quiet_driver_cleanup()
            kwargs.setdefault("pool_pre_ping", True)
            connect_args = kwargs.pop("connect_args", {})
            connect_args.setdefault("connect_timeout", 10)
            engine = sa.create_engine(parsed, connect_args=connect_args, **kwargs)
    except (sa_exc.ArgumentError, sa_exc.NoSuchModuleError) as err:
        raise DatabaseError(f"{safe_url(url)}: {err}") from None
    return engine


def _quiet_driver_cleanup() -> None:
    """Keep psycopg's log records off stderr when the application configured no logging.

    When a connection is lost in the middle of a pipeline (``executemany``) or a rollback,
    psycopg raises that error, which the store translates, and logs a second one met while
    cleaning up (``error ignored terminating <psycopg.Pipeline [BAD]>``). Its logger has no
    handler, so Python's last-resort handler printed that record on stderr, before the
    caller had even seen the first error. A do-nothing handler (what the logging HOWTO asks
    of every library) stops that; an application that configures logging gets every
    record as before.
    """
    logger = logging.getLogger("psycopg")
    if not any(isinstance(handler, logging.NullHandler) for handler in logger.handlers):
        logger.addHandler(logging.NullHandler())


def _setup_sqlite(engine: sa.Engine, durability: Durability) -> None:
    synchronous = "FULL" if durability == "full" else "NORMAL"

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below decide how transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {LOCK_TIMEOUT_SECONDS * 1000}")
        _use_wal(cursor)
        cursor.execute(f"PRAGMA synchronous = {synchronous}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        if conn.get_execution_options().get(WRITE_OPTION):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


def _use_wal(cursor: Any) -> None:
    """Put the database in WAL mode (a setting kept in the file), unless it already is.

    A read-only database that is not in WAL mode stays as it is: readers need no journal.
    """
    if cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
        return
    try:
        cursor.execute("PRAGMA journal_mode = WAL")
    except sqlite3.OperationalError as err:
        if not isinstance(describe(err, ""), ReadOnlyDatabase):
            raise


def migrations_dir() -> Path:
    """Where the Alembic scripts are: inside the installed package, or beside it in a checkout."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "_migrations", package.parent / "migrations"):
        if (candidate / "env.py").exists():
            return candidate
    raise DatabaseError("the eventstore migrations are missing from this installation")


def _alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    return config


def head_revision() -> str:
    """The schema revision this code needs (the newest migration's)."""
    return HEAD_REVISION


def upgrade(engine: sa.Engine) -> tuple[str | None, str]:
    """Bring the schema to the newest revision; returns ``(before, after)`` revisions.

    Harmless when the schema is already current.
    """
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    config = _alembic_config()
    url = safe_url(engine.url)
    with translated(url), engine.connect() as conn:
        before = MigrationContext.configure(conn).get_current_revision()
        _refuse_foreign(conn, before, url)
        conn.commit()
        config.attributes["connection"] = conn
        with _foreign_keys_off(conn):
            command.upgrade(config, "head")
            conn.commit()
    return before, head_revision()


@contextlib.contextmanager
def _foreign_keys_off(conn: sa.Connection) -> Iterator[None]:
    """On SQLite, foreign keys off while the migrations run (outside any transaction, the
    only place SQLite takes the setting): a table rebuild (schema 0008_lean) drops the
    table the others refer to, and checks the keys itself (``PRAGMA foreign_key_check``)."""
    if conn.dialect.name != "sqlite":
        yield
        return
    raw = conn.connection.dbapi_connection
    assert raw is not None
    raw.execute("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        if conn.in_transaction():
            conn.rollback()
        raw.execute("PRAGMA foreign_keys = ON")


def _refuse_foreign(conn: sa.Connection, revision: str | None, url: str) -> None:
    """Refuse to migrate a database that holds other tables and no eventstore schema."""
    if revision is not None:
        return
    tables = set(sa.inspect(conn).get_table_names())
    if tables - {"alembic_version"}:
        raise SchemaError(f"{url}: this database holds other tables ({', '.join(sorted(tables))})"
                          " and no eventstore schema; use an empty database")


def _stored_revisions(conn: sa.Connection) -> list[str]:
    """The revisions in Alembic's version table (none without the table), read as Alembic
    reads them, without importing it."""
    if not sa.inspect(conn).has_table("alembic_version"):
        return []
    version = sa.column("version_num", sa.String)
    query = sa.select(version).select_from(sa.table("alembic_version"))
    return list(conn.execute(query).scalars())


def check_schema(engine: sa.Engine) -> None:
    """Raise :class:`SchemaError` unless the database is an eventstore database at head."""
    url = safe_url(engine.url)
    try:
        with engine.connect() as conn:
            if _stored_revisions(conn) == [head_revision()]:
                return  # the usual case; Alembic only explains the others
            from alembic.runtime.migration import MigrationContext

            current = MigrationContext.configure(conn).get_current_revision()
            tables = set(sa.inspect(conn).get_table_names()) if current is None else set()
    except sa_exc.DBAPIError as err:
        raise describe(err, url) from err
    head = head_revision()
    if current == head:
        return
    if current is None:
        if tables:
            raise SchemaError(f"{url} is not an eventstore database (it has tables "
                              f"{', '.join(sorted(tables))} but no eventstore schema)")
        raise SchemaError(f"{url} has no eventstore schema yet; run `eventstore init`")
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(_alembic_config())
    known = {rev.revision for rev in scripts.walk_revisions()}
    if current not in known:
        raise SchemaError(f"{url} was migrated by a newer eventstore (schema {current}); "
                          "upgrade eventstore")
    raise SchemaError(f"{url} has schema {current}, but this eventstore needs {head}; "
                      "run `eventstore init` to upgrade it")
