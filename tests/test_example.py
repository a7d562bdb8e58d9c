"""The worked example: examples/facts.jsonl over the two sample articles tells the story.

The store is built with the library exactly as ``examples/build.sh`` builds it (same
metadata, same body marker), then the US–Russia track is checked through
``store.project`` and ``store.history``: the Geneva meeting of Thursday 23 August 2018,
the joint declaration planned and not signed, the invitation to Moscow still open, the
Moscow meetings of 27 June 2018, the summit they prepared, the statements with their
stances, people matched by identity, citations only ever inside an article's body, and
what the store said before and after a retraction. Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import Counter
from typing import Any

import pytest

from eventstore import AppendResult, CitationError, EventStore, Party, TrackState, fact_from_dict
from tests.conftest import ARTICLE_GENEVA, ARTICLE_MOSCOW, CORPUS, ROOT

FACTS = ROOT / "examples" / "facts.jsonl"
TRACK = "RUS-USA"
#: Where the Geneva article's body ends and the page's unrelated headlines begin.
FURNITURE = "Chine : une logistique plus verte"
#: The namespace every event id of facts.jsonl is derived from (uuid5 of a descriptive name).
NAMESPACE = uuid.UUID("6f0b7a52-58c1-4d2e-9a43-1f2f3b0e5c11")


def eid(name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, name))


#: The eight facts of the first version of the example: other docs cite these ids.
ORIGINAL_IDS = {
    "geneva-meeting": "e133d7f2-ae6c-5947-9a50-7a3e6c96b499",
    "geneva-topics": "70d18a7a-21cd-5843-b4f2-da0bb201389c",
    "bolton-warning": "5d4fbd97-7fbc-5c54-98a2-3a15388dbc87",
    "declaration-planned": "68fdc85a-aaa7-5f8a-b15b-9ef2cece0d9c",
    "declaration-not-signed": "de011e71-b25a-5497-9683-a1d6341b02f2",
    "patrushev-invitation": "8aca400c-e73e-593b-b3be-c62d96409cca",
    "helsinki-summit": "cad3a715-b83d-58ad-8416-b1dc6f8af876",
    "putin-assurance": "6e626110-b50d-5d77-935c-d93489f46758",
}

GENEVA = "geneva-2018-08-23"
DECLARATION = "joint-declaration-2018-08"
INVITATION = "bolton-moscow-consultations"
SUMMIT = "helsinki-summit-2018-07"
PRESS_CONFERENCE = "bolton-press-conference-2018-06-27"
MOSCOW = {
    "moscow-bolton-averyanov-2018-06-27": ("yuri-averyanov", "Auparavant", "talks"),
    "moscow-bolton-putin-2018-06-27": ("vladimir-putin", "Le 27 juin", "visit"),
    "moscow-bolton-lavrov-2018-06-27": ("sergey-lavrov", "Le même jour", "talks"),
}
RUSSIAN_SIDE = "RUS:partie russe non nommee"  # unregistered: an id from the folded name


def lines() -> list[dict[str, Any]]:
    return [json.loads(line) for line in FACTS.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def import_example(store: EventStore) -> AppendResult:
    """What ``examples/build.sh`` does: both sources as it registers them, then the file."""
    register_sources(store)
    facts = lines()
    labels = [f"{FACTS.name}: line {n}" for n in range(1, len(facts) + 1)]
    return store.append_many(facts, labels=labels)


def register_sources(store: EventStore) -> None:
    """The example's two sources, registered as ``examples/build.sh`` registers them."""
    store.add_source(ARTICLE_GENEVA.read_bytes(), language="fr", published="2018-08-24",
                     outlet="People's Daily Online (édition française)",
                     name=ARTICLE_GENEVA.name, body_until=FURNITURE)
    store.add_source(ARTICLE_MOSCOW.read_bytes(), language="fr", outlet="Baonghean.vn",
                     title="Le président Poutine : la Russie ne cherche pas la confrontation "
                           "avec les États-Unis", name=ARTICLE_MOSCOW.name)


