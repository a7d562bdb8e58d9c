"""Events of more than two countries (issue 12 point 9), on both engines: recorded once on
a multilateral stream (CHN-IND-RUS), shown on every bilateral track among its parties,
with cuts, facts about facts, read models, ``tracks``, subscriptions and the command line
(docs/facts.md#multilateral-streams, docs/projections.md#multilateral-events)."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from eventstore import ConcurrencyError, EventStore, TrackError, ValidationError, parse_track
from eventstore.cli import cli
from eventstore.projection.fold import project
from eventstore.storage import schema as t
from eventstore.tracks import pairs, parse_stream
from tests.tampering import tamper

TEXT = ("Moscow, 10 September. The foreign ministers of China, India and Russia met in Moscow "
        "on Thursday for a trilateral meeting. Wang Yi and Subrahmanyam Jaishankar also held "
        "talks of their own on the sidelines. Sergey Lavrov said the three agreed to meet "
        "again. A report of the Chinese side spoke of the same trilateral meeting.")
TRILATERAL = "The foreign ministers of China, India and Russia met in Moscow"
SIDE = "held talks of their own on the sidelines"
AGAIN = "the three agreed to meet again"
SAME = "spoke of the same trilateral meeting"

WANG = {"name": "Wang Yi", "country": "CHN"}
JAISHANKAR = {"name": "Subrahmanyam Jaishankar", "country": "IND"}
LAVROV = {"name": "Sergey Lavrov", "country": "RUS"}


def held(source: str, key: str, participants: list[dict[str, str]], quote: str, *,
         date: str = "2020-09-10", **more: Any) -> dict[str, Any]:
    return {"type": "meeting.held", "date": date,
            "data": {"key": key, "kind": "talks", "place": "Moscow",
                     "participants": participants} | more,
            "citations": [{"source": source, "quote": quote}]}


@pytest.fixture
def source(store: EventStore) -> str:
    return store.add_source(TEXT, title="RIC in Moscow", published="2020-09-11").id


@pytest.fixture
def trilateral(store: EventStore, source: str) -> str:
    """The meeting of the three ministers, on its own stream; returns its event id."""
    result = store.append("rus-ind-chn", [held(source, "ric-moscow",
                                               [WANG, JAISHANKAR, LAVROV], TRILATERAL)],
                          expected_version=0)
    (event,) = result.events
    assert (event.track, event.version) == ("CHN-IND-RUS", 1)
    return str(event.event_id)


# -- naming -------------------------------------------------------------------------------

def test_stream_ids_are_sorted_codes_and_bad_ones_are_refused() -> None:
    assert parse_stream("rus / ind – chn") == "CHN-IND-RUS"
    assert parse_stream("USA-RUS") == parse_track("usa rus") == "RUS-USA"
    assert pairs("CHN-IND-RUS") == ["CHN-IND", "CHN-RUS", "IND-RUS"]
    for bad, words in [("CHN", "not a track id"), ("CHN-CHN", "two different countries"),
                       ("CHN-IND-CHN", "CHN is given twice"),
                       ("CHN-XXX-RUS", "XXX is not an ISO 3166 alpha-3 country code"),
                       ("CHN-IND-RUSS", "not a track id"), ("", "not a track id")]:
        with pytest.raises(TrackError, match=words):
            parse_stream(bad)
    many = "-".join(["AFG", "ALB", "DZA", "AND", "AGO", "ARG", "ARM", "AUS", "AUT", "AZE",
                     "BHS", "BHR", "BGD", "BRB", "BLR", "BEL", "BLZ", "BEN", "BTN", "BOL",
                     "BIH", "BWA", "BRA", "BRN", "BGR", "BFA", "BDI", "KHM", "CMR", "CAN",
                     "CPV", "CAF", "TCD", "CHL", "CHN", "COL", "COM", "COG", "CRI", "HRV",
                     "CUB", "CYP", "CZE", "DNK", "DJI", "DMA", "DOM", "ECU", "EGY", "SLV",
                     "GNQ"])
    with pytest.raises(TrackError, match="51 countries; a multilateral stream names at most 50"):
        parse_stream(many)
    with pytest.raises(TrackError, match="CHN-IND-RUS is a multilateral stream, not a bilateral "
                                         r"track: .* \(CHN-IND, CHN-RUS, IND-RUS\)"):
        parse_track("CHN-IND-RUS")


# -- recorded once, shown on each bilateral track -----------------------------------------

def test_a_trilateral_meeting_shows_once_on_each_bilateral_track(
        store: EventStore, source: str, trilateral: str) -> None:
    store.append("CHN-IND", [held(source, "wang-jaishankar", [WANG, JAISHANKAR], SIDE)])
    assert [e.track for e in store.read_all(track="CHN-IND-RUS")] == ["CHN-IND-RUS"]
    assert store.track_version("CHN-IND-RUS") == 1
    for track in ("CHN-IND", "CHN-RUS", "IND-RUS"):
        state = store.project(track)
        ric = [m for m in state.meetings if m.key == "ric-moscow"]
        assert len(ric) == 1, track
        assert ric[0].multilateral == "CHN-IND-RUS"
        assert [(p.name, p.country) for p in ric[0].participants] == [
            ("Wang Yi", "CHN"), ("Subrahmanyam Jaishankar", "IND"), ("Sergey Lavrov", "RUS")]
        assert [c.event_id for c in ric[0].citations] == [trilateral]
    own = store.project("CHN-IND").meetings
    assert {m.key: m.multilateral for m in own} == {"ric-moscow": "CHN-IND-RUS",
                                                    "wang-jaishankar": None}
    # the state is the pure fold of the track's view: its events and the stream's, in order
    view = list(store.read_all(track="CHN-IND"))
    assert [e.track for e in view] == ["CHN-IND-RUS", "CHN-IND"]
    assert store.project("CHN-IND") == project("CHN-IND", view)
    assert {s.track: (s.events, s.multilateral) for s in store.tracks()} == {
        "CHN-IND": (2, 1), "CHN-RUS": (1, 1), "IND-RUS": (1, 1)}
    steps = store.history("IND-RUS")
    assert [(s.stream, s.changes) for s in steps] == [
        ("CHN-IND-RUS", ("meeting 'ric-moscow': held (new)",))]
    assert steps[0].to_dict()["stream"] == "CHN-IND-RUS"
    doc = store.project("CHN-RUS").to_dict()
    assert doc["meetings"][0]["multilateral"] == "CHN-IND-RUS"


def test_a_multilateral_stream_has_versions_of_its_own(
        store: EventStore, source: str, trilateral: str) -> None:
    again = held(source, "ric-next", [WANG, JAISHANKAR, LAVROV], AGAIN, date="2020-09-11")
    with pytest.raises(ConcurrencyError):
        store.append("CHN-IND-RUS", [again], expected_version=0)
    assert store.append("CHN-RUS-IND", [again], expected_version=1).events[0].version == 2
    assert store.track_version("CHN-IND") == 0  # the bilateral stream has none of its own


def test_reads_of_a_bilateral_track_refuse_a_multilateral_id(
        store: EventStore, trilateral: str) -> None:
    for read in (store.project, store.history):
        with pytest.raises(TrackError, match="CHN-IND-RUS is a multilateral stream"):
            read("CHN-IND-RUS")
    with pytest.raises(TrackError, match="multilateral stream"):
        store.replay(dt.datetime.now(dt.UTC), track="IND-RUS-CHN")


# -- cuts ---------------------------------------------------------------------------------

def test_cuts_work_on_multilateral_events(store: EventStore, source: str) -> None:
    store.append("CHN-IND", [held(source, "early", [WANG, JAISHANKAR], SIDE,
                                  date="2020-09-01")])
    before = dt.datetime.now(dt.UTC)
    time.sleep(0.01)
    store.append("CHN-IND-RUS", [held(source, "ric-moscow", [WANG, JAISHANKAR, LAVROV],
                                      TRILATERAL)])
    keys = [m.key for m in store.project("CHN-IND", known_at=before).meetings]
    assert keys == ["early"]
    assert [m.key for m in store.project("CHN-IND", as_of=dt.date(2020, 9, 5)).meetings] == [
        "early"]
    assert [m.key for m in store.project("CHN-IND", as_of=dt.date(2020, 9, 10)).meetings] == [
        "early", "ric-moscow"]
    assert store.project("IND-RUS", known_at=before).meetings == ()
    assert [s.track for s in store.replay(before).states] == ["CHN-IND"]
    replay = store.replay(dt.datetime.now(dt.UTC), track="IND-RUS")
    assert [m.key for m in replay.states[0].meetings] == ["ric-moscow"]


# -- facts about a multilateral fact --------------------------------------------------------

def _meta(type_name: str, data: dict[str, Any], source: str | None = None) -> dict[str, Any]:
    cited = [{"source": source, "quote": SAME}] if source else []
    return {"type": type_name, "data": data, "citations": cited}


def test_a_retraction_on_the_stream_affects_every_bilateral_view(
        store: EventStore, source: str, trilateral: str) -> None:
    for track in ("CHN-IND", "CHN-RUS", "IND-RUS"):
        assert store.project(track).meetings  # stored read models, caught up
    with pytest.raises(ValidationError, match=f"event {trilateral} is on track CHN-IND-RUS, "
                                              "not CHN-IND"):
        store.append("CHN-IND", [_meta("fact.retracted", {"event": trilateral,
                                                          "reason": "misreported"})])
    store.append("CHN-IND-RUS", [_meta("fact.retracted", {"event": trilateral,
                                                          "reason": "misreported"})])
    for track in ("CHN-IND", "CHN-RUS", "IND-RUS"):
        assert store.project(track).meetings == (), track
        assert [s.changes for s in store.history(track)] == [
            ("retracted later (misreported): not applied",)]


def test_a_correction_on_the_stream_affects_every_bilateral_view(
        store: EventStore, source: str, trilateral: str) -> None:
    store.append("CHN-IND-RUS", [_meta("fact.corrected", {"event": trilateral,
                                                          "reason": "it was Friday",
                                                          "date": "2020-09-11"})])
    for track in ("CHN-IND", "CHN-RUS", "IND-RUS"):
        (meeting,) = store.project(track).meetings
        assert meeting.date is not None and meeting.date.edtf == "2020-09-11"
    store.rebuild()
    assert store.project("IND-RUS").meetings[0].date.edtf == "2020-09-11"  # type: ignore[union-attr]


def test_same_as_between_a_bilateral_report_and_the_multilateral_event(
        store: EventStore, source: str, trilateral: str) -> None:
    """The bilateral track's own report of the same meeting names the multilateral event as
    its original: the track shows the meeting once, multilateral, with both reports'
    citations; the other tracks never held the bilateral report and are unchanged."""
    report = str(uuid.uuid4())
    store.append("CHN-IND", [held(source, "ric-chinese-report", [WANG, JAISHANKAR], SAME)
                             | {"event_id": report}])
    store.append("CHN-IND", [_meta("fact.same_as", {"event": report, "same_as": trilateral})])
    (meeting,) = store.project("CHN-IND").meetings
    assert meeting.key == "ric-moscow" and meeting.multilateral == "CHN-IND-RUS"
    assert [c.event_id for c in meeting.citations][:2] == [trilateral, report]
    assert [c.event_id for c in store.project("IND-RUS").meetings[0].citations] == [trilateral]
    # a stream without both countries cannot name it; the duplicate must be the track's own
    store.append("IND-USA", [held(source, "other", [JAISHANKAR], SIDE) | {"event_id": (
        other := str(uuid.uuid4()))}])
    with pytest.raises(ValidationError, match="is on track CHN-IND-RUS, not IND-USA or a "
                                              "multilateral stream with both IND and USA"):
        store.append("IND-USA", [_meta("fact.same_as", {"event": other,
                                                        "same_as": trilateral})])
    with pytest.raises(ValidationError, match=f"event {trilateral} is on track CHN-IND-RUS, "
                                              "not CHN-IND"):
        store.append("CHN-IND", [_meta("fact.same_as", {"event": trilateral,
                                                        "same_as": report})])


def test_a_key_is_shared_between_a_track_and_its_multilateral_streams(
        store: EventStore, source: str) -> None:
    """A meeting planned on CHN-IND and reported held on the trilateral stream under the same
    key is one item on CHN-IND (planned, then held: the multilateral report's stream named),
    and only the trilateral report on CHN-RUS, which never held the plan
    (docs/projections.md#multilateral-events)."""
    store.append("CHN-IND", [{"type": "meeting.planned", "date": "2020-09-01",
                              "data": {"key": "ric-moscow", "kind": "talks",
                                       "scheduled": "2020-09-10"},
                              "citations": [{"source": source, "quote": AGAIN}]}])
    store.append("CHN-IND-RUS", [held(source, "ric-moscow", [WANG, JAISHANKAR, LAVROV],
                                      TRILATERAL)])
    (meeting,) = store.project("CHN-IND").meetings
    assert (meeting.status, meeting.multilateral) == ("held", "CHN-IND-RUS")
    assert [stage.status for stage in meeting.stages] == ["planned", "held"]
    assert len(meeting.citations) == 2
    (other,) = store.project("CHN-RUS").meetings
    assert [stage.status for stage in other.stages] == ["held"] and other.outcome_only
    assert store.rebuild() and store.project("CHN-IND").meetings == (meeting,)


def test_an_incident_of_three_countries_says_its_stream(store: EventStore,
                                                        source: str) -> None:
    store.append("CHN-IND-RUS", [{
        "type": "incident.occurred", "date": "2020-09-10",
        "data": {"key": "expulsions", "kind": "diplomats_expelled", "actors": [WANG, LAVROV],
                 "target": JAISHANKAR, "what": "diplomats expelled"},
        "citations": [{"source": source, "quote": AGAIN}]}])
    for track in pairs("CHN-IND-RUS"):
        (incident,) = store.project(track).incidents
        assert incident.multilateral == "CHN-IND-RUS"
    assert store.project("IND-RUS").to_dict()["incidents"][0]["multilateral"] == "CHN-IND-RUS"
    url = store.engine.url.render_as_string(hide_password=False)
    out = _cli(url, "project", "--track", "CHN-RUS")
    assert "(multilateral: CHN, IND, RUS): diplomats expelled" in out.output


def test_citation_added_to_a_multilateral_fact(store: EventStore, source: str,
                                               trilateral: str) -> None:
    store.append("CHN-IND-RUS", [_meta("citation.added", {"event": trilateral}, source)])
    for track in ("CHN-IND", "CHN-RUS", "IND-RUS"):
        assert len(store.project(track).meetings[0].citations) == 2


# -- the stored read models -----------------------------------------------------------------

def test_read_models_fold_multilateral_events_incrementally_as_a_rebuild_does(
        store: EventStore, source: str) -> None:
    store.append("CHN-IND", [held(source, "a", [WANG, JAISHANKAR], SIDE, date="2020-09-01")])
    store.catch_up()
    store.append("CHN-IND-RUS", [held(source, "b", [WANG, JAISHANKAR, LAVROV], TRILATERAL)])
    store.append("BRA-CHN-IND-RUS-ZAF", [held(source, "c", [WANG, LAVROV], AGAIN,
                                              date="2020-09-12")])
    store.catch_up()
    incremental = {t: store._read_models.current(t) for t in pairs("BRA-CHN-IND-RUS-ZAF")}
    assert store.rebuild() == 10
    for track, state in incremental.items():
        assert state == store._read_models.current(track)
        assert state == project(track, list(store.read_all(track=track)))
    assert [m.key for m in incremental["CHN-IND"].meetings] == ["a", "b", "c"]  # type: ignore[union-attr]
    assert [m.key for m in incremental["BRA-ZAF"].meetings] == ["c"]  # type: ignore[union-attr]


def test_a_stream_begun_after_a_track_was_served_is_noticed(
        store: EventStore, source: str) -> None:
    store.append("CHN-IND", [held(source, "a", [WANG, JAISHANKAR], SIDE)])
    assert len(store.project("CHN-IND").meetings) == 1
    assert len(store.project("CHN-IND", as_of=dt.date(2020, 12, 31)).meetings) == 1  # cached
    other = EventStore(store.engine, actor="another process")
    other.append("CHN-IND-RUS", [held(source, "b", [WANG, JAISHANKAR, LAVROV], TRILATERAL)])
    assert len(store.project("CHN-IND").meetings) == 2
    assert len(store.project("CHN-IND", as_of=dt.date(2020, 12, 31)).meetings) == 2


def test_the_members_table_is_written_once_per_stream(store: EventStore, source: str,
                                                      trilateral: str) -> None:
    store.append("CHN-IND-RUS", [held(source, "x", [WANG], AGAIN)])
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT country, stream FROM stream_members "
                                    "ORDER BY country")).all()
    assert [tuple(r) for r in rows] == [("CHN", "CHN-IND-RUS"), ("IND", "CHN-IND-RUS"),
                                        ("RUS", "CHN-IND-RUS")]


