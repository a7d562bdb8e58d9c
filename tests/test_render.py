"""What people read never holds a raw Python value: no ``None``, ``True``, ``False`` or
repr, in any text format, for any fact type with any of its optional fields left out.

Pure: random facts of every type a track holds (built by ``tests/strategies.py``) are
folded in memory and rendered as the CLI renders them (table and markdown).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from eventstore import RecordedEvent
from eventstore.cli import render
from eventstore.codec import unstructure_data
from eventstore.dates import parse_valid_time
from eventstore.projection import history, project
from eventstore.sources import Citation
from tests.strategies import DATA_STRATEGIES, TRACK_TYPES, edtf_dates

#: What a raw Python value looks like in text meant for people (the facts' own texts are
#: drawn without these words, so that a match is the program's, not the source's).
RAW = re.compile(r"\b(None|True|False)\b|object at 0x|\w+\(\w+=|datetime\.|UUID\('")

CITATION = Citation(source="7c3a628228e63c75622a94d5479ac56907ebee72e076b7acfa25407682832db7",
                    start=0, end=4, exact="texte", prefix="", suffix=" cité")


@st.composite
def track_events(draw: st.DrawFn) -> list[RecordedEvent]:
    events = []
    for position in range(1, draw(st.integers(1, 12)) + 1):
        name = draw(st.sampled_from(TRACK_TYPES))
        data = draw(DATA_STRATEGIES[name])
        assume(RAW.search(json.dumps(unstructure_data(data), ensure_ascii=False)) is None)
        edtf = draw(st.none() | edtf_dates())
        events.append(RecordedEvent(
            position=position, event_id=uuid.uuid4(), track="RUS-USA", version=position,
            type=name, schema_version=data.schema_version, data=data,
            valid=None if edtf is None else parse_valid_time(edtf),
            recorded_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=position),
            recorded_by="tester", correlation_id=None, causation_id=None,
            citations=(CITATION,), payload_hash="0" * 64, citations_hash="0" * 64,
            prev_hash="0" * 64, hash=f"{position:064x}"))
    return events


@given(events=track_events())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_no_raw_python_value_is_ever_shown(events: list[RecordedEvent]) -> None:
    texts: list[Any] = []
    for as_of in (None, dt.date(2018, 8, 24)):
        state = project("RUS-USA", events, as_of=as_of)
        texts += [render.state_text(state), render.state_text(state, markdown=True)]
    for by in ("valid", "recorded"):
        steps = history("RUS-USA", events, by=by)  # type: ignore[arg-type]
        texts += [render.history_text(steps), render.history_text(steps, markdown=True)]
    texts.append(render.append_text({"events": [], "written": 0}))
    for text in texts:
        found = RAW.search(text)
        assert found is None, f"{found.group(0)!r} in:\n{text}"


def test_a_planned_meeting_shows_when_it_is_scheduled() -> None:
    from eventstore.projection.state import Meeting, TrackState
    meeting = Meeting(key="vienna", status="planned", kind="summit",
                      date=parse_valid_time("2018-08-01"), place="Vienne", participants=(),
                      topics=(), scheduled="../2018-09-05", reason=None, outcome_only=False,
                      citations=())
    state = TrackState(track="RUS-USA", as_of=None, known_at=None, possible=False,
                       position=1, facts=1, meetings=(meeting,))
    text = render.state_text(state, today=dt.date(2018, 9, 20))
    assert ("2018-08-01  vienna: summit planned for on or before 5 Sep 2018 (../2018-09-05) "
            "at Vienne") in text
    assert ("meeting vienna: summit planned, not yet held (planned) — overdue: planned for "
            "on or before 5 Sep 2018, no report of it since") in text


def test_a_date_given_again_in_other_words_says_so() -> None:
    """A history step that only re-gives a date in other words says what changed, rather
    than 'date 2018-08-23 → 2018-08-23'."""
    from eventstore.projection import diff
    from eventstore.projection.state import Meeting, TrackState

    def state(valid: Any) -> TrackState:
        meeting = Meeting(key="geneva", status="held", kind="talks", date=valid,
                          place="Genève", participants=(), topics=(), scheduled=None,
                          reason=None, outcome_only=False, citations=())
        return TrackState(track="RUS-USA", as_of=None, known_at=None, possible=False,
                          position=1, facts=1, meetings=(meeting,))

    french = parse_valid_time("2018-08-23", text="jeudi", anchor="2018-08-24")
    english = parse_valid_time("2018-08-23", text="Thursday", anchor="2018-08-24")
    later = parse_valid_time("2018-08-23", text="Thursday", anchor="2018-08-25")
    assert diff(state(french), state(english)) == (
        "meeting 'geneva': date words: jeudi → Thursday (same date)",)
    assert diff(state(english), state(later)) == (
        "meeting 'geneva': date words read against 2018-08-24 → 2018-08-25 (same date)",)
    assert diff(state(french), state(parse_valid_time("2018-08-22"))) == (
        "meeting 'geneva': date 2018-08-23 → 2018-08-22",)


def test_both_worked_examples_in_every_format_show_no_raw_value(examples: Any) -> None:
    """Every item kind of both worked examples (US–Russia, Japan–South Korea), rendered
    in every format people read: project and history as table, markdown and JSON, the
    HTML page, and the PLOVER export."""
    from eventstore import plover_export, track_report

    texts: dict[str, str] = {}
    for track in ("RUS-USA", "JPN-KOR"):
        state = examples.project(track)
        kinds = [name for name in ("meetings", "declarations", "invitations", "statements",
                                   "topics", "actions", "open_items") if getattr(state, name)]
        assert len(kinds) >= 4, (track, kinds)
        texts[f"{track} table"] = render.state_text(state)
        texts[f"{track} markdown"] = render.state_text(state, markdown=True)
        texts[f"{track} json"] = json.dumps(state.to_dict(), ensure_ascii=False)
        for by in ("valid", "recorded"):
            steps = examples.history(track, by=by)
            texts[f"{track} history {by}"] = render.history_text(steps)
            texts[f"{track} history {by} markdown"] = render.history_text(steps, markdown=True)
            texts[f"{track} history {by} json"] = json.dumps(
                [step.to_dict() for step in steps], ensure_ascii=False)
        texts[f"{track} page"] = track_report(examples, track)
    texts["plover"] = "\n".join(plover_export(examples, uncoded="include").lines())
    for name, text in texts.items():
        found = RAW.search(text.replace('"None"', ""))
        assert found is None, f"{found.group(0)!r} in {name}"


def test_markdown_nests_notes_and_citations_under_their_item(examples: Any) -> None:
    """``project --format markdown`` pasted into a report: each item a bullet, its notes and
    citations a list inside it, never a code block (Python-Markdown, as MkDocs renders)."""
    import markdown

    for track in ("RUS-USA", "JPN-KOR"):
        state = examples.project(track)
        html = markdown.markdown(render.state_text(state, markdown=True))
        assert "<pre" not in html and "<code" not in html, track
        kinds = ("meetings", "declarations", "invitations", "statements", "topics",
                 "actions", "incidents", "redacted")
        items = [item for kind in kinds for item in getattr(state, kind)]
        under = sum(len(item.citations) + len(getattr(item, "notes", ())) for item in items)
        nested = html.count("<li>") - len(items) - len(state.open_items)
        assert nested == under and under > 0, (track, nested, under)


def test_history_markdown_nests_changes_and_citations_under_their_step(examples: Any) -> None:
    import markdown

    steps = examples.history("RUS-USA")
    html = markdown.markdown(render.history_text(steps, markdown=True))
    assert "<pre" not in html and "<code" not in html
    under = sum(len(step.changes) + len(step.citations) for step in steps)
    assert html.count("<li>") - len(steps) == under > 0
