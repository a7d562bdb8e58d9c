"""Projections: lifecycles, corroboration, identity, corrections, both time axes."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from typing import Any

import pycountry
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventstore import EventNotFound, EventStore, ValidationError, parse_valid_time
from eventstore.projection.fold import project
from eventstore.projection.timeline import counts_at, order_key
from eventstore.storage.schema import events
from eventstore.tracks import pairs
from tests.conftest import ARTICLE_GENEVA, ARTICLE_MOSCOW

D = dt.date
QUOTE = "ont eu jeudi une rencontre à Genève"
OTHER_QUOTE = "Le 27 juin, le président russe Vladimir Poutine"
BOLTON = {"name": "John Bolton", "country": "USA"}
PATRUSHEV = {"name": "Nikolaï Patrouchev", "country": "RUS"}


@pytest.fixture
def sources(store: EventStore) -> tuple[str, str]:
    geneva = store.add_source(ARTICLE_GENEVA.read_bytes(),
                              body_until="Chine : une logistique plus verte").id
    moscow = store.add_source(ARTICLE_MOSCOW.read_bytes()).id
    return geneva, moscow


def fact(type_: str, date: str | None, data: dict[str, Any], source: str,
         quote: str = QUOTE, **extra: Any) -> dict[str, Any]:
    result: dict[str, Any] = {"type": type_, "track": "RUS-USA", "data": data,
                              "citations": [{"source": source, "quote": quote}]}
    if date is not None:
        result["date"] = date
    result.update(extra)
    return result


def meeting(status: str, key: str, date: str, source: str, **data: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"key": key}
    if status in ("planned", "held"):
        body["kind"] = data.pop("kind", "talks")
    if status == "held":
        body["participants"] = data.pop("participants", [BOLTON])
    body.update(data)
    return fact(f"meeting.{status}", date, body, source)


def test_meeting_lifecycle_planned_then_held(store: EventStore,
                                             sources: tuple[str, str]) -> None:
    geneva, _ = sources
    store.append("RUS-USA", [
        meeting("planned", "geneva", "2018-08-01", geneva, place="Genève"),
        meeting("held", "geneva", "2018-08-23", geneva, participants=[BOLTON, PATRUSHEV]),
    ])
    before = store.project("RUS-USA", as_of=D(2018, 8, 10))
    (planned,) = before.meetings
    assert planned.status == "planned" and planned.place == "Genève"
    assert [o.key for o in before.open_items] == ["geneva"]
    (held,) = store.project("RUS-USA").meetings
    assert held.status == "held" and not held.outcome_only and held.place == "Genève"
    assert [p.name for p in held.participants] == ["John Bolton", "Nikolaï Patrouchev"]
    assert len(held.citations) == 2 and store.project("RUS-USA").open_items == ()


def test_outcome_without_its_plan_and_cancellation(store: EventStore,
                                                   sources: tuple[str, str]) -> None:
    geneva, _ = sources
    store.append("RUS-USA", [
        meeting("held", "geneva", "2018-08-23", geneva),
        meeting("planned", "moscow", "2018-08-24", geneva),
        meeting("cancelled", "moscow", "2018-09", geneva, reason="désaccord"),
    ])
    state = store.project("RUS-USA")
    by_key = {m.key: m for m in state.meetings}
    assert by_key["geneva"].outcome_only and by_key["geneva"].status == "held"
    assert by_key["moscow"].status == "cancelled" and by_key["moscow"].reason == "désaccord"


def test_declaration_and_invitation_lifecycles(store: EventStore,
                                               sources: tuple[str, str]) -> None:
    geneva, _ = sources
    store.append("RUS-USA", [
        fact("declaration.planned", "../2018-08-23",
             {"key": "joint", "title": "déclaration conjointe", "parties": ["RUS", "USA"]},
             geneva),
        fact("declaration.not_signed", "2018-08-23", {"key": "joint", "reason": "désaccord"},
             geneva),
        fact("declaration.signed", "2018-09-01", {"key": "other"}, geneva),
        fact("invitation.extended", "2018-08-23",
             {"key": "moscow", "inviter": PATRUSHEV, "invitee": BOLTON, "place": "Moscou"},
             geneva),
        fact("invitation.extended", "2018-08-23",
             {"key": "kremlin", "inviter": PATRUSHEV, "invitee": BOLTON}, geneva),
        fact("invitation.declined", "2018-08-30", {"key": "kremlin", "reason": "agenda"},
             geneva),
    ])
    assert store.project("RUS-USA", as_of=D(2018, 8, 22)).declarations == ()
    (joint,) = store.project("RUS-USA", as_of=D(2018, 8, 24)).declarations
    assert (joint.status, joint.reason, joint.title) == ("not_signed", "désaccord",
                                                        "déclaration conjointe")
    state = store.project("RUS-USA")
    other = next(d for d in state.declarations if d.key == "other")
    assert other.status == "signed" and other.outcome_only
    invitations = {i.key: i for i in state.invitations}
    assert invitations["kremlin"].status == "declined"
    assert invitations["moscow"].status == "extended"
    assert [o.key for o in state.open_items if o.kind == "invitation"] == ["moscow"]


def test_an_invitation_is_fulfilled_by_a_later_meeting_at_its_place(
        store: EventStore, sources: tuple[str, str]) -> None:
    geneva, _ = sources
    store.append("RUS-USA", [
        meeting("held", "moscow-june", "2018-06-27", geneva, place="Moscou"),
        fact("invitation.extended", "2018-08-23",
             {"key": "moscow", "inviter": PATRUSHEV, "invitee": BOLTON, "place": "Moscou"},
             geneva),
    ])
    (invitation,) = store.project("RUS-USA").invitations
    assert invitation.status == "extended"  # the June visit came before the invitation
    store.append("RUS-USA", [meeting("held", "moscow-oct", "2018-10-22", geneva,
                                     place="moscou")])
    (invitation,) = store.project("RUS-USA").invitations
    assert (invitation.status, invitation.fulfilled_by) == ("fulfilled", "moscow-oct")
    (earlier,) = store.project("RUS-USA", as_of=D(2018, 9, 1)).invitations
    assert earlier.status == "extended"


def test_corroboration_is_one_item_with_two_citations(store: EventStore,
                                                      sources: tuple[str, str]) -> None:
    geneva, moscow = sources
    first_id, second_id = str(uuid.uuid4()), str(uuid.uuid4())
    store.append("RUS-USA", [
        meeting("held", "geneva", "2018-08-23", geneva) | {"event_id": first_id},
        meeting("held", "geneva-bis", "2018-08-23", moscow) | {"event_id": second_id,
                                                                "citations": [
                                                                    {"source": moscow,
                                                                     "quote": OTHER_QUOTE}]},
    ])
    assert len(store.project("RUS-USA").meetings) == 2
    store.append("RUS-USA", [fact("fact.same_as", None, {"event": second_id,
                                                         "same_as": first_id},
                                  geneva, citations=[])])
    (merged,) = store.project("RUS-USA").meetings
    assert merged.key == "geneva"
    assert {c.source for c in merged.citations} == {geneva, moscow}
    store.append("RUS-USA", [fact("citation.added", None, {"event": first_id}, moscow,
                                  quote="Le président Poutine a affirmé")])
    (merged,) = store.project("RUS-USA").meetings
    assert len(merged.citations) == 3
    same_key = meeting("held", "geneva", "2018-08-23", moscow)
    same_key["citations"] = [{"source": moscow, "quote": "M. Bolton a rencontré"}]
    store.append("RUS-USA", [same_key])
    (merged,) = store.project("RUS-USA").meetings
    assert len(merged.citations) == 4


def test_participants_are_matched_by_identity(store: EventStore,
                                              sources: tuple[str, str]) -> None:
    geneva, _ = sources
    store.append("$actors", [{"type": "actor.registered",
                              "data": {"id": "nikolai-patrushev", "name": "Nikolaï Patrouchev",
                                       "country": "RUS", "aliases": ["Nikolai Patrushev"],
                                       "roles": [{"role": "secrétaire du Conseil de sécurité",
                                                  "since": "2008-05"}],
                                       "wikidata": "Q315514"}}])
    store.append("RUS-USA", [
        meeting("held", "geneva", "2018-08-23", geneva, participants=[PATRUSHEV]),
        meeting("held", "geneva", "2018-08-23", geneva,
                participants=[{"name": "Nikolai PATRUSHEV", "country": "RUS"}, BOLTON]),
    ])
    (held,) = store.project("RUS-USA").meetings
    assert [p.id for p in held.participants] == ["nikolai-patrushev", "USA:john bolton"]
    assert held.participants[0].name == "Nikolaï Patrouchev"
    assert held.participants[0].role is None
    # a later report that gives the role keeps it; another role does not replace it
    store.append("RUS-USA", [
        meeting("held", "geneva", "2018-08-23", geneva, participants=[
            {"name": "Nikolai Patrushev", "country": "RUS", "role": "secrétaire du Conseil"}]),
        meeting("held", "geneva", "2018-08-23", geneva, participants=[
            {"name": "Nikolai Patrushev", "country": "RUS", "role": "ancien directeur"}])])
    (held,) = store.project("RUS-USA").meetings
    assert [(p.id, p.role) for p in held.participants] == [
        ("nikolai-patrushev", "secrétaire du Conseil"), ("USA:john bolton", None)]


def test_retraction_and_correction(store: EventStore, sources: tuple[str, str]) -> None:
    geneva, _ = sources
    wrong, fixed = str(uuid.uuid4()), str(uuid.uuid4())
    store.append("RUS-USA", [
        meeting("held", "geneva", "2018-08-23", geneva) | {"event_id": wrong},
        meeting("held", "helsinki", "2018-08", geneva, place="Genève") | {"event_id": fixed},
    ])
    before = store.head()
    store.append("RUS-USA", [
        fact("fact.retracted", None, {"event": wrong, "reason": "mal lu"}, geneva,
             citations=[]),
        fact("fact.corrected", None, {
            "event": fixed, "reason": "le sommet était en juillet, à Helsinki",
            "date": "2018-07", "data": {"key": "helsinki", "kind": "summit",
                                        "participants": [BOLTON], "place": "Helsinki"}},
            geneva, citations=[]),
    ])
    (helsinki,) = store.project("RUS-USA").meetings
    assert (helsinki.key, helsinki.place, helsinki.kind, helsinki.date.edtf) == (
        "helsinki", "Helsinki", "summit", "2018-07")
    # what the store said before the retraction still shows the retracted fact
    with store.engine.connect() as conn:
        moment = conn.execute(sa.text("SELECT recorded_at FROM events WHERE position = :p"),
                              {"p": before[0]}).scalar()
    known_at = moment if isinstance(moment, dt.datetime) else dt.datetime.fromisoformat(moment)
    then = store.project("RUS-USA", known_at=known_at.replace(tzinfo=known_at.tzinfo or dt.UTC))
    assert {m.key for m in then.meetings} == {"geneva", "helsinki"}
    assert {m.key: m.place for m in then.meetings}["helsinki"] == "Genève"
    steps = store.history("RUS-USA", by="recorded")
    assert steps[-2].changes == ("meeting 'geneva': removed",)
    assert "place Genève → Helsinki" in " ".join(steps[-1].changes)
    valid_steps = store.history("RUS-USA")
    assert any("retracted later (mal lu)" in c for s in valid_steps for c in s.changes)


def test_facts_about_facts_must_name_an_event_of_the_track(
        store: EventStore, sources: tuple[str, str]) -> None:
    geneva, _ = sources
    ghost = str(uuid.uuid4())
    with pytest.raises(EventNotFound, match="no event has the id"):
        store.append("RUS-USA", [fact("fact.retracted", None, {"event": ghost, "reason": "x"},
                                      geneva, citations=[])])
    other = str(uuid.uuid4())
    store.append("FRA-RUS", [meeting("held", "paris", "2018-08-01", geneva) | {
        "event_id": other, "track": "FRA-RUS"}])
    with pytest.raises(ValidationError, match="is on track FRA-RUS"):
        store.append("RUS-USA", [fact("fact.retracted", None, {"event": other, "reason": "x"},
                                      geneva, citations=[])])
    held = str(uuid.uuid4())
    store.append("RUS-USA", [meeting("held", "geneva", "2018-08-23", geneva) | {
        "event_id": held}])
    with pytest.raises(ValidationError, match="data.data.participants"):
        store.append("RUS-USA", [fact("fact.corrected", None, {
            "event": held, "reason": "x", "data": {"key": "geneva", "kind": "talks"}},
            geneva, citations=[])])


def test_tracks_summary(store: EventStore, sources: tuple[str, str]) -> None:
    geneva, _ = sources
    store.append_many([meeting("held", "a", "2018-06-27", geneva),
                       meeting("held", "b", "2018-08", geneva),
                       meeting("held", "c", "2018", geneva) | {"track": "FRA-RUS"}])
    summary = {s.track: s for s in store.tracks()}
    assert set(summary) == {"FRA-RUS", "RUS-USA"}
    assert (summary["RUS-USA"].events, summary["RUS-USA"].first, summary["RUS-USA"].last) == (
        2, D(2018, 6, 27), D(2018, 8, 31))


# -- the valid-time rule and the order, on their own ------------------------------------

@pytest.mark.parametrize(("edtf", "as_of", "certain", "possible"), [
    ("2018-08-23", "2018-08-23", True, True),
    ("2018-08-23", "2018-08-22", False, False),
    ("2018-08", "2018-08-15", False, True),
    ("2018-08", "2018-08-31", True, True),
    ("../2018-08-23", "2018-08-22", False, True),
    ("2018-08-23/..", "2030-01-01", False, True),
    ("2018?", "2018-12-31", True, True),
])
def test_counts_at(edtf: str, as_of: str, certain: bool, possible: bool) -> None:
    valid = parse_valid_time(edtf)
    day = D.fromisoformat(as_of)
    assert counts_at(valid, day) is certain and counts_at(valid, day, True) is possible


def test_order_is_deterministic() -> None:
    values = ["2018-08-23", "2018-08", "../2018-08-23", "2018-08-23/..", "2018"]
    keys = [order_key(parse_valid_time(v), i) for i, v in enumerate(values)]
    assert sorted(range(5), key=lambda i: keys[i]) == [2, 4, 1, 0, 3]


# -- properties -------------------------------------------------------------------------

STATUSES = {"meeting": ["planned", "postponed", "held", "cancelled"],
            "declaration": ["planned", "signed", "not_signed"],
            "invitation": ["extended", "accepted", "declined"],
            "topics": ["discussed"],
            "action": ["announced", "done", "abandoned", "called_off"],
            "statement": ["made", "withdrawn"], "incident": ["occurred"]}
RANK = {"planned": 0, "postponed": 0, "held": 1, "cancelled": 1, "signed": 1,
        "not_signed": 1, "extended": 0, "accepted": 1, "declined": 2, "announced": 0,
        "done": 1, "abandoned": 1, "called_off": 1, "made": 0, "withdrawn": 1, "occurred": 0}
DATES = ["2018-06-27", "2018-07", "2018-08-23", "2018-08", "../2018-08-23", "2018",
         "2018-08-20/2018-08-25", "2018-09-01"]


@st.composite
def histories(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Random facts on two tracks and a multilateral stream (FRA-RUS-USA: it shows on both),
    some late-arriving, some retracted or corrected later."""
    facts: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(1, 14))):
        kind = draw(st.sampled_from(sorted(STATUSES)))
        status = draw(st.sampled_from(STATUSES[kind]))
        key = draw(st.sampled_from(["a", "b"]))
        track = draw(st.sampled_from(["RUS-USA", "RUS-USA", "FRA-USA", "FRA-RUS-USA"]))
        facts.append({"kind": kind, "status": status, "key": key, "track": track,
                      "date": draw(st.sampled_from(DATES)), "id": str(uuid.uuid4()),
                      "retract": draw(st.booleans()) and draw(st.booleans()),
                      "redate": draw(st.sampled_from([None, None, None, *DATES])),
                      # issue 12: parties by role, every note, topics per citation
                      "who": draw(st.sampled_from(["named", "role", "both"])),
                      "note": draw(st.sampled_from([None, "n1", "n2"])),
                      "topics": draw(st.lists(st.tuples(
                          st.sampled_from(["Kashmir", "Cachemire", "Syrie"]),
                          st.sampled_from([None, [0], [1], [0, 1]])),
                          min_size=1, max_size=3, unique_by=lambda t: t[0]))})
    return _link_withdrawals(facts)