def test_erasing_a_multilateral_payload_refolds_each_view(
        store: EventStore, source: str, trilateral: str) -> None:
    erasure = store.erase_payload(trilateral, reason="court order")
    assert erasure.tracks == ("CHN-IND", "CHN-RUS", "IND-RUS")
    for track in erasure.tracks:
        (redacted,) = store.project(track).redacted
        assert redacted.multilateral == "CHN-IND-RUS"


def test_verify_checks_the_members_table(store: EventStore, source: str,
                                        trilateral: str) -> None:
    """A missing member row would hide the stream from a bilateral track, a forged one
    would show it on a track not among its countries: verify catches both."""
    assert store.verify().ok
    first = store.project("CHN-IND").meetings[0].citations[0].position
    tamper(store, lambda conn: conn.execute(sa.delete(t.stream_members).where(
        t.stream_members.c.country == "IND")), restore_triggers=True)
    report = store.verify()
    assert not report.ok and report.first is not None
    assert report.first.position == first
    assert "stream CHN-IND-RUS: no stream_members row for IND" in str(report.first)
    tamper(store, lambda conn: conn.execute(sa.insert(t.stream_members).values(
        [{"country": "IND", "stream": "CHN-IND-RUS"},
         {"country": "USA", "stream": "CHN-IND-RUS"}])), restore_triggers=True)
    report = store.verify()
    assert [str(p) for p in report.problems] == [
        "the stream_members table puts USA in stream CHN-IND-RUS, which is not what the "
        "log's events say (the row was forged)"]


