"""The schema: made only by migrations, matching the models, and append-only in the database."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from eventstore import DatabaseError, EventStore, ImmutabilityViolation, SchemaError, generate_key
from eventstore.storage import engine as engine_module
from eventstore.storage.engine import HEAD_REVISION, make_engine, upgrade
from eventstore.storage.errors import translated
from eventstore.storage.schema import APPEND_ONLY_TABLES, metadata
from tests.conftest import ARTICLE_GENEVA, ARTICLE_MOSCOW
from tests.old_stores import migrated_to


def test_migrated_schema_matches_the_models(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        head = engine_module.head_revision()
        assert upgrade(engine) == (None, head)
        assert upgrade(engine) == (head, head)  # init twice is harmless
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert diff == []
    finally:
        engine.dispose()


@pytest.fixture
def filled(store: EventStore) -> EventStore:
    source = store.add_source(ARTICLE_GENEVA.read_bytes())
    store.append("RUS-USA", [{
        "type": "meeting.held", "date": "2018-08-23",
        "data": {"key": "geneva", "kind": "talks",
                 "participants": [{"name": "John Bolton", "country": "USA"}]},
        "citations": [{"source": source.id, "quote": "une rencontre à Genève"}]}])
    store.append("CHN-IND-RUS", [{
        "type": "meeting.held", "date": "2018-08-23",
        "data": {"key": "trilateral", "kind": "talks",
                 "participants": [{"name": "John Bolton", "country": "USA"}]},
        "citations": [{"source": source.id, "quote": "une rencontre à Genève"}]}])
    store.checkpoint(generate_key("schema-test"))
    # An erased source: its row in erasures lets the guarded triggers through for it only.
    store.erase_source(store.add_source(ARTICLE_MOSCOW.read_bytes()).id, reason="test")
    return store


# Raw SQL as an intruder would type it; the table names come from the constant list.
_CHANGES = {
    ("UPDATE", "events"): "UPDATE events SET recorded_by = 'mallory'",
    ("UPDATE", "payloads"): "UPDATE payloads SET body = '{}'",
    ("UPDATE", "citations"): "UPDATE citations SET exact = 'forged'",
    ("UPDATE", "sources"): "UPDATE sources SET title = 'forged'",
    ("UPDATE", "source_texts"): "UPDATE source_texts SET text = 'forged'",
    ("DELETE", "events"): "DELETE FROM events",
    ("DELETE", "payloads"): "DELETE FROM payloads",
    ("DELETE", "citations"): "DELETE FROM citations",
    ("DELETE", "sources"): "DELETE FROM sources",
    ("DELETE", "source_texts"): "DELETE FROM source_texts",
    ("UPDATE", "checkpoints"): "UPDATE checkpoints SET size = size + 1",
    ("DELETE", "checkpoints"): "DELETE FROM checkpoints",
    ("UPDATE", "erasures"): "UPDATE erasures SET reason = 'forged'",
    ("DELETE", "erasures"): "DELETE FROM erasures",
    ("UPDATE", "stream_members"): "UPDATE stream_members SET country = 'USA'",
    ("DELETE", "stream_members"): "DELETE FROM stream_members",
}


@pytest.mark.parametrize("table", APPEND_ONLY_TABLES)
@pytest.mark.parametrize("verb", ["UPDATE", "DELETE"])
def test_the_database_refuses_update_and_delete(filled: EventStore, table: str, verb: str) -> None:
    statement = _CHANGES[(verb, table)]
    with pytest.raises(ImmutabilityViolation, match=f"{verb} on {table} is refused"):
        with translated("db"), filled.engine.begin() as conn:
            conn.exec_driver_sql(statement)
    with filled.engine.connect() as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(sa.table(table))).scalar()
    assert count and count > 0


def test_the_trees_nodes_cannot_be_changed(filled: EventStore) -> None:
    """The Merkle tree's nodes are a column of the event's row (schema 0012): the trigger
    that keeps the log append-only keeps them too."""
    with pytest.raises(ImmutabilityViolation, match="UPDATE on events is refused"):
        with translated("db"), filled.engine.begin() as conn:
            conn.exec_driver_sql("UPDATE events SET tree_nodes = tree_nodes")


_TRUNCATE = {
    "events": "TRUNCATE events CASCADE",
    "payloads": "TRUNCATE payloads CASCADE",
    "citations": "TRUNCATE citations CASCADE",
    "sources": "TRUNCATE sources CASCADE",
    "source_texts": "TRUNCATE source_texts CASCADE",
    "checkpoints": "TRUNCATE checkpoints CASCADE",
    "erasures": "TRUNCATE erasures CASCADE",
    "stream_members": "TRUNCATE stream_members CASCADE",
}


@pytest.mark.postgresql
@pytest.mark.parametrize("table", APPEND_ONLY_TABLES)
def test_postgresql_refuses_truncate(filled: EventStore, engine_kind: str, table: str) -> None:
    if engine_kind != "postgresql":
        pytest.skip("TRUNCATE exists only on PostgreSQL (SQLite has no TRUNCATE statement)")
    with pytest.raises(ImmutabilityViolation, match="TRUNCATE"):
        with translated("db"), filled.engine.begin() as conn:
            conn.exec_driver_sql(_TRUNCATE[table])


def test_opening_an_uninitialised_database(db_url: str, engine_kind: str) -> None:
    if engine_kind == "sqlite":
        with pytest.raises(SchemaError, match="run `eventstore init`"):
            EventStore.open(db_url)
        assert not Path(db_url.removeprefix("sqlite:///")).exists()  # nothing created
    with pytest.raises(SchemaError, match="no eventstore schema yet; run `eventstore init`"):
        EventStore(make_engine(db_url))


def test_the_head_revision_is_the_newest_migration() -> None:
    """Opening a store compares the stored revision with a constant, not with Alembic's
    scripts (too slow to load on every open): the constant must be their head."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(engine_module._alembic_config())
    assert engine_module.head_revision() == scripts.get_current_head()


