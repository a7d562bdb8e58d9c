"""Shared fixtures: a fresh store on each engine, the sample corpus.

Every test that takes ``db_url`` or ``store`` runs on SQLite, and on PostgreSQL too when
``EVENTSTORE_TEST_PG_URL`` is set. Each PostgreSQL test works in a schema of its own
(``es_<run>_<n>``), named in the URL so that subprocesses reach it too, and dropped
afterwards; the database itself outlives the run.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from eventstore import EventStore

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "examples" / "corpus"
ARTICLE_GENEVA = CORPUS / "000_86bc20a7cdb98149.txt"
ARTICLE_MOSCOW = CORPUS / "002_b7d725ce0dbfee63.txt"

PG_URL = os.environ.get("EVENTSTORE_TEST_PG_URL")
PG_SKIP_REASON = ("PostgreSQL tests skipped: EVENTSTORE_TEST_PG_URL is not set "
                  "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)")
RUN_ID = uuid.uuid4().hex[:8]
_counter = itertools.count()

ENGINES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgresql: needs EVENTSTORE_TEST_PG_URL")
    if os.environ.get("CI") == "true" and not PG_URL:
        raise pytest.UsageError("CI=true but EVENTSTORE_TEST_PG_URL is not set: "
                                "the PostgreSQL tests must run in CI")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if PG_URL:
        return
    skip = pytest.mark.skip(reason=PG_SKIP_REASON)
    for item in items:
        if "postgresql" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[sa.Engine]:
    if not PG_URL:
        pytest.skip(PG_SKIP_REASON)
    engine = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    yield engine
    with engine.connect() as conn:  # drop whatever this run left behind
        names = conn.execute(sa.text(
            "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE :p"),
            {"p": f"es_{RUN_ID}_%"}).scalars().all()
        for name in names:
            conn.execute(sa.schema.DropSchema(name, cascade=True, if_exists=True))
    engine.dispose()


def pg_schema_url(admin: sa.Engine) -> tuple[str, str]:
    """Create a fresh schema; return ``(url, schema)`` with the schema on the search path."""
    assert PG_URL
    schema = f"es_{RUN_ID}_{next(_counter)}"
    with admin.connect() as conn:
        conn.execute(sa.schema.CreateSchema(schema))
    separator = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{separator}options={quote(f'-csearch_path={schema}')}", schema


@pytest.fixture(params=ENGINES)
def engine_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(engine_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of an empty database (not yet initialised) on the engine under test."""
    if engine_kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'facts.db'}"
        return
    admin = request.getfixturevalue("pg_admin")
    url, schema = pg_schema_url(admin)
    yield url
    with admin.connect() as conn:
        conn.execute(sa.schema.DropSchema(schema, cascade=True, if_exists=True))


@pytest.fixture
def store(db_url: str) -> Iterator[EventStore]:
    """A freshly initialised store."""
    with EventStore.open(db_url, create=True, actor="tester") as opened:
        yield opened


@pytest.fixture
def example(db_url: str) -> Iterator[EventStore]:
    """A store holding the worked example (what ``examples/build.sh`` writes)."""
    from tests.test_example import import_example
    with EventStore.open(db_url, create=True, actor="analyst") as store:
        import_example(store)
        yield store


@pytest.fixture
def examples(db_url: str) -> Iterator[EventStore]:
    """A store holding both worked examples (US–Russia and Japan–South Korea), as
    ``examples/build.sh`` writes them."""
    from tests.test_example import import_example, import_jpn_kor
    with EventStore.open(db_url, create=True, actor="analyst") as store:
        import_example(store)
        import_jpn_kor(store)
        yield store


@pytest.fixture
def geneva_text() -> bytes:
    return ARTICLE_GENEVA.read_bytes()


@pytest.fixture
def moscow_text() -> bytes:
    return ARTICLE_MOSCOW.read_bytes()
