"""Following the log, on both engines: subscriptions that catch up and then wait, and named
consumers whose position the database keeps (docs/following.md)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from eventstore import (
    ConsumerBusy,
    ConsumerError,
    ConsumerNotFound,
    EventStore,
    RecordedEvent,
    Subscription,
    TrackError,
    UnknownFactType,
    ValidationError,
)
from tests.conftest import ARTICLE_GENEVA

QUOTE = "ont eu jeudi une rencontre à Genève"


def cancelled(source: str, key: str, track: str = "RUS-USA") -> dict[str, Any]:
    return {"type": "meeting.cancelled", "track": track, "date": "2018-08-23",
            "data": {"key": key}, "citations": [{"source": source, "quote": QUOTE}]}


def declined(source: str, key: str, track: str = "RUS-USA") -> dict[str, Any]:
    return {"type": "invitation.declined", "track": track, "date": "2018-08-23",
            "data": {"key": key}, "citations": [{"source": source, "quote": QUOTE}]}


@pytest.fixture
def source(store: EventStore) -> str:
    return store.add_source(ARTICLE_GENEVA.read_bytes(), title="Genève").id


class Collector:
    """Iterates a subscription in a thread of its own, as a service would."""

    def __init__(self, subscription: Subscription) -> None:
        self.subscription = subscription
        self.events: list[RecordedEvent] = []
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            for event in self.subscription:
                self.events.append(event)
        except BaseException as err:  # noqa: BLE001 - reported to the test
            self.error = err

    def wait_for(self, count: int, timeout: float = 20.0) -> list[RecordedEvent]:
        deadline = time.monotonic() + timeout
        while len(self.events) < count and time.monotonic() < deadline and self.error is None:
            time.sleep(0.005)
        assert self.error is None, self.error
        return list(self.events)

    def stop(self) -> None:
        self.subscription.stop()
        self.thread.join(timeout=10)
        assert not self.thread.is_alive(), "stop() did not end the iteration"
        self.subscription.close()
        assert self.error is None, self.error


@pytest.fixture
def collect() -> Iterator[Any]:
    started: list[Collector] = []

    def start(subscription: Subscription) -> Collector:
        started.append(Collector(subscription))
        return started[-1]

    yield start
    for collector in started:
        collector.subscription.stop()
        collector.thread.join(timeout=10)
        collector.subscription.close()


def test_a_subscriber_at_the_head_sees_an_event_appended_a_moment_later(
        store: EventStore, source: str, collect: Any) -> None:
    head, _ = store.head()
    subscription = store.subscribe(from_position=head)
    collector = collect(subscription)
    assert subscription.caught_up.wait(10)
    assert collector.events == []
    appended = time.monotonic()
    result = store.append("RUS-USA", [cancelled(source, "a")])
    (event,) = collector.wait_for(1)
    latency = time.monotonic() - appended
    assert event.position == result.positions[0] == head + 1
    assert event.type == "meeting.cancelled"
    assert latency < 2.0
    collector.stop()
    assert subscription.position == head + 1


def test_it_catches_up_first_then_follows_in_order_each_once(
        store: EventStore, source: str, collect: Any) -> None:
    store.append("RUS-USA", [cancelled(source, f"old-{i}") for i in range(3)])
    caught: list[int] = []
    subscription = store.subscribe(1, on_caught_up=caught.append)  # after the source
    collector = collect(subscription)
    assert [e.position for e in collector.wait_for(3)] == [2, 3, 4]
    assert subscription.caught_up.wait(10)
    assert caught[0] == 4
    for i in range(5):
        store.append("RUS-USA", [cancelled(source, f"new-{i}"), declined(source, f"n-{i}")])
    events = collector.wait_for(13)
    time.sleep(0.2)  # nothing more comes
    assert [e.position for e in collector.events] == list(range(2, 15))
    assert [e.position for e in events] == list(range(2, 15))
    collector.stop()


def test_filters_by_track_and_type(store: EventStore, source: str, collect: Any) -> None:
    subscription = store.subscribe(tracks=["usa-rus"], types=["invitation.declined"])
    collector = collect(subscription)
    store.append_many([cancelled(source, "a"), declined(source, "b"),
                       declined(source, "c", track="CHN-USA"), declined(source, "d")])
    events = collector.wait_for(2)
    time.sleep(0.2)
    assert [(e.track, e.data.key) for e in collector.events] == [  # type: ignore[union-attr]
        ("RUS-USA", "b"), ("RUS-USA", "d")]
    assert len(events) == 2
    collector.stop()
    assert subscription.position == 5  # past the events it left out too


def test_bad_input_is_refused_with_a_clear_error(store: EventStore, source: str) -> None:
    store.append("RUS-USA", [cancelled(source, "a")])
    with pytest.raises(UnknownFactType, match="meeting.canceled"):
        store.subscribe(types=["meeting.canceled"])
    with pytest.raises(TrackError, match="tracks"):
        store.subscribe(tracks=["RUSSIA-USA"])
    with pytest.raises(ValidationError, match=r"position 9 is beyond the log's head \(2\)"):
        store.subscribe(9)
    with pytest.raises(ValidationError, match="from_position"):
        store.subscribe(-1)
    with pytest.raises(ConsumerNotFound, match="no consumer is named 'alerts'"):
        store.consumer("alerts")
    with pytest.raises(ValidationError, match="not a consumer name"):
        store.consumer("bad name", create=True)
    with pytest.raises(ValidationError, match="from 0 to the log's head"):
        store.consumer("alerts", create=True, start=3)
    with store.engine.connect() as conn:  # nothing was written
        assert conn.execute(sa.text("SELECT count(*) FROM consumers")).scalar() == 0


def test_stopping_from_another_thread_and_as_a_context_manager(
        store: EventStore, source: str) -> None:
    with store.subscribe() as subscription:
        threading.Timer(0.3, subscription.stop).start()
        started = time.monotonic()
        seen = list(subscription)
        assert time.monotonic() - started < 3.0
    assert [e.type for e in seen] == ["source.registered"]
    with pytest.raises(StopIteration):
        next(subscription)


def test_a_subscription_stopped_when_caught_up(store: EventStore, source: str) -> None:
    store.append("RUS-USA", [cancelled(source, "a"), cancelled(source, "b")])
    subscription: Subscription
    subscription = store.subscribe(0, on_caught_up=lambda _: subscription.stop())
    with subscription:
        assert [e.position for e in subscription] == [1, 2, 3]


# -- consumers -------------------------------------------------------------------------

def make_results(store: EventStore) -> None:
    with store.engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE handled (position BIGINT NOT NULL, "
                             "event_id VARCHAR(36) NOT NULL)"))


def handled(store: EventStore) -> list[int]:
    with store.engine.connect() as conn:
        return list(conn.execute(sa.text("SELECT position FROM handled ORDER BY position"))
                    .scalars())


def test_a_consumer_writes_its_results_and_position_together(
        store: EventStore, source: str) -> None:
    make_results(store)
    store.append("RUS-USA", [cancelled(source, f"k{i}") for i in range(5)])
    with store.consumer("alerts", create=True) as consumer:
        assert consumer.position == 0
        with consumer.batch(limit=4) as (events, conn):
            for event in events:
                conn.execute(sa.text("INSERT INTO handled VALUES (:p, :e)"),
                             {"p": event.position, "e": str(event.event_id)})
        assert consumer.position == 4
        # A batch whose handling fails commits nothing, and comes again.
        with pytest.raises(RuntimeError), consumer.batch() as (events, conn):
            conn.execute(sa.text("INSERT INTO handled VALUES (:p, :e)"),
                         {"p": events[0].position, "e": "x"})
            raise RuntimeError("the handler failed")
        assert consumer.position == 4
        with consumer.batch() as (events, conn):
            assert [e.position for e in events] == [5, 6]
            for event in events:
                conn.execute(sa.text("INSERT INTO handled VALUES (:p, :e)"),
                             {"p": event.position, "e": str(event.event_id)})
        with consumer.batch(timeout=0.2) as (events, conn):
            assert events == []
    assert handled(store) == [1, 2, 3, 4, 5, 6]
    with store.consumer("alerts") as again:
        assert again.position == 6


def test_a_consumer_at_least_once_and_only_forward(store: EventStore, source: str) -> None:
    store.append("RUS-USA", [cancelled(source, f"k{i}") for i in range(3)])
    with store.consumer("mailer", create=True, start=1,
                        types=["meeting.cancelled"]) as consumer:
        subscription = consumer.subscribe(on_caught_up=lambda _: subscription.stop())
        seen = []
        for event in subscription:
            seen.append(event.position)
            consumer.commit(event.position)
        subscription.close()
        assert seen == [2, 3, 4] and consumer.position == 4
        with pytest.raises(ConsumerError, match="cannot move back to 2"):
            consumer.commit(2)
        with pytest.raises(ConsumerError, match="the log ends at 4"):
            consumer.commit(7)
        assert consumer.position == 4
    with store.consumer("mailer") as consumer:
        assert consumer.position == 4


def test_a_second_process_cannot_run_the_same_consumer(
        store: EventStore, source: str, db_url: str, engine_kind: str) -> None:
    make_results(store)
    store.append("RUS-USA", [cancelled(source, "a")])
    first = store.consumer("alerts", create=True)
    with EventStore.open(db_url) as other:
        if engine_kind == "postgresql":  # refused as it opens: the lock is held
            with pytest.raises(ConsumerBusy, match="running in another process"):
                other.consumer("alerts")
            first.close()
            first = other.consumer("alerts")  # free once the first one let go
            first.close()
            return
        # SQLite: refused when it commits, under the write lock; nothing of it is kept
        second = other.consumer("alerts")
        with first.batch() as (events, conn):
            conn.execute(sa.text("INSERT INTO handled VALUES (1, 'first')"))
        with pytest.raises(ConsumerBusy, match="another process ran it meanwhile"):
            with second.batch() as (events, conn):
                conn.execute(sa.text("INSERT INTO handled VALUES (1, 'second')"))
        second.close()
    first.close()
    assert handled(store) == [1]


def test_a_killed_listening_connection_is_reconnected_and_nothing_is_missed(
        db_url: str, engine_kind: str, collect: Any) -> None:
    if engine_kind != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    name = f"es-follow-{uuid.uuid4().hex[:8]}"
    with EventStore.open(db_url, create=True,
                         connect_args={"application_name": name}) as store, \
            EventStore.open(db_url) as writer:
        source = writer.add_source(ARTICLE_GENEVA.read_bytes()).id
        subscription = store.subscribe(1, poll_interval=30.0)  # only notifications wake it
        collector = collect(subscription)
        assert subscription.caught_up.wait(10)
        writer.append("RUS-USA", [cancelled(source, "before")])
        collector.wait_for(1, timeout=5)
        with writer.engine.connect() as conn:
            killed = conn.execute(sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = :name"), {"name": name}).scalar()
        assert killed and killed >= 1
        for i in range(3):  # appended while the listener is down, or just back
            writer.append("RUS-USA", [cancelled(source, f"after-{i}")])
        events = collector.wait_for(4, timeout=15)
        assert [e.position for e in events] == [2, 3, 4, 5]
        writer.append("RUS-USA", [cancelled(source, "later")])
        assert [e.position for e in collector.wait_for(5, timeout=5)] == [2, 3, 4, 5, 6]
        collector.stop()


def test_one_notification_per_append_transaction(
        store: EventStore, source: str, engine_kind: str) -> None:
    if engine_kind != "postgresql":
        pytest.skip("NOTIFY is PostgreSQL's")
    import psycopg

    from eventstore.storage.db import NOTIFY_CHANNEL

    raw = store.engine.raw_connection()
    conn = raw.driver_connection
    raw.detach()
    assert isinstance(conn, psycopg.Connection)
    try:
        conn.rollback()
        conn.autocommit = True
        schema = conn.execute("SELECT current_schema()").fetchone()[0]  # type: ignore[index]
        conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
        store.append_many([cancelled(source, "a"), declined(source, "b"),
                           cancelled(source, "c", track="CHN-USA")])
        with pytest.raises(ValidationError):  # refused: rolled back, so no notification
            store.append("RUS-USA", [cancelled(source, "d", track="CHN-USA")])
        # The channel is the database's: other schemas' stores (another test run on the
        # same database) notify on it too; this store's notes start with its schema.
        notes = [n.payload for n in conn.notifies(timeout=1.0)
                 if n.payload.startswith(f"{schema}:")]
    finally:
        conn.close()
    assert notes == [f"{schema}:4"]


def test_an_idle_sqlite_subscription_only_asks_data_version(
        store: EventStore, source: str, engine_kind: str) -> None:
    if engine_kind != "sqlite":
        pytest.skip("PRAGMA data_version is SQLite's")
    statements: list[str] = []
    sa.event.listen(store.engine, "before_cursor_execute",
                    lambda *args: statements.append(args[2]))
    with store.subscribe(poll_interval=0.01) as subscription:
        collector = Collector(subscription)
        assert subscription.caught_up.wait(10)
        statements.clear()
        time.sleep(0.3)  # some thirty polls, nothing committed
        assert statements == []  # the pragma goes through a raw connection of its own
        store.append("RUS-USA", [cancelled(source, "a")])
        assert [e.position for e in collector.wait_for(2)] == [1, 2]
        collector.stop()