def test_opening_a_database_behind_the_code(store: EventStore,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module, "head_revision", lambda: "0099")
    with pytest.raises(SchemaError, match=f"has schema {HEAD_REVISION}, but this eventstore "
                                          "needs 0099; "
                                          "run `eventstore init`"):
        EventStore(store.engine)


def test_a_database_of_something_else(db_url: str) -> None:
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE customers (id INTEGER PRIMARY KEY)")
    with pytest.raises(SchemaError, match="not an eventstore database"):
        EventStore(engine)
    with pytest.raises(SchemaError, match="holds other tables"):
        upgrade(engine)
    engine.dispose()


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are my notes, not a database" * 100)
    with pytest.raises(DatabaseError, match="not an SQLite database"):
        EventStore.open(f"sqlite:///{path}")
    assert path.read_bytes().startswith(b"these are my notes")


@pytest.mark.parametrize(("url", "words"), [
    ("mysql://root@localhost/db", "runs on SQLite or PostgreSQL"),
    ("postgresql+psycopg://nobody@127.0.0.1:1/none", "cannot reach the database"),
    ("sqlite:////no/such/folder/facts.db", "no database at"),
    ("://nothing", "not a database URL"),
    ("postgresql+psycopg://host:notaport/db", "not a database URL"),
])
def test_bad_database_urls(url: str, words: str) -> None:
    with pytest.raises(DatabaseError, match=words):
        EventStore.open(url)


def test_a_database_migrated_by_an_older_version(db_url: str) -> None:
    """Stop at the first revision, as an older eventstore left it; then upgrade it."""
    engine = migrated_to(db_url, "0001")
    with pytest.raises(SchemaError, match=f"has schema 0001, but this eventstore needs "
                                          f"{HEAD_REVISION}; run `eventstore init`"):
        EventStore(engine)
    assert upgrade(engine) == ("0001", HEAD_REVISION)
    EventStore(engine).close()


def test_migration_0011_backfills_the_members_of_multilateral_streams(db_url: str) -> None:
    """A log at 0010 (rows written as an older eventstore would, here by hand) gets the
    countries of each multilateral stream it holds; bilateral and fixed streams get none."""
    engine = migrated_to(db_url, "0010_source_publication")
    with engine.connect() as conn:
        events = sa.table("events", *(sa.column(name) for name in (
            "position", "event_id", "track", "version", "type", "schema_version",
            "recorded_at", "recorded_by", "payload_hash", "citations_hash", "prev_hash",
            "hash")))
        for position, track in enumerate(("$sources", "RUS-USA", "CHN-IND-RUS"), start=1):
            conn.execute(events.insert().values(
                position=position, event_id=f"00000000-0000-0000-0000-00000000000{position}",
                track=track, version=1, type="meeting.held", schema_version=1,
                recorded_at=sa.func.current_timestamp(), recorded_by="old",
                payload_hash="0" * 64, citations_hash="0" * 64, prev_hash=str(position) * 64,
                hash=str(position + 1) * 64))
        conn.commit()
    engine.dispose()
    # Only as far as 0011: these hand-made rows do not verify, which 0012 refuses.
    engine = migrated_to(db_url, "0011_multilateral")
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT stream, country FROM stream_members "
                                    "ORDER BY country")).all()
    engine.dispose()
    assert [tuple(row) for row in rows] == [("CHN-IND-RUS", "CHN"), ("CHN-IND-RUS", "IND"),
                                            ("CHN-IND-RUS", "RUS")]
