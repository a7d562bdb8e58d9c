"""Driver errors reach the store's error classes by their codes, never by their text.

PostgreSQL translates its messages (``lc_messages``); whatever the language, a lock
timeout, a missing schema, a refused change, a read-only database and a lost connection
each reach their own class, and a bug (an unknown column) is not taken for a missing
schema. The server here may have no locale but C, so every driver message is also replaced
by nonsense before the store sees it; the same is done on SQLite. And a dropped
connection is one ``Error:`` line on stderr, nothing else.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
import sqlalchemy.exc as sa_exc

from eventstore import (
    DatabaseBusy,
    DatabaseError,
    DatabaseUnavailable,
    EventStore,
    ImmutabilityViolation,
    ReadOnlyDatabase,
    SchemaError,
)
from eventstore.storage import db as db_module
from eventstore.storage import engine as engine_module
from eventstore.storage.engine import make_engine
from eventstore.storage.errors import describe, translated
from tests.conftest import ARTICLE_GENEVA, PG_URL
from tests.test_read_only import read_only_url

NONSENSE = "Blorpf zatakk vlimmer quux"

MEETING: dict[str, Any] = {
    "type": "meeting.held", "track": "RUS-USA", "date": "2018-08-23",
    "data": {"key": "geneva", "kind": "talks",
             "participants": [{"name": "John Bolton", "country": "USA"}]}}


def meetings(store: EventStore) -> list[dict[str, Any]]:
    """Two facts to append (so that the rows go in one ``executemany``)."""
    source = store.add_source(ARTICLE_GENEVA.read_bytes())
    cite = [{"source": source.id, "quote": "une rencontre à Genève"}]
    return [MEETING | {"citations": cite, "data": MEETING["data"] | {"key": key}}
            for key in ("geneva", "geneva-again")]


# -- the table of codes, without a database -----------------------------------------------

def _pg(sqlstate: str, wrapper: type[sa_exc.DBAPIError] = sa_exc.OperationalError
        ) -> sa_exc.DBAPIError:
    return wrapper("SELECT 1", {}, psycopg.errors.lookup(sqlstate)(NONSENSE))


def _sqlite(code: int) -> sa_exc.DBAPIError:
    err = sqlite3.OperationalError(NONSENSE)
    err.sqlite_errorcode = code
    return sa_exc.OperationalError("SELECT 1", {}, err)


@pytest.mark.parametrize(("err", "cls"), [
    pytest.param(_pg("55P03"), DatabaseBusy, id="55P03 lock_not_available"),
    pytest.param(_pg("57014"), DatabaseBusy, id="57014 query_canceled"),
    pytest.param(_pg("40001"), DatabaseBusy, id="40001 serialization_failure"),
    pytest.param(_pg("40P01"), DatabaseBusy, id="40P01 deadlock_detected"),
    pytest.param(_pg("42P01", sa_exc.ProgrammingError), SchemaError, id="42P01 undefined_table"),
    pytest.param(_pg("25006"), ReadOnlyDatabase, id="25006 read_only_sql_transaction"),
    pytest.param(_pg("08006"), DatabaseUnavailable, id="08006 connection_failure"),
    pytest.param(_pg("57P01"), DatabaseUnavailable, id="57P01 admin_shutdown"),
    pytest.param(_pg("57P03"), DatabaseUnavailable, id="57P03 cannot_connect_now"),
    pytest.param(sa_exc.OperationalError("SELECT 1", {}, psycopg.OperationalError(NONSENSE)),
                 DatabaseUnavailable, id="psycopg, no SQLSTATE: the connection failed"),
    pytest.param(_sqlite(5), DatabaseBusy, id="SQLITE_BUSY"),
    pytest.param(_sqlite(517), DatabaseBusy, id="SQLITE_BUSY_SNAPSHOT"),
    pytest.param(_sqlite(8), ReadOnlyDatabase, id="SQLITE_READONLY"),
    pytest.param(_sqlite(1032), ReadOnlyDatabase, id="SQLITE_READONLY_DBMOVED"),
    pytest.param(_sqlite(1811), ImmutabilityViolation, id="SQLITE_CONSTRAINT_TRIGGER"),
    pytest.param(_sqlite(14), DatabaseUnavailable, id="SQLITE_CANTOPEN"),
])
def test_each_code_reaches_its_class(err: sa_exc.DBAPIError, cls: type[DatabaseError]) -> None:
    found = describe(err, "db")
    assert type(found) is cls


@pytest.mark.parametrize("err", [
    _pg("42703", sa_exc.ProgrammingError),  # undefined_column
    _pg("42601", sa_exc.ProgrammingError),  # syntax_error
    _pg("42883", sa_exc.ProgrammingError),  # undefined_function
])
def test_a_statement_the_database_does_not_understand_is_a_bug(err: sa_exc.DBAPIError) -> None:
    found = describe(err, "db")
    assert type(found) is DatabaseError
    assert "a bug in eventstore" in str(found) and "init" not in str(found)


def test_a_refused_privilege_is_not_an_immutability_violation() -> None:
    """insufficient_privilege from a GRANT (not from the append-only triggers' RAISE)."""
    assert type(describe(_pg("42501"), "db")) is DatabaseError
    assert type(describe(_pg("42501"), "db", writing=True)) is ReadOnlyDatabase


# -- real errors, with nonsense for text ----------------------------------------------------

def _foreign_locale(admin: sa.Engine) -> str | None:
    """A locale the server has for a language other than English (often none but C)."""
    with admin.connect() as conn:
        return conn.execute(sa.text(
            "SELECT collcollate FROM pg_collation WHERE collprovider = 'c' "
            "AND collcollate ~ '^[a-z][a-z]_' AND collcollate !~ '^en_' LIMIT 1")).scalar()


@pytest.fixture
def url(db_url: str, engine_kind: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """``db_url`` initialised, with every driver message replaced by nonsense, and on
    PostgreSQL the session's messages in another language when the server has one."""
    if engine_kind == "postgresql":
        locale = _foreign_locale(request.getfixturevalue("pg_admin"))
        if locale is not None:
            parsed = sa.make_url(db_url)
            options = f"{parsed.query['options']} -clc_messages={locale}"
            db_url = parsed.update_query_dict({"options": options}).render_as_string(
                hide_password=False)

    def garble(context: Any) -> None:
        context.original_exception.args = (NONSENSE,)

    sa.event.listen(sa.Engine, "handle_error", garble)
    try:
        yield db_url
    finally:
        sa.event.remove(sa.Engine, "handle_error", garble)


def test_a_lock_timeout(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db_module, "LOCK_TIMEOUT_SECONDS", 0.2)  # PostgreSQL
    monkeypatch.setattr(engine_module, "LOCK_TIMEOUT_SECONDS", 0.2)  # SQLite
    with EventStore.open(url, create=True) as store:
        facts = meetings(store)
        with EventStore.open(url) as other, other._appender._db.write():  # another writer
            with pytest.raises(DatabaseBusy, match="another writer held the write lock too "
                                                   "long; nothing was written, try again"):
                store.append("RUS-USA", facts)
        assert store.track_version("RUS-USA") == 0


@pytest.mark.postgresql
def test_a_statement_timeout(url: str, engine_kind: str) -> None:
    if engine_kind != "postgresql":
        pytest.skip("statement_timeout is PostgreSQL's")
    with EventStore.open(url, create=True) as store:
        with pytest.raises(DatabaseBusy, match="cancelled the statement"):
            with translated(store.url), store.engine.begin() as conn:
                conn.exec_driver_sql("SET LOCAL statement_timeout = '10ms'")
                conn.exec_driver_sql("SELECT pg_sleep(1)")


def test_a_missing_schema(url: str) -> None:
    store = EventStore(make_engine(url), check=False)
    with pytest.raises(SchemaError, match="no eventstore schema"):
        store.head()
    store.close()


def test_an_unknown_column_is_a_bug_not_a_missing_schema(url: str) -> None:
    with EventStore.open(url, create=True) as store:
        with pytest.raises(DatabaseError) as caught:
            with translated(store.url), store.engine.connect() as conn:
                conn.exec_driver_sql("SELECT no_such_column FROM events")
    assert type(caught.value) is DatabaseError
    assert "a bug in eventstore" in str(caught.value) and NONSENSE in str(caught.value)
    assert "init" not in str(caught.value)


def test_a_refused_update(url: str) -> None:
    with EventStore.open(url, create=True) as store:
        store.append("RUS-USA", meetings(store))
        with pytest.raises(ImmutabilityViolation):
            with translated(store.url), store.engine.begin() as conn:
                conn.exec_driver_sql("UPDATE events SET recorded_by = 'mallory'")


def test_a_read_only_database(url: str) -> None:
    with EventStore.open(url, create=True) as store:
        facts = meetings(store)
    with EventStore.open(read_only_url(url)) as reader:
        with pytest.raises(ReadOnlyDatabase, match="nothing was written"):
            reader.append("RUS-USA", facts)


def test_sqlite_files_that_cannot_be_used(url: str, engine_kind: str, tmp_path: Path) -> None:
    if engine_kind != "sqlite":
        pytest.skip("files are SQLite's")
    notes = tmp_path / "notes.db"
    notes.write_bytes(b"not a database " * 400)
    with pytest.raises(DatabaseError, match="not an SQLite database"):
        EventStore.open(f"sqlite:///{notes}")
    with pytest.raises(DatabaseUnavailable, match="cannot open the database file"):
        EventStore(make_engine(f"sqlite:///{tmp_path}/no/such/folder.db"), check=False).head()


def _terminate_before(engine: sa.Engine, admin: sa.Engine, statement: str,
                      many: bool) -> None:
    """Have the server drop the connection just before ``engine`` runs ``statement``."""
    done = threading.Event()

    def terminate(conn: Any, _cursor: Any, text: str, _params: Any, _context: Any,
                  executemany: bool) -> None:
        if done.is_set() or executemany != many or not text.startswith(statement):
            return
        done.set()
        pid = conn.connection.dbapi_connection.info.backend_pid
        with admin.connect() as killer:
            killer.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            while killer.execute(sa.text("SELECT count(*) FROM pg_stat_activity "
                                         "WHERE pid = :pid"), {"pid": pid}).scalar():
                time.sleep(0.01)

    sa.event.listen(engine, "before_cursor_execute", terminate)


@pytest.mark.postgresql
def test_a_lost_connection(url: str, engine_kind: str, pg_admin: sa.Engine) -> None:
    if engine_kind != "postgresql":
        pytest.skip("an SQLite database is a file, with no connection to lose")
    with EventStore.open(url, create=True) as store:
        facts = meetings(store)
        _terminate_before(store.engine, pg_admin, "INSERT INTO events", many=True)
        with pytest.raises(DatabaseUnavailable, match="lost the connection to the database"):
            store.append("RUS-USA", facts)
        assert store.track_version("RUS-USA") == 0  # the pool reconnects for the next call


# -- a dropped connection at the command line -------------------------------------------------

#: Runs the command line in a process of its own (so that stderr is the real one, with no
#: pytest logging handler), after arranging for the server to drop its connection.
_DROPPING_CLI = textwrap.dedent("""
    import sys
    import sqlalchemy as sa
    from eventstore.cli import main
    from tests.test_driver_errors import _terminate_before
    admin = sa.create_engine(sys.argv[1], isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    _terminate_before(sa.Engine, admin, sys.argv[2], sys.argv[3] == "many")
    main(sys.argv[4:])
""")


@pytest.mark.postgresql
@pytest.mark.parametrize(("statement", "many", "command"), [
    ("INSERT INTO events", "many", "append"),  # psycopg runs executemany in a pipeline
    ("SELECT", "one", "log"),
])
def test_a_dropped_connection_is_one_error_line(db_url: str, engine_kind: str,
                                                tmp_path: Path, statement: str, many: str,
                                                command: str) -> None:
    if engine_kind != "postgresql":
        pytest.skip("an SQLite database is a file, with no connection to drop")
    assert PG_URL
    with EventStore.open(db_url, create=True) as store:
        facts = tmp_path / "facts.jsonl"
        facts.write_text("".join(json.dumps(f) + "\n" for f in meetings(store)),
                         encoding="utf-8")
    args = ["append", "--file", str(facts)] if command == "append" else ["log"]
    done = subprocess.run(
        [sys.executable, "-c", _DROPPING_CLI, PG_URL, statement, many, *args, "--db", db_url],
        capture_output=True, text=True, timeout=120, cwd=Path(__file__).parent.parent)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), done.stderr
    assert "lost the connection to the database" in lines[0]
    with EventStore.open(db_url) as store:
        assert store.track_version("RUS-USA") == 0
