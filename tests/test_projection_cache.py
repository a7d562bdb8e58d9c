"""Current states served from memory: only while the stored read model row is unchanged."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from eventstore import EventStore, TrackState
from eventstore.projection.fold import project
from eventstore.projection.read_model import Folded
from eventstore.storage import read_models as store_module
from eventstore.storage import reads as reads_module
from eventstore.storage.reads import Reads
from eventstore.storage.states import EventCache, KeptTrack, StateCache
from eventstore.tracks import REGISTRY_STREAMS
from tests.conftest import ARTICLE_GENEVA
from tests.test_projection import BOLTON, meeting


@pytest.fixture
def geneva(store: EventStore) -> str:
    return store.add_source(ARTICLE_GENEVA.read_bytes(),
                            body_until="Chine : une logistique plus verte").id


@pytest.fixture
def decoded(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The tracks whose stored state the store read and decoded, call after call."""
    tracks: list[str] = []
    load = store_module.load_folded

    def counting(text: str) -> Folded:
        folded = load(text)
        tracks.append(folded.state.track)
        return folded

    monkeypatch.setattr(store_module, "load_folded", counting)
    yield tracks


@pytest.fixture
def second(db_url: str, store: EventStore) -> Iterator[EventStore]:
    """Another store on the same database (another process, as far as caches go)."""
    with EventStore.open(db_url, actor="other") as other:
        yield other


def _fold(store: EventStore, track: str) -> TrackState:
    return project(track, list(store.read_track(track)), registry=store.registry())


def test_a_repeated_read_is_served_without_decoding_again(
        store: EventStore, geneva: str, decoded: list[str]) -> None:
    store.append("RUS-USA", [meeting("planned", "geneva", "2018-08-01", geneva)])
    first = store.project("RUS-USA")
    assert decoded == ["RUS-USA"]
    assert store.project("RUS-USA") is first and decoded == ["RUS-USA"]
    assert first == _fold(store, "RUS-USA")


def test_an_append_from_another_store_is_seen(store: EventStore, second: EventStore,
                                             geneva: str, decoded: list[str]) -> None:
    store.append("RUS-USA", [meeting("planned", "geneva", "2018-08-01", geneva)])
    assert store.project("RUS-USA").meetings[0].status == "planned"
    second.append("RUS-USA", [meeting("held", "geneva", "2018-08-23", geneva)])
    served = store.project("RUS-USA")  # not caught up: this store's projector folds it
    assert served.meetings[0].status == "held" and served == _fold(store, "RUS-USA")
    assert decoded[-1] == "RUS-USA"


def test_a_read_model_rewritten_by_another_projector_is_read_again(
        store: EventStore, second: EventStore, geneva: str, decoded: list[str]) -> None:
    store.append("RUS-USA", [meeting("planned", "geneva", "2018-08-01", geneva)])
    store.project("RUS-USA")
    second.append("RUS-USA", [meeting("held", "geneva", "2018-08-23", geneva)])
    assert second.catch_up() == 1  # caught up by the other store: this one sees a new row
    count = len(decoded)
    served = store.project("RUS-USA")
    assert served.meetings[0].status == "held" and served == _fold(store, "RUS-USA")
    assert len(decoded) == count + 1
    assert second.rebuild() == 1  # the same version and position, written anew
    assert store.project("RUS-USA") == served and len(decoded) == count + 2


def test_a_new_registry_is_seen(store: EventStore, second: EventStore, geneva: str) -> None:
    store.append("RUS-USA", [meeting("held", "geneva", "2018-08-23", geneva,
                                     participants=[BOLTON])])
    assert store.project("RUS-USA").meetings[0].participants[0].id == "USA:john bolton"
    second.append("$actors", [{"type": "actor.registered", "data": {
        "id": "bolton", "name": "John R. Bolton", "country": "USA",
        "aliases": ["John Bolton"]}}])
    assert store.project("RUS-USA").meetings[0].participants[0].id == "bolton"


def test_a_new_projection_version_is_not_served_from_memory(
        store: EventStore, geneva: str, monkeypatch: pytest.MonkeyPatch,
        decoded: list[str]) -> None:
    store.append("RUS-USA", [meeting("held", "geneva", "2018-08-23", geneva)])
    store.project("RUS-USA")
    monkeypatch.setattr(store_module, "PROJECTION_VERSION", 99)
    assert store.project("RUS-USA") == _fold(store, "RUS-USA")
    assert decoded == ["RUS-USA", "RUS-USA"]  # rebuilt by the new version, read again