def test_export_and_import_keep_the_members(store: EventStore, source: str, trilateral: str,
                                            tmp_path: Path) -> None:
    copy = EventStore.open(f"sqlite:///{tmp_path / 'copy.db'}", create=True)
    copy.import_export(lambda: store.export())
    assert copy.project("IND-RUS") == store.project("IND-RUS")
    with copy.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM stream_members")).scalar() == 3
    copy.close()


# -- following a track ----------------------------------------------------------------------

def test_a_subscription_to_a_track_gets_the_multilateral_events(
        store: EventStore, source: str) -> None:
    seen: list[str] = []
    subscription = store.subscribe(store.head()[0], tracks=["ind-chn"])
    thread = threading.Thread(target=lambda: seen.extend(e.track for e in subscription),
                              daemon=True)
    thread.start()
    store.append("CHN-RUS", [held(source, "no", [WANG, LAVROV], AGAIN)])
    store.append("CHN-IND-RUS", [held(source, "yes", [WANG, JAISHANKAR, LAVROV], TRILATERAL)])
    store.append("CHN-IND", [held(source, "own", [WANG, JAISHANKAR], SIDE)])
    deadline = time.monotonic() + 10
    while len(seen) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    subscription.stop()
    thread.join(5)
    assert seen == ["CHN-IND-RUS", "CHN-IND"]


