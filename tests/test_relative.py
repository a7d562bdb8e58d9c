"""Relative dates: the source's words resolved against their anchor, and checked.

The first half pins what ``dateparser`` (wrapped by ``eventstore.relative``) makes of the
words the sources use, quirks corrected: a new dateparser release that reads them
otherwise fails here, not in an analyst's append. The second half is the store: a date
that disagrees with its words is refused by append and its dry run alike, naming both;
words alone get the date they mean, marked as resolved by the store, and the envelopes
of dates given by the fact are what they always were.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import attrs
import pytest

from eventstore import EventStore, Fact, MeetingHeld, Party, fact_from_dict, fact_to_dict
from eventstore.dates import parse_valid_time
from eventstore.errors import DateError, ValidationError
from eventstore.relative import check_words, resolve_words, resolved_valid_time
from tests.conftest import ARTICLE_GENEVA

FRIDAY = "2018-08-24"  # the Geneva article's date: a Friday


def meant(words: str, anchor: str = FRIDAY) -> str | None:
    found = resolve_words(words, anchor)
    return None if found is None else found.edtf


@pytest.mark.parametrize(("words", "edtf"), [
    # a weekday alone: the one before the anchor
    ("jeudi", "2018-08-23"), ("lundi", "2018-08-20"), ("dimanche", "2018-08-19"),
    ("samedi", "2018-08-18"), ("Thursday", "2018-08-23"), ("on Monday", "2018-08-20"),
    ("jeudi dernier", "2018-08-23"),  # dateparser alone does not read "dernier"
    ("last Tuesday", "2018-08-21"),
    # the day before
    ("hier", "2018-08-23"), ("yesterday", "2018-08-23"), ("avant-hier", "2018-08-22"),
    ("il y a deux jours", "2018-08-22"), ("aujourd'hui", "2018-08-24"),
    # a period: what it names, not a day inside it
    ("la semaine dernière", "2018-08-13/2018-08-19"), ("last week", "2018-08-13/2018-08-19"),
    ("le mois dernier", "2018-07"), ("last month", "2018-07"), ("last year", "2017"),
    # a day and month without a year: the occurrence nearest the anchor
    ("16 juillet", "2018-07-16"), ("Le 27 juin", "2018-06-27"), ("16 July", "2018-07-16"),
    ("5 septembre", "2018-09-05"),  # dateparser, preferring the past, says 2017
    ("jeudi 23 août", "2018-08-23"), ("Thursday 23 August", "2018-08-23"),
    ("juillet", "2018-07"),
    # a full date needs no anchor
    ("16 juillet 2018", "2018-07-16"),
])
def test_words_against_a_day(words: str, edtf: str) -> None:
    assert meant(words) == edtf


def test_a_day_and_month_nearest_the_anchor_across_new_year() -> None:
    assert meant("27 décembre", "2019-01-03") == "2018-12-27"
    assert meant("3 janvier", "2018-12-27") == "2019-01-03"


@pytest.mark.parametrize("words", [
    "vendredi",  # the anchor's own weekday: that day, or a week before? not resolved
    "Le même jour", "Auparavant", "devaient signer … à l'issue de la rencontre",
    "à l'issue de la rencontre", "plus tard dans la journée", "la veille", "mi-juillet",
])
def test_words_it_cannot_resolve(words: str) -> None:
    assert meant(words) is None


def test_an_anchor_that_is_a_year_or_a_month() -> None:
    """Only words that mean the same whichever day of the anchor they were written on."""
    assert meant("Le 27 juin", "2018") == "2018-06-27"
    assert meant("juin", "2018") == "2018-06"
    assert meant("16 juillet", "2018-07") == "2018-07-16"
    for words in ("jeudi", "hier", "le mois dernier", "la semaine dernière"):
        assert meant(words, "2018") is None, words
    assert meant("jeudi", "../2018-08-24") is None  # no day to count back from


def test_a_weekday_beside_a_day_must_agree() -> None:
    """dateparser ignores the weekday of "Thursday 16 July"; the store does not."""
    with pytest.raises(DateError, match="'Thursday 16 July' contradicts itself: 16 Jul 2018 "
                                        "is a Monday, not a Thursday") as raised:
        resolve_words("Thursday 16 July", FRIDAY)
    assert raised.value.where == "date_text"
    with pytest.raises(DateError, match="16 Jul 2018 is a Monday, not a Thursday"):
        resolve_words("jeudi 16 juillet", FRIDAY)
    assert meant("lundi 16 juillet") == "2018-07-16"


def test_a_language_hint_is_tried_first_and_a_bad_one_ignored() -> None:
    assert meant("jeudi") == resolve_words("jeudi", FRIDAY, "fr").edtf  # type: ignore[union-attr]
    assert resolve_words("gestern", FRIDAY, "de") is not None
    assert resolve_words("jeudi", FRIDAY, "not a language") is not None


@pytest.mark.parametrize(("date", "ok"), [
    ("2018-08-23", True), ("2018-08-23?", True), ("2018-08", True),  # less precise: inside
    ("../2018-08-24", True), ("2018-08-22", False), ("2018-08-24", False),
    ("2018-08-20/2018-08-23", True), ("2018-08-24/..", False),
])
def test_a_date_agrees_with_its_words_when_one_lies_inside_the_other(date: str,
                                                                     ok: bool) -> None:
    valid = parse_valid_time(date, text="jeudi", anchor=FRIDAY)
    if ok:
        check_words(valid)
    else:
        with pytest.raises(DateError, match=f"date {date} does not match 'jeudi' before "
                                            r"2018-08-24: that is 2018-08-23"):
            check_words(valid)


def test_the_message_names_a_period_in_words() -> None:
    valid = parse_valid_time("2018-08-23", text="la semaine dernière", anchor=FRIDAY)
    with pytest.raises(DateError, match=r"that is 2018-08-13/2018-08-19 \(between 13 and 19 "
                                        r"Aug 2018\)"):
        check_words(valid)


def test_resolved_valid_time_is_marked_and_refuses_what_it_cannot_resolve() -> None:
    valid = resolved_valid_time("le mois dernier", FRIDAY)
    assert (valid.edtf, valid.lower, valid.upper, valid.resolved) == (
        "2018-07", dt.date(2018, 7, 1), dt.date(2018, 7, 31), True)
    assert valid.to_dict()["resolved"] is True
    assert "resolved" not in parse_valid_time("2018-07", text="x", anchor=FRIDAY).to_dict()
    with pytest.raises(DateError, match="missing: the store cannot resolve 'Le même jour' "
                                        "against 2018-06-27; give the date"):
        resolved_valid_time("Le même jour", "2018-06-27")


def test_dateparser_is_imported_only_when_words_are_resolved() -> None:
    code = ("import sys, eventstore.relative, eventstore.events; "
            "print('dateparser' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.strip() == "False"


# -- facts and the store ----------------------------------------------------------------

GENEVA_QUOTE = {"source": "7c3a6282", "quote": "ont eu jeudi une rencontre à Genève"}


def _fact(**change: object) -> dict[str, object]:
    fact: dict[str, object] = {
        "type": "meeting.held", "track": "RUS-USA", "date": "2018-08-23",
        "date_text": "jeudi", "date_anchor": FRIDAY,
        "data": {"key": "geneva-2018-08-23", "kind": "talks",
                 "participants": [{"name": "John Bolton", "country": "USA"}]},
        "citations": [GENEVA_QUOTE]}
    fact.update(change)
    return {k: v for k, v in fact.items() if v is not None}


def test_a_fact_whose_date_disagrees_with_its_words_is_refused() -> None:
    with pytest.raises(DateError, match="date 2018-08-22 does not match 'jeudi' before "
                                        "2018-08-24: that is 2018-08-23"):
        fact_from_dict(_fact(date="2018-08-22"))
    with pytest.raises(DateError, match="does not match"):
        Fact.create(MeetingHeld(key="g", kind="talks", participants=[Party("A", "USA")]),
                    track="RUS-USA", date="2018-08-22", date_text="jeudi",
                    date_anchor=FRIDAY, cite=[GENEVA_QUOTE])


def test_words_and_an_anchor_without_a_date_get_the_date_they_mean() -> None:
    fact = fact_from_dict(_fact(date=None))
    assert fact.valid is not None
    assert (fact.valid.edtf, fact.valid.resolved) == ("2018-08-23", True)
    assert fact_to_dict(fact).get("date") is None  # worked out again when read back
    assert fact_from_dict(fact_to_dict(fact)) == fact
    built = Fact.create(MeetingHeld(key="g", kind="talks", participants=[Party("A", "USA")]),
                        track="RUS-USA", date_text="hier", date_anchor=FRIDAY,
                        cite=[GENEVA_QUOTE])
    assert built.valid is not None and built.valid.resolved and built.valid.edtf == "2018-08-23"
    with pytest.raises(ValidationError, match="missing key 'date'"):
        fact_from_dict(_fact(date=None, date_anchor=None))
    with pytest.raises(DateError, match="date: missing: the store cannot resolve"):
        fact_from_dict(_fact(date=None, date_text="Le même jour"))


@pytest.fixture
def geneva(store: EventStore) -> EventStore:
    store.add_source(ARTICLE_GENEVA.read_bytes(), published=FRIDAY, language="fr")
    return store


def test_the_store_keeps_the_mark_and_old_envelopes_are_unchanged(geneva: EventStore) -> None:
    given, worded = geneva.append("RUS-USA", [
        _fact(), _fact(date=None, data={"key": "other", "kind": "talks", "participants": [
            {"name": "John Bolton", "country": "USA"}]})]).positions
    events = {e.position: e for e in geneva.read_track("RUS-USA")}
    assert events[given].valid is not None and not events[given].valid.resolved
    assert events[worded].valid is not None and events[worded].valid.resolved
    assert events[worded].valid.edtf == "2018-08-23"
    assert events[worded].to_dict()["valid"]["resolved"] is True
    assert "resolved" not in events[given].to_dict()["valid"]
    assert geneva.verify().ok
    page = list(geneva.read_all(from_position=worded, limit=1))
    assert page[0].valid == events[worded].valid


def test_append_and_its_check_refuse_alike(geneva: EventStore) -> None:
    bad = _fact(date="2018-08-22")
    with pytest.raises(DateError) as appended:
        geneva.append("RUS-USA", [bad])
    with pytest.raises(DateError) as checked:
        geneva.check([bad], track="RUS-USA")
    assert str(appended.value) == str(checked.value) == (
        "facts[0]: date 2018-08-22 does not match 'jeudi' before 2018-08-24: that is "
        "2018-08-23")
    assert geneva.head()[0] == 1  # the source only


def test_an_envelope_without_the_mark_is_byte_for_byte_what_it_was() -> None:
    """The canonical envelope of a date given by the fact has the five keys it always had."""
    from eventstore.codec import envelope_json

    valid = parse_valid_time("2018-08-23", text="jeudi", anchor=FRIDAY)
    envelope = {"position": 1, "event_id": "e", "track": "RUS-USA", "version": 1,
                "type": "meeting.held", "schema_version": 1, "valid": valid.to_dict(),
                "recorded_at": "t", "recorded_by": "a", "correlation_id": None,
                "causation_id": None, "payload_hash": "p", "citations_hash": "c",
                "prev_hash": "h"}
    assert b'"valid":{"anchor":"2018-08-24","edtf":"2018-08-23","lower":"2018-08-23",' \
           b'"text":"jeudi","upper":"2018-08-23"}' in envelope_json(envelope)
    resolved = resolved_valid_time("jeudi", FRIDAY)
    marked = json.loads(envelope_json({**envelope, "valid": resolved.to_dict()}))
    assert marked["valid"]["resolved"] is True


def test_the_mark_cannot_be_forged_from_python() -> None:
    forged = attrs.evolve(parse_valid_time("2018-08-22", text="jeudi", anchor=FRIDAY),
                          resolved=True)
    with pytest.raises(DateError, match="marked as resolved by the store, but it is not"):
        Fact(data=MeetingHeld(key="g", kind="talks", participants=[Party("A", "USA")]),
             track="RUS-USA", valid=forged, citations=[GENEVA_QUOTE])
    check_words(resolved_valid_time("jeudi", FRIDAY))  # the store's own passes


def test_a_resolved_date_survives_export_and_import(geneva: EventStore, tmp_path: Path
                                                    ) -> None:
    geneva.append("RUS-USA", [_fact(date=None)])
    lines = list(geneva.export())
    url = f"sqlite:///{tmp_path / 'copy.db'}"
    with EventStore.open(url, create=True) as copy:
        copy.import_export(lambda: lines)
        (event,) = copy.read_track("RUS-USA")
        assert event.valid is not None and event.valid.resolved
        assert copy.verify().ok
        events = [line for line in lines if '"kind":"event"' in line.replace(" ", "")]
        assert len(events) == 2 and '"resolved":true' in events[1].replace(" ", "")
        assert [line for line in copy.export() if line in events] == events
