"""Followers in processes of their own, on each engine: 4 writer processes × 200 appends
while 3 consumers follow the log and write their results in the same database; one of
them is killed with SIGKILL mid-run and restarted from its stored position. Each must
have handled every event exactly once, in order (docs/following.md).
"""

from __future__ import annotations

import os
import signal
import time
import traceback
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from eventstore import ConsumerBusy, EventStore
from tests.test_concurrency import CTX, fact, initialise

WRITERS = 4
APPENDS = 200
CONSUMERS = ("c0", "c1", "c2")
VICTIM = "c2"
#: Seconds the whole run may take before the test fails.
DEADLINE = 300.0


def writer(url: str, actor: str, source: str, track: str, count: int, errors: Any) -> None:
    try:
        with EventStore.open(url, actor=actor) as store:
            for number in range(count):
                store.append(track, [fact(source, track, f"{actor}-{number}", uuid.uuid4())])
    except BaseException:  # noqa: B036 - reported to the parent
        errors.put(f"{actor}: {traceback.format_exc()}")
        raise


def consumer(url: str, name: str, until: int, errors: Any) -> None:
    """Handle events in batches, writing one row per event and the position together;
    check that each event is the one after the last, from the stored position on."""
    try:
        with EventStore.open(url, actor=name) as store:
            deadline = time.monotonic() + 30
            while True:  # a killed predecessor's lock goes when its session does
                try:
                    opened = store.consumer(name)
                    break
                except ConsumerBusy:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
            with opened:
                expected = opened.position + 1
                insert = sa.text("INSERT INTO handled (consumer, position, event_id, pid) "
                                 "VALUES (:c, :p, :e, :pid)")
                while opened.position < until:
                    with opened.batch(limit=50, timeout=1.0) as (events, conn):
                        for event in events:
                            if event.position != expected:
                                raise AssertionError(f"{name}: got {event.position}, "
                                                     f"expected {expected}")
                            expected += 1
                            conn.execute(insert, {"c": name, "p": event.position,
                                                  "e": str(event.event_id),
                                                  "pid": os.getpid()})
    except BaseException:  # noqa: B036 - reported to the parent
        errors.put(f"{name}: {traceback.format_exc()}")
        raise


def handled_by(url: str, name: str) -> list[tuple[int, str, int]]:
    with EventStore.open(url) as store, store.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(  # type: ignore[misc]
            "SELECT position, event_id, pid FROM handled WHERE consumer = :c "
            "ORDER BY position"), {"c": name})]


@pytest.mark.slow
def test_consumers_see_every_event_once_even_when_one_is_killed(
        db_url: str, geneva_text: bytes) -> None:
    source, head = initialise(db_url, geneva_text)
    total = WRITERS * APPENDS
    until = head + total
    with EventStore.open(db_url) as store:
        with store.engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE handled (consumer VARCHAR(8) NOT NULL, "
                                 "position BIGINT NOT NULL, event_id VARCHAR(36) NOT NULL, "
                                 "pid INTEGER NOT NULL)"))
        for name in CONSUMERS:
            store.consumer(name, create=True, start=head).close()
    errors = CTX.Queue()
    consumers = {name: CTX.Process(target=consumer, args=(db_url, name, until, errors),
                                   daemon=True) for name in CONSUMERS}
    writers = [CTX.Process(target=writer, args=(db_url, f"w{i}", source,
                                                ("RUS-USA", "CHN-USA")[i % 2], APPENDS, errors),
                           daemon=True) for i in range(WRITERS)]
    started = time.monotonic()
    processes = [*consumers.values(), *writers]
    for process in processes:
        process.start()
    try:
        # Kill the victim once it has committed some events, while the writers write.
        while len(handled_by(db_url, VICTIM)) < total // 8:
            assert time.monotonic() - started < DEADLINE, "the victim never got going"
            assert errors.empty(), errors.get()
            time.sleep(0.05)
        victim = consumers[VICTIM]
        os.kill(victim.pid, signal.SIGKILL)  # type: ignore[arg-type]
        victim.join(10)
        before_kill = len(handled_by(db_url, VICTIM))
        writing = any(w.is_alive() for w in writers)
        restarted = CTX.Process(target=consumer, args=(db_url, VICTIM, until, errors),
                                daemon=True)
        restarted.start()
        processes.append(restarted)
        killed_at = time.monotonic() - started
        for process in [*writers, consumers["c0"], consumers["c1"], restarted]:
            process.join(max(1.0, DEADLINE - (time.monotonic() - started)))
            assert errors.empty(), errors.get()
            assert process.exitcode == 0, f"{process.name} exited with {process.exitcode}"
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()
    elapsed = time.monotonic() - started

    with EventStore.open(db_url) as store:
        ids = [str(e.event_id) for e in store.read_all(head + 1)]
    assert len(ids) == total
    counts = {}
    for name in CONSUMERS:
        rows = handled_by(db_url, name)
        assert [p for p, _, _ in rows] == list(range(head + 1, until + 1)), \
            f"{name} missed or repeated events"
        assert [i for _, i, _ in rows] == ids
        counts[name] = len(rows)
    victim_rows = handled_by(db_url, VICTIM)
    pids = [pid for _, _, pid in victim_rows]
    first_pid_rows = pids.count(pids[0])
    assert 0 < first_pid_rows < total and first_pid_rows == before_kill
    print(f"\n{db_url.split(':')[0]}: {total} events, handled {counts}; {VICTIM} killed "
          f"after {before_kill} (writers still writing: {writing}), its successor handled "
          f"{total - before_kill}; killed at {killed_at:.1f} s of {elapsed:.1f} s")
