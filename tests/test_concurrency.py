"""Several processes at once, on each engine: what docs/concurrency.md promises.

Every test starts real processes (the ``spawn`` start method, so each one imports the
library afresh and opens its own :class:`EventStore`, as separate services would) and
releases them together once they are all ready. A process reports what it got back, or
its traceback, through a queue; the parent fails the test on any error, on a process
that dies without reporting, and on a process that overruns the deadline.

* 4 processes × 1,000 single-fact appends, to one shared track and to a track each,
  while a tail reader follows the log with ``read_all(from_position=last + 1)``;
* expected-version races: in each round every process appends with the same expected
  version, exactly one wins and nothing of the others is written;
* idempotent retry: two processes append the same event id at the same moment.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import time
import traceback
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from eventstore import (
    ANY,
    NO_STREAM,
    ConcurrencyError,
    DuplicateEventError,
    EventStore,
    RecordedEvent,
)
from eventstore.audit import chain_problems
from eventstore.tracks import SOURCES_STREAM
from tests.conftest import pg_schema_url

CTX = mp.get_context("spawn")

QUOTE = "ont eu jeudi une rencontre à Genève"
SHARED_TRACK = "RUS-USA"
OWN_TRACKS = ("RUS-USA", "CHN-USA", "FRA-RUS", "DEU-FRA")

WORKERS = 4
APPENDS_PER_WORKER = 1_000

#: Seconds a whole multi-process run may take before the test fails (generous: a slow CI
#: runner with fsync-bound SQLite must still pass; a hang must not block forever).
RUN_TIMEOUT = 600.0
#: Seconds a worker waits for the parent's "go", or at a barrier between rounds.
WAIT_TIMEOUT = 120.0
#: Seconds of silence from a process that has exited before it counts as lost.
LOST_GRACE = 5.0


# -- running workers in processes ------------------------------------------------------

class _Gate:
    """What a worker calls once it is set up: say "ready", then wait for everyone."""

    def __init__(self, index: int, results: Any, go: Any) -> None:
        self.index, self.results, self.go = index, results, go

    def __call__(self) -> None:
        self.results.put(("ready", self.index, None))
        if not self.go.wait(WAIT_TIMEOUT):
            raise TimeoutError("the parent never released the workers")


def _child(target: Callable[..., Any], index: int, args: tuple[Any, ...], results: Any,
           go: Any) -> None:
    """The body of every spawned process: run ``target`` and report its result or traceback."""
    try:
        value = target(_Gate(index, results, go), *args)
    except BaseException:  # noqa: B036 - everything must reach the parent
        results.put(("error", index, traceback.format_exc()))
    else:
        results.put(("ok", index, value))


def run_processes(jobs: Sequence[tuple[Callable[..., Any], tuple[Any, ...]]],
                  timeout: float = RUN_TIMEOUT) -> list[Any]:
    """Run each ``(target, args)`` in its own process, release them together, return results.

    ``target(gate, *args)`` must call ``gate()`` once it is ready to start. The first error
    a process reports fails the test with its traceback (and stops the others).
    """
    results = CTX.Queue()
    go = CTX.Event()
    processes = [CTX.Process(target=_child, args=(target, index, args, results, go),
                             name=f"eventstore-test-{index}", daemon=True)
                 for index, (target, args) in enumerate(jobs)]
    for process in processes:
        process.start()
    ready: set[int] = set()
    done: dict[int, Any] = {}
    failure: str | None = None
    silent_since: dict[int, float] = {}
    deadline = time.monotonic() + timeout
    try:
        while len(done) < len(processes):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                failure = (f"timed out after {timeout:.0f} s: finished {sorted(done)}, "
                           f"ready {sorted(ready)} of {len(processes)}")
                break
            try:
                kind, index, value = results.get(timeout=min(remaining, 1.0))
            except queue.Empty:
                now = time.monotonic()
                for index, process in enumerate(processes):
                    if index not in done and process.exitcode is not None:
                        silent_since.setdefault(index, now)
                lost = [i for i, since in silent_since.items() if now - since > LOST_GRACE]
                if lost:
                    failure = "; ".join(f"process {i} exited with code {processes[i].exitcode} "
                                        "without reporting" for i in lost)
                    break
                continue
            if kind == "ready":
                ready.add(index)
                if len(ready) == len(processes):
                    go.set()
            elif kind == "ok":
                done[index] = value
            else:
                failure = f"process {index} failed:\n{value}"
                break
    finally:
        for process in processes:
            if failure is not None and process.is_alive():
                process.terminate()
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
                process.join()
        results.close()
    if failure is not None:
        pytest.fail(failure, pytrace=False)
    codes = [process.exitcode for process in processes]
    assert codes == [0] * len(processes), f"exit codes {codes}"
    return [done[index] for index in range(len(processes))]


# -- what the workers do ------------------------------------------------------------------

def fact(source: str, track: str, key: str, event_id: uuid.UUID | str) -> dict[str, Any]:
    return {"type": "meeting.cancelled", "track": track, "date": "2018-08-23",
            "event_id": str(event_id), "data": {"key": key},
            "citations": [{"source": source, "quote": QUOTE}]}


def append_worker(gate: _Gate, url: str, actor: str, source: str, track: str,
                  count: int, options: dict[str, Any]) -> list[tuple[str, int, str, int]]:
    """Append ``count`` facts one per call; return ``(event_id, position, track, version)``.

    ``options`` go to :meth:`EventStore.open` (``durability``, engine options).
    """
    with EventStore.open(url, actor=actor, **options) as store:
        ids = [uuid.uuid4() for _ in range(count)]
        gate()
        written = []
        for number, event_id in enumerate(ids):
            result = store.append(track, [fact(source, track, f"{actor}-{number}", event_id)])
            (appended,) = result.events
            if not appended.new or appended.event_id != event_id:
                raise AssertionError(f"append {number} came back as {appended}")
            written.append((str(event_id), appended.position, appended.track,
                            appended.version))
        return written


def tail_reader(gate: _Gate, url: str, after: int, expect: int,
                patience: float) -> dict[str, Any]:
    """Follow the log from position ``after + 1`` until ``expect`` events have been seen."""
    with EventStore.open(url, actor="tail") as store:
        gate()
        last = after
        seen: list[tuple[int, str]] = []
        polls = fruitful = 0
        deadline = time.monotonic() + patience
        while len(seen) < expect and time.monotonic() < deadline:
            polls += 1
            before = len(seen)
            for event in store.read_all(from_position=last + 1):
                seen.append((event.position, str(event.event_id)))
                last = event.position
            if len(seen) > before:
                fruitful += 1
            time.sleep(0.02)  # poll, as a real follower would, without hogging a core
        return {"seen": seen, "polls": polls, "fruitful": fruitful}


def race_worker(gate: _Gate, url: str, actor: str, source: str, track: str, rounds: int,
                batch: int, barrier: Any) -> list[dict[str, Any]]:
    """Each round: wait for the others, then append ``batch`` facts expecting the same version.

    Round 0 expects ``NO_STREAM``; round ``r`` expects exactly ``r * batch`` (the version the
    track is at when one append of ``batch`` facts has won each earlier round).
    """
    outcomes = []
    with EventStore.open(url, actor=actor) as store:
        gate()
        for round_ in range(rounds):
            ids = [uuid.uuid4() for _ in range(batch)]
            facts = [fact(source, track, f"{actor}-{round_}-{k}", event_id)
                     for k, event_id in enumerate(ids)]
            expected = NO_STREAM if round_ == 0 else round_ * batch
            barrier.wait(WAIT_TIMEOUT)
            outcome: dict[str, Any] = {"round": round_, "ids": [str(i) for i in ids]}
            try:
                result = store.append(track, facts, expected_version=expected)
            except ConcurrencyError as err:
                outcome.update(won=False, expected=err.expected, actual=err.actual)
            else:
                outcome.update(won=True, positions=list(result.positions),
                               versions=[e.version for e in result.events],
                               new=[e.new for e in result.events])
            outcomes.append(outcome)
    return outcomes


def retry_worker(gate: _Gate, url: str, actor: str, source: str, track: str,
                 event_ids: list[str], same_content: bool, barrier: Any) -> list[dict[str, Any]]:
    """Each round: wait for the other process, then append the round's event id.

    With ``same_content`` both processes send the very same fact (a retry); otherwise each
    sends its own content under the shared id. Odd rounds expect the exact version the track
    had before the round: a retry of an append that already happened must still succeed.
    """
    outcomes = []
    with EventStore.open(url, actor=actor) as store:
        gate()
        for round_, event_id in enumerate(event_ids):
            key = f"retry-{round_}" if same_content else f"{actor}-{round_}"
            expected = ANY if round_ % 2 == 0 else round_
            barrier.wait(WAIT_TIMEOUT)
            try:
                result = store.append(track, [fact(source, track, key, event_id)],
                                      expected_version=expected)
            except DuplicateEventError as err:
                outcomes.append({"round": round_, "duplicate": str(err)})
            else:
                (appended,) = result.events
                outcomes.append({"round": round_, "position": appended.position,
                                 "version": appended.version, "new": appended.new,
                                 "key": key})
    return outcomes


# -- checks -------------------------------------------------------------------------------

def initialise(db_url: str, article: bytes) -> tuple[str, int]:
    """Create the store, register the article; return its source id and the head position."""
    with EventStore.open(db_url, create=True, actor="setup") as store:
        source = store.add_source(article, title="Bolton et Patrouchev à Genève",
                                  language="fr")
        head, _ = store.head()
    return source.id, head


def check_log(events: list[RecordedEvent]) -> None:
    """The invariants every log keeps, however many processes wrote it."""
    assert [e.position for e in events] == list(range(1, len(events) + 1)), "positions gapless"
    assert list(chain_problems(events)) == []
    ids = Counter(e.event_id for e in events)
    assert ids.most_common(1)[0][1] == 1, "an event id is stored twice"
    by_track: dict[str, list[int]] = defaultdict(list)
    for event in events:
        by_track[event.track].append(event.version)
    for track, versions in by_track.items():
        assert versions == list(range(1, len(versions) + 1)), f"{track}: versions not gapless"
    stamps = [e.recorded_at for e in events]
    assert all(a <= b for a, b in zip(stamps, stamps[1:], strict=False)), \
        "recorded_at goes backwards"


def switches(events: Sequence[RecordedEvent]) -> int:
    """How often the writer changes from one event to the next (how interleaved they were)."""
    return sum(1 for a, b in zip(events, events[1:], strict=False)
               if a.recorded_by != b.recorded_by)


# -- the tests ----------------------------------------------------------------------------

def concurrent_appends(db_url: str, article: bytes, *, tracks: Sequence[str], count: int,
                       options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run the workers and a tail reader; check everything; return facts for the report."""
    source, head = initialise(db_url, article)
    total = len(tracks) * count
    jobs: list[tuple[Callable[..., Any], tuple[Any, ...]]] = [
        (append_worker, (db_url, f"w{i}", source, track, count, options or {}))
        for i, track in enumerate(tracks)]
    jobs.append((tail_reader, (db_url, head, total, RUN_TIMEOUT)))
    started = time.monotonic()
    *written, tail = run_processes(jobs)
    elapsed = time.monotonic() - started

    with EventStore.open(db_url) as store:
        events = list(store.read_all())
        versions = {track: store.track_version(track) for track in set(tracks)}
    check_log(events)
    assert len(events) == head + total
    assert [e.track for e in events[:head]] == [SOURCES_STREAM] * head

    # Every event the workers were told is stored is stored exactly once, where they were told.
    reported = {event_id: (position, track, version)
                for rows in written for event_id, position, track, version in rows}
    assert len(reported) == total
    stored = {str(e.event_id): (e.position, e.track, e.version) for e in events[head:]}
    assert stored == reported
    for index, rows in enumerate(written):
        assert len(rows) == count
        assert {events[position - 1].recorded_by for _, position, _, _ in rows} == {f"w{index}"}
        # One process appends one after the other: its later appends come later in the log.
        positions = [position for _, position, _, _ in rows]
        assert positions == sorted(positions) and len(set(positions)) == count
    for track in set(tracks):
        assert versions[track] == tracks.count(track) * count

    # The tail reader saw every event once, in order, while the writers were writing.
    seen = tail["seen"]
    assert [p for p, _ in seen] == list(range(head + 1, head + total + 1)), \
        "the tail reader missed, repeated or reordered events"
    assert [i for _, i in seen] == [str(e.event_id) for e in events[head:]]
    assert tail["fruitful"] > 1, "the tail reader saw everything at once: it did not tail"
    return {"elapsed": elapsed, "switches": switches(events[head:]),
            "polls": tail["polls"], "fruitful": tail["fruitful"]}


