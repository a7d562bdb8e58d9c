"""The library as another service uses it: register, append, read back, on both engines."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from eventstore import (
    ANY,
    NO_STREAM,
    STREAM_EXISTS,
    AmbiguousSourcePrefix,
    CitationError,
    ConcurrencyError,
    DuplicateEventError,
    EventNotFound,
    EventStore,
    Fact,
    MeetingHeld,
    MeetingKind,
    Party,
    QuoteNotFound,
    SourceNotFound,
    Stance,
    StatementMade,
    ValidationError,
)
from eventstore.audit import chain_problems
from tests.conftest import ARTICLE_GENEVA, ARTICLE_MOSCOW

BOLTON = Party("John Bolton", "USA", "conseiller à la sécurité nationale")
PATRUSHEV = Party("Nikolaï Patrouchev", "RUS")
QUOTE = "ont eu jeudi une rencontre à Genève"


def meeting(source: str, key: str = "geneva-2018-08-23", **extra: Any) -> dict[str, Any]:
    fact = {"type": "meeting.held", "track": "RUS-USA", "date": "2018-08-23",
            "date_text": "jeudi", "date_anchor": "2018-08-24",
            "data": {"key": key, "kind": "talks", "place": "Genève",
                     "participants": [{"name": "John Bolton", "country": "USA"}]},
            "citations": [{"source": source[:8], "quote": QUOTE}]}
    fact.update(extra)
    return fact


@pytest.fixture
def geneva(store: EventStore) -> str:
    return store.add_source(ARTICLE_GENEVA.read_bytes(), title="Bolton et Patrouchev à Genève",
                            published="2018-08-24", language="fr").id


def test_registering_a_source_is_idempotent_and_logged(store: EventStore) -> None:
    first = store.add_source(ARTICLE_GENEVA.read_bytes(), title="Genève")
    again = store.add_source(ARTICLE_GENEVA.read_bytes())
    assert first.new and not again.new and first.id == again.id
    assert first.title == again.title == "Genève"
    events = list(store.read_all())
    assert [e.type for e in events] == ["source.registered"]
    assert events[0].data.source == first.id and events[0].track == "$sources"
    assert store.get_source(first.id[:8]).text == ARTICLE_GENEVA.read_text(encoding="utf-8")


def test_several_sources_at_once_all_or_nothing(store: EventStore) -> None:
    from eventstore import NewSource, SourceError
    with pytest.raises(SourceError, match="empty.txt"):
        store.add_sources([NewSource(ARTICLE_GENEVA.read_bytes(), name="a.txt"),
                           NewSource(b"", name="empty.txt")])
    assert store.list_sources() == [] and store.head()[0] == 0
    infos = store.add_sources([NewSource(ARTICLE_GENEVA.read_bytes()),
                               NewSource(ARTICLE_MOSCOW.read_bytes())])
    assert [i.position for i in infos] == [1, 2]


def test_a_declared_body_protects_the_page_furniture(store: EventStore) -> None:
    info = store.add_source(ARTICLE_GENEVA.read_bytes(), body_from="Le conseiller américain",
                            body_until="Chine : une logistique")
    text = ARTICLE_GENEVA.read_text(encoding="utf-8")
    assert (info.body_start, info.body_end) == (text.index("Le conseiller américain"),
                                                text.index("Chine : une logistique"))
    (event,) = store.read_all()
    assert (event.data.body_start, event.data.body_end) == (info.body_start, info.body_end)
    fact = meeting(info.id)
    fact["citations"] = [{"source": info.id, "quote": "Dernière mise à jour"}]
    with pytest.raises(CitationError, match="outside the body"):
        store.append("RUS-USA", [fact])


def test_source_prefixes(store: EventStore, geneva: str) -> None:
    assert store.resolve_source_id(geneva[:8].upper()) == geneva
    with pytest.raises(SourceNotFound, match="at least 8 hex digits"):
        store.resolve_source_id(geneva[:7])
    with pytest.raises(SourceNotFound, match="no source has the id"):
        store.resolve_source_id("deadbeef")
    twin = geneva[:8] + "0" * 56  # a second id sharing the prefix, inserted behind the store
    with store.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO sources (id, original_sha256, length, body_start, "
                             "body_end, position) VALUES (:id, :id, 1, 0, 1, 1)"), {"id": twin})
    with pytest.raises(AmbiguousSourcePrefix, match="ambiguous"):
        store.resolve_source_id(geneva[:8])
    assert store.resolve_source_id(geneva[:9]) == geneva


def test_append_and_read_back(store: EventStore, geneva: str) -> None:
    fact = Fact.create(
        MeetingHeld(key="geneva-2018-08-23", kind=MeetingKind.TALKS, place="Genève",
                    participants=[BOLTON, PATRUSHEV]),
        track="usa-rus", date="2018-08-23", date_text="jeudi", date_anchor="2018-08-24",
        cite=[{"source": geneva[:8], "quote": QUOTE}])
    result = store.append("RUS-USA", [fact], expected_version=NO_STREAM)
    assert result.positions == (2,) and result.written == 1
    (event,) = store.read_track("rus-usa")
    assert event.data == fact.data and event.track == "RUS-USA" and event.version == 1
    assert event.valid is not None and event.valid.text == "jeudi"
    assert event.valid.lower == event.valid.upper and str(event.valid.lower) == "2018-08-23"
    assert event.recorded_by == "tester"
    (cite,) = event.citations
    assert cite.source == geneva and cite.exact == QUOTE
    assert store.get_event(event.event_id) == event
    assert list(chain_problems(store.read_all())) == []


def test_expected_versions(store: EventStore, geneva: str) -> None:
    with pytest.raises(ConcurrencyError, match="expected version stream-exists, but the track "
                                               "is at version 0"):
        store.append("RUS-USA", [meeting(geneva)], expected_version=STREAM_EXISTS)
    store.append("RUS-USA", [meeting(geneva)], expected_version=NO_STREAM)
    store.append("RUS-USA", [meeting(geneva), meeting(geneva)], expected_version=1)
    with pytest.raises(ConcurrencyError) as caught:
        store.append("RUS-USA", [meeting(geneva)], expected_version=1)
    assert (caught.value.expected, caught.value.actual) == (1, 3)
    with pytest.raises(ConcurrencyError):
        store.append("RUS-USA", [meeting(geneva)], expected_version=NO_STREAM)
    store.append("RUS-USA", [meeting(geneva)], expected_version=STREAM_EXISTS)
    store.append("RUS-USA", [meeting(geneva)], expected_version=ANY)
    assert store.track_version("USA-RUS") == 5
    assert [e.version for e in store.read_track("RUS-USA")] == [1, 2, 3, 4, 5]


def test_a_batch_is_all_or_nothing(store: EventStore, geneva: str) -> None:
    before = store.head()
    bad = meeting(geneva)
    bad["citations"] = [{"source": geneva[:8], "quote": "une rencontre à Moscou"}]
    with pytest.raises(QuoteNotFound) as caught:
        store.append("RUS-USA", [meeting(geneva), meeting(geneva), bad])
    assert "facts[2]: citations[0]" in str(caught.value)
    assert store.head() == before and store.track_version("RUS-USA") == 0


def test_reappending_an_event_id_is_idempotent(store: EventStore, geneva: str) -> None:
    event_id = str(uuid.uuid4())
    first = store.append("RUS-USA", [meeting(geneva, event_id=event_id)], expected_version=0)
    again = store.append("RUS-USA", [meeting(geneva, event_id=event_id)], expected_version=0)
    assert again.positions == first.positions and again.written == 0
    assert not again.events[0].new
    assert store.track_version("RUS-USA") == 1
    with pytest.raises(DuplicateEventError, match="different content"):
        store.append("RUS-USA", [meeting(geneva, key="other", event_id=event_id)])


def test_same_event_id_twice_in_a_batch(store: EventStore, geneva: str) -> None:
    event_id = str(uuid.uuid4())
    with pytest.raises(ValidationError, match="appears twice"):
        store.append_many([meeting(geneva, event_id=event_id), meeting(geneva, event_id=event_id)])
    assert store.head()[0] == 1


def test_refusals_name_the_fact_and_the_field(store: EventStore, geneva: str) -> None:
    event_id = str(uuid.uuid4())
    with pytest.raises(ValidationError, match=rf"^facts\[1\]: event id {event_id} appears "
                                              r"twice in the batch \(first at facts\[0\]\)"):
        store.append_many([meeting(geneva, event_id=event_id),
                           meeting(geneva, key="other", event_id=event_id)])
    store.append_many([meeting(geneva, event_id=event_id)])
    with pytest.raises(DuplicateEventError, match=rf"^f.jsonl: line 9: event id {event_id} is "
                                                  r"already stored \(position 2\)"):
        store.append_many([meeting(geneva, key="new"), meeting(geneva, key="other",
                                                               event_id=event_id)],
                          labels=["f.jsonl: line 1", "f.jsonl: line 9"])
    surrogate = meeting(geneva)
    surrogate["data"]["participants"][0]["name"] = "John \ud800 Bolton"
    for fact, field in ((surrogate, "data.participants[0].name"),
                        (meeting(geneva, date_text="jeu\udc00di"), "date_text")):
        with pytest.raises(ValidationError, match=rf"^facts\[0\]: {re.escape(field)}: text "
                                                  r"holds the lone surrogate U\+D[8C]00"):
            store.append_many([fact])
    assert store.head()[0] == 2


def test_facts_built_in_python_get_the_same_checks(store: EventStore, geneva: str) -> None:
    cite = [{"source": geneva, "quote": QUOTE}]
    bad_kind = MeetingHeld(key="g", kind="nonsense", participants=[BOLTON])  # type: ignore[arg-type]
    bad_items = MeetingHeld(key="g", kind=MeetingKind.TALKS,
                            participants=["John Bolton"])  # type: ignore[list-item]
    for data in (bad_kind, bad_items):
        fact = Fact.create(data, track="RUS-USA", date="2018-08-23", cite=cite)
        with pytest.raises(ValidationError, match="facts\\[0\\]"):
            store.append("RUS-USA", [fact])
    assert store.head()[0] == 1
    good = Fact.create(MeetingHeld(key="g", kind=MeetingKind.TALKS, participants=[BOLTON]),
                       track="RUS-USA", date="2018-08-23", cite=cite)
    assert store.append("RUS-USA", [good]).written == 1


def test_empty_batch_still_checks_the_expected_version(store: EventStore) -> None:
    with pytest.raises(ConcurrencyError):
        store.append("RUS-USA", [], expected_version=STREAM_EXISTS)
    assert store.append("RUS-USA", [], expected_version=NO_STREAM).events == ()


def test_a_retry_must_carry_the_same_correlation(store: EventStore, geneva: str) -> None:
    event_id = str(uuid.uuid4())
    store.append("RUS-USA", [meeting(geneva, event_id=event_id,
                                     correlation_id=str(uuid.uuid4()))])
    with pytest.raises(DuplicateEventError):
        store.append("RUS-USA", [meeting(geneva, event_id=event_id,
                                         correlation_id=str(uuid.uuid4()))])


def test_fact_for_another_track(store: EventStore, geneva: str) -> None:
    with pytest.raises(ValidationError, match="facts\\[0\\].track"):
        store.append("FRA-USA", [meeting(geneva)])


def test_text_is_stored_verbatim_never_executed(store: EventStore, geneva: str) -> None:
    nasty = "Robert'); DROP TABLE events; -- \" ' % _ \\ ; SELECT * FROM sources"
    fact = meeting(geneva)
    fact["data"]["place"] = nasty
    store.append("RUS-USA", [fact])
    (event,) = store.read_track("RUS-USA")
    assert event.data.place == nasty
    assert store.head()[0] == 2


@pytest.mark.parametrize(("field", "value", "words"), [
    ("note", "x" * 10_000_001, "the limit is 100,000"),
    ("place", "Gen\x00ève", "control character U+0000"),
    ("place", "Genève\nSuisse", "control character U+000A"),
])
def test_text_limits(store: EventStore, geneva: str, field: str, value: str, words: str) -> None:
    fact = meeting(geneva)
    fact["data"][field] = value
    with pytest.raises(ValidationError, match=re.escape(words)) as caught:
        store.append("RUS-USA", [fact])
    assert f"data.{field}" in str(caught.value)
    assert store.head()[0] == 1


def test_reading_filters_and_pages(store: EventStore, geneva: str,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("eventstore.storage.reads.PAGE_SIZE", 3)
    store.append_many([meeting(geneva, track="RUS-USA") for _ in range(4)]
                      + [meeting(geneva, track="FRA-RUS") for _ in range(3)])
    assert [e.position for e in store.read_all()] == list(range(1, 9))
    assert [e.position for e in store.read_all(5, 2)] == [5, 6]
    assert [e.version for e in store.read_track("RUS-FRA", from_version=2)] == [2, 3]
    assert [e.position for e in store.read_all(track="FRA-RUS")] == [6, 7, 8]
    assert len(list(store.read_all(types=["source.registered"]))) == 1
    with pytest.raises(EventNotFound):
        store.get_event(uuid.uuid4())


def test_stored_v1_statements_are_read_as_v2(store: EventStore, geneva: str) -> None:
    """statement.made v1 called `content` `text`; stored v1 rows come back as v2."""
    from eventstore import canonical_json, parse_valid_time, resolve_citation
    from eventstore.codec import sha256_hex
    from eventstore.events import citations_bytes
    from eventstore.storage.append import _Prepared

    v1 = {"speaker": {"name": "John Bolton", "country": "USA", "role": None},
          "stance": "warning", "addressee": "Russie",
          "text": "Les Etats-Unis ne toléreront pas une ingérence."}
    body = canonical_json(v1).decode()
    cite = resolve_citation(store.get_source(geneva).text, geneva, "ne toléreront pas")
    prepared = _Prepared(
        event_id=uuid.uuid4(), caller_id=False, track="RUS-USA", type="statement.made",
        schema_version=1, valid=parse_valid_time("2018-08-23"), correlation_id=None,
        causation_id=None, payload_body=body, payload_hash=sha256_hex(body.encode()),
        cited=(cite.to_dict(),), citations_hash=sha256_hex(citations_bytes([cite])))
    appender = store._appender
    with appender._db.write() as conn:
        appender.write(conn, [prepared], {})
    with store.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT p.body, e.schema_version FROM payloads p "
                                      "JOIN events e ON e.position = p.position "
                                      "WHERE e.type = 'statement.made'")).one()
    assert json.loads(stored.body)["text"] and stored.schema_version == 1  # the row stays v1
    (event,) = store.read_track("RUS-USA")
    assert event.schema_version == 1
    assert event.data == StatementMade(speaker=Party("John Bolton", "USA"), stance=Stance.WARNING,
                                       addressee="Russie", attribution=None,
                                       content="Les Etats-Unis ne toléreront pas une ingérence.")
    assert list(chain_problems(store.read_all())) == []


def test_facts_about_facts_have_no_date_of_their_own(store: EventStore, geneva: str) -> None:
    result = store.append("RUS-USA", [meeting(geneva)])
    target = str(result.events[0].event_id)
    with pytest.raises(ValidationError, match="has no date of its own"):
        store.append("RUS-USA", [{"type": "fact.retracted", "date": "2018-08-24",
                                  "data": {"event": target, "reason": "x"}}])
    retraction = store.append("RUS-USA", [{"type": "fact.retracted",
                                           "data": {"event": target, "reason": "x"}}])
    with pytest.raises(ValidationError, match="itself a fact about a fact"):
        store.append("RUS-USA", [{"type": "fact.retracted", "data": {
            "event": str(retraction.events[0].event_id), "reason": "undo"}}])


def test_null_fields_are_left_out_of_stored_payloads(store: EventStore, geneva: str) -> None:
    store.append("RUS-USA", [meeting(geneva)])
    with store.engine.connect() as conn:
        body = conn.execute(sa.text("SELECT p.body FROM payloads p JOIN events e "
                                    "ON e.position = p.position WHERE e.type = 'meeting.held'")
                            ).scalar_one()
    payload = json.loads(body)
    assert "fulfils" not in payload and "note" not in payload
    assert payload["participants"] == [{"name": "John Bolton", "country": "USA"}]


def test_check_is_an_append_that_writes_nothing(store: EventStore, geneva: str) -> None:
    """EventStore.check: every check an append makes, the same errors, nothing written."""
    head = store.head()
    event_id = uuid.uuid4()
    checked = store.check([meeting(geneva), meeting(geneva, event_id=str(event_id))])
    assert checked.dry_run and checked.written == 2
    assert checked.positions == (head[0] + 1, head[0] + 2)
    assert store.head() == head
    assert store.check([meeting(geneva)], track="RUS-USA",
                       expected_version=NO_STREAM).events[0].version == 1
    written = store.append_many([meeting(geneva, event_id=str(event_id))])
    again = store.check([meeting(geneva, event_id=str(event_id))])
    assert again.written == 0 and again.positions == written.positions  # already stored
    bad = [meeting(geneva), meeting(geneva, citations=[{"source": geneva[:8],
                                                        "quote": "pas dans le texte"}])]
    for call in (store.append_many, store.check):
        with pytest.raises(CitationError) as caught:
            call(bad)
        assert "facts[1]: citations[0]" in str(caught.value)
    with pytest.raises(ConcurrencyError, match="expected version no-stream, but the track is"):
        store.check([meeting(geneva)], track="RUS-USA", expected_version=NO_STREAM)
    assert store.head()[0] == written.positions[0]