# -- the command line ---------------------------------------------------------------------

def _cli(url: str, *args: str) -> Any:
    return CliRunner().invoke(cli, [*args, "--db", url], catch_exceptions=False)


def test_the_command_line(store: EventStore, source: str, trilateral: str) -> None:
    url = store.engine.url.render_as_string(hide_password=False)
    head = store.head()
    out = _cli(url, "append", "meeting.held", "--track", "CHN", "--date", "2020-09-10",
               "--key", "x", "--kind", "talks", "--participant", "Wang Yi:CHN",
               "--cite", f"{source}:{SIDE}")
    assert out.exit_code != 0 and "not a track id" in out.output and "track" in out.output
    out = _cli(url, "append", "meeting.held", "--track", "CHN-IND-CHN", "--date", "2020-09-10",
               "--key", "x", "--kind", "talks", "--participant", "Wang Yi:CHN",
               "--cite", f"{source}:{SIDE}")
    assert out.exit_code != 0 and "CHN is given twice" in out.output
    assert "Traceback" not in out.output
    assert store.head() == head
    out = _cli(url, "append", "meeting.held", "--track", "ind-rus-chn", "--date", "2020-09-11",
               "--key", "ric-2", "--kind", "talks", "--participant", "Wang Yi:CHN",
               "--participant", "Sergey Lavrov:RUS", "--cite", f"{source}:{AGAIN}")
    assert out.exit_code == 0, out.output
    assert "CHN-IND-RUS v2" in out.output
    out = _cli(url, "project", "--track", "CHN-IND-RUS")
    assert out.exit_code != 0 and "is a multilateral stream, not a bilateral track" in out.output
    out = _cli(url, "project", "--track", "IND-RUS")
    assert "ric-moscow: talks held at Moscow (multilateral: CHN, IND, RUS) — Wang Yi (CHN), " \
           "Subrahmanyam Jaishankar (IND), Sergey Lavrov (RUS)" in out.output
    out = _cli(url, "history", "--track", "CHN-RUS")
    assert "meeting.held (multilateral: CHN, IND, RUS)" in out.output
    out = _cli(url, "tracks", "--format", "json")
    assert {d["track"]: d["multilateral"] for d in json.loads(out.output)["tracks"]} == {
        "CHN-IND": 2, "CHN-RUS": 2, "IND-RUS": 2}
    out = _cli(url, "tracks")
    assert "IND-RUS  2 events" in out.output and "2 of them multilateral" in out.output
    out = _cli(url, "log", "--track", "CHN-IND", "--format", "json")
    assert out.exit_code == 0, out.output


