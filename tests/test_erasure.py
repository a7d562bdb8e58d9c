"""Erasure for legal reasons: the one removal there is, named by an event, on both engines.

What an erasure removes is gone from every read, projection and replay (past answers
included); what it keeps (ids, spans, hashes) keeps the chain, the tree, the proofs and
the checkpoints valid; and the database lets through only what an erasure names.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventstore import (
    ErasureError,
    EventNotFound,
    EventStore,
    ImmutabilityViolation,
    Redacted,
    SourceError,
    SourceNotFound,
    TrackState,
    ValidationError,
    generate_key,
)
from eventstore.audit import check_proof, consistency_document, envelope_of, inclusion_document
from eventstore.cli.app import cli
from eventstore.projection.fold import project
from eventstore.projection.identity import registry_of
from eventstore.storage import schema as t
from eventstore.storage.errors import translated
from tests.test_audit import statement, tamper
from tests.test_example import import_example

KEY = generate_key("erasure-test")
REASON = "court order 2026-117 (test)"


def moscow_id(store: EventStore) -> str:
    """The source the worked example cites from Baonghean.vn (the Moscow article)."""
    return next(s.id for s in store.list_sources() if s.outlet == "Baonghean.vn")


def geneva_meeting(store: EventStore) -> Any:
    return next(e for e in store.read_track("RUS-USA") if e.type == "meeting.held"
                and e.data.key == "geneva-2018-08-23")


def quotes_stored(store: EventStore, source_id: str) -> list[str]:
    with store.engine.connect() as conn:
        return list(conn.execute(sa.select(t.citations.c.exact)
                                 .where(t.citations.c.source_id == source_id)).scalars())


def folded(store: EventStore, track: str = "RUS-USA") -> TrackState:
    """The state folded from the log right now (what the stored read model must equal)."""
    return project(track, list(store.read_track(track)),
                   registry=registry_of(store.read_track("$actors")))


def stored_states(store: EventStore) -> str:
    with store.engine.connect() as conn:
        return "".join(conn.execute(sa.select(t.track_states.c.state)).scalars())


# -- a source's text ------------------------------------------------------------------------


def test_erasing_a_source_keeps_every_hash_and_proof(example: EventStore) -> None:
    before = example.checkpoint(KEY)
    source = moscow_id(example)
    cited = [s for s in example.citations_of(source)]
    assert cited and all(s.citation.exact for s in cited)
    quote = cited[0].citation.exact
    assert quote in example.project("RUS-USA").to_dict().__repr__()

    erasure = example.erase_source(source[:12], reason=REASON)

    assert (erasure.kind, erasure.target, erasure.reason) == ("source", source, REASON)
    assert erasure.erased_by == "analyst" and erasure.citations == len(cited)
    assert erasure.tracks == ("RUS-USA",)
    # The text and every quote of it are gone; ids, spans and metadata stay.
    found = example.get_source(source)
    assert found.text is None and found.erasure == erasure
    assert found.info.length > 0 and found.info.outlet == "Baonghean.vn"
    assert set(quotes_stored(example, source)) == {""}
    spans = [(s.citation.start, s.citation.end) for s in example.citations_of(source)]
    assert spans == [(s.citation.start, s.citation.end) for s in cited]
    assert all(s.citation.erased for s in example.citations_of(source))
    # Nothing shows it any more: now, in the stored read model, or at a past moment.
    for state in (example.project("RUS-USA"),
                  example.project("RUS-USA", known_at=erasure.erased_at
                                  - dt.timedelta(microseconds=1))):
        text = json.dumps(state.to_dict(), ensure_ascii=False)
        assert quote not in text
        assert any(c.erased for m in state.meetings for c in m.citations)
    assert quote not in stored_states(example)
    assert example.project("RUS-USA") == folded(example)
    # The old checkpoint still holds: same root at its size, consistent with today's log.
    size = before.checkpoint.size
    assert example.tree_head(size).root == before.checkpoint.root
    after = example.checkpoint(KEY)
    proof = example.consistency_proof(size, after.checkpoint.size)
    doc = consistency_document(origin=example.origin(), size1=proof.size1, size2=proof.size2,
                               root1=proof.root1, root2=proof.root2, proof=proof.proof,
                               from_checkpoint=before.note, to_checkpoint=after.note)
    assert "only grew" in check_proof(doc, KEY.verifier())
    found, inclusion = example.inclusion_proof(cited[0].position, size)  # a blanked citation
    doc = inclusion_document(origin=example.origin(), size=inclusion.size, root=inclusion.root,
                             index=inclusion.index, leaf=inclusion.leaf_hash,
                             proof=inclusion.proof,
                             event={**envelope_of(found), "hash": found.hash},
                             checkpoint=before.note)
    assert "is in the log" in check_proof(doc, KEY.verifier())
    # audit verify: erased, not tampered.
    report = example.verify([KEY.verifier()])
    assert report.ok, report.problems
    assert report.erased_sources == (source,)
    assert report.erased_citations == len({s.position for s in cited})
    assert [(e.kind, e.target, e.reason, e.erased_by) for e in report.erasures] == [
        ("source", source, REASON, "analyst")]
    assert example.erasures() == [erasure]


def test_an_erased_source_cannot_be_cited_or_erased_again(example: EventStore) -> None:
    source = moscow_id(example)
    quote = example.citations_of(source)[0].citation.exact
    example.erase_source(source, reason=REASON)
    head = example.head()
    with pytest.raises(SourceError, match=f"source {source[:16]} was erased on .* by analyst "
                                          r"\(court order .*\): its text is gone"):
        example.append("RUS-USA", [{**statement(source, 1),
                                    "citations": [{"source": source, "quote": quote}]}])
    with pytest.raises(ErasureError, match="already erased on .* by analyst"):
        example.erase_source(source, reason="twice")
    with pytest.raises(SourceNotFound):
        example.erase_source("ffffffffffff", reason=REASON)
    for reason in ("", "   ", None, "x\x00y"):
        with pytest.raises(ValidationError, match="reason"):
            example.erase_source(source, reason=reason)  # type: ignore[arg-type]
    assert example.head() == head  # nothing written by any of them


# -- a fact's payload ------------------------------------------------------------------------


def test_erasing_a_payload_redacts_the_fact_everywhere(example: EventStore) -> None:
    before = example.checkpoint(KEY)
    meeting = geneva_meeting(example)
    then = dt.datetime.now(dt.UTC)  # a past moment, once erased
    note = meeting.data.note
    example.catch_up()
    assert note and note in stored_states(example)
    assert any(m.key == "geneva-2018-08-23" and m.status == "held"
               for m in example.project("RUS-USA").meetings)

    erasure = example.erase_payload(str(meeting.event_id), reason=REASON)

    assert (erasure.kind, erasure.position, erasure.tracks) == (
        "payload", meeting.position, ("RUS-USA",))
    read = example.get_event(meeting.event_id)
    assert isinstance(read.data, Redacted)
    assert read.data == Redacted(erased_type="meeting.held", reason=REASON,
                                 erased_at=read.data.erased_at, erased_by="analyst",
                                 erasure=erasure.event_id)
    # Envelope, citations and hashes stay.
    assert (read.type, read.valid, read.citations, read.hash, read.payload_hash) == (
        meeting.type, meeting.valid, meeting.citations, meeting.hash, meeting.payload_hash)
    for state in (example.project("RUS-USA"), example.project("RUS-USA", known_at=then)):
        [redacted] = state.redacted
        assert (redacted.key, redacted.type, redacted.reason) == (
            str(meeting.event_id), "meeting.held", REASON)
        assert redacted.citations[0].exact == meeting.citations[0].exact
        # The meeting now stands only on the topics discussed there (an outcome only).
        held = [m for m in state.meetings if m.key == "geneva-2018-08-23"]
        assert all(m.place is None and not m.participants for m in held)
    assert note not in stored_states(example)
    steps = example.history("RUS-USA")
    assert any("redacted: its data was erased" in c for s in steps for c in s.changes)
    report = example.verify([KEY.verifier()])
    assert report.ok, report.problems
    assert report.erased_payloads == (meeting.position,)
    assert example.tree_head(before.checkpoint.size).root == before.checkpoint.root
    # The replay of the earlier moment agrees with project --known-at, both redacted.
    replay = example.replay(meeting.recorded_at, checkpoint=before.note, key=KEY.verifier())
    assert replay.check is not None and replay.check.ok, replay.check.problems
    assert replay.states[0] == example.project("RUS-USA", known_at=meeting.recorded_at)
    assert replay.states[0].redacted
    assert replay.counts["erased"] == 1
    assert [(c.kind, c.target) for c in replay.changes if c.kind == "erased"] == [
        ("erased", str(meeting.event_id))]


@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_erasures_keep_the_tree_and_fold_as_redactions(tmp_path_factory: Any,
                                                           data: st.DataObject) -> None:
    """Whatever is erased: the tree at every earlier size is unchanged, verify is clean,
    and every answer is the fold of the original events with those payloads redacted."""
    path = tmp_path_factory.mktemp("erasures") / "facts.db"
    with EventStore.open(f"sqlite:///{path}", create=True, actor="analyst") as store:
        import_example(store)
        original = list(store.read_all())
        size = len(original)
        root = store.tree_head().root
        plain = [e for e in original if e.track == "RUS-USA" and e.data.stream is None
                 and not e.type.startswith(("fact.", "citation."))]
        chosen = data.draw(st.lists(st.sampled_from(plain), unique_by=lambda e: e.position,
                                    max_size=4), label="erased facts")
        source = data.draw(st.sampled_from([None, *[s.id for s in store.list_sources()]]),
                           label="erased source")
        cut = data.draw(st.sampled_from([None, *[e.recorded_at for e in original[-3:]]]),
                        label="known at")
        for event in chosen:
            store.erase_payload(event.event_id, reason=f"erase {event.position}")
        if source is not None:
            store.erase_source(source, reason="erase the source")
        assert store.tree_head(size).root == root
        report = store.verify()
        assert report.ok, report.problems
        assert report.erased_payloads == tuple(sorted(e.position for e in chosen))
        # The pure fold of the original events, redacted as the store says, is the answer.
        now = {e.position: e for e in store.read_all()}
        expected = []
        for event in original:
            after = now[event.position]
            assert isinstance(after.data, Redacted) == (event in chosen)
            cites = tuple(attrs.evolve(c, exact="", prefix="", suffix="")
                          if c.source == source else c for c in event.citations)
            expected.append(attrs.evolve(event, data=after.data, citations=cites))
        assert [e for e in expected if e.track == "RUS-USA"] == list(
            store.read_track("RUS-USA"))
        registry = registry_of(e for e in expected if e.track == "$actors")
        cut_at = size if cut is None else store.position_at(cut)
        known = [e for e in expected if e.track == "RUS-USA" and e.position <= cut_at]
        assert store.project("RUS-USA", known_at=cut) == project(
            "RUS-USA", known, known_at=cut, registry=registry)
        assert store.project("RUS-USA") == folded(store)


def test_what_cannot_be_erased(example: EventStore) -> None:
    meeting = geneva_meeting(example)
    meta = next(e for e in example.read_track("RUS-USA") if e.type == "citation.added")
    registration = next(iter(example.read_track("$sources")))
    head = example.head()
    with pytest.raises(ErasureError, match="citation.added, whose payload cannot be erased"):
        example.erase_payload(meta.event_id, reason=REASON)
    with pytest.raises(ErasureError, match="source.registered, whose payload cannot be"):
        example.erase_payload(registration.event_id, reason=REASON)
    with pytest.raises(EventNotFound, match="no event has the id"):
        example.erase_payload("00000000-0000-4000-8000-00000000abcd", reason=REASON)
    with pytest.raises(ValidationError, match="not an event id|event"):
        example.erase_payload("not-a-uuid", reason=REASON)
    assert example.head() == head
    example.erase_payload(meeting.event_id, reason=REASON)
    head = example.head()
    with pytest.raises(ErasureError, match="already erased"):
        example.erase_payload(meeting.event_id, reason=REASON)
    erasure_event = next(iter(example.read_track("$erasures")))
    with pytest.raises(ErasureError, match="payload.erased, whose payload cannot be erased"):
        example.erase_payload(erasure_event.event_id, reason=REASON)
    assert example.head() == head


def test_erasing_an_actor_registration_changes_every_track(example: EventStore) -> None:
    actor = next(e for e in example.read_track("$actors")
                 if "Patrouchev" in e.data.name or "Patrushev" in e.data.name)
    names = {p.name for m in example.project("RUS-USA").meetings for p in m.participants}
    assert actor.data.name in names
    erasure = example.erase_payload(actor.event_id, reason=REASON)
    assert "RUS-USA" in erasure.tracks
    registry = example.registry()
    assert actor.data.id not in registry.actors
    state = example.project("RUS-USA")
    ids = {p.id for m in state.meetings for p in m.participants}
    assert actor.data.id not in ids
    assert state == folded(example)
    assert example.verify().ok


# -- export and import ------------------------------------------------------------------------


def test_an_export_with_erasures_imports_to_the_same_store(example: EventStore,
                                                           tmp_path: Any) -> None:
    example.erase_payload(geneva_meeting(example).event_id, reason=REASON)
    example.erase_source(moscow_id(example), reason=REASON)
    example.checkpoint(KEY)
    lines = list(example.export())
    with EventStore.open(f"sqlite:///{tmp_path / 'copy.db'}", create=True) as copy:
        report = copy.import_export(lambda: iter(lines), "export.jsonl", [KEY.verifier()])
        assert report.ok and len(report.erasures) == 2
        assert copy.tree_head() == example.tree_head()
        assert copy.erasures() == example.erasures()
        assert list(copy.read_all()) == list(example.read_all())
        assert copy.project("RUS-USA") == example.project("RUS-USA")
        assert copy.verify([KEY.verifier()]).ok


# -- what the database lets through ------------------------------------------------------------


def _refused(store: EventStore, statement: sa.Executable) -> None:
    with pytest.raises(ImmutabilityViolation, match="refused"):
        with translated("db"), store.engine.begin() as conn:
            conn.execute(statement)


def test_the_database_lets_through_only_what_an_erasure_names(example: EventStore) -> None:
    source = moscow_id(example)
    other = next(s.id for s in example.list_sources() if s.id != source)
    meeting = geneva_meeting(example)
    example.erase_source(source, reason=REASON)
    example.erase_payload(meeting.event_id, reason=REASON)
    c = t.citations.c
    _refused(example, sa.delete(t.source_texts).where(t.source_texts.c.source_id == other))
    _refused(example, sa.delete(t.payloads).where(t.payloads.c.position == meeting.position + 2))
    _refused(example, sa.update(t.citations).where(c.source_id == source)
             .values(exact="forged"))
    _refused(example, sa.update(t.citations).where(c.source_id == source)
             .values(start_offset=c.start_offset + 1))
    _refused(example, sa.update(t.citations).where(c.source_id == other)
             .values(exact="", prefix="", suffix=""))
    _refused(example, sa.delete(t.citations).where(c.source_id == source))
    _refused(example, sa.delete(t.erasures))
    _refused(example, sa.update(t.erasures).values(reason="forged"))
    assert example.verify().ok


def test_removals_no_erasure_names_are_tampering(example: EventStore) -> None:
    meeting = geneva_meeting(example)
    source = moscow_id(example)
    first_citing = example.citations_of(source)[0].position
    registered = next(s.position for s in example.list_sources() if s.id == source)

    def remove(conn: sa.Connection) -> None:
        conn.execute(sa.delete(t.payloads).where(t.payloads.c.position == meeting.position))
        conn.execute(sa.update(t.citations).where(t.citations.c.source_id == source)
                     .values(exact="", prefix="", suffix=""))
        conn.execute(sa.delete(t.source_texts).where(t.source_texts.c.source_id == source))

    tamper(example, remove)
    report = example.verify()
    found = {(p.position, p.what) for p in report.problems}
    assert (meeting.position, "the payload is missing and no erasure event names it (it "
            "was deleted)") in found
    assert (registered, f"source {source[:12]}: its text is missing and no erasure event "
            "names it (it was deleted)") in found
    assert any(p.position == first_citing and "blanked with no erasure" in p.what
               for p in report.problems)
    assert report.erased_payloads == () and report.erased_sources == ()
    with pytest.raises(Exception, match="payload is missing and no erasure names it"):
        example.get_event(meeting.event_id)


def test_a_forged_erasure_row_is_tampering(example: EventStore) -> None:
    meeting = geneva_meeting(example)
    last = example.head()[0]

    def forge(conn: sa.Connection) -> None:  # the guard row, with no erasure event
        conn.execute(sa.insert(t.erasures).values(
            position=last, kind="payload", payload_position=meeting.position,
            reason="forged", erased_at=dt.datetime.now(dt.UTC), erased_by="mallory",
            event_id="00000000-0000-4000-8000-000000000000"))
        conn.execute(sa.delete(t.payloads).where(t.payloads.c.position == meeting.position))

    tamper(example, forge)
    report = example.verify()
    assert not report.ok
    assert any("no erasure event of the log" in p.what for p in report.problems)
    assert any(p.position == meeting.position and "no erasure event names it" in p.what
               for p in report.problems)


# -- the command line --------------------------------------------------------------------------


def test_cli_erase_asks_for_yes_and_says_what_it_did(example: EventStore) -> None:
    runner = CliRunner()
    url = str(example.engine.url.render_as_string(hide_password=False))
    source = moscow_id(example)
    head = example.head()
    refused = runner.invoke(cli, ["source", "erase", source[:12], "--reason", REASON,
                                  "--db", url])
    assert refused.exit_code != 0 and "add --yes to confirm; nothing written" in refused.output
    no_reason = runner.invoke(cli, ["source", "erase", source[:12], "--yes", "--db", url])
    assert no_reason.exit_code != 0 and "--reason" in no_reason.output
    assert example.head() == head
    done = runner.invoke(cli, ["source", "erase", source[:12], "--reason", REASON, "--yes",
                               "--actor", "dpo", "--db", url, "--format", "json"])
    assert done.exit_code == 0, done.output
    doc = json.loads(done.output)
    assert (doc["kind"], doc["target"], doc["erased_by"]) == ("source", source, "dpo")
    shown = runner.invoke(cli, ["source", "show", source[:12], "--db", url])
    assert shown.exit_code == 0 and "its text was erased on" in shown.output
    meeting = geneva_meeting(example)
    erased = runner.invoke(cli, ["fact", "erase", str(meeting.event_id), "--reason", REASON,
                                 "--yes", "--db", url])
    assert erased.exit_code == 0, erased.output
    assert "only operation that changes what past answers show" in erased.output
    again = runner.invoke(cli, ["fact", "erase", str(meeting.event_id), "--reason", REASON,
                                "--yes", "--db", url])
    assert again.exit_code != 0 and "already erased" in again.output
    assert "Traceback" not in again.output
    project = runner.invoke(cli, ["project", "--track", "RUS-USA", "--db", url])
    assert "Redacted facts (1)" in project.output
    assert "[quote erased with its source]" in project.output
    verify = runner.invoke(cli, ["audit", "verify", "--db", url])
    assert verify.exit_code == 0, verify.output
    assert "erased for legal reasons (not tampering): 1 payload(s), 1 source text(s)" in \
        verify.output
