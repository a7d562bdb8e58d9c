"""Issue 12 in the state: conditions, who acted, postponements, actions that did not
happen, withdrawals, incidents; each in every display; each bad input refused.

Every display is checked: ``project`` (table, markdown, JSON), ``history``, and the HTML
page of ``eventstore report``; none shows a raw Python value.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from eventstore import EventNotFound, EventStore, ValidationError
from eventstore.cli import cli
from eventstore.cli.render import history_text, state_text
from eventstore.report import track_report
from tests.conftest import ARTICLE_GENEVA, ARTICLE_MOSCOW
from tests.test_cli import Cli, run  # noqa: F401  (the fixture)

D = dt.date
BOLTON = {"name": "John Bolton", "country": "USA", "role": "conseiller"}
PUTIN = {"name": "Vladimir Poutine", "country": "RUS", "role": "président"}
LAVROV = {"name": "Sergueï Lavrov", "country": "RUS"}
PRESS = "M. Bolton devrait donner une conférence de presse"
SUMMIT = "jeter les bases d'un sommet"
OFFER = "s'est déclaré prêt à partager son expérience avec Washington"


@pytest.fixture
def moscow(store: EventStore) -> str:
    store.add_source(ARTICLE_GENEVA.read_bytes(), body_until="Chine : une logistique")
    return store.add_source(ARTICLE_MOSCOW.read_bytes()).id


def fact(type_: str, date: str, data: dict[str, Any], source: str, quote: str,
         **extra: Any) -> dict[str, Any]:
    return {"type": type_, "track": "RUS-USA", "date": date, "data": data,
            "citations": [{"source": source, "quote": quote}], **extra}


def _displays(store: EventStore, today: D | None = None) -> dict[str, str]:
    """Every way a person or a script sees the track."""
    state = store.project("RUS-USA")
    steps = store.history("RUS-USA")
    shown = {
        "table": state_text(state, today=today),
        "markdown": state_text(state, markdown=True, today=today),
        "json": json.dumps(state.to_dict(today=today), ensure_ascii=False),
        "history": history_text(steps),
        "history-json": json.dumps([s.to_dict() for s in steps], ensure_ascii=False,
                                   default=str),
        "report": track_report(store, "RUS-USA", today=today),
    }
    for name, text in shown.items():
        text = text.replace('<p class="none">None.</p>', "")  # the page's word for "none"
        for raw in ("None", "<eventstore", "PartyRef(", "ValidTime(", "Stance."):
            assert raw not in text, f"{name} shows a raw Python value {raw!r}"
    return shown


def _everywhere(shown: dict[str, str], *words: str, but: tuple[str, ...] = ()) -> None:
    for name, text in shown.items():
        if name in but:
            continue
        for word in words:
            assert word in text, f"{name} does not show {word!r}"


# -- 2. a condition ----------------------------------------------------------------------

def test_a_condition_is_shown_wherever_the_item_is(store: EventStore, moscow: str) -> None:
    store.append("RUS-USA", [
        fact("statement.made", "2018-06-27", {
            "speaker": PUTIN, "stance": "agreement", "content": "Nous signerons l'accord.",
            "condition": "une fois le cessez-le-feu respecté"}, moscow, OFFER),
        fact("meeting.planned", "2018-06-27", {
            "key": "summit", "kind": "summit", "condition": "si le lieu est arrêté"},
            moscow, SUMMIT),
        fact("declaration.planned", "2018-06-27", {
            "key": "accord", "title": "accord", "parties": ["RUS", "USA"],
            "condition": "après le sommet"}, moscow, SUMMIT),
        fact("action.announced", "2018-06-27", {
            "key": "press", "actors": [BOLTON], "action": "conférence de presse",
            "condition": "si la visite se termine à temps"}, moscow, PRESS),
    ])
    state = store.project("RUS-USA")
    assert state.statements[0].condition == "une fois le cessez-le-feu respecté"
    assert state.meetings[0].condition == "si le lieu est arrêté"
    assert state.declarations[0].condition == "après le sommet"
    assert state.actions[0].condition == "si la visite se termine à temps"
    shown = _displays(store)
    _everywhere(shown, "une fois le cessez-le-feu respecté", "si le lieu est arrêté",
                "après le sommet", "si la visite se termine à temps")


# -- 3. who did it: cancelled by, postponed, withdrawn the same day -----------------------

def test_a_meeting_cancelled_by_one_side(store: EventStore, moscow: str) -> None:
    store.append("RUS-USA", [
        fact("meeting.planned", "2018-06-27", {"key": "summit", "kind": "summit",
                                               "scheduled": "2018-07-16"}, moscow, SUMMIT),
        fact("meeting.cancelled", "2018-07-01", {"key": "summit", "by": PUTIN,
                                                 "reason": "désaccord"}, moscow, SUMMIT),
    ])
    (meeting,) = store.project("RUS-USA").meetings
    assert meeting.status == "cancelled" and meeting.by is not None
    assert meeting.by.name == "Vladimir Poutine" and meeting.by.country == "RUS"
    shown = _displays(store)
    _everywhere(shown, "Vladimir Poutine", "cancelled")
    assert "    meeting 'summit': by: Vladimir Poutine" in shown["history"].splitlines()
    # the day it was to be held stays said, in the table as on the page
    assert "by Vladimir Poutine (was scheduled for 2018-07-16)" in shown["table"]
    assert "2018-07-16" in shown["report"] and meeting.scheduled == "2018-07-16"


def test_a_declaration_not_signed_and_an_invitation_declined_by_one_side(
        store: EventStore, moscow: str) -> None:
    store.append("RUS-USA", [
        fact("declaration.planned", "2018-06-27", {"key": "accord", "title": "accord",
                                                   "parties": ["RUS", "USA"]}, moscow, SUMMIT),
        fact("declaration.not_signed", "2018-06-28", {"key": "accord", "by": LAVROV},
             moscow, SUMMIT),
        fact("invitation.extended", "2018-06-27", {"key": "visit", "inviter": PUTIN,
                                                   "invitee": BOLTON}, moscow, OFFER),
        fact("invitation.declined", "2018-06-29", {"key": "visit", "by": BOLTON,
                                                   "reason": "agenda"}, moscow, OFFER),
    ])
    state = store.project("RUS-USA")
    assert state.declarations[0].by is not None and state.declarations[0].by.name == \
        "Sergueï Lavrov"
    assert state.invitations[0].status == "declined"
    assert state.invitations[0].by is not None and state.invitations[0].by.name == \
        "John Bolton"
    shown = _displays(store)
    _everywhere(shown, "Sergueï Lavrov", "by: John Bolton", but=(
        "table", "markdown", "json", "report", "history-json"))
    _everywhere(shown, "by Sergueï Lavrov", but=("json", "history", "history-json", "report"))
    assert "not signed by Sergueï Lavrov" in shown["report"]
    assert "declined by John Bolton" in shown["report"]


def test_a_meeting_postponed_keeps_its_old_date_in_the_history(store: EventStore,
                                                               moscow: str) -> None:
    store.append("RUS-USA", [
        fact("meeting.planned", "2018-06-27", {"key": "summit", "kind": "summit",
                                               "scheduled": "2018-07-16"}, moscow, SUMMIT),
        fact("meeting.postponed", "2018-07-10", {"key": "summit", "scheduled": "2018-09",
                                                 "by": BOLTON, "reason": "agenda"},
             moscow, SUMMIT),
    ])
    (meeting,) = store.project("RUS-USA").meetings
    assert (meeting.status, meeting.scheduled, meeting.rescheduled) == (
        "postponed", "2018-09", ("2018-07-16",))
    assert meeting.by is not None and meeting.by.name == "John Bolton"
    steps = store.history("RUS-USA")
    assert steps[1].changes == (
        "meeting 'summit': planned → postponed", "meeting 'summit': scheduled 2018-07-16 → "
        "2018-09", "meeting 'summit': reason: agenda", "meeting 'summit': by: John Bolton",
        "meeting 'summit': rescheduled + 2018-07-16")
    # open, and due on the new date: overdue only once September has passed
    state = store.project("RUS-USA")
    (still,) = state.open_items_on(D(2018, 8, 1))
    assert still.status == "postponed" and still.overdue is None
    (late,) = state.open_items_on(D(2018, 10, 2))
    assert late.overdue == "overdue: rescheduled for Sep 2018, no report of it since"
    # as of before the postponement: planned for July
    before = store.project("RUS-USA", as_of=D(2018, 7, 1))
    assert before.meetings[0].status == "planned" and before.meetings[0].rescheduled == ()
    shown = _displays(store, today=D(2018, 10, 2))
    _everywhere(shown, "2018-07-16", "postponed", but=("history", "history-json"))
    _everywhere(shown, "rescheduled", but=("history", "history-json"))
    # and once held, it is no longer open
    store.append("RUS-USA", [fact("meeting.held", "2018-09-20", {
        "key": "summit", "kind": "summit", "participants": [BOLTON, PUTIN]}, moscow, SUMMIT)])
    assert store.project("RUS-USA").open_items == ()


def test_an_intention_withdrawn_the_same_day(store: EventStore, moscow: str) -> None:
    made = store.append("RUS-USA", [fact("statement.made", "2018-06-27", {
        "speaker": PUTIN, "stance": "intent_to_cooperate", "content": "partager"},
        moscow, OFFER)]).events[0].event_id
    store.append("RUS-USA", [fact("statement.withdrawn", "2018-06-27", {
        "statement": str(made), "by": PUTIN, "reason": "revirement"}, moscow, OFFER)])
    (statement,) = store.project("RUS-USA").statements
    assert statement.status == "withdrawn" and statement.withdrawn is not None
    assert statement.withdrawn.edtf == "2018-06-27" and statement.withdrawn_reason == "revirement"
    assert len(statement.citations) == 2
    steps = store.history("RUS-USA")
    assert [s.type for s in steps] == ["statement.made", "statement.withdrawn"]
    assert steps[1].changes[0] == f"statement '{made}': made → withdrawn"
    shown = _displays(store)
    _everywhere(shown, "withdrawn", "revirement")
    assert "intent to cooperate: CAMEO 030, PLOVER AGREE" in shown["report"]
    # before it was withdrawn it stood: the history's first step, and a cut by record time
    assert store.project("RUS-USA", known_at=steps[0].recorded_at).statements[0].status == "made"


def test_a_withdrawal_folded_before_its_statement_waits_for_it(store: EventStore,
                                                               moscow: str) -> None:
    """A withdrawal dated before its statement (a source's vague date) still applies."""
    made = uuid.uuid4()
    store.append("RUS-USA", [
        fact("statement.made", "2018-06-27", {"speaker": PUTIN, "stance": "offer",
                                              "content": "partager"}, moscow, OFFER,
             event_id=str(made)),
        fact("statement.withdrawn", "../2018-06-27", {"statement": str(made)}, moscow, OFFER),
    ])
    assert store.project("RUS-USA").statements[0].status == "withdrawn"
    store.catch_up()
    served = store._read_models.current("RUS-USA")
    assert served is not None and served.statements[0].status == "withdrawn"


# -- 4. actions: a full lifecycle, several actors, a target ------------------------------

@pytest.mark.parametrize(("outcome", "status"), [("action.done", "done"),
                                                 ("action.abandoned", "abandoned"),
                                                 ("action.called_off", "called_off")])
def test_an_action_that_did_not_happen_is_said_so(store: EventStore, moscow: str,
                                                 outcome: str, status: str) -> None:
    data: dict[str, Any] = {"key": "press"}
    if outcome != "action.done":
        data |= {"by": LAVROV, "reason": "changement de programme"}
    store.append("RUS-USA", [
        fact("action.announced", "2018-06-27", {
            "key": "press", "actors": [BOLTON, PUTIN], "target": LAVROV,
            "action": "conférence de presse commune", "expected": "2018-06-27"},
            moscow, PRESS),
        fact(outcome, "2018-06-28", data, moscow, PRESS),
    ])
    state = store.project("RUS-USA")
    (action,) = state.actions
    assert action.status == status and not action.outcome_only
    assert [a.name for a in action.actors] == ["John Bolton", "Vladimir Poutine"]
    assert action.target is not None and action.target.name == "Sergueï Lavrov"
    assert state.open_items_on(D(2019, 1, 1)) == ()  # not open, not overdue
    shown = _displays(store, today=D(2019, 1, 1))
    _everywhere(shown, "John Bolton", "Vladimir Poutine", "Sergueï Lavrov",
                status.replace("_", " "), but=("json", "history-json"))
    _everywhere(shown, status, but=("table", "markdown", "history", "report"))
    if outcome != "action.done":
        _everywhere(shown, "changement de programme")


def test_an_announced_action_is_open_until_its_outcome(store: EventStore,
                                                       moscow: str) -> None:
    store.append("RUS-USA", [fact("action.announced", "2018-06-27", {
        "key": "press", "actors": [BOLTON], "action": "conférence", "expected": "2018-06-27"},
        moscow, PRESS)])
    (item,) = store.project("RUS-USA").open_items_on(D(2018, 7, 1))
    assert item.kind == "action" and item.overdue is not None


# -- 5. incidents ---------------------------------------------------------------------------

def test_an_incident_has_its_own_section_and_codes(store: EventStore, moscow: str) -> None:
    store.append("RUS-USA", [
        fact("incident.occurred", "2018-06-28", {
            "key": "ship", "kind": "seizure", "actors": [PUTIN], "target": BOLTON,
            "what": "un navire saisi", "place": "mer Noire"}, moscow, SUMMIT),
        fact("incident.occurred", "2018-06-29", {
            "key": "ship", "kind": "seizure", "actors": [LAVROV],
            "what": "un navire saisi et son équipage retenu"}, moscow, PRESS),
    ])
    (incident,) = store.project("RUS-USA").incidents
    assert (incident.kind, incident.plover, incident.mode, incident.cameo) == (
        "seizure", "COERCE", "confiscate", "171")
    assert [a.name for a in incident.actors] == ["Vladimir Poutine", "Sergueï Lavrov"]
    assert incident.place == "mer Noire" and len(incident.citations) == 2
    assert store.project("RUS-USA").open_items == ()
    shown = _displays(store)
    _everywhere(shown, "COERCE", "171", "mer Noire", "un navire saisi et son équipage retenu")
    assert "Incidents (1)" in shown["table"] and "## Incidents (1)" in shown["markdown"]
    assert 'id="list-incidents"' in shown["report"]
    assert "incident 'ship': seizure (PLOVER COERCE, CAMEO 171) by Vladimir Poutine against " \
           "John Bolton: un navire saisi (new)" in shown["history"]


# -- bad input: refused with what and where, nothing written -------------------------------

@pytest.mark.parametrize(("type_", "data", "words"), [
    ("incident.occurred", {"key": "x", "kind": "skirmish", "actors": [BOLTON], "what": "y"},
     "not one of armed_clash, seizure"),
    ("incident.occurred", {"key": "x", "kind": "seizure", "actors": [], "what": "y"},
     "actors must not be empty @ data.actors"),
    ("incident.occurred", {"key": "x", "kind": "seizure", "actors": [BOLTON]},
     "required field missing @ data.what"),
    ("action.announced", {"key": "x", "actor": BOLTON, "action": "y"},
     "required field missing @ data.actors"),
    ("action.announced", {"key": "x", "actors": [BOLTON], "action": "y",
                          "target": {"name": "X", "country": "XXX"}},
     "country 'XXX' is not an ISO 3166 alpha-3 country code in upper case (e.g. USA, RUS) "
     "@ data.target.country"),
    ("statement.made", {"speaker": BOLTON, "stance": "jubilation", "content": "y"},
     "not one of warning"),
    ("statement.made", {"speaker": BOLTON, "stance": "threat", "content": "y",
                        "condition": "  "}, "condition is empty @ data.condition"),
    ("meeting.postponed", {"key": "x", "scheduled": "2018-13"},
     "'2018-13' is not a valid EDTF date"),
    ("meeting.cancelled", {"key": "x", "by": "Poutine"},
     "expected an object with fields, got text @ data.by"),
    ("statement.withdrawn", {"statement": "not-an-id"}, "is not an event id"),
])
def test_bad_payloads_are_refused_saying_where(store: EventStore, moscow: str, type_: str,
                                               data: dict[str, Any], words: str) -> None:
    head = store.head()
    with pytest.raises(ValidationError) as caught:
        store.append("RUS-USA", [fact(type_, "2018-06-27", data, moscow, PRESS)])
    assert words in str(caught.value)
    assert store.head() == head


def test_a_withdrawal_must_name_a_statement_of_its_track(store: EventStore,
                                                         moscow: str) -> None:
    held = store.append("RUS-USA", [fact("meeting.planned", "2018-06-27", {
        "key": "summit", "kind": "summit"}, moscow, SUMMIT)]).events[0].event_id
    elsewhere = store.append("FRA-RUS", [fact("statement.made", "2018-06-27", {
        "speaker": PUTIN, "stance": "offer", "content": "x"}, moscow, OFFER) | {
        "track": "FRA-RUS"}]).events[0].event_id
    head = store.head()
    cases = [(uuid.uuid4(), EventNotFound, "data.statement: no event has the id"),
             (held, ValidationError, "is a meeting.planned; a statement.withdrawn names a "
                                     "statement.made"),
             (elsewhere, ValidationError, "is on track FRA-RUS, not RUS-USA")]
    for target, error, words in cases:
        with pytest.raises(error) as caught:
            store.append("RUS-USA", [fact("statement.withdrawn", "2018-06-28", {
                "statement": str(target)}, moscow, OFFER)])
        assert words in str(caught.value) and "facts[0]: data.statement" in str(caught.value)
    assert store.head() == head
    # in the same batch, after its statement: accepted
    made = uuid.uuid4()
    store.append_many([
        fact("statement.made", "2018-06-27", {"speaker": PUTIN, "stance": "offer",
                                              "content": "x"}, moscow, OFFER,
             event_id=str(made)),
        fact("statement.withdrawn", "2018-06-28", {"statement": str(made).upper()}, moscow,
             OFFER)])
    assert [s.status for s in store.project("RUS-USA").statements] == ["withdrawn"]


# -- the command line ---------------------------------------------------------------------

def test_the_help_says_what_the_new_fields_are() -> None:
    result = CliRunner().invoke(cli, ["append", "statement.made", "--help"])
    assert result.exit_code == 0
    assert "--condition" in result.output and "ceasefire" in result.output
    result = CliRunner().invoke(cli, ["append", "incident.occurred", "--help"])
    for words in ("--kind", "armed_clash", "--data-actor", "repeatable", "--target", "--what"):
        assert words in result.output, words
    result = CliRunner().invoke(cli, ["append", "meeting.postponed", "--help"])
    assert "The new date it is to take place" in result.output


def test_the_command_line_appends_and_refuses_incidents(run: Cli) -> None:  # noqa: F811
    base = ["append", "incident.occurred", "--track", "RUS-USA", "--date", "2018-08-24",
            "--key", "expulsion", "--data-actor", "Kremlin:RUS", "--data-actor", "FSB:RUS",
            "--target", "diplomates américains:USA", "--what", "expulsion de diplomates",
            "--cite", "7c3a6282:ont eu jeudi une rencontre à Genève"]
    err = run.refused(*base, "--kind", "skirmish")
    assert "'skirmish' is not one of" in err and "Traceback" not in err
    err = run.refused(*[a if a != "Kremlin:RUS" else "Kremlin" for a in base],
                      "--kind", "diplomats_expelled")
    assert "--data-actor" in err and "NAME:COUNTRY[:ROLE]" in err
    run(*base, "--kind", "diplomats_expelled")
    shown = run("project", "--track", "RUS-USA").output
    assert "diplomats expelled (PLOVER SANCTION/expel, CAMEO 161) — Kremlin, FSB against " \
           "diplomates américains: expulsion de diplomates" in shown
    doc = json.loads(run("project", "--track", "RUS-USA", "--format", "json").output)
    (incident,) = doc["incidents"]
    assert incident["cameo"] == "161" and incident["plover"] == "SANCTION"
    assert incident["mode"] == "expel"


def test_a_jsonl_file_with_a_bad_new_fact_names_its_line(run: Cli,  # noqa: F811
                                                         tmp_path: Path) -> None:
    good = {"type": "incident.occurred", "track": "RUS-USA", "date": "2018-08-24",
            "data": {"key": "x", "kind": "arrest", "actors": [BOLTON], "what": "arrêté"},
            "citations": [{"source": "7c3a6282", "quote": "une rencontre à Genève"}]}
    bad = json.loads(json.dumps(good))
    bad["data"]["kind"] = "kidnap"
    path = run.file("facts.jsonl", "\n".join(json.dumps(f) for f in (good, bad)) + "\n")
    err = run.refused("append", "--file", path)
    assert f"{path}: line 2: incident.occurred: not one of armed_clash" in err
    assert "@ data.kind" in err