#: The second worked example: Japan–South Korea, three articles (examples/corpus/1xx_…).
FACTS_JPN_KOR = ROOT / "examples" / "facts-jpn-kor.jsonl"
JPN_KOR_SOURCES = (
    ("100_kbs_fr_88458.txt", {"language": "fr", "published": "2024-11",
                              "published_basis": "inferred",
                              "note": "The page prints no date; the stored copy is dated "
                                      "to the month.",
                              "outlet": "KBS World (édition française)",
                              "url": "http://world.kbs.co.kr/service/news_view.htm?lang=f&"
                                     "Seq_Code=88458"}),
    ("101_koreaherald_20241115050233.txt", {
        "language": "en", "published": "2024-11-15", "published_basis": "url",
        "outlet": "The Korea Herald", "agency": "Yonhap",
        "url": "https://koreaherald.com/mobile/khpad_view.php?ud=20241115050233"}),
    ("102_kbs_fr_89078.txt", {"language": "fr", "published": "2025-01-13",
                              "published_basis": "inferred",
                              "note": "Dated from what it reports: Iwaya's two-day visit to "
                                      "Seoul begun that morning.",
                              "outlet": "KBS World (édition française)",
                              "url": "http://world.kbs.co.kr/service/news_view.htm?lang=f&"
                                     "Seq_Code=89078"}),
)


def import_jpn_kor(store: EventStore) -> AppendResult:
    """What ``examples/build.sh`` does for the Japan–South Korea track: its three sources
    as it registers them, then its facts file."""
    for name, meta in JPN_KOR_SOURCES:
        store.add_source((CORPUS / name).read_bytes(), name=name, **meta)
    facts = [json.loads(line) for line in FACTS_JPN_KOR.read_text(encoding="utf-8").splitlines()
             if line.strip()]
    labels = [f"{FACTS_JPN_KOR.name}: line {n}" for n in range(1, len(facts) + 1)]
    return store.append_many(facts, labels=labels)


def by_key(items: tuple[Any, ...]) -> dict[str, Any]:
    return {item.key: item for item in items}


def open_items(state: TrackState) -> set[tuple[str, str]]:
    return {(item.kind, item.key) for item in state.open_items}


# -- the file itself (pure) -----------------------------------------------------------------

def test_every_line_of_the_example_parses() -> None:
    facts = lines()
    parsed = [fact_from_dict(obj) for obj in facts]
    ids = [obj["event_id"] for obj in facts]
    assert len(set(ids)) == len(ids), "every fact has its own event id"
    assert all(uuid.UUID(i).version == 5 for i in ids), "ids are uuid5, so reruns are idempotent"
    assert set(ORIGINAL_IDS.values()) <= set(ids)
    assert all(eid(name) == value for name, value in ORIGINAL_IDS.items())
    # the actor registry comes first; every other fact is on the US–Russia track
    types = [fact.type for fact in parsed]
    registrations = types.count("actor.registered")
    assert registrations == 6 and types[:registrations] == ["actor.registered"] * registrations
    assert all(fact.track == TRACK for fact in parsed[registrations:])
    assert {f.data.id for f in parsed[:registrations]} == {  # type: ignore[attr-defined]
        "john-bolton", "nikolai-patrushev", "vladimir-putin", "donald-trump",
        "sergey-lavrov", "yuri-averyanov"}


def test_the_moscow_dates_say_their_year_is_inferred() -> None:
    for obj in lines():
        if obj.get("date", "").startswith("2018-06-27"):
            assert obj["date_text"] in {"Le 27 juin", "Le même jour", "Auparavant"}
            anchor = "2018" if obj["date_text"] == "Le 27 juin" else "2018-06-27"
            assert obj["date_anchor"] == anchor


# -- the import -----------------------------------------------------------------------------

def test_import_writes_every_fact_once_and_a_rerun_writes_nothing(db_url: str) -> None:
    with EventStore.open(db_url, create=True) as store:
        first = import_example(store)
        assert first.written == len(lines())
        again = import_example(store)
        assert again.written == 0 and again.positions == first.positions
        assert len(store.list_sources()) == 2


# -- Geneva, Thursday 23 August 2018 ----------------------------------------------------------

def test_the_geneva_meeting_was_held_on_thursday_23_august(example: EventStore) -> None:
    meeting = by_key(example.project(TRACK).meetings)[GENEVA]
    assert meeting.status == "held" and meeting.kind == "talks" and meeting.place == "Genève"
    assert meeting.date.edtf == "2018-08-23"
    assert (meeting.date.text, meeting.date.anchor) == ("jeudi", "2018-08-24")
    assert {p.id for p in meeting.participants} == {"john-bolton", "nikolai-patrushev"}
    assert meeting.topics == ("sanctions économiques contre l'Iran", "situation en Syrie",
                              "lutte contre le terrorisme")
    # the citations added later for the note ("plusieurs heures", "huis clos") joined it
    assert any("plusieurs heures" in c.exact for c in meeting.citations)


