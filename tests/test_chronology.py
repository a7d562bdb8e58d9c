"""One rule for every list by date (issue 13): ``chronology_key``, ties in record order.

Checked against a naive oracle (a comparison written from the rule's words), and where
lists are made: ``project``'s items, ``history --by valid``'s steps, ``tracks``' first and
last days. The fold keeps its own order, so states do not change: the history's last
state is still ``project``'s.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools

import pycountry
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventstore import EventStore, parse_valid_time
from eventstore.dates import ValidTime
from eventstore.projection import history
from eventstore.projection.timeline import chronology_key, chronology_order
from tests.conftest import ARTICLE_GENEVA
from tests.strategies import edtf_dates
from tests.test_projection import fact, meeting

D = dt.date
#: A fresh track for each example of a property run on one store.
_TRACKS = (f"FRA-{c.alpha_3}" for c in pycountry.countries if c.alpha_3 != "FRA")


@pytest.fixture
def cited(store: EventStore) -> str:
    return store.add_source(ARTICLE_GENEVA.read_bytes()).id


def _naive_compare(a: tuple[ValidTime | None, int], b: tuple[ValidTime | None, int]) -> int:
    """The rule in its own words: undated last; then by the first known day (the earliest
    possible day, or the latest when the start is open); then the last known day (the
    latest, or the earliest when the end is open); then by position."""
    def known(valid: ValidTime | None) -> tuple[int, dt.date, dt.date]:
        if valid is None or (valid.lower is None and valid.upper is None):
            return (1, D.max, D.max)
        first = valid.lower if valid.lower is not None else valid.upper
        last = valid.upper if valid.upper is not None else valid.lower
        assert first is not None and last is not None
        return (0, first, last)
    left, right = (*known(a[0]), a[1]), (*known(b[0]), b[1])
    return (left > right) - (left < right)


_dated = st.builds(parse_valid_time, edtf_dates())
_facts = st.lists(st.tuples(st.none() | _dated, st.integers(1, 50)), min_size=1,
                  max_size=12, unique_by=lambda f: f[1])


@given(_facts)
def test_chronology_order_is_the_naive_rule_total_and_agrees_with_the_bounds(
        facts: list[tuple[ValidTime | None, int]]) -> None:
    ordered = sorted(facts, key=lambda f: chronology_order(*f))
    assert ordered == sorted(facts, key=functools.cmp_to_key(_naive_compare))
    assert ordered == sorted(reversed(facts), key=lambda f: chronology_order(*f))  # total
    for a, b in itertools.combinations(ordered, 2):  # a is listed before b
        key_a, key_b = chronology_order(*a), chronology_order(*b)
        assert key_a < key_b  # no two facts tie: their positions differ
        va, vb = a[0], b[0]
        if va is not None and vb is not None and vb.upper is not None \
                and va.lower is not None and vb.upper < va.lower:
            raise AssertionError(f"{vb.edtf} lies wholly before {va.edtf} but is listed after")
        if vb is not None and va is None:
            raise AssertionError("an undated fact is listed before a dated one")


def test_chronology_key_of_an_item_ignores_its_position() -> None:
    assert chronology_order(parse_valid_time("../2018-08-24"), 3)[0] == chronology_key(
        parse_valid_time("2018-08-24"))


SPECS = [("planned", "../2018-08-25"), ("held", "2018-08-23"), ("planned", "2018-06-27"),
         ("held", "2018-08-24/.."), ("cancelled", "2018-08"), ("planned", "2018-08-23")]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(SPECS), st.sampled_from(["a", "b"])),
                min_size=1, max_size=7))
def test_history_by_valid_is_listed_by_the_rule_and_folds_as_project_does(
        store: EventStore, cited: str, facts: list[tuple[tuple[str, str], str]]) -> None:
    """Steps are in chronology order with ties by position, one per fact; only a fact with
    an open end may say it was folded out of the listed order."""
    track = next(_TRACKS)
    store.append_many([{**meeting(status, key, date, cited), "track": track}
                       for (status, date), key in facts])
    events = list(store.read_track(track))
    steps = history(track, events)
    assert [s.position for s in steps] == sorted(
        (s.position for s in steps), key=lambda p: chronology_order(
            next(e.valid for e in events if e.position == p), p))
    assert sorted(s.position for s in steps) == [e.position for e in events]
    for step in steps:
        open_start = step.valid is not None and step.valid.lower is None
        open_end = step.valid is not None and step.valid.upper is None
        noted = [c for c in step.changes if c.startswith("its ")]
        assert not noted or open_start or open_end, step


def test_an_open_start_is_listed_at_its_known_end_and_says_it_was_folded_first(
        store: EventStore, cited: str) -> None:
    store.append("RUS-USA", [
        fact("declaration.planned", "../2018-08-23", {"key": "joint", "title": "déclaration",
                                                       "parties": ["RUS", "USA"]}, cited),
        meeting("held", "geneva", "2018-06-27", cited),
        fact("declaration.not_signed", "2018-08-23", {"key": "joint"}, cited)])
    steps = store.history("RUS-USA")
    assert [(s.type, s.changes) for s in steps] == [
        ("meeting.held", ("meeting 'geneva': held (new)",)),
        ("declaration.planned", ("declaration 'joint': planned (new)",
                                 "its start is open: folded before the steps above it")),
        ("declaration.not_signed", ("declaration 'joint': planned → not signed",))]
    (joint,) = store.project("RUS-USA").declarations
    assert joint.status == "not_signed" and not joint.outcome_only


def test_tracks_count_an_open_end_at_its_known_bound(store: EventStore, cited: str) -> None:
    store.append("RUS-USA", [meeting("planned", "a", "../2018-06-27", cited),
                             meeting("held", "a", "2018-08-24/..", cited)])
    (summary,) = store.tracks()
    assert (summary.first, summary.last) == (D(2018, 6, 27), D(2018, 8, 24))

