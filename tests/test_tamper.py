"""The tamper suite: every kind of change behind the store's back, and what catches it.

Each case is done for real with raw SQL on SQLite and PostgreSQL (``tests/tampering.py``)
by an intruder who drops the immutability triggers and, except where the dropped trigger
is the case, puts them back. Three lines of defence, and each case names the first that
catches it, and asserts that the ones before it do not (so the table in
docs/auditing.md#who-can-forge-what is what the code does):

* ``verify``: ``audit verify --key`` over the stored log;
* ``kept checkpoint``: a checkpoint the auditor kept outside the database
  (``replay --checkpoint`` / ``audit consistency --from``);
* ``require-signed``: ``audit verify --key --require-signed`` on a store whose writer
  signs every append (``--sign-key``).

No case is caught by nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import attrs
import pytest
import sqlalchemy as sa

from eventstore import EventStore, EventStoreError, generate_key
from eventstore.storage import schema as t
from tests.tampering import (
    delete_checkpoints,
    delete_event,
    delete_tail,
    fact_position,
    forge_append,
    forged_checkpoint,
    insert_and_rechain,
    rewrite_history,
    swap,
    tamper,
)

KEY = generate_key("newsroom-log")
DAY = dt.timedelta(days=1)

Change = Callable[[sa.Connection], None]


@attrs.frozen
class Case:
    change: Callable[[EventStore, int], Change]  # (store, the fact's position) → change
    caught_by: str  # verify | kept checkpoint | require-signed
    words: str  # in the first problem (or the refusal)
    at: str = "fact"  # where the first problem is: fact | none | end | any


def _both(*changes: Change) -> Change:
    def run(conn: sa.Connection) -> None:
        for change in changes:
            change(conn)
    return run


def _set_citation(position: int, **values: Any) -> Change:
    c = t.citations.c
    return lambda conn: conn.execute(sa.update(t.citations).where(
        c.position == position, c.ordinal == 0).values(**values))


def _repoint(position: int) -> Change:
    """Point the fact's citation at another real span of the same source: the quote, its
    context and its offsets all agree with the text, only the hash can tell."""
    def run(conn: sa.Connection) -> None:
        c = t.citations.c
        mine = conn.execute(sa.select(t.citations).where(c.position == position,
                                                         c.ordinal == 0)).one()
        other = conn.execute(sa.select(t.citations).where(
            c.source_id == mine.source_id, c.start_offset != mine.start_offset)
            .order_by(c.position).limit(1)).one()
        conn.execute(sa.update(t.citations).where(c.position == position, c.ordinal == 0)
                     .values(start_offset=other.start_offset, end_offset=other.end_offset,
                             exact=other.exact, prefix=other.prefix, suffix=other.suffix))
    return run


def _flip_tree_byte(position: int) -> Change:
    def run(conn: sa.Connection) -> None:
        e = t.events.c
        row = bytes(conn.execute(sa.select(e.tree_nodes)
                                 .where(e.position == position)).scalar_one())
        conn.execute(sa.update(t.events).where(e.position == position)
                     .values(tree_nodes=bytes([row[0] ^ 1]) + row[1:]))
    return run


def _events(position: int, **values: Any) -> Change:
    return lambda conn: conn.execute(sa.update(t.events).where(
        t.events.c.position == position).values(**values))


def _shift_recorded_at(position: int) -> Change:
    def run(conn: sa.Connection) -> None:
        e = t.events.c
        when = conn.execute(sa.select(e.recorded_at).where(e.position == position)).scalar_one()
        conn.execute(sa.update(t.events).where(e.position == position)
                     .values(recorded_at=when - dt.timedelta(seconds=1)))
    return run


CASES: dict[str, Case] = {
    "a payload byte": Case(
        lambda s, p: lambda conn: conn.execute(
            sa.update(t.payloads).where(t.payloads.c.position == p)
            .values(body=sa.func.replace(t.payloads.c.body, "a", "e"))),
        "verify", "payload does not match payload_hash"),
    "citation offsets": Case(
        lambda s, p: _set_citation(p, start_offset=t.citations.c.start_offset + 1),
        "verify", "citations do not match citations_hash"),
    "a citation re-pointed consistently": Case(
        lambda s, p: _repoint(p), "verify", "citations do not match citations_hash"),
    "a source text byte": Case(
        lambda s, p: lambda conn: conn.execute(sa.update(t.source_texts).values(
            text=sa.func.replace(t.source_texts.c.text, "Genève", "Genêve"))),
        "verify", "its text does not match its id", at="any"),
    "the tail deleted, the stored checkpoints kept": Case(
        lambda s, p: lambda conn: delete_tail(conn, 3),
        "verify", "is larger than the log", at="none"),
    "the tail deleted with the stored checkpoints": Case(
        lambda s, p: _both(lambda conn: delete_tail(conn, 3), delete_checkpoints),
        "kept checkpoint", "larger than the log"),
    "an event deleted mid-log": Case(
        lambda s, p: lambda conn: delete_event(conn, p), "verify", "an event is missing"),
    "two positions swapped": Case(
        lambda s, p: lambda conn: swap(conn, p, p + 1),
        "verify", "prev_hash is not the hash of the event before it"),
    "recorded_at changed": Case(
        lambda s, p: _shift_recorded_at(p),
        "verify", "the event's hash does not match its envelope"),
    "a tree row byte": Case(
        lambda s, p: _flip_tree_byte(p),
        "verify", "the stored Merkle tree row does not match the event"),
    "recorded_by changed": Case(
        lambda s, p: _events(p, recorded_by="mallory"),
        "verify", "the event's hash does not match its envelope"),
    "history rewritten, chain and tree recomputed, the stored checkpoints kept": Case(
        lambda s, p: lambda conn: rewrite_history(conn, p),
        "verify", "its root is not the root of the log at that size", at="end"),
    "history rewritten, chain and tree recomputed, with the stored checkpoints": Case(
        lambda s, p: _both(lambda conn: rewrite_history(conn, p), delete_checkpoints),
        "kept checkpoint", "its root is not the root of the log at that size"),
    "a forged event appended, valid chain and tree, backdated": Case(
        lambda s, p: lambda conn: None if forge_append(conn, -DAY) else None,
        "verify", "record time went backwards (a backdated event)", at="end+1"),
    "a forged event appended, valid chain and tree, dated ahead": Case(
        lambda s, p: lambda conn: None if forge_append(conn, 30 * DAY) else None,
        "verify", "lies in the future of this check", at="end+1"),
    "a forged event appended, valid chain and tree, timed right": Case(
        lambda s, p: lambda conn: None if forge_append(conn, dt.timedelta(seconds=1)) else None,
        "require-signed", "covered by no signed checkpoint", at="end+1"),
    "a source text deleted": Case(
        lambda s, p: lambda conn: conn.execute(sa.delete(t.source_texts).where(
            t.source_texts.c.source_id == s.list_sources()[0].id)),
        "verify", "its text is missing and no erasure event names it", at="any"),
    "a trigger dropped": Case(
        lambda s, p: lambda conn: None, "verify", "no longer refuses", at="none"),
    "a forged checkpoint row": Case(
        lambda s, p: lambda conn: conn.execute(
            sa.insert(t.checkpoints).values(forged_checkpoint(s, KEY.name))),
        "verify", "not signed by any trusted key", at="none"),
    "an event inserted mid-log, chain and tree recomputed": Case(
        lambda s, p: lambda conn: insert_and_rechain(conn, p),
        "verify", "its root is not the root of the log at that size", at="end"),
}


def _kept_check(store: EventStore, note: str) -> str | None:
    """What checking the log against a checkpoint kept outside finds (None: nothing)."""
    try:
        replay = store.replay(dt.datetime.now(dt.UTC) + 2 * DAY, checkpoint=note,
                              key=KEY.verifier())
    except EventStoreError as err:  # refused: the checkpoint is larger than the log
        return str(err)
    assert replay.check is not None
    return None if replay.check.ok else str(replay.check.first)


@pytest.fixture
def signed(example: EventStore) -> EventStore:
    """The worked example, then a writer that signs every append it makes."""
    writer = EventStore(example.engine, actor="analyst", signer=KEY)
    source = writer.list_sources()[0].id
    writer.append_many([{
        "type": "statement.made", "track": "RUS-USA", "date": "2018-08-23",
        "data": {"speaker": {"name": "John Bolton", "country": "USA"}, "stance": "warning",
                 "content": "une rencontre à Genève"},
        "citations": [{"source": source[:8], "quote": "une rencontre à Genève"}]}])
    return writer


@pytest.mark.parametrize("name", list(CASES))
def test_every_tampering_is_caught(signed: EventStore, name: str) -> None:
    case = CASES[name]
    store = signed
    kept = store.checkpoint(KEY)  # the auditor keeps kept.note outside the database
    trusted = [KEY.verifier()]
    clean = store.verify(trusted, require_signed=True)
    assert clean.ok and clean.unsigned == 0, clean.problems
    position, end = fact_position(store), store.head()[0]
    tamper(store, case.change(store, position), restore_triggers=name != "a trigger dropped")

    report = store.verify(trusted)
    kept_found = _kept_check(store, kept.note)
    strict = store.verify(trusted, require_signed=True)
    if case.caught_by == "verify":
        assert not report.ok and report.first is not None
        found, where = str(report.first), report.first.position
        expected = {"fact": position, "none": None, "end": end, "end+1": end + 1}.get(case.at)
        if case.at != "any":
            assert where == expected, report.problems
    else:
        assert report.ok, f"verify alone caught it: {report.problems}"
        if case.caught_by == "kept checkpoint":
            assert kept_found is not None, "the kept checkpoint did not catch it"
            found = kept_found
        else:
            assert kept_found is None, kept_found
            assert not strict.ok and strict.first is not None
            assert strict.first.position == end + 1
            found = str(strict.first)
    assert case.words in found, found
    assert not strict.ok  # --require-signed never lets tampering through either


def test_the_suite_covers_every_kind_the_auditors_named() -> None:
    assert len(CASES) >= 18
    assert {case.caught_by for case in CASES.values()} <= {
        "verify", "kept checkpoint", "require-signed"}