@pytest.mark.slow
def test_four_processes_append_to_one_shared_track(db_url: str, geneva_text: bytes) -> None:
    report = concurrent_appends(db_url, geneva_text, tracks=[SHARED_TRACK] * WORKERS,
                                count=APPENDS_PER_WORKER)
    # The test only tests something if the writers really took turns.
    assert report["switches"] >= WORKERS, report
    print(f"\n{db_url.split(':')[0]} shared track: {report}")


@pytest.mark.slow
def test_four_processes_append_to_a_track_each(db_url: str, geneva_text: bytes) -> None:
    report = concurrent_appends(db_url, geneva_text, tracks=OWN_TRACKS[:WORKERS],
                                count=APPENDS_PER_WORKER)
    assert report["switches"] >= WORKERS, report
    print(f"\n{db_url.split(':')[0]} own tracks: {report}")


@pytest.mark.slow
def test_expected_version_races_have_one_winner(db_url: str, geneva_text: bytes) -> None:
    source, head = initialise(db_url, geneva_text)
    rounds, batch = 25, 3
    barrier = CTX.Barrier(WORKERS)
    outcomes = run_processes([(race_worker, (db_url, f"r{i}", source, SHARED_TRACK, rounds,
                                             batch, barrier)) for i in range(WORKERS)])

    with EventStore.open(db_url) as store:
        events = list(store.read_all())
    check_log(events)
    assert len(events) == head + rounds * batch
    stored_ids = {str(e.event_id) for e in events}
    for round_ in range(rounds):
        tries = [by_worker[round_] for by_worker in outcomes]
        assert all(t["round"] == round_ for t in tries)
        winners = [t for t in tries if t["won"]]
        losers = [t for t in tries if not t["won"]]
        assert len(winners) == 1, f"round {round_}: {len(winners)} winners"
        (winner,) = winners
        assert winner["versions"] == list(range(round_ * batch + 1, (round_ + 1) * batch + 1))
        assert all(winner["new"])
        first = winner["positions"][0]
        assert winner["positions"] == list(range(first, first + batch))  # one batch, together
        assert [str(e.event_id) for e in events[first - 1:first - 1 + batch]] == winner["ids"]
        for loser in losers:
            assert loser["expected"] == ("no-stream" if round_ == 0 else round_ * batch)
            assert loser["actual"] == (round_ + 1) * batch
            assert not set(loser["ids"]) & stored_ids, "a refused append left events behind"


