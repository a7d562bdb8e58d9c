"""The catch-up projector follows the log as a consumer (docs/projections.md): its
position is the consumer ``$projections``'s, moved by the same rule as every consumer's;
stores at the previous schema (0008_lean) come forward in place, on both engines.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
import sqlalchemy as sa

from eventstore import EventStore, ValidationError
from eventstore.projection import PROJECTION_VERSION, dump_folded, fold_all, registry_of
from eventstore.storage.engine import upgrade
from eventstore.tracks import ACTORS_STREAM, FIXED_STREAMS
from tests.test_example import import_example, register_sources
from tests.test_following import cancelled
from tests.test_schema import migrated_to

TRACK = "RUS-USA"
#: The schema before the projector became a consumer: the previous head revision.
PREVIOUS = "0008_lean"
#: The table the projector kept its checkpoint in up to the previous schema, as it was.
PROJECTIONS = sa.table(
    "projections", sa.column("name", sa.String), sa.column("position", sa.BigInteger),
    sa.column("registry_version", sa.Integer), sa.column("code_version", sa.Integer),
    sa.column("updated_at", sa.DateTime(timezone=True)))


def project_as_before(engine: sa.Engine) -> int:
    """What the projector of the previous schema wrote after a catch-up (a naive oracle of its
    rebuild): every track folded from the log into ``track_states``, and its checkpoint,
    the row ``tracks`` of ``projections``. Returns the checkpoint's position."""
    with EventStore(engine, check=False) as store, engine.begin() as conn:
        events = list(store.read_all())
        head = events[-1].position
        actors = [e for e in events if e.track == ACTORS_STREAM]
        registry = registry_of(actors)
        now = dt.datetime.now(dt.UTC)
        for track in sorted({e.track for e in events} - set(FIXED_STREAMS)):
            mine = [e for e in events if e.track == track]
            folded = fold_all(track, mine, registry)
            conn.execute(sa.insert(sa.table(
                "track_states", *(sa.column(n) for n in (
                    "track", "version", "position", "registry_version", "code_version",
                    "state", "updated_at")))).values(
                track=track, version=mine[-1].version, position=folded.state.position,
                registry_version=len(actors), code_version=PROJECTION_VERSION,
                state=dump_folded(folded), updated_at=now))
        conn.execute(sa.insert(PROJECTIONS).values(
            name="tracks", position=head, registry_version=len(actors),
            code_version=PROJECTION_VERSION, updated_at=now))
    return head


def projector_row(store: EventStore) -> Any:
    with store.engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT position, registry_version, code_version FROM consumers "
            "WHERE name = '$projections'")).first()


def states(store: EventStore) -> list[Any]:
    with store.engine.connect() as conn:
        return list(conn.execute(sa.text(
            "SELECT track, version, position, state, updated_at FROM track_states "
            "ORDER BY track")))


def served_as_folded(store: EventStore, track: str) -> bool:
    """Whether the stored state served for ``track`` is what a fold of its log gives."""
    served = store.project(track).to_dict()
    folded = store.project(track, known_at=dt.datetime.now(dt.UTC)).to_dict()
    folded["known_at"] = None  # the one thing a cut adds
    return served == folded


def test_a_store_at_the_previous_schema_comes_forward_in_place(db_url: str) -> None:
    engine = migrated_to(db_url, PREVIOUS)
    with EventStore(engine, check=False, actor="analyst") as store:
        import_example(store)  # appending never touched the read models' tables
    head = project_as_before(engine)
    with EventStore(engine, check=False) as store:
        before = states(store)
    assert len(before) >= 1

    assert upgrade(engine) == (PREVIOUS, "0009_projector")

    with EventStore(engine, actor="analyst") as store:
        assert "projections" not in sa.inspect(engine).get_table_names()
        row = projector_row(store)
        assert row.position == head and row.code_version == PROJECTION_VERSION
        assert store.catch_up() == 0  # its place kept: nothing to fold, no rebuild
        assert states(store) == before  # not one state written again
        assert served_as_folded(store, TRACK)
        geneva = store.list_sources()[0].id
        store.append(TRACK, [cancelled(geneva, "after-the-upgrade")])
        assert store.catch_up() == 1  # folded from the carried position on, alone
        assert projector_row(store).position == head + 1
    engine.dispose()


def test_a_store_at_the_previous_schema_never_projected(db_url: str) -> None:
    engine = migrated_to(db_url, PREVIOUS)
    with EventStore(engine, check=False, actor="analyst") as store:
        import_example(store)
    assert upgrade(engine) == (PREVIOUS, "0009_projector")
    with EventStore(engine) as store:
        assert projector_row(store) is None  # created on its first catch-up
        head, _ = store.head()
        assert store.catch_up() > 0  # the first catch-up builds every track
        assert tuple(projector_row(store)) == (head, store.track_version(ACTORS_STREAM),
                                               PROJECTION_VERSION)
        assert store.catch_up() == 0
    engine.dispose()


def test_the_projector_is_no_consumer_to_open(store: EventStore) -> None:
    register_sources(store)
    store.project(TRACK)
    for create in (False, True):
        with pytest.raises(ValidationError, match="the store's own catch-up projector"):
            store.consumer("$projections", create=create)
    assert tuple(projector_row(store)) == (2, 0, PROJECTION_VERSION)


def test_projectors_in_several_stores_fold_each_event_once(db_url: str) -> None:
    """Several stores (as several processes would) catch up while a writer appends: each
    event is folded by exactly one of them (the consumer's position rule), and the stored
    states are what a fold of the whole log gives."""
    with EventStore.open(db_url, create=True, actor="analyst") as store:
        register_sources(store)
        source = store.list_sources()[0].id
        store.catch_up()
        start, _ = store.head()
    appends, stores = 60, [EventStore.open(db_url) for _ in range(3)]
    folded = [0] * len(stores)
    done = threading.Event()
    errors: list[BaseException] = []

    def project(index: int) -> None:
        try:
            while not done.is_set():
                folded[index] += stores[index].catch_up(limit=7)
            folded[index] += stores[index].catch_up(limit=7)
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=project, args=(i,)) for i in range(len(stores))]
    for thread in threads:
        thread.start()
    with EventStore.open(db_url, actor="writer") as writer:
        for i in range(appends):
            track = ("RUS-USA", "CHN-USA")[i % 2]
            writer.append(track, [cancelled(source, f"k{i}", track=track)])
        done.set()
        for thread in threads:
            thread.join(60)
        assert not errors, errors
        head, _ = writer.head()
        assert head == start + appends
        assert sum(folded) == appends  # none twice, none left out
        assert writer.catch_up() == 0
        for track in ("RUS-USA", "CHN-USA"):
            assert served_as_folded(writer, track)
    for opened in stores:
        opened.close()