def test_the_joint_declaration_was_planned_then_not_signed(example: EventStore) -> None:
    assert example.project(TRACK, as_of=dt.date(2018, 8, 22)).declarations == ()
    state = example.project(TRACK, as_of=dt.date(2018, 8, 24))
    (declaration,) = state.declarations
    assert declaration.key == DECLARATION and declaration.status == "not_signed"
    assert not declaration.outcome_only, "the plan was recorded before the outcome"
    assert declaration.parties == ("RUS", "USA")
    assert declaration.reason is not None
    assert "rejette la suspicion des Etats-Unis" in declaration.reason
    # the reason is cited in the source's words, not only asserted
    assert any("rejette la suspicion" in c.exact for c in declaration.citations)
    assert ("declaration", DECLARATION) not in open_items(state)


def test_the_invitation_is_open_and_not_fulfilled_by_the_june_visit(
        example: EventStore) -> None:
    assert example.project(TRACK, as_of=dt.date(2018, 8, 22)).invitations == ()
    state = example.project(TRACK)
    invitation = by_key(state.invitations)[INVITATION]
    assert invitation.status == "extended" and invitation.fulfilled_by is None
    assert (invitation.inviter.id, invitation.invitee.id) == ("nikolai-patrushev",
                                                              "john-bolton")
    assert invitation.place == "Moscou"
    assert ("invitation", INVITATION) in open_items(state)
    # Bolton, the same person, was in Moscow on 27 June: before he was invited, so that
    # visit cannot be the one the invitation asks for
    june = by_key(state.meetings)["moscow-bolton-putin-2018-06-27"]
    assert june.place == "Moscou" and "john-bolton" in {p.id for p in june.participants}
    assert june.date.upper < invitation.date.lower


# -- Moscow, 27 June 2018 ---------------------------------------------------------------------

def test_the_moscow_meetings_of_27_june(example: EventStore) -> None:
    meetings = by_key(example.project(TRACK).meetings)
    for key, (host, words, kind) in MOSCOW.items():
        meeting = meetings[key]
        assert meeting.status == "held" and meeting.kind == kind and meeting.place == "Moscou"
        assert meeting.date.edtf == "2018-06-27" and meeting.date.text == words
        assert {p.id for p in meeting.participants} == {"john-bolton", host}
    assert meetings["moscow-bolton-lavrov-2018-06-27"].topics == (
        "situation en Syrie", "situation en Ukraine", "relations bilatérales")
    assert meetings["moscow-bolton-averyanov-2018-06-27"].topics == (
        "coopération entre les conseils de sécurité russe et américain",)
    # Syria came up in Moscow in June and again in Geneva in August: one topic, two meetings
    syria = by_key(example.project(TRACK).topics)["situation en Syrie"]
    assert syria.meetings == ("moscow-bolton-lavrov-2018-06-27", GENEVA)
    assert (syria.first.edtf, syria.last.edtf) == ("2018-06-27", "2018-08-23")


def test_the_summit_planned_in_june_was_held_in_helsinki(example: EventStore) -> None:
    june = example.project(TRACK, as_of=dt.date(2018, 6, 30))
    summit = by_key(june.meetings)[SUMMIT]
    assert summit.status == "planned" and summit.kind == "summit"
    assert summit.place is None and summit.scheduled is None, "where and when: not yet said"
    assert {p.id for p in summit.participants} == {"donald-trump", "vladimir-putin"}
    assert {("meeting", SUMMIT), ("action", PRESS_CONFERENCE)} <= open_items(june)

    now = example.project(TRACK)
    summit = by_key(now.meetings)[SUMMIT]
    assert summit.status == "held" and summit.place == "Helsinki"
    assert summit.date.edtf == "2018-07" and not summit.outcome_only
    assert {p.id for p in summit.participants} == {"donald-trump", "vladimir-putin"}
    assert ("meeting", SUMMIT) not in open_items(now)


def test_the_press_conference_is_announced_and_never_reported_done(
        example: EventStore) -> None:
    state = example.project(TRACK)
    action = by_key(state.actions)[PRESS_CONFERENCE]
    assert action.status == "announced" and action.expected == "2018-06-27"
    assert [a.id for a in action.actors] == ["john-bolton"]
    assert "le lieu et l'heure du sommet" in (action.action or "")
    assert ("action", PRESS_CONFERENCE) in open_items(state)
    assert any("il devrait annoncer le lieu" in c.exact for c in action.citations)


# -- statements ---------------------------------------------------------------------------------