# -- a bilateral meeting on the sidelines of a summit ---------------------------------------

def test_a_bilateral_meeting_names_the_summit_it_was_held_at(
        store: EventStore, source: str) -> None:
    summit = held(source, "brics-2020", [WANG, JAISHANKAR, LAVROV], TRILATERAL) | {
        "date": "2020-09-10"}
    store.append("BRA-CHN-IND-RUS-ZAF", [summit])
    store.append("CHN-IND", [held(source, "wang-jaishankar", [WANG, JAISHANKAR], SIDE,
                                  at="brics-2020")])
    meetings = {m.key: m for m in store.project("CHN-IND").meetings}
    assert meetings["wang-jaishankar"].at == "brics-2020"
    assert meetings["wang-jaishankar"].multilateral is None
    assert meetings["brics-2020"].multilateral == "BRA-CHN-IND-RUS-ZAF"
    assert store.project("CHN-IND").to_dict()["meetings"][1]["at"] == "brics-2020"
    assert [m.key for m in store.project("BRA-RUS").meetings] == ["brics-2020"]
    # The summit lists the side meetings of the track it is shown on, in every format.
    state = store.project("CHN-IND")
    assert state.side_meetings("brics-2020") == ("wang-jaishankar",)
    assert state.side_meetings("wang-jaishankar") == ()
    assert store.project("BRA-RUS").side_meetings("brics-2020") == ()
    docs = {m["key"]: m for m in state.to_dict()["meetings"]}
    assert docs["brics-2020"]["side_meetings"] == ["wang-jaishankar"]
    assert docs["wang-jaishankar"]["side_meetings"] == []
    with pytest.raises(ValidationError, match=r"a meeting is not held on the sidelines of "
                                              r"itself \('x'\).*data\.at"):
        store.append("CHN-IND", [held(source, "x", [WANG], SIDE, at="x")])
    with pytest.raises(ValidationError, match="data.at"):
        store.append("CHN-IND", [held(source, "y", [WANG], SIDE, at="The Summit")])


