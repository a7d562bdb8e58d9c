"""The read model's stored form: packed JSON, read back equal to what was folded."""

from __future__ import annotations

import datetime as dt
import enum
import gc
import json
from typing import Any, Literal

import attrs
import cattrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventstore import TrackState
from eventstore.codec import documents
from eventstore.collector import gc_paused
from eventstore.packed import FORMAT, PackedCodec, class_key
from eventstore.projection.read_model import Folded, dump_folded, load_folded, stored_name
from eventstore.projection.state import Meeting

folded_states = st.from_type(Folded)


@settings(max_examples=60, deadline=None)
@given(folded=folded_states)
def test_a_stored_state_reads_back_equal(folded: Folded) -> None:
    text = dump_folded(folded)
    assert json.loads(text)["packed"] == FORMAT
    assert load_folded(text) == folded
    # the same answer as cattrs gives from its own form of the same state
    assert load_folded(text) == documents.structure(documents.unstructure(folded), Folded)


@settings(max_examples=30, deadline=None)
@given(folded=folded_states)
def test_a_state_stored_before_the_packed_form_is_still_read(folded: Folded) -> None:
    text = json.dumps(documents.unstructure(folded), ensure_ascii=False, sort_keys=True)
    assert load_folded(text) == folded


def _meeting(**changes: Any) -> Meeting:
    fields: dict[str, Any] = dict(
        key="geneva", status="held", kind="talks", date=None, place="Genève",
        participants=(), topics=("Syrie",), scheduled=None, reason=None,
        outcome_only=False, citations=(), purpose="sommet", note="n", fulfils=None)
    return Meeting(**(fields | changes))


def _folded(*meetings: Meeting) -> Folded:
    state = TrackState(track="RUS-USA", as_of=None, known_at=None, possible=False,
                       position=7, facts=len(meetings), meetings=meetings)
    return Folded(state=state, last=(dt.date(2018, 8, 23), dt.date(2018, 8, 23), 7))


def test_a_state_stored_before_a_field_existed_gets_its_default() -> None:
    """A header that lacks a field (and its values): the field's default, as cattrs gives."""
    doc = json.loads(dump_folded(_folded(_meeting())))
    names = doc["fields"][stored_name(Meeting)]
    gone = names.index("note")
    del names[gone]
    for meeting in doc["value"][0][6]:  # TrackState.meetings
        del meeting[gone]
    assert load_folded(json.dumps(doc)) == _folded(_meeting(note=None))


def test_a_field_that_is_gone_is_dropped() -> None:
    doc = json.loads(dump_folded(_folded(_meeting())))
    doc["fields"][stored_name(Meeting)].append("removed_since")
    for meeting in doc["value"][0][6]:
        meeting.append("its old value")
    assert load_folded(json.dumps(doc)) == _folded(_meeting())


# -- the codec on other shapes: keyword-only fields, recursion, types it leaves to cattrs --

class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@attrs.frozen
class Leaf:
    colour: Colour
    mood: Literal["calm", "busy"]
    when: dt.datetime | None
    counts: dict[str, int] = attrs.field(factory=dict)


@attrs.frozen
class Node:
    name: str
    children: tuple[Node, ...]
    leaf: Leaf | None
    pair: tuple[int, Leaf] | None
    _hidden: str = attrs.field(default="h", kw_only=True)
    derived: int = attrs.field(init=False, default=3)


nodes = st.deferred(lambda: st.builds(
    Node, name=st.text(), children=st.lists(nodes, max_size=3).map(tuple),
    leaf=st.none() | leaves, pair=st.none() | st.tuples(st.integers(), leaves),
    hidden=st.text()))
leaves = st.builds(Leaf, colour=st.sampled_from(Colour),
                   mood=st.sampled_from(["calm", "busy"]),
                   when=st.none() | st.datetimes(timezones=st.just(dt.UTC)),
                   counts=st.dictionaries(st.text(max_size=3), st.integers()))


@settings(max_examples=60, deadline=None)
@given(node=nodes)
def test_the_codec_follows_any_attrs_classes(node: Node) -> None:
    codec = PackedCodec(Node, cattrs.Converter())
    doc = json.loads(json.dumps(codec.pack(node)))
    assert codec.unpack(doc) == node
    assert doc["fields"][class_key(Node)] == ["name", "children", "leaf", "pair", "_hidden"]


def test_the_codec_refuses_what_it_did_not_write() -> None:
    codec = PackedCodec(Leaf, cattrs.Converter())
    with pytest.raises(ValueError, match="not a packed document"):
        codec.unpack({"colour": "red"})


def test_the_collector_is_paused_only_while_reading() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # it was off: it stays off
    finally:
        gc.enable()


def test_a_stored_state_names_its_classes_by_the_package() -> None:
    """The header's names are part of the stored form: the package's classes go by
    ``eventstore.projection.*`` whichever of its modules defines them, as they did when the
    package was one module, so states stored then are read without the slower path."""
    doc = json.loads(dump_folded(_folded(_meeting())))
    assert set(doc["fields"]) == {
        "eventstore.projection.Folded", "eventstore.projection.TrackState",
        "eventstore.projection.Meeting", "eventstore.dates.ValidTime",
        "eventstore.projection.PartyRef", "eventstore.projection.Evidence",
        "eventstore.projection.Declaration", "eventstore.projection.Invitation",
        "eventstore.projection.Statement", "eventstore.projection.Topic",
        "eventstore.projection.Action", "eventstore.projection.RedactedFact",
        "eventstore.projection.Stage"}