def test_reads_of_other_tracks_and_cuts_leave_the_cache_alone(
        store: EventStore, geneva: str, decoded: list[str]) -> None:
    store.append("RUS-USA", [meeting("planned", "geneva", "2018-08-01", geneva)])
    store.append("FRA-USA", [meeting("planned", "paris", "2018-08-02", geneva)
                             | {"track": "FRA-USA"}])
    rus, fra = store.project("RUS-USA"), store.project("FRA-USA")
    assert store.project("RUS-USA", possible=True).meetings == rus.meetings  # a fold
    assert store.project("RUS-USA") is rus and store.project("FRA-USA") is fra
    assert decoded == ["RUS-USA", "FRA-USA"]


# -- the cache itself ---------------------------------------------------------------------

def _state(track: str, facts: int) -> TrackState:
    return TrackState(track=track, as_of=None, known_at=None, possible=False, position=1,
                      facts=facts)


def test_the_cache_keeps_a_state_only_for_its_row() -> None:
    cache = StateCache()
    state = _state("RUS-USA", 3)
    cache.put("RUS-USA", (1, 3), state)
    assert cache.get("RUS-USA", (1, 3)) is state
    assert cache.get("RUS-USA", (2, 4)) is None and cache.get("FRA-USA", (1, 3)) is None
    cache.put("RUS-USA", (2, 4), _state("RUS-USA", 4))
    assert cache.get("RUS-USA", (1, 3)) is None and len(cache) == 1


def test_the_cache_holds_at_most_its_budget_of_facts() -> None:
    cache = StateCache(max_facts=10)

    def put(track: str, facts: int) -> None:
        cache.put(track, 1, _state(track, facts))

    put("AAA-BBB", 4)
    put("AAA-CCC", 4)
    assert cache.get("AAA-BBB", 1) is not None  # now the most recently served
    put("AAA-DDD", 4)  # 12 facts: the least recently served goes
    assert cache.get("AAA-CCC", 1) is None
    assert cache.get("AAA-BBB", 1) is not None and cache.get("AAA-DDD", 1) is not None
    put("AAA-EEE", 11)  # larger than the whole budget: not kept, nothing else dropped
    assert cache.get("AAA-EEE", 1) is None and len(cache) == 2
    cache.clear()
    assert len(cache) == 0


# -- the event cache behind cuts (project with as_of / known_at, history) ----------------------


