"""Schemas 0008_lean and 0012_tree_in_events: a store written at the revision before each,
migrated in place.

The store is written at the previous revision (today's code writes it, and its rows are
copied into a database migrated only that far: tests/old_stores.py), then brought
forward by ``upgrade``. What the audit gives must not change: the export of the store as
written and of the migrated store are the same, line for line, and ``verify`` passes; a
log that does not verify is refused and left as it was. ``benchmarks/migration.py`` runs
the same on 100,000 facts written by the previous commit's own code.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from eventstore import EventStore, IntegrityError, generate_key
from eventstore.storage import engine as engine_module
from eventstore.storage import schema as t
from eventstore.storage.engine import upgrade
from eventstore.storage.schema import metadata
from eventstore.storage.tree import MERKLE_NODES
from tests.conftest import ARTICLE_GENEVA, ARTICLE_MOSCOW
from tests.old_stores import written_at
from tests.tampering import tamper
from tests.test_example import import_example

PREVIOUS = "0007_resolved_dates"  # before 0008_lean
BEFORE_TREE_IN_EVENTS = "0011_multilateral"


def _statement(source: str, n: int, event_id: str | None = None) -> dict[str, object]:
    fact: dict[str, object] = {
        "type": "statement.made", "track": "RUS-USA", "date": f"2019-0{1 + n % 9}-1{n % 10}",
        "data": {"speaker": {"name": "John Bolton", "country": "USA"}, "stance": "warning",
                 "content": f"déclaration numéro {n}"},
        "citations": [{"source": source[:8], "quote": "une rencontre à Genève"}]}
    if event_id is not None:
        fact["event_id"] = event_id
    return fact


def _write_old(store: EventStore) -> list[str]:
    import_example(store)
    source = store.add_source(ARTICLE_GENEVA.read_bytes()).id
    result = store.append_many([_statement(source, n, str(uuid.uuid4()) if n % 2 else None)
                                for n in range(40)])
    store.erase_payload(result.events[3].event_id, reason="a test of erasure")
    store.erase_source(store.add_source(ARTICLE_MOSCOW.read_bytes()).id, reason="test")
    store.checkpoint(generate_key("migration-test"))
    return _export_of(store)


@pytest.fixture
def old_store(db_url: str) -> Iterator[tuple[sa.Engine, list[str]]]:
    """A store at the previous revision (tests/old_stores.py): the worked example,
    statements (some with the caller's own ids), an erased source, an erased payload and
    a signed checkpoint; and its export as written."""
    engine, export = written_at(db_url, PREVIOUS, _write_old)
    yield engine, export
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
    with EventStore(engine) as store:
        return _export_of(store)


def _export_of(store: EventStore) -> list[str]:
    """The export's lines, less the moment of the export in its header."""
    header, *lines = store.export()
    return [json.dumps({k: v for k, v in json.loads(header).items() if k != "exported_at"}),
            *lines]


def test_a_store_at_the_previous_revision_is_migrated_in_place(
        old_store: tuple[sa.Engine, list[str]]) -> None:
    old_store, before = old_store
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


def test_a_store_that_does_not_verify_is_not_migrated(old_store: tuple[sa.Engine, list[str]],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    old_store, _ = old_store
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


# -- 0012_tree_in_events ----------------------------------------------------------------


def _legacy_nodes(engine: sa.Engine) -> list[tuple[int, bytes]]:
    with engine.connect() as conn:
        return [(p, bytes(h)) for p, h in conn.execute(
            sa.select(MERKLE_NODES.c.position, MERKLE_NODES.c.hashes)
            .order_by(MERKLE_NODES.c.position))]


def _event_nodes(engine: sa.Engine) -> list[tuple[int, bytes]]:
    e = t.events.c
    with engine.connect() as conn:
        return [(p, bytes(h)) for p, h in conn.execute(
            sa.select(e.position, e.tree_nodes).order_by(e.position))]


@pytest.fixture
def store_0011(db_url: str) -> Iterator[tuple[sa.Engine, list[str]]]:
    """The same store at 0011_multilateral, its tree in ``merkle_nodes``."""
    engine, export = written_at(db_url, BEFORE_TREE_IN_EVENTS, _write_old)
    yield engine, export
    engine.dispose()


def test_the_tree_moves_into_the_events_rows(store_0011: tuple[sa.Engine, list[str]]) -> None:
    engine, before = store_0011
    nodes = _legacy_nodes(engine)
    with engine.connect() as conn:
        events = conn.execute(sa.select(sa.func.count()).select_from(t.events)).scalar()
    assert len(nodes) == events and events > 40
    assert upgrade(engine) == (BEFORE_TREE_IN_EVENTS, engine_module.HEAD_REVISION)
    assert _event_nodes(engine) == nodes  # the very bytes, at the same positions
    with engine.connect() as conn:
        assert not sa.inspect(conn).has_table("merkle_nodes")
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    assert _export(engine) == before
    with EventStore(engine, actor="new") as store:
        assert store.verify().ok
        head = store.tree_head()
        _, proof = store.inclusion_proof(7)
        source = store.add_source(ARTICLE_GENEVA.read_bytes()).id
        store.append_many([_statement(source, 100), _statement(source, 101)])
        assert store.verify().ok
        assert store.tree_head(head.size) == head
        assert store.inclusion_proof(7, head.size)[1] == proof
        assert store.consistency_proof(head.size).root1 == head.root
    with pytest.raises(sa.exc.DBAPIError, match="refused"), engine.begin() as conn:
        conn.execute(sa.update(t.events).values(tree_nodes=b""))
    assert upgrade(engine) == (engine_module.HEAD_REVISION, engine_module.HEAD_REVISION)


def test_a_log_written_before_the_tree_gets_it(db_url: str) -> None:
    """A log whose ``merkle_nodes`` rows are missing, as one written before revision 0003
    (which added the tree without filling it) has: the migration computes them."""
    engine, before = written_at(db_url, BEFORE_TREE_IN_EVENTS, _write_old, tree=False)
    try:
        assert _legacy_nodes(engine) == []
        upgrade(engine)
        assert _export(engine) == before
        with EventStore(engine) as store:
            assert store.verify().ok
            assert store.tree_head().root == store.checkpoints()[-1].checkpoint.root
    finally:
        engine.dispose()


def test_a_store_whose_tree_does_not_verify_is_not_moved(
        store_0011: tuple[sa.Engine, list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    engine, _ = store_0011
    m = MERKLE_NODES.c

    def flip(conn: sa.Connection) -> None:
        row = bytes(conn.execute(sa.select(m.hashes).where(m.position == 5)).scalar_one())
        conn.execute(sa.update(MERKLE_NODES).where(m.position == 5)
                     .values(hashes=bytes([row[0] ^ 1]) + row[1:]))

    with monkeypatch.context() as patched:
        patched.setattr(engine_module, "head_revision", lambda: BEFORE_TREE_IN_EVENTS)
        store = EventStore(engine)
        tamper(store, flip, restore_triggers=True)
        store.close()
    nodes = _legacy_nodes(engine)
    with pytest.raises(IntegrityError, match="0012_tree_in_events: the log does not verify "
                                             "before the migration"):
        upgrade(engine)
    assert _revision(engine) == BEFORE_TREE_IN_EVENTS
    assert _legacy_nodes(engine) == nodes  # nothing changed
