"""The auditor's toolkit on a real store: the tree, checkpoints, proofs, verify, replay,
export and import, on SQLite and PostgreSQL; and tampering done for real with raw SQL."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventstore import AuditError, EventNotFound, EventStore, IntegrityError, generate_key
from eventstore.audit import (
    VerificationError,
    check_proof,
    consistency_document,
    envelope_of,
    inclusion_document,
    leaf_bytes,
    leaf_hash,
    open_checkpoint,
    root_of_leaves,
    verify_consistency,
    verify_inclusion,
)
from eventstore.storage import schema as t
from tests.conftest import ARTICLE_GENEVA
from tests.tampering import (
    delete_event,
    fact_position,
    forged_checkpoint,
    insert_in_the_middle,
    swap,
    tamper,
)

KEY = generate_key("auditor-test")


def leaves(store: EventStore) -> list[bytes]:
    return [leaf_hash(leaf_bytes(event)) for event in store.read_all()]


def statement(source: str, n: int) -> dict[str, Any]:
    return {"type": "statement.made", "track": "RUS-USA", "date": "2018-08-23",
            "data": {"speaker": {"name": "John Bolton", "country": "USA"},
                     "stance": "warning", "content": f"déclaration numéro {n}"},
            "citations": [{"source": source[:8], "quote": "une rencontre à Genève"}]}


# -- the tree ------------------------------------------------------------------------------


def test_the_tree_is_the_rfc_9162_tree_of_the_envelopes(example: EventStore) -> None:
    reference = leaves(example)
    size = len(reference)
    assert example.tree_head() .size == size
    for n in range(0, size + 1):
        assert example.tree_head(n).root == root_of_leaves(reference[:n]), n
    for event in example.read_all():
        found, proof = example.inclusion_proof(event.event_id)
        assert found == event
        verify_inclusion(proof.index, proof.size, reference[event.position - 1],
                         list(proof.proof), root_of_leaves(reference))
    for first in range(1, size + 1, 3):
        proof = example.consistency_proof(first, size)
        verify_consistency(first, size, list(proof.proof), root_of_leaves(reference[:first]),
                           root_of_leaves(reference))


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.integers(1, 9), min_size=1, max_size=6))
def test_any_batching_gives_the_same_tree(store: EventStore, batches: list[int]) -> None:
    source = store.add_source(ARTICLE_GENEVA.read_bytes()).id
    for size in batches:
        store.append_many([statement(source, n) for n in range(size)])
    reference = leaves(store)
    assert store.tree_head().root == root_of_leaves(reference)
    position = len(reference) // 2 + 1
    _, proof = store.inclusion_proof(position)
    verify_inclusion(position - 1, len(reference), reference[position - 1], list(proof.proof),
                     root_of_leaves(reference))


def test_a_tree_cut_short_refuses_the_next_append(db_url: str) -> None:
    """The tree's nodes are in the events' rows (schema 0012): a row whose nodes were cut
    short leaves the right edge incomplete, and the next append or checkpoint is refused,
    naming the tree, rather than written on a wrong edge."""
    with EventStore.open(db_url, create=True, actor="one") as store:
        source = store.add_source(ARTICLE_GENEVA.read_bytes()).id
        store.append_many([statement(source, n) for n in range(4)])  # 5 events: 4 + 1
        size = store.head()[0]
        tamper(store, lambda conn: conn.execute(
            sa.update(t.events).where(t.events.c.position == size - 1)
            .values(tree_nodes=b"")))
    with EventStore.open(db_url, actor="two") as other:  # no edge kept in memory
        with pytest.raises(IntegrityError, match=f"the Merkle tree of size {size} is "
                                                 "missing nodes"):
            other.append_many([statement(source, 9)])
        with pytest.raises(IntegrityError, match="missing nodes"):
            other.checkpoint(KEY)
        assert other.head()[0] == size
        assert not other.verify().ok


def test_stores_taking_turns_keep_one_tree(db_url: str) -> None:
    """Each store keeps the tree's edge after its own append; when another store wrote
    since, or its own append was rolled back, it reads the edge again."""
    with EventStore.open(db_url, create=True, actor="one") as one, \
            EventStore.open(db_url, actor="two") as two:
        source = one.add_source(ARTICLE_GENEVA.read_bytes()).id
        for n in range(3):
            one.append_many([statement(source, n)])
            two.append_many([statement(source, 10 + n), statement(source, 20 + n)])
        one.append_many([statement(source, 30)])
        real_run = one._appender._db.bulk.run

        def fail_on_tree(conn: Any, table: Any, rows: Any) -> None:
            real_run(conn, table, rows)
            if table is t.citations:  # the last INSERT, after the events and their nodes
                raise sa.exc.OperationalError("INSERT", {}, Exception("disk full"))

        one._appender._db.bulk.run = fail_on_tree  # type: ignore[method-assign]
        with pytest.raises(Exception, match="disk full"):
            one.append_many([statement(source, 40), statement(source, 41)])
        one._appender._db.bulk.run = real_run  # type: ignore[method-assign]
        one.append_many([statement(source, 50)])  # after its own rolled-back append
        two.append_many([statement(source, 60)])
        reference = leaves(one)
        assert len(reference) == 1 + 3 * 3 + 3  # the rolled-back two are not there
        for store in (one, two):
            assert store.tree_head().root == root_of_leaves(reference)
        assert one.verify().ok


def test_proof_requests_that_cannot_be_answered(example: EventStore) -> None:
    size = example.head()[0]
    with pytest.raises(EventNotFound):
        example.inclusion_proof("00000000-0000-4000-8000-000000000000")
    with pytest.raises(EventNotFound, match=f"no event at position {size + 5}"):
        example.inclusion_proof(size + 5)
    with pytest.raises(AuditError, match="larger than the log"):
        example.tree_head(size + 1)
    with pytest.raises(AuditError, match="appended later"):
        example.inclusion_proof(size, size - 1)
    with pytest.raises(AuditError, match="size1 must be at least 1"):
        example.consistency_proof(0)
    with pytest.raises(AuditError, match="larger than size2"):
        example.consistency_proof(5, 4)


# -- checkpoints and proof documents ---------------------------------------------------------


def test_checkpoints_are_signed_stored_and_proved(example: EventStore) -> None:
    first = example.checkpoint(KEY)
    opened = open_checkpoint(first.note, KEY.verifier(), origin=example.origin())
    assert (opened.size, opened.root) == (example.head()[0], example.tree_head().root)
    source = example.list_sources()[0].id
    example.append_many([statement(source, n) for n in range(3)])
    second = example.checkpoint(KEY)
    assert [c.checkpoint for c in example.checkpoints()] == [first.checkpoint,
                                                              second.checkpoint]
    proof = example.consistency_proof(first.checkpoint.size, second.checkpoint.size)
    doc = consistency_document(origin=example.origin(), size1=proof.size1, size2=proof.size2,
                               root1=proof.root1, root2=proof.root2, proof=proof.proof,
                               from_checkpoint=first.note, to_checkpoint=second.note)
    assert "only grew" in check_proof(json.loads(json.dumps(doc)), KEY.verifier())
    event = next(iter(example.read_all(3, 1)))
    found, inclusion = example.inclusion_proof(event.event_id, first.checkpoint.size)
    doc = inclusion_document(origin=example.origin(), size=inclusion.size, root=inclusion.root,
                             index=inclusion.index, leaf=inclusion.leaf_hash,
                             proof=inclusion.proof,
                             event={**envelope_of(found), "hash": found.hash},
                             checkpoint=first.note)
    assert "is in the log" in check_proof(json.loads(json.dumps(doc)), KEY.verifier())
    # Another key, a changed event, a proof for another size: each refused.
    with pytest.raises(VerificationError):
        check_proof(doc, generate_key("mallory").verifier())
    changed = {**doc, "event": {**doc["event"], "recorded_by": "mallory"}}
    with pytest.raises(VerificationError, match="hash is not that of its envelope"):
        check_proof(changed, KEY.verifier())
    with pytest.raises(VerificationError):
        check_proof({**doc, "tree_size": second.checkpoint.size}, KEY.verifier())


def test_an_empty_log_has_nothing_to_sign(store: EventStore) -> None:
    with pytest.raises(AuditError, match="the log is empty"):
        store.checkpoint(KEY)


# -- verify, and tampering done for real -----------------------------------------------------


def test_a_clean_store_verifies(example: EventStore) -> None:
    example.checkpoint(KEY)
    report = example.verify([KEY.verifier()])
    assert report.ok, report.problems
    assert report.events == example.head()[0]
    assert report.citations > 30 and report.sources == 2
    assert [c.ok for c in report.checkpoints] == [True]
    assert report.root == example.tree_head().root


TAMPERING: dict[str, tuple[Callable[[EventStore], Callable[[sa.Connection], None]], str]] = {
    "a changed byte in a payload": (
        lambda s: lambda c: c.execute(
            sa.update(t.payloads).where(t.payloads.c.position == fact_position(s))
            .values(body=sa.func.replace(t.payloads.c.body, "a", "e"))),
        "payload does not match payload_hash"),
    "a changed quote": (
        lambda s: lambda c: c.execute(
            sa.update(t.citations).where(t.citations.c.position == fact_position(s))
            .values(exact=t.citations.c.exact + " ")),
        "citations do not match citations_hash"),
    "a changed source text": (
        lambda s: lambda c: c.execute(
            sa.update(t.source_texts).values(
                text=sa.func.replace(t.source_texts.c.text, "Genève", "Genêve"))),
        "its text does not match its id"),
    "a deleted event": (
        lambda s: lambda c: delete_event(c, fact_position(s)),
        "an event is missing"),
    "two events swapped": (
        lambda s: lambda c: swap(c, fact_position(s), fact_position(s) + 1),
        "prev_hash is not the hash of the event before it"),
    "an event inserted in the middle": (
        lambda s: lambda c: insert_in_the_middle(c, fact_position(s)),
        "the event's hash does not match its envelope"),
    "a forged checkpoint": (
        lambda s: lambda c: c.execute(
            sa.insert(t.checkpoints).values(forged_checkpoint(s, KEY.name))),
        "checkpoint 2:"),
    "a changed envelope field": (
        lambda s: lambda c: c.execute(
            sa.update(t.events).where(t.events.c.position == fact_position(s))
            .values(recorded_by="mallory")),
        "the event's hash does not match its envelope"),
}


@pytest.mark.parametrize("case", list(TAMPERING))
def test_tampering_is_caught(example: EventStore, case: str) -> None:
    example.checkpoint(KEY)
    assert example.verify([KEY.verifier()]).ok
    make, words = TAMPERING[case]
    position = fact_position(example)
    tamper(example, make(example))
    report = example.verify([KEY.verifier()])
    assert not report.ok
    assert report.first is not None
    assert words in str(report.first), report.problems
    if case not in ("a forged checkpoint", "a changed source text"):
        assert report.first.position == position, report.problems
    # The dropped triggers are reported too.
    assert any("no longer refuses" in p.what for p in report.problems) or \
        report.problem_count > len(report.problems)


def test_dropped_triggers_alone_are_reported(example: EventStore) -> None:
    tamper(example, lambda conn: None)
    report = example.verify()
    assert not report.ok
    assert all(p.position is None and "no longer refuses" in p.what for p in report.problems)


def test_a_rewritten_log_contradicts_the_checkpoint(example: EventStore) -> None:
    """Rewrite the tail consistently (chain and tree recomputed): only the checkpoint tells."""
    kept = example.checkpoint(KEY)
    size = kept.checkpoint.size

    def rewrite(conn: sa.Connection) -> None:
        from eventstore.storage.rows import envelope_columns
        last = conn.execute(sa.select(*envelope_columns(conn.dialect))
                            .where(t.events.c.position == size)).one()
        from eventstore import canonical_json
        from eventstore.codec import sha256_hex
        from eventstore.storage.rows import envelope_from_row
        from eventstore.storage.tree import frontier
        envelope = envelope_from_row(last)
        envelope["recorded_by"] = "mallory"
        body = canonical_json(envelope)
        edge = frontier(conn, size - 1)
        assert edge is not None
        conn.execute(sa.update(t.events).where(t.events.c.position == size)
                     .values(recorded_by="mallory", hash=sha256_hex(body),
                             tree_nodes=b"".join(edge.append(leaf_hash(body)))))

    tamper(example, rewrite)
    report = example.verify([KEY.verifier()])
    assert [p.what for p in report.problems if p.position is not None] == [
        f"checkpoint of size {size:,} signed by auditor-test: its root is not the root of "
        "the log at that size (the log was rewritten, or the checkpoint forged)"]


# -- replay --------------------------------------------------------------------------------


def test_replay_shows_what_was_known_and_what_changed(example: EventStore) -> None:
    kept = example.checkpoint(KEY)
    then = example.read_all(example.head()[0]).__next__().recorded_at
    source = example.list_sources()[0].id
    example.append_many([statement(source, 1)])
    target = next(e for e in example.read_all() if e.type == "declaration.not_signed")
    example.append("RUS-USA", [{"type": "fact.retracted", "data": {
        "event": str(target.event_id), "reason": "test: the dispatch was denied"}}])
    replay = example.replay(then, checkpoint=kept.note, key=KEY.verifier())
    assert replay.check is not None and replay.check.ok
    assert replay.position == kept.checkpoint.size
    states = {state.track: state for state in replay.states}
    assert states["RUS-USA"] == example.project("RUS-USA", known_at=then)
    assert states["RUS-USA"] != example.project("RUS-USA")
    assert replay.counts == {"added": 1, "retracted": 1, "corrected": 0, "erased": 0}
    assert [c.target for c in replay.changes if c.kind == "retracted"] == [
        str(target.event_id)]
    with pytest.raises(AuditError, match="signed by other keys|not signed"):
        example.replay(then, checkpoint=kept.note, key=generate_key("x").verifier())


# -- export and import ---------------------------------------------------------------------


def test_export_verify_and_import_round_trip(example: EventStore, tmp_path: Any) -> None:
    example.checkpoint(KEY)
    lines = list(example.export())
    from eventstore.storage.transfer import verify_export
    report = verify_export(lines, "export.jsonl", [KEY.verifier()])
    assert report.ok, report.problems
    assert report.root == example.tree_head().root
    target_url = f"sqlite:///{tmp_path / 'copy.db'}"
    with EventStore.open(target_url, create=True) as copy:
        copy.import_export(lambda: iter(lines), "export.jsonl", [KEY.verifier()])
        assert copy.tree_head() == example.tree_head()
        assert copy.verify([KEY.verifier()]).ok
        assert list(copy.read_all()) == list(example.read_all())
        assert copy.project("RUS-USA") == example.project("RUS-USA")
        with pytest.raises(AuditError, match="empty database"):
            copy.import_export(lambda: iter(lines), "export.jsonl")


def test_a_truncated_or_edited_export_is_caught(example: EventStore, tmp_path: Any) -> None:
    lines = list(example.export())
    from eventstore.storage.transfer import verify_export
    truncated = verify_export(lines[:-3], "export.jsonl")
    assert not truncated.ok and "events but only" in str(truncated.first)
    edited = [line.replace("Genève", "Genêve") if '"kind":"event"' in line else line
              for line in lines]
    assert not verify_export(edited, "export.jsonl").ok
    with pytest.raises(AuditError, match="line 2: not JSON"):
        verify_export([lines[0], lines[1][:40]], "export.jsonl")
    with EventStore.open(f"sqlite:///{tmp_path / 'copy.db'}", create=True) as copy:
        with pytest.raises(IntegrityError, match="nothing imported"):
            copy.import_export(lambda: iter(lines[:-3]), "export.jsonl")
        assert copy.head()[0] == 0


def test_record_times_are_checked_in_an_export_too(example: EventStore) -> None:
    """verify --file checks record time as verify does: its form, and that it never goes
    backwards (the events of one batch share one instant, which is fine)."""
    from eventstore.storage.transfer import verify_export
    lines = list(example.export())
    events = [i for i, line in enumerate(lines) if '"kind":"event"' in line]
    assert verify_export(lines, "export.jsonl").ok
    shared = [json.loads(lines[i])["recorded_at"] for i in events]
    assert len(set(shared)) < len(shared)  # a batch: equal neighbours pass
    malformed = lines.copy()
    record = json.loads(lines[events[3]])
    malformed[events[3]] = json.dumps({**record, "recorded_at": "23/08/2018"})
    report = verify_export(malformed, "export.jsonl")
    assert any(p.position == 4 and p.what == 'recorded_at "23/08/2018" is not a UTC time of '
               "the form 2026-11-23T11:51:49.123456Z" for p in report.problems), report.problems


def test_an_import_writes_the_rows_an_append_wrote(example: EventStore, db_url: str,
                                                   request: pytest.FixtureRequest) -> None:
    """Append and import write through one row builder (``storage/rows.py``): every row
    of every table of the log, erasures included, is the same in the copy."""
    meeting = next(e for e in example.read_all() if e.type == "meeting.held")
    example.erase_payload(meeting.event_id, reason="test: a data-protection request")
    example.erase_source(example.list_sources()[-1].id, reason="test: a takedown notice")
    example.checkpoint(KEY)
    lines = list(example.export())
    if db_url.startswith("sqlite"):
        copy_url = db_url.replace("facts.db", "copy.db")
    else:
        from tests.conftest import pg_schema_url
        copy_url, _ = pg_schema_url(request.getfixturevalue("pg_admin"))
    with EventStore.open(copy_url, create=True) as copy:
        copy.import_export(lambda: iter(lines), "export.jsonl", [KEY.verifier()])
        for table in (t.events, t.payloads, t.citations, t.sources, t.source_texts,
                      t.erasures):
            key = list(table.primary_key.columns)
            with example.engine.connect() as a, copy.engine.connect() as b:
                mine = a.execute(sa.select(table).order_by(*key)).all()
                theirs = b.execute(sa.select(table).order_by(*key)).all()
            assert mine == theirs, table.name
            assert mine, table.name


def test_the_standalone_proof_checker_names_the_envelope_as_the_store_does() -> None:
    """proofs.py keeps its own list of the envelope's keys (so that it can be copied out
    with verifier.py); it must be the store's."""
    from eventstore.audit.proofs import ENVELOPE_KEYS as PROOF_KEYS
    from eventstore.codec import ENVELOPE_KEYS
    assert PROOF_KEYS == ENVELOPE_KEYS