def test_the_sidelines_on_the_command_line(store: EventStore, source: str) -> None:
    url = store.engine.url.render_as_string(hide_password=False)
    out = _cli(url, "append", "meeting.held", "--help")
    assert "--at TEXT" in out.output and "sidelines" in out.output
    store.append("BRA-CHN-IND-RUS-ZAF", [held(source, "brics-2020", [WANG, LAVROV],
                                              TRILATERAL)])
    head = store.head()
    args = ["append", "meeting.held", "--track", "CHN-IND", "--date", "2020-09-10",
            "--kind", "talks", "--participant", "Wang Yi:CHN", "--cite", f"{source}:{SIDE}"]
    out = _cli(url, *args, "--key", "brics-2020", "--at", "brics-2020")
    assert out.exit_code != 0 and "not held on the sidelines of itself" in out.output
    assert "data.at" in out.output and store.head() == head
    out = _cli(url, *args, "--key", "wang-jaishankar", "--at", "brics-2020")
    assert out.exit_code == 0, out.output
    out = _cli(url, "project", "--track", "CHN-IND")
    assert "wang-jaishankar: talks held, on the sidelines of brics-2020" in out.output
    assert "brics-2020: talks held at Moscow (multilateral: BRA, CHN, IND, RUS, ZAF)" \
        in out.output
    assert "Sergey Lavrov (RUS); side meetings: wang-jaishankar (outcome only)" in out.output
    out = _cli(url, "project", "--track", "BRA-RUS")
    assert "brics-2020" in out.output and "side meetings" not in out.output