def _link_withdrawals(facts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A withdrawal names the first statement made before it with its key, on its track;
    with none before it, it is a statement made."""
    for index, item in enumerate(facts):
        if item["kind"] == "statement" and item["status"] == "withdrawn":
            made = next((f for f in facts[:index] if f["kind"] == "statement"
                         and f["status"] == "made" and f["key"] == item["key"]), None)
            if made is None:
                item["status"] = "made"
            else:
                item["withdraws"], item["track"] = made["id"], made["track"]
    return facts


def _payload(item: dict[str, Any]) -> dict[str, Any]:
    kind, status, key = item["kind"], item["status"], item["key"]
    data: dict[str, Any] = {"key": key}
    if kind == "meeting" and status in ("planned", "held"):
        data["kind"] = "talks"
    if kind == "meeting" and status == "held":
        data["participants"] = {"named": [BOLTON], "role": [MINISTER],
                                "both": [MINISTER, BOLTON]}[item.get("who", "named")]
    if item.get("note") and (kind, status) in (("meeting", "held"),
                                                ("invitation", "accepted")):
        data["note"] = item["note"]
    if kind == "topics":
        return {"meeting": key, "topics": [name if cited is None else
                                           {"topic": name, "cite": cited}
                                           for name, cited in item["topics"]]}
    if kind == "declaration" and status == "planned":
        data |= {"title": "déclaration", "parties": ["RUS", "USA"]}
    if kind == "invitation" and status == "extended":
        data |= {"inviter": PATRUSHEV, "invitee": BOLTON}
    if kind == "meeting" and status == "postponed":
        data["scheduled"] = "2018-10"
    if kind == "action" and status == "announced":
        data |= {"actors": [BOLTON, PATRUSHEV], "action": "conférence de presse"}
    if kind == "incident":
        data |= {"kind": "seizure", "actors": [PATRUSHEV], "what": "navire saisi"}
    if kind == "statement":
        data = ({"speaker": BOLTON, "stance": "intent_to_meet", "content": "rencontrer"}
                if status == "made" else {"statement": item["withdraws"]})
    return data


def _oracle(facts: list[dict[str, Any]], known: int, as_of: D | None) -> dict[str, str]:
    """A naive model: the facts known by then, not retracted, counted at as_of, in order."""
    live = []
    for index, item in enumerate(facts[:known]):
        if item.get("meta"):
            continue
        if any(m.get("retracts") == item["id"] for m in facts[:known]):
            continue
        redate = next((m["date"] for m in facts[:known] if m.get("redates") == item["id"]),
                      None)
        valid = parse_valid_time(redate or item["date"])
        if as_of is not None and (valid.upper is None or valid.upper > as_of):
            continue
        low = valid.lower or D.min
        high = valid.upper or D.max
        live.append(((low, high, index), item))
    status: dict[str, str] = {}
    for _, item in sorted(live, key=lambda pair: pair[0]):
        if item["kind"] == "topics":  # topics of a meeting never recorded: it was held
            status.setdefault(f"meeting:{item['key']}", "held")
            continue
        name = f"{item['kind']}:{item['key']}"
        if item["kind"] == "statement":  # a statement's key is its event id
            name = f"statement:{item.get('withdraws') or item['id']}"
        old = status.get(name)
        if old is None or RANK[item["status"]] >= RANK[old]:
            status[name] = item["status"]
    made = {f"statement:{item['id']}" for _, item in live if item["kind"] == "statement"
            and item["status"] == "made"}  # a withdrawal of no statement counting: nothing
    return {name: value for name, value in status.items()
            if not name.startswith("statement:") or name in made}


# -- issue 12: parties by role, every note, topics per citation and across languages -----

MINISTER = {"country": "CHN", "role": "foreign minister"}
#: The registry the property tests fold with: who was foreign minister, and when; one
#: topic in two languages. Fixed ids: appending them again writes nothing.
REGISTRY = [
    {"type": "actor.registered", "event_id": "5b0b5e52-3a8e-4c1e-9b43-0c2f8f3a6a01",
     "data": {"id": "wang-yi", "name": "Wang Yi", "country": "CHN", "roles": [
         {"role": "Foreign Minister", "since": "2013-03-16", "until": "2022-12-30"}]}},
    {"type": "topic.registered", "event_id": "5b0b5e52-3a8e-4c1e-9b43-0c2f8f3a6a02",
     "data": {"id": "kashmir", "name": "Kashmir", "aliases": ["Cachemire"]}}]
TOPIC_QUOTES = [QUOTE, "mis en garde la Russie contre toute interférence"]


def _register(store: EventStore) -> None:
    store.append_many(REGISTRY)


def _details_oracle(facts: list[dict[str, Any]], as_of: D | None) -> dict[str, Any]:
    """A naive model of what issue 12 added, from the facts that count (as
    :func:`_oracle` picks them): each item's notes in fold order, with the fact that gave
    them; each meeting's participants by identity (one known by role never merged with a
    named one; the registry's inference from the first fact that named it); each topic's
    citations (a name of the registry folded to its id; a topic with ``cite`` cited by
    those of its fact's citations only)."""
    live = []
    for index, item in enumerate(facts):
        if item.get("meta") or any(m.get("retracts") == item["id"] for m in facts):
            continue
        redate = next((m["date"] for m in facts if m.get("redates") == item["id"]), None)
        valid = parse_valid_time(redate or item["date"])
        if as_of is not None and (valid.upper is None or valid.upper > as_of):
            continue
        live.append(((valid.lower or D.min, valid.upper or D.max, index), item, valid))
    notes: dict[str, list[tuple[str, str]]] = {}
    people: dict[str, list[tuple[str, bool]]] = {}
    topics: dict[str, set[tuple[str, str]]] = {}
    for _, item, valid in sorted(live, key=lambda triple: triple[0]):
        kind, status = item["kind"], item["status"]
        data = _payload(item)
        if data.get("note"):
            notes.setdefault(f"{kind}:{item['key']}", []).append((data["note"], item["id"]))
        for party in data.get("participants", []):
            if "name" in party:
                ref = (f"{party['country']}:{party['name'].casefold()}", False)
            else:
                ref = ("CHN:role:foreign minister", valid.lower is not None
                       and valid.upper is not None and D(2013, 3, 16) <= valid.lower
                       and valid.upper <= D(2022, 12, 30))
            held = people.setdefault(f"meeting:{item['key']}", [])
            if ref[0] not in {r[0] for r in held}:
                held.append(ref)
        if kind == "topics" and status == "discussed":
            for name, cited in item["topics"]:
                key = "kashmir" if name in ("Kashmir", "Cachemire") else name.casefold()
                quotes = TOPIC_QUOTES if cited is None else [TOPIC_QUOTES[i] for i in cited]
                topics.setdefault(key, set()).update((item["id"], q) for q in quotes)
    return {"notes": notes, "participants": people, "topics": topics}


def _details(state: Any) -> dict[str, Any]:
    """What :func:`_details_oracle` models, read from a state."""
    notes = {f"{kind[:-1]}:{item.key}": [(n.text, n.event_id) for n in item.notes]
             for kind in ("meetings", "invitations") for item in state.items(kind)
             if item.notes}
    people = {f"meeting:{m.key}": [(p.id, p.inferred is not None) for p in m.participants]
              for m in state.meetings if m.participants}
    topics = {t.registered or t.key.casefold(): {(c.event_id, c.exact) for c in t.citations}
              for t in state.topics}
    return {"notes": notes, "participants": people, "topics": topics}


def _expand(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Interleave the meta facts (retractions, corrections) after what they name."""
    out = []
    for item in history:
        out.append(item)
        if item["retract"]:
            out.append({"meta": True, "retracts": item["id"], "track": item["track"],
                        "id": str(uuid.uuid4())})
        elif item["redate"]:
            out.append({"meta": True, "redates": item["id"], "date": item["redate"],
                        "track": item["track"], "id": str(uuid.uuid4())})
    return out


def _as_fact(item: dict[str, Any], source: str) -> dict[str, Any]:
    if item.get("retracts"):
        return {"type": "fact.retracted", "track": item["track"], "event_id": item["id"],
                "data": {"event": item["retracts"], "reason": "faux"}}
    if item.get("redates"):
        return {"type": "fact.corrected", "track": item["track"], "event_id": item["id"],
                "data": {"event": item["redates"], "reason": "date", "date": item["date"]}}
    quotes = TOPIC_QUOTES if item["kind"] == "topics" else [QUOTE]
    return {"type": f"{item['kind']}.{item['status']}", "track": item["track"],
            "date": item["date"], "event_id": item["id"], "data": _payload(item),
            "citations": [{"source": source, "quote": quote} for quote in quotes]}


def _statuses(state: Any) -> dict[str, str]:
    return {f"{kind[:-1]}:{item.key}": item.status
            for kind in ("meetings", "declarations", "invitations", "actions", "statements",
                         "incidents")
            for item in state.items(kind)}


_PAIRS = itertools.combinations(sorted(c.alpha_3 for c in pycountry.countries), 2)


def fresh_track() -> str:
    """A track no earlier example used (hypothesis reuses the store between examples)."""
    first, second = next(_PAIRS)
    return f"{first}-{second}"


def fresh_tracks() -> tuple[str, str, str]:
    """Two fresh bilateral tracks and the multilateral stream of their countries (which
    shows on both): how a history's RUS-USA, FRA-USA and FRA-RUS-USA are stored."""
    ours, other = fresh_track(), fresh_track()
    return ours, other, "-".join(sorted(set(ours.split("-")) | set(other.split("-"))))


def _placed(history: list[dict[str, Any]], ours: str, other: str,
            multi: str) -> list[dict[str, Any]]:
    where = {"RUS-USA": ours, "FRA-USA": other, "FRA-RUS-USA": multi}
    return [dict(i, track=where[i["track"]]) for i in _expand(history)]


def _append_in_batches(store: EventStore, facts: list[dict[str, Any]],
                       sizes: list[int]) -> list[int]:
    positions: list[int] = []
    index = 0
    for size in sizes:
        if index >= len(facts):
            break
        positions.extend(store.append_many(facts[index:index + size]).positions)
        index += size
    if index < len(facts):
        positions.extend(store.append_many(facts[index:]).positions)
    return positions


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=histories(), data=st.data())
def test_project_equals_the_naive_oracle(store: EventStore, sources: tuple[str, str],
                                         history: list[dict[str, Any]],
                                         data: st.DataObject) -> None:
    """project(as_of, known_at) equals the naive fold of the right prefix, at random points,
    with late-arriving facts, retractions and corrections."""
    ours, other, multi = fresh_tracks()
    items = _placed(history, ours, other, multi)
    _register(store)
    registry = store.registry()
    start = store.head()[0]
    sizes = data.draw(st.lists(st.integers(1, 4), max_size=len(items)))
    positions = _append_in_batches(store, [_as_fact(i, sources[0]) for i in items], sizes)
    for _ in range(3):
        known = data.draw(st.integers(0, len(items)))
        cut = positions[known - 1] if known else start
        as_of = data.draw(st.sampled_from([None, D(2018, 7, 31), D(2018, 8, 22),
                                           D(2018, 8, 24), D(2018, 12, 31)]))
        state = project(ours, [e for e in store.read_all(track=ours) if e.position <= cut],
                        as_of=as_of, registry=registry)
        mine = [i for i in items[:known] if i["track"] in (ours, multi)]  # the track's view
        assert _statuses(state) == _oracle(mine, len(mine), as_of)
        assert _details(state) == _details_oracle(mine, as_of)
        # the store's known-at cut is the last position recorded by then
        with store.engine.connect() as conn:
            moment = conn.execute(sa.select(sa.func.max(events.c.recorded_at))
                                  .where(events.c.position <= cut)).scalar()
        if moment is not None:
            at = _utc(moment)
            through = store.position_at(at)
            assert through >= cut
            expected = project(ours, [e for e in store.read_all(track=ours)
                                      if e.position <= through], as_of=as_of, known_at=at,
                               registry=registry)
            assert store.project(ours, as_of=as_of, known_at=at) == expected


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=histories(), data=st.data())
def test_cuts_through_a_kept_memo_equal_fresh_folds(store: EventStore,
                                                    sources: tuple[str, str],
                                                    history: list[dict[str, Any]],
                                                    data: st.DataObject) -> None:
    """The memo kept between cuts (each fact as it stands untouched, by position) changes
    no answer: any sequence of cuts through one memo equals the same cuts folded afresh,
    whatever facts about facts fall inside or outside each cut."""
    ours = fresh_track()
    items = [dict(i, track=ours) for i in _expand(history)]
    _append_in_batches(store, [_as_fact(i, sources[0]) for i in items], [len(items)])
    events = list(store.read_track(ours))
    memo: dict[int, Any] = {}
    for _ in range(4):
        cut = data.draw(st.integers(0, len(events)))
        as_of = data.draw(st.sampled_from([None, D(2018, 8, 22), D(2018, 8, 24)]))
        possible = data.draw(st.booleans())
        fresh = project(ours, events[:cut], as_of=as_of, possible=possible)
        assert project(ours, events[:cut], as_of=as_of, possible=possible,
                       plain=memo) == fresh
    assert set(memo) <= {e.position for e in events}


def _utc(moment: Any) -> dt.datetime:
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=histories(), data=st.data())
def test_the_fold_ignores_how_other_tracks_interleave(store: EventStore,
                                                      sources: tuple[str, str],
                                                      history: list[dict[str, Any]],
                                                      data: st.DataObject) -> None:
    """The same facts on two tracks, other tracks' facts interleaved differently: one state."""
    items = _expand(history)
    mine = [i for i in items if i["track"] == "RUS-USA"]
    others = [i for i in items if i["track"] != "RUS-USA"]
    states = []
    for shuffle in (False, True):
        track, noise = fresh_track(), fresh_track()
        ids = {i["id"]: str(uuid.uuid4()) for i in items}
        copies = [_renamed(i, ids, track if i in mine else noise) for i in items]
        ordered = [c for c in copies if c["track"] == track]
        extra = [c for c in copies if c["track"] == noise]
        if shuffle:
            ordered = data.draw(st.permutations(extra)) + ordered
            merged = ordered
        else:
            merged = ordered + extra
        _append_in_batches(store, [_as_fact(i, sources[0]) for i in merged], [len(merged)])
        state = store.project(track)
        doc = _comparable(state.to_dict(), {v: k for k, v in ids.items()})
        # a speaker's statements of one date come in the order of their event ids, which
        # differ between the two copies by construction: compare them by their first ids
        doc["statements"].sort(key=lambda statement: statement["key"])
        states.append(doc)
    assert states[0] == states[1]
    assert others or all(i["track"] == "RUS-USA" for i in items)