def test_statements_grouped_by_speaker_with_their_stances(example: EventStore) -> None:
    statements = example.project(TRACK).statements
    stances: dict[str, Counter[str]] = {}
    for statement in statements:
        stances.setdefault(statement.speaker.id, Counter())[statement.stance] += 1
    assert stances == {
        "john-bolton": Counter({"warning": 2, "hope": 1}),
        "vladimir-putin": Counter({"hope": 1, "assessment": 1, "assurance": 1,
                                   "congratulation": 1, "offer": 1}),
        RUSSIAN_SIDE: Counter({"rejection": 1, "proposal": 1}),
    }
    # the text formats word each stance with its codes, as the page does
    from eventstore.cli.render import state_text

    text = state_text(example.project(TRACK))
    assert "John Bolton (warning: CAMEO 130, PLOVER THREATEN): " in text
    assert "John Bolton (hope: CAMEO 013): " in text
    # the statements come grouped by speaker
    speakers = [s.speaker.name for s in statements]
    assert speakers == sorted(speakers)
    # reported speech says so; first-hand speech does not
    for statement in statements:
        reported = statement.speaker.id == RUSSIAN_SIDE
        assert (statement.attribution is not None) == reported
        if reported:
            assert "source russe" in (statement.attribution or "")
    assessment = next(s for s in statements if s.stance == "assessment")
    assert "pas dans les meilleures conditions" in assessment.content
    assert "« pas dans les meilleures conditions »" in assessment.citations[0].exact


# -- identity -----------------------------------------------------------------------------------

def test_people_are_matched_by_identity_not_spelling(example: EventStore) -> None:
    registry = example.registry()
    for spelling in ("Nikolaï Patrouchev", "Nikolai Patrushev", "NIKOLAI PATRUSHEV",
                     "Николай Патрушев"):
        assert registry.ref(Party(spelling, "RUS")).id == "nikolai-patrushev"
    assert registry.ref(Party("Vladimir Putin", "RUS")).id == "vladimir-putin"
    assert registry.ref(Party("Sergey Lavrov", "RUS")).id == "sergey-lavrov"
    assert registry.ref(Party("Iouri Averianov", "RUS")).id == "yuri-averyanov"
    assert registry.ref(Party("Nikolai Patrushev", "USA")).id != "nikolai-patrushev"

    # a second report of the Geneva meeting spelling Patrushev the English way adds nobody
    example.append_many([{
        "type": "meeting.held", "track": TRACK, "date": "2018-08-23",
        "data": {"key": GENEVA, "kind": "talks", "place": "Genève",
                 "participants": [{"name": "Nikolai Patrushev", "country": "RUS"},
                                  {"name": "John R. Bolton", "country": "USA"}]},
        "citations": [{"source": "7c3a6282", "quote": "ont eu jeudi une rencontre à Genève"}],
    }])
    meeting = by_key(example.project(TRACK).meetings)[GENEVA]
    assert [p.id for p in meeting.participants] == ["john-bolton", "nikolai-patrushev"]
    assert [p.name for p in meeting.participants] == ["John Bolton", "Nikolaï Patrouchev"]


# -- citations ----------------------------------------------------------------------------------

def test_every_citation_lies_inside_its_article_body(example: EventStore) -> None:
    sources = {info.id: example.get_source(info.id) for info in example.list_sources()}
    geneva = next(s for s in sources.values() if s.info.outlet and "People" in s.info.outlet)
    assert geneva.info.body_end == geneva.text.index(FURNITURE)
    state = example.project(TRACK)
    evidence = [c for kind in ("meetings", "declarations", "invitations", "statements",
                               "topics", "actions") for item in state.items(kind)
                for c in item.citations]
    evidence += [c for step in example.history(TRACK) for c in step.citations]
    # every fact of the track shows up with its citations (those added later included)
    assert {c.event_id for c in evidence} == {str(e.event_id) for e in example.read_track(TRACK)}
    for cited in evidence:
        source = sources[cited.source]
        assert source.info.body_start <= cited.start < cited.end <= source.info.body_end
        assert source.text[cited.start:cited.end] == cited.exact
    # and the page furniture cannot be cited at all
    with pytest.raises(CitationError):
        example.append_many([{
            "type": "statement.made", "track": TRACK, "date": "2018-08-24",
            "data": {"speaker": {"name": "John Bolton", "country": "USA"},
                     "stance": "assessment", "content": "furniture"},
            "citations": [{"source": "7c3a6282", "quote": "l'avion de ligne sino-russe"}],
        }])


# -- record time: what the store said before a retraction ---------------------------------------