def test_an_export_that_is_not_strict_json_imports_nothing(store: EventStore,
                                                           tmp_path: Any) -> None:
    with EventStore.open(f"sqlite:///{tmp_path / 'origin.db'}", create=True) as origin:
        source = origin.add_source(ARTICLE_GENEVA.read_bytes()).id
        origin.append_many([statement(source, 1)])
        lines = list(origin.export())
    header = json.loads(lines[0])
    twice = lines[0][:-1] + f',"events":{header["events"]}}}'  # the same value, twice
    from eventstore.storage.transfer import verify_export
    for bad, words in (
            ([lines[0], "[" * 1000 + "]" * 1000, *lines[1:]],
             "line 2: arrays and objects nested deeper than the limit of 64 levels"),
            ([twice, *lines[1:]], "line 1: events: the key 'events' is given twice"),
            ([*lines[:-1], lines[-1].replace("déclaration", "d\\ud800")],
             f"line {len(lines)}: payload: text holds the lone surrogate U+D800")):
        with pytest.raises(AuditError, match=f"^export.jsonl: {re.escape(words)}"):
            verify_export(bad, "export.jsonl")
        with pytest.raises(AuditError, match=f"^export.jsonl: {re.escape(words)}"):
            store.import_export(lambda bad=bad: iter(bad), "export.jsonl")
        assert store.head()[0] == 0
    assert store.import_export(lambda: iter(lines), "export.jsonl").ok