def _renamed(item: dict[str, Any], ids: dict[str, str], track: str) -> dict[str, Any]:
    copy = dict(item, track=track, id=ids[item["id"]])
    for key in ("retracts", "redates", "withdraws"):
        if key in copy:
            copy[key] = ids[copy[key]]
    return copy


def _comparable(doc: Any, original_ids: dict[str, str]) -> Any:
    """The state without what differs by construction: positions, track names, event ids."""
    if isinstance(doc, dict):
        return {k: _comparable(v, original_ids) for k, v in doc.items()
                if k not in ("position", "track")}
    if isinstance(doc, list):
        return [_comparable(v, original_ids) for v in doc]
    if isinstance(doc, str):
        return original_ids.get(doc, doc)
    return doc


# -- read models ------------------------------------------------------------------------

def _stored(store: EventStore, track: str) -> Any:
    with store.engine.connect() as conn:
        return conn.execute(sa.text("SELECT version, position, code_version, state FROM "
                                    "track_states WHERE track = :t"), {"t": track}).first()


def test_the_read_model_follows_the_log(store: EventStore,
                                             sources: tuple[str, str]) -> None:
    geneva, _ = sources
    store.append("RUS-USA", [meeting("planned", "geneva", "2018-08-01", geneva)])
    assert store.catch_up() == 1  # the first catch-up builds from the whole log
    row = _stored(store, "RUS-USA")
    assert (row.version, row.position) == (1, 3)
    store.append("RUS-USA", [meeting("held", "geneva", "2018-08-23", geneva)])
    assert _stored(store, "RUS-USA").version == 1  # appends leave the read model alone
    assert store.catch_up() == 1 and store.catch_up() == 0
    row = _stored(store, "RUS-USA")
    assert (row.version, row.position) == (2, 4)
    served = store._read_models.current("RUS-USA")
    assert served is not None and served.meetings[0].status == "held"
    rebuilt = project("RUS-USA", list(store.read_track("RUS-USA")))
    assert served == rebuilt == store.project("RUS-USA")


