"""Schema 0008_lean: a store written at the previous revision, migrated in place.

The store is written at the previous revision (the migrations stopped there, the code
told that it is its head), then brought forward by ``upgrade``. What the audit gives must not
change: the export before and after is the same, line for line, and ``verify`` passes;
a log that does not verify is refused and left as it was. ``benchmarks/migration.py``
runs the same on 100,000 facts written by the previous commit's own code.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from eventstore import EventStore, IntegrityError, generate_key
from eventstore.storage import engine as engine_module
from eventstore.storage import schema as t
from eventstore.storage.engine import make_engine, upgrade
from eventstore.storage.schema import metadata
from tests.conftest import ARTICLE_GENEVA, ARTICLE_MOSCOW
from tests.tampering import tamper
from tests.test_example import import_example

PREVIOUS = "0007_resolved_dates"


def _statement(source: str, n: int, event_id: str | None = None) -> dict[str, object]:
    fact: dict[str, object] = {
        "type": "statement.made", "track": "RUS-USA", "date": f"2019-0{1 + n % 9}-1{n % 10}",
        "data": {"speaker": {"name": "John Bolton", "country": "USA"}, "stance": "warning",
                 "content": f"déclaration numéro {n}"},
        "citations": [{"source": source[:8], "quote": "une rencontre à Genève"}]}
    if event_id is not None:
        fact["event_id"] = event_id
    return fact


@pytest.fixture
def old_store(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[sa.Engine]:
    """A store written at the previous revision: the worked example, statements (some with the
    caller's own ids), an erased source, an erased payload and a signed checkpoint."""
    engine = make_engine(db_url)
    config = engine_module._alembic_config()
    with engine.connect() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, PREVIOUS)
        conn.commit()
    with monkeypatch.context() as patched:
        patched.setattr(engine_module, "head_revision", lambda: PREVIOUS)
        store = EventStore(engine, actor="old")
        import_example(store)
        source = store.add_source(ARTICLE_GENEVA.read_bytes()).id
        result = store.append_many([_statement(source, n, str(uuid.uuid4()) if n % 2 else None)
                                    for n in range(40)])
        store.erase_payload(result.events[3].event_id, reason="a test of erasure")
        store.erase_source(store.add_source(ARTICLE_MOSCOW.read_bytes()).id, reason="test")
        store.checkpoint(generate_key("migration-test"))
        store.close()
    yield engine
    engine.dispose()


def _revision(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _index_names(engine: sa.Engine) -> set[str]:
    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        names = {i["name"] for i in inspector.get_indexes("events")}
        names |= {c["name"] for c in inspector.get_unique_constraints("events")}
    return {n for n in names if n}


def _export(engine: sa.Engine) -> list[str]:
    """The export's lines, less the moment of the export in its header."""
    with EventStore(engine) as store:
        header, *lines = store.export()
    return [json.dumps({k: v for k, v in json.loads(header).items() if k != "exported_at"}),
            *lines]


def test_a_store_at_the_previous_revision_is_migrated_in_place(old_store: sa.Engine,
                                                                monkeypatch: pytest.MonkeyPatch
                                                                ) -> None:
    with monkeypatch.context() as patched:
        patched.setattr(engine_module, "head_revision", lambda: PREVIOUS)
        before = _export(old_store)
    assert "uq_events_hash" in _index_names(old_store)
    assert upgrade(old_store) == (PREVIOUS, engine_module.HEAD_REVISION)
    assert _revision(old_store) == engine_module.HEAD_REVISION
    names = _index_names(old_store)
    assert "uq_events_hash" not in names and "ix_events_track_valid" not in names
    assert {"uq_events_event_id", "uq_events_track_version", "ix_events_type",
            "ix_events_recorded_position"} <= names
    with old_store.connect() as conn:  # the migrated store is the models' schema
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    assert _export(old_store) == before
    with EventStore(old_store, actor="new") as store:
        assert store.verify().ok
        # The log goes on: the append-only triggers are back, new ids are version 7.
        source = store.add_source(ARTICLE_GENEVA.read_bytes()).id
        appended = store.append_many([_statement(source, 100), _statement(source, 101)])
        assert [e.event_id.version for e in appended.events] == [7, 7]
        assert store.verify().ok
    with pytest.raises(sa.exc.DBAPIError, match="refused"), old_store.begin() as conn:
        conn.execute(sa.update(t.events).values(recorded_by="mallory"))
    assert upgrade(old_store) == (engine_module.HEAD_REVISION, engine_module.HEAD_REVISION)


def test_a_store_that_does_not_verify_is_not_migrated(old_store: sa.Engine,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as patched:
        patched.setattr(engine_module, "head_revision", lambda: PREVIOUS)
        store = EventStore(old_store)
        tamper(store, lambda conn: conn.execute(
            sa.update(t.payloads).where(t.payloads.c.position == 5).values(body="{}")),
            restore_triggers=True)
        store.close()
    with pytest.raises(IntegrityError, match="does not verify before the migration"):
        upgrade(old_store)
    assert _revision(old_store) == PREVIOUS
    assert "uq_events_hash" in _index_names(old_store)  # nothing changed


def test_new_event_ids_are_time_ordered(store: EventStore) -> None:
    """Ids the store makes are UUIDv7 in the order written; ids a caller gives are kept."""
    source = store.add_source(ARTICLE_GENEVA.read_bytes()).id
    given = str(uuid.uuid4())
    result = store.append_many([_statement(source, n) for n in range(30)]
                               + [_statement(source, 30, given)])
    made = [e.event_id for e in result.events[:-1]]
    assert all(i.version == 7 for i in made)
    millis = [i.int >> 80 for i in made]
    assert millis == sorted(millis)
    assert str(result.events[-1].event_id) == given