def test_the_report_page_says_multilateral(store: EventStore, source: str,
                                           trilateral: str) -> None:
    from eventstore.report import track_report

    page = track_report(store, "ind-rus", today=dt.date(2020, 12, 31))
    assert "Wang Yi (CHN), Subrahmanyam Jaishankar (IND), Sergey Lavrov (RUS)" in page
    assert page.count("(multilateral: CHN, IND, RUS)") == 1  # the meeting, once
    assert '<span class="multilateral">multilateral: CHN, IND, RUS</span>' in page  # its step
    with pytest.raises(TrackError, match="is a multilateral stream"):
        track_report(store, "CHN-IND-RUS")
    store.append("CHN-IND", [held(source, "wang-jaishankar", [WANG, JAISHANKAR], SIDE,
                                  at="ric-moscow")])
    page = track_report(store, "chn-ind", today=dt.date(2020, 12, 31))
    assert "(multilateral: CHN, IND, RUS); side meetings: wang-jaishankar</p>" in page
    assert "on the sidelines of ric-moscow" in page


def test_a_read_only_database_carries_multilateral_events_in_memory(db_url: str) -> None:
    """The stored state of CHN-IND is behind a trilateral meeting; a reader that cannot
    store anything folds it in, in memory, as a writable store would."""
    from tests.test_read_only import make_read_only

    with EventStore.open(db_url, create=True, actor="analyst") as store:
        source = store.add_source(TEXT).id
        store.append("CHN-IND", [held(source, "a", [WANG, JAISHANKAR], SIDE,
                                      date="2020-09-01")])
        store.project("CHN-IND")
        store.append("CHN-IND-RUS", [held(source, "b", [WANG, JAISHANKAR, LAVROV],
                                          TRILATERAL)])
    with EventStore.open(make_read_only(db_url, "uri")) as reader:
        assert not reader._read_models._caught_up()
        got = [reader.project(track) for track in ("CHN-IND", "IND-RUS")]
    assert [[m.key for m in state.meetings] for state in got] == [["a", "b"], ["b"]]
    with EventStore.open(db_url) as writer:
        assert got == [writer.project("CHN-IND"), writer.project("IND-RUS")]