def test_a_retraction_changes_the_answer_but_not_what_was_known(example: EventStore) -> None:
    target = eid("putin-offer")
    events = list(example.read_track(TRACK))
    imported_at = max(e.recorded_at for e in events)
    before = example.project(TRACK)
    assert target in by_key(before.statements)

    result = example.append_many([{
        "type": "fact.retracted", "track": TRACK, "event_id": eid("test-retract-putin-offer"),
        "data": {"event": target, "reason": "test: the offer is read as a retraction drill"},
    }])
    retraction = example.get_event(result.events[0].event_id)
    assert retraction.recorded_at > imported_at

    then = example.project(TRACK, known_at=imported_at)
    assert target in by_key(then.statements)
    assert then.statements == before.statements and then.position == before.position
    now = example.project(TRACK)
    assert target not in by_key(now.statements)
    assert len(now.statements) == len(before.statements) - 1
    assert example.get_event(target).type == "statement.made", "the fact stays in the log"

    recorded = example.history(TRACK, by="recorded")
    assert [s.event_id for s in recorded][-1] == str(retraction.event_id)
    assert recorded[-1].type == "fact.retracted"
    assert f"statement '{target}': removed" in recorded[-1].changes
    valid = {s.event_id: s for s in example.history(TRACK)}
    assert valid[target].changes[0].startswith("retracted later")
    old = example.history(TRACK, by="recorded", known_at=imported_at)
    assert all(s.type != "fact.retracted" for s in old)


# -- history ------------------------------------------------------------------------------------

def test_history_tells_the_lifecycles_in_order(example: EventStore) -> None:
    steps = example.history(TRACK)
    changes = [line for step in steps for line in step.changes]
    planned = changes.index(f"declaration '{DECLARATION}': planned (new)")
    not_signed = changes.index(f"declaration '{DECLARATION}': planned → not signed")
    summit_planned = changes.index(f"meeting '{SUMMIT}': planned (new)")
    summit_held = changes.index(f"meeting '{SUMMIT}': planned → held")
    invited = changes.index(f"invitation '{INVITATION}': extended (new)")
    assert planned < not_signed and summit_planned < summit_held < invited
    valid = [step.valid.lower for step in steps if step.valid and step.valid.lower]
    assert valid == sorted(valid), "valid-time order"
    # the citations added to earlier facts are no steps of their own in world time
    assert all(step.type != "citation.added" for step in steps)
    recorded = example.history(TRACK, by="recorded")
    assert sum(step.type == "citation.added" for step in recorded) == 3
    assert [s.position for s in recorded] == sorted(s.position for s in recorded)



# -- the second worked example: Japan–South Korea, 2024–2025 ---------------------------------

def test_the_jpn_kor_example_tells_the_lima_meeting_and_the_seoul_visit(
        examples: EventStore) -> None:
    """Lima, Thursday 14 November 2024: one meeting, told by The Korea Herald in English
    and by KBS World in French, the two ministers matched by identity; then the Seoul
    visit of 13–14 January 2025 as KBS announced it that morning."""
    state = examples.project("JPN-KOR")
    meetings = by_key(state.meetings)
    lima = meetings["lima-2024-11-14"]
    assert (lima.status, lima.kind, lima.place, lima.date.edtf) == (
        "held", "talks", "Lima", "2024-11-14")
    assert {p.id for p in lima.participants} == {"cho-tae-yul", "takeshi-iwaya"}
    outlets = {examples.get_source(c.source).info.outlet for c in lima.citations}
    assert outlets == {"The Korea Herald", "KBS World (édition française)"}
    assert "déploiement de soldats nord-coréens en Russie" in lima.topics
    seoul = meetings["seoul-2025-01-13"]
    assert (seoul.status, seoul.scheduled) == ("planned", "2025-01-13")
    choi = meetings["seoul-iwaya-choi-2025-01-14"]
    assert {p.id for p in choi.participants} == {"takeshi-iwaya", "choi-sang-mok"}
    assert ("meeting", "seoul-2025-01-13") in open_items(state)
    # what was known before the January article: only the Lima meeting and what it said
    before = examples.project("JPN-KOR", as_of=dt.date(2024, 12, 31))
    assert [m.key for m in before.meetings] == ["lima-2024-11-14"]
    # every quote is the source's exact words, in whichever of the three articles
    for item in (*state.meetings, *state.statements, *state.actions):
        for cited in item.citations:
            text = examples.get_source(cited.source).text
            assert text[cited.start:cited.end] == cited.exact
    assert examples.project("RUS-USA").facts == 23  # the first example is untouched
