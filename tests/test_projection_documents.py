"""The JSON documents of a state and of a history step, key for key and in their order.

``docs/projections.md`` publishes these shapes (``project --format json``, ``history
--format json``); they are built on the converter ``codec.documents``, and these tests pin
them, with the places where they differ from the converter's plain form: moments in UTC,
a topic's first and last meetings as EDTF strings, a step's valid time as ``date``, and
the open items last.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import attrs

from eventstore import Step, TrackState, parse_valid_time
from eventstore.codec import documents
from eventstore.projection.state import Evidence, Invitation, Meeting, PartyRef, Stage, Topic

GENEVA = parse_valid_time("2018-08-23", text="jeudi", anchor="2018-08-24")
JULY = parse_valid_time("2018-07")
JULY_DATE = {"edtf": "2018-07", "lower": "2018-07-01", "upper": "2018-07-31", "text": None,
             "anchor": None, "resolved": False, "words": "Jul 2018"}
CITE = Evidence("e1", 9, "7c3a", 95, 210, "une rencontre à Genève")
BOLTON = PartyRef("john-bolton", "John Bolton", "USA", "conseiller")
DATE = {"edtf": "2018-08-23", "lower": "2018-08-23", "upper": "2018-08-23", "text": "jeudi",
        "anchor": "2018-08-24", "resolved": False, "words": "23 Aug 2018"}
CITATION = {"event_id": "e1", "position": 9, "source": "7c3a", "start": 95, "end": 210,
            "exact": "une rencontre à Genève", "erased": False}
PARTY = {"id": "john-bolton", "name": "John Bolton", "country": "USA", "role": "conseiller",
         "inferred": None}


def same_document(doc: Any, expected: Any) -> bool:
    """Equal, keys in the same order (what ``json.dumps`` prints)."""
    return json.dumps(doc, ensure_ascii=False) == json.dumps(expected, ensure_ascii=False)


def test_a_state_document_has_the_published_shape() -> None:
    state = TrackState(
        track="RUS-USA", as_of=dt.date(2018, 8, 24),
        known_at=dt.datetime(2026, 11, 23, 13, 33, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        possible=False, position=12, facts=3,
        meetings=(Meeting(key="geneva", status="held", kind="talks", date=GENEVA,
                          place="Genève", participants=(BOLTON,), topics=("Syrie",),
                          scheduled=None, reason=None, outcome_only=False,
                          citations=(CITE,), stages=(Stage("planned", JULY),
                                                     Stage("held", GENEVA))),),
        invitations=(Invitation(key="moscow", status="extended", inviter=None,
                                invitee=BOLTON, place="Moscou", purpose=None, reason=None,
                                fulfilled_by=None, date=None, outcome_only=False,
                                citations=()),),
        topics=(Topic(key="Syrie", status="discussed", first=JULY, last=GENEVA,
                      meetings=("helsinki", "geneva"), date=GENEVA, citations=(CITE,)),))
    meeting = {"key": "geneva", "status": "held", "kind": "talks", "date": DATE,
               "place": "Genève", "participants": [PARTY], "topics": ["Syrie"],
               "scheduled": None, "reason": None, "outcome_only": False,
               "citations": [CITATION], "purpose": None, "notes": [], "fulfils": None,
               "condition": None, "by": None, "rescheduled": [],
               "stages": [{"status": "planned", "date": JULY_DATE},
                          {"status": "held", "date": DATE}],
               "at": None, "multilateral": None,
               "lifecycle": "planned Jul → held 23 Aug 2018", "side_meetings": []}
    invitation = {"key": "moscow", "status": "extended", "inviter": None, "invitee": PARTY,
                  "place": "Moscou", "purpose": None, "reason": None, "fulfilled_by": None,
                  "date": None, "outcome_only": False, "citations": [], "notes": [], "by": None,
                  "stages": [], "multilateral": None, "lifecycle": "extended"}
    topic = {"key": "Syrie", "status": "discussed", "first": "2018-07", "last": "2018-08-23",
             "meetings": ["helsinki", "geneva"], "date": DATE, "citations": [CITATION],
             "names": [], "registered": None}
    open_items = [
        {"kind": "invitation", "key": "moscow", "status": "extended",
         "what": "invitation of John Bolton to Moscou", "date": None, "citations": [],
         "overdue": None},
        ]
    assert same_document(state.to_dict(), {
        "track": "RUS-USA", "as_of": "2018-08-24", "known_at": "2026-11-23T12:33:00.000000Z",
        "possible": False, "position": 12, "facts": 3, "meetings": [meeting],
        "declarations": [], "invitations": [invitation], "statements": [], "topics": [topic],
        "actions": [], "redacted": [], "incidents": [], "open_items": open_items})


def test_a_state_without_cuts_has_null_cuts() -> None:
    doc = TrackState(track="RUS-USA", as_of=None, known_at=None, possible=True, position=0,
                     facts=0).to_dict()
    assert (doc["as_of"], doc["known_at"], doc["possible"]) == (None, None, True)
    assert doc["open_items"] == [] and doc["meetings"] == []


def test_a_step_document_has_the_published_shape() -> None:
    step = Step(position=9, event_id="e1", type="meeting.planned", valid=GENEVA,
                recorded_at=dt.datetime(2026, 11, 23, 12, 33, 25, 748461), changes=("a", "b"),
                citations=(CITE,))
    assert same_document(step.to_dict(), {
        "position": 9, "event_id": "e1", "type": "meeting.planned", "date": DATE,
        "recorded_at": "2026-11-23T12:33:25.748461Z", "changes": ["a", "b"],
        "citations": [CITATION], "stream": None})
    multilateral = attrs.evolve(step, stream="CHN-IND-RUS")
    assert multilateral.to_dict()["stream"] == "CHN-IND-RUS"


def test_the_documents_converter_writes_days_moments_and_ids_as_text_and_reads_them() -> None:
    moment = dt.datetime(2026, 11, 23, 12, 33, 25, 748461, tzinfo=dt.UTC)
    event_id = uuid.UUID("8aca400c-e73e-593b-b3be-c62d96409cca")
    plain = documents.unstructure([dt.date(2018, 8, 23), moment, event_id])
    assert plain == ["2018-08-23", "2026-11-23T12:33:25.748461+00:00",
                     "8aca400c-e73e-593b-b3be-c62d96409cca"]
    assert documents.structure(plain[0], dt.date) == dt.date(2018, 8, 23)
    assert documents.structure(plain[1], dt.datetime) == moment
    assert documents.structure(plain[2], uuid.UUID) == event_id