@pytest.mark.slow
@pytest.mark.parametrize("same_content", [True, False], ids=["retry", "conflict"])
def test_the_same_event_id_from_two_processes_is_stored_once(
        db_url: str, geneva_text: bytes, same_content: bool) -> None:
    source, head = initialise(db_url, geneva_text)
    rounds = 30
    event_ids = [str(uuid.uuid4()) for _ in range(rounds)]
    barrier = CTX.Barrier(2)
    outcomes = run_processes([(retry_worker, (db_url, f"p{i}", source, SHARED_TRACK,
                                              event_ids, same_content, barrier))
                              for i in range(2)])

    with EventStore.open(db_url) as store:
        events = list(store.read_all())
    check_log(events)
    assert len(events) == head + rounds
    for round_, event_id in enumerate(event_ids):
        first, second = (by_worker[round_] for by_worker in outcomes)
        (row,) = [e for e in events if str(e.event_id) == event_id]
        assert row.version == round_ + 1
        if same_content:
            # Both calls succeed and are told the same place; only one wrote it.
            assert first["position"] == second["position"] == row.position
            assert first["version"] == second["version"] == row.version
            assert sorted([first["new"], second["new"]]) == [False, True]
        else:
            # The same id with other content is refused, never stored twice or overwritten.
            (winner,) = [o for o in (first, second) if "duplicate" not in o]
            (loser,) = [o for o in (first, second) if "duplicate" in o]
            assert winner["new"] and winner["position"] == row.position
            assert row.data.key == winner["key"]  # type: ignore[attr-defined]
            assert f"event id {event_id} is already stored" in loser["duplicate"]