def test_late_facts_and_corrections_refold_the_read_model(store: EventStore,
                                                          sources: tuple[str, str]) -> None:
    geneva, _ = sources
    held = str(uuid.uuid4())
    store.append("RUS-USA", [meeting("held", "geneva", "2018-08-23", geneva) | {
        "event_id": held}])
    store.append("RUS-USA", [meeting("planned", "geneva", "2018-08-01", geneva,
                                     place="Genève")])  # arrives late, about the past
    store.append("RUS-USA", [fact("fact.retracted", None, {"event": held, "reason": "x"},
                                  geneva, citations=[])])
    served = store._read_models.current("RUS-USA")
    assert served == project("RUS-USA", list(store.read_track("RUS-USA")))
    assert served is not None and served.meetings[0].status == "planned"


def test_a_new_projection_version_is_not_served_stale(store: EventStore,
                                                      sources: tuple[str, str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    geneva, _ = sources
    store.append("RUS-USA", [meeting("held", "geneva", "2018-08-23", geneva)])
    store.catch_up()
    assert _stored(store, "RUS-USA").code_version != 99
    monkeypatch.setattr("eventstore.storage.read_models.PROJECTION_VERSION", 99)
    assert store.project("RUS-USA").meetings[0].status == "held"  # caught up: rebuilt
    assert _stored(store, "RUS-USA").code_version == 99
    assert store.rebuild() == 1
    assert store._read_models.current("RUS-USA") is not None


def test_registering_an_actor_refolds_the_read_models(store: EventStore,
                                                      sources: tuple[str, str]) -> None:
    geneva, _ = sources
    store.append("RUS-USA", [meeting("held", "geneva", "2018-08-23", geneva,
                                     participants=[PATRUSHEV])])
    assert store.project("RUS-USA").meetings[0].participants[0].id == "RUS:nikolai patrouchev"
    store.append("$actors", [{"type": "actor.registered", "data": {
        "id": "patrushev", "name": "Nikolai Patrushev", "country": "RUS",
        "aliases": ["Nikolaï Patrouchev"]}}])
    served = store._read_models.current("RUS-USA")
    assert served is not None and served.meetings[0].participants[0].id == "patrushev"


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=histories(), data=st.data())
def test_incremental_read_model_equals_rebuild(store: EventStore, sources: tuple[str, str],
                                               history: list[dict[str, Any]],
                                               data: st.DataObject) -> None:
    """Appends in random batches, late facts included: the stored state is the rebuilt one."""
    ours, other, multi = fresh_tracks()
    items = _placed(history, ours, other, multi)
    _register(store)
    facts = [_as_fact(i, sources[0]) for i in items]
    index = 0
    while index < len(facts):  # random batches, catching up after some of them
        size = data.draw(st.integers(1, 4))
        store.append_many(facts[index:index + size])
        index += size
        if data.draw(st.booleans()):
            store.catch_up(limit=data.draw(st.integers(1, 5)))
    # each bilateral track shows the multilateral stream's events: FRA-RUS-USA's third,
    # the track of the two countries the others do not share, too
    views = {track for i in items for track in pairs(i["track"])}
    for track in views:
        served = store._read_models.current(track)
        assert served is not None
        assert served == project(track, list(store.read_all(track=track)),
                                 registry=store.registry())


def test_a_catch_up_round_never_folds_beyond_its_checkpoint(
        store: EventStore, sources: tuple[str, str]) -> None:
    """Found by the property above: refolding a new track read the events of later rounds."""
    geneva, _ = sources
    store.catch_up()
    store.append("RUS-USA", [meeting("planned", "a", "2018-08-01", geneva)])
    store.append("RUS-USA", [meeting("held", "a", "2018-08-23", geneva)])
    assert store.catch_up(limit=1) == 2  # two rounds of one event
    served = store._read_models.current("RUS-USA")
    assert served == project("RUS-USA", list(store.read_track("RUS-USA")))
    assert served is not None and served.facts == 2


# -- chronology: what a reader sees, by when it most likely happened ---------------------

_EDTF_VALUES = ["2018-08-24", "2018-08", "2018", "../2018-08-24", "2018-08-24/..",
                "2018-07-16?", "2018-03-01/2018-03-03", "2018-06-27", "2018-06-27/2018-07",
                "../2018-06", "2017-12/..", "2018~", "2019-01-02"]


@given(st.lists(st.sampled_from(_EDTF_VALUES), min_size=2, max_size=8))
def test_chronology_is_a_total_order_that_agrees_with_the_bounds(values: list[str]) -> None:
    """Naive oracle: whenever one interval lies wholly before another, it sorts first; and
    sorting is stable under reordering of the input (a total order)."""
    from eventstore.projection.timeline import chronology_key
    valid = [parse_valid_time(v) for v in values]
    keys = [chronology_key(v) for v in valid]
    for a, b in zip(range(len(values)), range(1, len(values)), strict=False):
        va, vb = valid[a], valid[b]
        if va.upper is not None and vb.lower is not None and va.upper < vb.lower:
            assert keys[a] < keys[b], (values[a], values[b])
        if vb.upper is not None and va.lower is not None and vb.upper < va.lower:
            assert keys[b] < keys[a], (values[a], values[b])
    assert sorted(keys) == sorted(reversed(keys))


def test_on_or_before_sorts_beside_its_known_end() -> None:
    from eventstore.projection.timeline import chronology_key
    values = ["2018-08-24", "../2018-08-24", "2018-06-27", "2018-07-16?", "2018-08-25/.."]
    ordered = sorted(values, key=lambda v: chronology_key(parse_valid_time(v)))
    assert ordered == ["2018-06-27", "2018-07-16?", "2018-08-24", "../2018-08-24",
                       "2018-08-25/.."]
    assert chronology_key(None) > chronology_key(parse_valid_time("9999-12-31"))


def test_a_plan_whose_day_has_passed_is_overdue(store: EventStore,
                                                sources: tuple[str, str]) -> None:
    """A planned meeting or declaration, or an announced action, whose scheduled date (its
    latest possible day) lies before the day asked about and has no report since, is
    flagged overdue; one not yet due, or with an open end, is not."""
    geneva, _ = sources
    store.append("RUS-USA", [
        meeting("planned", "vienna", "2018-08-01", geneva, scheduled="2018-09-05"),
        meeting("planned", "paris", "2018-08-01", geneva, scheduled="2018-09"),
        meeting("planned", "someday", "2018-08-01", geneva, scheduled="2018-09-01/.."),
        meeting("planned", "unsaid", "2018-08-01", geneva),  # no schedule: never overdue
        fact("declaration.planned", "../2018-09-10", {"key": "joint", "title": "déclaration",
                                                       "parties": ["RUS", "USA"]},
             geneva),
        meeting("planned", "geneva", "2018-08-23", geneva),
        meeting("held", "geneva", "2018-08-23", geneva)])
    state = store.project("RUS-USA")
    assert state.open_items == state.open_items_on(None)
    assert all(item.overdue is None for item in state.open_items)
    on = {item.key: item.overdue for item in state.open_items_on(D(2018, 9, 20))}
    assert on == {"vienna": "overdue: planned for 5 Sep 2018, no report of it since",
                  "paris": None,  # September is not over yet
                  "someday": None,  # an open end: it may still come
                  "unsaid": None,
                  "joint": "overdue: planned for on or before 10 Sep 2018, no report of it "
                           "since"}
    assert "geneva" not in on  # held: reported
    as_of = store.project("RUS-USA", as_of=D(2018, 10, 1), possible=True)
    assert {i.key for i in as_of.open_items if i.overdue} == {"vienna", "paris", "joint"}
    doc = state.to_dict(today=D(2018, 9, 6))
    assert [i["overdue"] for i in doc["open_items"] if i["key"] == "vienna"] == [
        "overdue: planned for 5 Sep 2018, no report of it since"]
