"""The vocabulary of issue 12: every stance and incident kind coded in CAMEO and PLOVER,
the page shows the code's tables, and facts of the old shapes still read.

The crosswalk below is a naive oracle: the PLOVER type of each CAMEO code the vocabulary
uses, copied from the PLOVER project's ``CAMEO2PLOVER-2021.txt`` (openeventdata/PLOVER).
The vocabulary departs from it only where docs/facts.md says so.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from eventstore import (
    DuplicateEventError,
    EventStore,
    ValidationError,
    canonical_json,
    parse_valid_time,
    resolve_citation,
)
from eventstore.audit.chain import chain_problems
from eventstore.codec import decode_stored, sha256_hex, structure_data, unstructure_data
from eventstore.events import citations_bytes
from eventstore.facts import (
    FACT_TYPES,
    UPCASTERS,
    ActionAnnounced,
    IncidentKind,
    MeetingCancelled,
    Party,
    Stance,
    StatementMade,
    upcast,
)
from eventstore.storage.append import _Prepared
from eventstore.vocabulary import (
    INCIDENTS,
    PLOVER_TYPES,
    STANCES,
    Coding,
    coding,
    markdown_table,
)
from tests.conftest import ARTICLE_GENEVA, ARTICLE_MOSCOW

DOCS = Path(__file__).resolve().parent.parent / "docs"

#: CAMEO code → PLOVER type, as the crosswalk gives it (CAMEO 01 and 02 are not in it).
CROSSWALK = {"030": "AGREE", "036": "AGREE", "051": "SUPPORT", "070": "AID",
             "0841": "RETREAT", "100": "DEMAND", "111": "ACCUSE", "112": "ACCUSE",
             "120": "REJECT", "130": "THREATEN", "154": "MOBILIZE", "161": "SANCTION",
             "163": "COERCE", "171": "COERCE", "173": "COERCE", "174": "COERCE",
             "190": "ASSAULT", "191": "COERCE"}
#: Where the vocabulary follows the PLOVER manual's text instead (docs/facts.md says so).
DEPARTURES = {"163": "SANCTION"}
#: The nine stances of statement.made version 2.
OLD_STANCES = ["warning", "assurance", "rejection", "proposal", "congratulation", "hope",
               "offer", "demand", "assessment"]


# -- the tables -----------------------------------------------------------------------

def test_every_stance_and_incident_kind_has_one_coding() -> None:
    assert set(STANCES) == set(Stance)
    assert set(INCIDENTS) == set(IncidentKind)
    for code in [*STANCES.values(), *INCIDENTS.values()]:
        assert isinstance(code, Coding) and isinstance(code.cameo, str)
        assert re.fullmatch(r"(0[1-9]|1[0-9]|20)[0-9]{1,2}", code.cameo)
        assert code.plover is None or code.plover in PLOVER_TYPES
        # PLOVER codes no public statements (CAMEO 01) or appeals (02), and everything else
        assert (code.plover is None) == (code.cameo_root in ("01", "02")), code
        assert code.label and code.label == code.label.strip()


def test_every_code_agrees_with_the_crosswalk() -> None:
    for code in [*STANCES.values(), *INCIDENTS.values()]:
        if code.cameo_root in ("01", "02"):  # not coded by PLOVER
            assert code.plover is None
            continue
        wanted = DEPARTURES.get(code.cameo, CROSSWALK[code.cameo])
        assert code.plover == wanted, f"CAMEO {code.cameo}: {code.plover} is not {wanted}"


def test_leading_zeros_are_kept() -> None:
    assert STANCES[Stance.INTENT_TO_MEET].cameo == "036"
    assert INCIDENTS[IncidentKind.RELEASE].cameo == "0841"
    assert coding("intent_to_meet").cameo_root == "03"
    with pytest.raises(ValueError, match="not a CAMEO event code"):
        Coding(36, "AGREE", None, "x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a PLOVER event type"):
        Coding("036", "AGREES", None, "x")


def test_the_issue_stances_are_there() -> None:
    """Accusing, criticising, denying, demanding, threatening, appealing, praising,
    intending to meet or cooperate, agreeing, refusing."""
    wanted = {"accusation": "ACCUSE", "criticism": "ACCUSE", "denial": None,
              "demand": "DEMAND", "threat": "THREATEN", "appeal": None,
              "praise": "SUPPORT", "intent_to_meet": "AGREE", "intent_to_cooperate": "AGREE",
              "agreement": "AGREE", "refusal": "REJECT"}
    assert {name: coding(name).plover for name in wanted} == wanted


def test_coding_of_an_unknown_word() -> None:
    with pytest.raises(KeyError, match="neither a stance nor an incident kind"):
        coding("jubilation")


@pytest.mark.parametrize("stance", list(Stance))
def test_every_display_words_a_stance_with_its_codes(stance: Stance) -> None:
    from eventstore.vocabulary import stance_words

    code = STANCES[stance]
    words = stance_words(stance.value)
    assert words.startswith(stance.value.replace("_", " ") + ": CAMEO " + code.cameo)
    assert words.endswith(f", PLOVER {code.plover}" if code.plover else code.cameo)
    assert stance_words("jubilation") == "jubilation"


def test_the_page_shows_the_code_s_tables() -> None:
    page = (DOCS / "facts.md").read_text(encoding="utf-8")
    assert markdown_table(STANCES, "stance") in page
    assert markdown_table(INCIDENTS, "incident kind") in page
    # and the enumerations table lists the same words
    for member in [*Stance, *IncidentKind]:
        assert f"`{member.value}`" in page


# -- old shapes still read (upcast, never rewritten) -----------------------------------

BOLTON = {"name": "John Bolton", "country": "USA", "role": "conseiller"}


@pytest.mark.parametrize("stance", OLD_STANCES)
def test_the_old_stances_still_read(stance: str) -> None:
    v1 = {"speaker": BOLTON, "stance": stance, "text": "x"}
    v2 = {"speaker": BOLTON, "stance": stance, "content": "x"}
    for version, payload in ((1, v1), (2, v2)):
        data = decode_stored("statement.made", version, payload)
        assert isinstance(data, StatementMade) and data.stance == Stance(stance)
        assert data.condition is None and data.content == "x"
        assert STANCES[data.stance].cameo  # and they are coded


def test_every_changed_type_has_an_upcaster_per_version() -> None:
    for name, cls in FACT_TYPES.items():
        for version in range(1, cls.schema_version):
            assert (name, version) in UPCASTERS, f"{name} v{version} has no upcaster"


def test_action_v1_is_read_with_its_actor_as_the_one_actor() -> None:
    v1 = {"key": "press", "actor": BOLTON, "action": "conférence", "expected": "2018-06-27"}
    data = decode_stored("action.announced", 1, dict(v1))
    assert data == ActionAnnounced(key="press", actors=(Party(**BOLTON),), action="conférence",
                                   expected="2018-06-27")
    assert upcast("action.announced", 1, dict(v1))["actors"] == [BOLTON]
    # the current shape refuses the old field, saying where
    with pytest.raises(ValidationError, match=r"required field missing @ data\.actors; "
                       r"extra fields found \(actor\) @ data"):
        structure_data("action.announced", v1)


def test_meeting_cancelled_v1_has_no_side() -> None:
    assert decode_stored("meeting.cancelled", 1, {"key": "x"}) == MeetingCancelled(key="x")


def _write_stored(store: EventStore, type_name: str, version: int, payload: dict[str, Any],
                  source: str, quote: str, date: str = "2018-06-27") -> uuid.UUID:
    """Write an event as an older eventstore stored it (the append path writes only the
    current version)."""
    body = canonical_json(payload).decode()
    cite = resolve_citation(store.get_source(source).text, source, quote)
    event_id = uuid.uuid4()
    prepared = _Prepared(
        event_id=event_id, caller_id=False, track="RUS-USA", type=type_name,
        schema_version=version, valid=parse_valid_time(date), correlation_id=None,
        causation_id=None, payload_body=body, payload_hash=sha256_hex(body.encode()),
        cited=(cite.to_dict(),), citations_hash=sha256_hex(citations_bytes([cite])))
    appender = store._appender
    with appender._db.write() as conn:
        appender.write(conn, [prepared], {})
    return event_id


def test_stored_old_rows_read_project_and_verify(store: EventStore) -> None:
    moscow = store.add_source(ARTICLE_MOSCOW.read_bytes()).id
    store.add_source(ARTICLE_GENEVA.read_bytes(), body_until="Chine : une logistique")
    quote = "M. Bolton devrait donner une conférence de presse"
    _write_stored(store, "action.announced", 1,
                  {"key": "press", "actor": BOLTON, "action": "conférence de presse"},
                  moscow, quote)
    _write_stored(store, "statement.made", 2,
                  {"speaker": BOLTON, "stance": "hope", "content": "améliorer les relations"},
                  moscow, "attendait avec impatience des discussions")
    _write_stored(store, "meeting.planned", 1, {"key": "summit", "kind": "summit"}, moscow,
                  "jeter les bases d'un sommet")
    _write_stored(store, "meeting.cancelled", 1, {"key": "summit"}, moscow,
                  "jeter les bases d'un sommet", date="2018-06-28")
    with store.engine.connect() as conn:
        bodies = [json.loads(r.body) for r in conn.execute(sa.text(
            "SELECT p.body FROM payloads p JOIN events e ON e.position = p.position "
            "WHERE e.type = 'action.announced'"))]
    assert bodies == [{"key": "press", "actor": BOLTON, "action": "conférence de presse"}]
    state = store.project("RUS-USA")
    (action,) = state.actions
    assert [a.name for a in action.actors] == ["John Bolton"] and action.target is None
    (statement,) = state.statements
    assert statement.stance == "hope" and statement.condition is None
    (meeting,) = state.meetings
    assert meeting.status == "cancelled" and meeting.by is None
    assert list(chain_problems(store.read_all())) == []  # the stored bytes still verify
    assert store.verify().ok


def test_payloads_round_trip_with_the_new_fields() -> None:
    data = structure_data("statement.made", {"speaker": BOLTON, "stance": "intent_to_meet",
                                             "content": "rencontrer", "condition": "si"})
    assert unstructure_data(data)["condition"] == "si"
    assert "condition" not in unstructure_data(structure_data(
        "statement.made", {"speaker": BOLTON, "stance": "hope", "content": "x"}))


def test_a_fact_stored_in_an_older_shape_is_re_sent_idempotently(store: EventStore) -> None:
    """After a type changed shape, the same fact re-sent in the new shape (same event id)
    is the stored one; a different one is still refused."""
    moscow = store.add_source(ARTICLE_MOSCOW.read_bytes()).id
    quote = "M. Bolton devrait donner une conférence de presse"
    stored = _write_stored(store, "action.announced", 1,
                           {"key": "press", "actor": BOLTON, "action": "conférence"},
                           moscow, quote)
    again = {"type": "action.announced", "track": "RUS-USA", "date": "2018-06-27",
             "event_id": str(stored), "data": {"key": "press", "actors": [BOLTON],
                                               "action": "conférence"},
             "citations": [{"source": moscow, "quote": quote}]}
    head = store.head()
    result = store.append_many([again])
    assert result.written == 0 and not result.events[0].new and store.head() == head
    again["data"]["actors"] = [BOLTON, BOLTON | {"name": "Sergueï Lavrov", "country": "RUS"}]
    with pytest.raises(DuplicateEventError, match="already stored .* with different content"):
        store.append_many([again])
    assert store.head() == head