@pytest.mark.slow
def test_relaxed_durability_keeps_the_same_guarantees(tmp_path: Path, geneva_text: bytes) -> None:
    """SQLite's ``durability="normal"`` changes what a power cut can lose, never the order.

    (The option only sets SQLite's ``synchronous`` pragma, so there is no PostgreSQL variant.)
    """
    report = concurrent_appends(f"sqlite:///{tmp_path / 'facts.db'}", geneva_text,
                                tracks=[SHARED_TRACK] * WORKERS, count=250,
                                options={"durability": "normal"})
    assert report["switches"] >= WORKERS, report
    print(f"\nsqlite durability=normal: {report}")


@pytest.mark.slow
@pytest.mark.postgresql
def test_appends_stay_serial_when_the_session_defaults_to_repeatable_read(
        pg_admin: sa.Engine, geneva_text: bytes) -> None:
    """The lock must come before the writer's snapshot, whatever the default isolation."""
    url, _ = pg_schema_url(pg_admin)
    concurrent_appends(url, geneva_text, tracks=[SHARED_TRACK] * 3, count=100,
                       options={"isolation_level": "REPEATABLE READ"})


# -- one store, several threads --------------------------------------------------------------

def test_one_store_shared_by_threads(db_url: str, geneva_text: bytes) -> None:
    """EventStore is safe to share between threads (docs/design.md#the-storage-shell-in-
    rooms): 4 threads append to a track each and read it back through one store, while
    the store's caches (folded sources, the tree's edge, decoded states and events) are
    shared; the log keeps every invariant and every thread saw its own facts."""
    import threading

    source, _ = initialise(db_url, geneva_text)
    errors: list[BaseException] = []
    seen: dict[str, int] = {}
    with EventStore.open(db_url, actor="threads") as store:
        gate = threading.Barrier(len(OWN_TRACKS))

        def work(track: str) -> None:
            try:
                gate.wait(timeout=WAIT_TIMEOUT)
                for n in range(25):
                    store.append(track, [fact(source[:8], track, f"{track.lower()}-{n}",
                                              uuid.uuid4())])
                    store.project(track)
                    store.history(track)
                seen[track] = store.project(track).facts
            except BaseException as err:  # reported below, with its traceback
                errors.append(err)

        threads = [threading.Thread(target=work, args=(track,)) for track in OWN_TRACKS]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=RUN_TIMEOUT)
        assert not errors, "".join(traceback.format_exception(errors[0]))
        events = list(store.read_all())
        check_log(events)
        assert len(events) == 1 + 25 * len(OWN_TRACKS)
        assert seen == {track: 25 for track in OWN_TRACKS}
        assert store.verify().ok