def test_cuts_decode_only_what_is_new(store: EventStore, second: EventStore, geneva: str,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    read: list[tuple[str, int]] = []
    original = Reads.read_conn

    def counting(self: Reads, conn: Any, track: str, from_version: int = 1,
                 upto: int | None = None) -> Any:
        read.append((track, from_version))
        return original(self, conn, track, from_version, upto)

    monkeypatch.setattr(Reads, "read_conn", counting)
    store.append("RUS-USA", [meeting("planned", "geneva", "2018-08-01", geneva)])
    cut = dt.date(2018, 8, 2)
    first = store.project("RUS-USA", as_of=cut)
    assert ("RUS-USA", 1) in read
    read.clear()
    assert store.project("RUS-USA", as_of=cut) == first
    assert [r for r in read if r[0] == "RUS-USA"] == []  # nothing appended: nothing read
    second.append("RUS-USA", [meeting("held", "geneva", "2018-08-23", geneva)])
    later = store.project("RUS-USA", as_of=dt.date(2018, 8, 24))
    assert ("RUS-USA", 2) in read and ("RUS-USA", 1) not in read  # only the new version
    assert [m.status for m in later.meetings] == ["held"]
    assert later == project("RUS-USA", list(second.read_track("RUS-USA")),
                            as_of=dt.date(2018, 8, 24), registry=second.registry())


def test_an_erasure_from_another_store_reaches_cached_cuts(store: EventStore,
                                                         second: EventStore,
                                                         geneva: str) -> None:
    result = store.append("RUS-USA", [meeting("held", "geneva", "2018-08-23", geneva)])
    as_of = dt.date(2018, 8, 24)
    assert [m.key for m in store.project("RUS-USA", as_of=as_of).meetings] == ["geneva"]
    second.erase_payload(result.events[0].event_id, reason="test")
    state = store.project("RUS-USA", as_of=as_of)
    assert state.meetings == () and [r.type for r in state.redacted] == ["meeting.held"]
    store.erase_source(geneva, reason="test")  # and the other way round, for the quotes
    assert all(c.erased for r in second.project("RUS-USA", as_of=as_of).redacted
               for c in r.citations)


def test_the_event_cache_keeps_to_its_budget() -> None:
    events: list[Any] = [object(), object(), object()]
    cache = EventCache(max_events=4)
    cache.put("A", 0, KeptTrack(events[:2]))
    cache.put("B", 0, KeptTrack(events[:2]))
    assert cache.get("A", 0).events == events[:2]  # A is now the most recently used
    cache.put("C", 0, KeptTrack(events[:1]))
    assert cache.get("B", 0).events == [] and cache.get("A", 0).events
    assert cache.get("C", 0).events
    assert cache.get("A", 7).events == []  # read before an erasure: not served
    cache.put("D", 0, KeptTrack(events * 2))  # larger than the budget
    assert cache.get("D", 0).events == []


# -- the registry's streams ------------------------------------------------------------------


def test_the_registry_is_read_from_all_its_streams_in_one_statement(
        store: EventStore, geneva: str) -> None:
    store.append("RUS-USA", [meeting("held", "geneva", "2018-08-23", geneva,
                                     participants=[BOLTON])])
    store.append("$actors", [{"type": "actor.registered", "data": {
        "id": "bolton", "name": "John R. Bolton", "country": "USA",
        "aliases": ["John Bolton"]}}])
    as_of = dt.date(2018, 8, 24)
    assert store.project("RUS-USA", as_of=as_of).meetings[0].participants[0].id == "bolton"
    sent: list[str] = []

    def count(*args: Any) -> None:
        sent.append(args[2])

    sa.event.listen(store.engine, "before_cursor_execute", count)
    try:
        store.project("RUS-USA", as_of=as_of)  # nothing new: each read is one small probe
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", count)
    probes = [s for s in sent if "erasures" in s]
    assert len(probes) == 2  # the track's, and one for all the registry streams
    assert probes[1].count("max(events.version)") == len(REGISTRY_STREAMS)
    assert [s for s in sent if s != "BEGIN"] == probes  # and nothing else


def test_the_probes_take_any_number_of_registry_streams(
        store: EventStore, geneva: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A third registry stream must not break them (they once unpacked exactly two)."""
    store.append("RUS-USA", [meeting("planned", "geneva", "2018-08-01", geneva),
                             meeting("held", "geneva", "2018-08-23", geneva)])
    store.append("$actors", [{"type": "actor.registered", "data": {
        "id": "bolton", "name": "John R. Bolton", "country": "USA"}}])
    store.catch_up()
    three = (*REGISTRY_STREAMS, "RUS-USA")  # any stream with events stands in for a third
    with store.engine.connect() as conn:
        row = conn.execute(store_module._probe_query(track=True, state=True),
                           {"track": "RUS-USA"}).one()
        assert row.registry == 1
        monkeypatch.setattr(store_module, "REGISTRY_STREAMS", three)
        row = conn.execute(store_module._probe_query(track=True, state=True),
                           {"track": "RUS-USA"}).one()
        assert row.registry == 1 + 0 + 2  # $actors, $topics (none), the third
    monkeypatch.setattr(reads_module, "REGISTRY_STREAMS", three)
    streams = store._reads.registry_streams()
    assert [len(kept.events) for kept in streams] == [1, 0, 2]


def test_a_cut_reads_no_further_than_its_position(
        store: EventStore, second: EventStore, geneva: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    for day in ("2018-08-01", "2018-08-02", "2018-08-03"):
        store.append("RUS-USA", [meeting("planned", f"geneva-{day}", day, geneva)])
    events = list(store.read_track("RUS-USA"))
    read: list[tuple[int, int]] = []  # (from version, versions read)
    original = Reads.read_conn

    def counting(self: Reads, conn: Any, track: str, from_version: int = 1,
                 upto: int | None = None) -> Any:
        found = original(self, conn, track, from_version, upto)
        if track == "RUS-USA":
            read.append((from_version, len(found)))
        return found

    monkeypatch.setattr(Reads, "read_conn", counting)
    early = second.project("RUS-USA", known_at=events[0].recorded_at)  # a fresh store
    assert read == [(1, 1)] and [m.key for m in early.meetings] == ["geneva-2018-08-01"]
    assert second.project("RUS-USA", known_at=events[0].recorded_at) == early
    assert read == [(1, 1)]  # read up to there already: nothing more
    later = second.project("RUS-USA", known_at=events[1].recorded_at)
    assert read == [(1, 1), (2, 1)] and len(later.meetings) == 2
    assert later == project("RUS-USA", events[:2], known_at=events[1].recorded_at,
                            registry=store.registry())
    assert second.project("RUS-USA", possible=True).facts == 3  # no cut: the rest
    assert read[-1] == (3, 1)
