"""Property tests (hypothesis): the invariants the store promises, over random inputs.

1. a fact's JSON form round trips, for every analyst fact type;
2. ``canonical_json`` is RFC 8785 for the values the store hashes;
3. locating a quote finds the span it was taken from (or says it is ambiguous, listing it);
4. what is appended is what is read back, in order, with gapless versions and a sound chain;
5. reading is deterministic and re-appending the same events writes nothing.

The store properties use the function-scoped ``store`` fixture (both engines), so every
example shares one database: each example reads only what it wrote itself (positions after
the head it saw first) and uses fresh event ids.
"""

from __future__ import annotations

import json
import re
import unicodedata
import uuid
from typing import Any

import attrs
import pytest
import rfc8785
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from eventstore import (
    FACT_TYPES,
    AmbiguousQuote,
    EventStore,
    Fact,
    MeetingCancelled,
    QuoteNotFound,
    RecordedEvent,
    ValidationError,
    canonical_json,
    fact_from_dict,
    fact_to_dict,
    resolve_citation,
)
from eventstore.audit import chain_problems
from eventstore.codec import citations_json, envelope_json, structure_data, unstructure_data
from eventstore.sources import CONTEXT_CHARS, FoldedText, prepare_source_text
from tests.strategies import (
    DATA_STRATEGIES,
    NON_SYSTEM_TYPES,
    TRACK_TYPES,
    UNSUPPORTED,
    agreeing,
    any_payload,
    appendable,
    edtf_dates,
    fact_dicts,
    fresh_uuid,
    keys,
    short_texts,
)

PURE = settings(max_examples=200, deadline=None)
DB = settings(max_examples=20, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                     HealthCheck.data_too_large])

# ==========================================================================================
# 1. fact -> JSON -> fact
# ==========================================================================================


def test_the_strategies_cover_every_analyst_fact_type() -> None:
    analyst_types = {name for name, cls in FACT_TYPES.items() if not cls.system}
    assert UNSUPPORTED == {}
    assert set(DATA_STRATEGIES) == analyst_types == set(NON_SYSTEM_TYPES)
    assert len(analyst_types) >= 11 and TRACK_TYPES


@given(name=st.sampled_from(NON_SYSTEM_TYPES), data=st.data())
@settings(max_examples=100, deadline=None)
def test_payload_strategy_builds_the_type_it_is_named_after(name: str, data: st.DataObject
                                                            ) -> None:
    payload = data.draw(DATA_STRATEGIES[name])
    assert type(payload) is FACT_TYPES[name] and payload.type_name == name


@pytest.mark.parametrize("type_name", sorted(DATA_STRATEGIES))
@given(data=st.data())
@settings(max_examples=20, deadline=None)  # for each type
def test_fact_json_round_trip(type_name: str, data: st.DataObject) -> None:
    kwargs = data.draw(fact_dicts(DATA_STRATEGIES[type_name]), label="Fact.create kwargs")
    fact = Fact.create(**kwargs)
    assert fact.type == type_name

    as_dict = fact_to_dict(fact)
    text = json.dumps(as_dict, ensure_ascii=False, allow_nan=False)
    assert json.loads(text) == json.loads(canonical_json(as_dict)) == as_dict
    parsed = fact_from_dict(json.loads(text))
    assert parsed == fact
    assert fact_to_dict(parsed) == as_dict

    # The dict a caller writes by hand parses to the same fact as Fact.create builds.
    by_hand = {"type": type_name,
               "data": json.loads(json.dumps(unstructure_data(kwargs["data"]))),
               "citations": kwargs["cite"]}
    for key in ("track", "date", "date_text", "date_anchor", "event_id", "correlation_id",
                "causation_id"):
        if key in kwargs:
            by_hand[key] = str(kwargs[key])
    assert fact_from_dict(by_hand) == fact


@given(key=keys, junk=st.sampled_from(["\n", " ", "\t", "\r\n", "-", "A", "é", "--x"]),
       at_end=st.booleans())
@example(key="a", junk="\n", at_end=True)  # the regex's $ also matches before a final \n
@settings(max_examples=100, deadline=None)
def test_a_key_is_exactly_the_slug_rule(key: str, junk: str, at_end: bool) -> None:
    """Keys are slugs: nothing else is accepted, not even with a trailing newline."""
    assert MeetingCancelled(key=key).key == key
    bad = key + junk if at_end else junk + key
    with pytest.raises(ValueError):
        MeetingCancelled(key=bad)
    with pytest.raises(ValidationError):
        fact_from_dict({"type": "meeting.cancelled", "track": "RUS-USA", "date": "2018",
                        "data": {"key": bad}, "citations": [{"source": "a" * 8, "quote": "x"}]})


_EVENT_REF_TYPES = sorted(name for name, cls in FACT_TYPES.items() if not cls.system
                          and "event" in attrs.fields_dict(cls) and attrs.fields_dict(cls)[
                              "event"].validator is not None)


@pytest.mark.skipif(not _EVENT_REF_TYPES, reason="no fact type names another event")
@given(payload=st.sampled_from(_EVENT_REF_TYPES or ["-"]).flatmap(
    lambda name: DATA_STRATEGIES[name]), junk=st.sampled_from(["\n", " ", "x", "-", "0"]))
@settings(max_examples=50, deadline=None)
def test_an_event_reference_is_exactly_a_uuid(payload: Any, junk: str) -> None:
    """What the payload check accepts as an event id, ``uuid.UUID`` reads (as the store does)."""
    raw = unstructure_data(payload)
    uuid.UUID(raw["event"])
    raw["event"] += junk
    try:
        structure_data(payload.type_name, raw)
    except ValidationError:
        return
    uuid.UUID(raw["event"])


# ==========================================================================================
# 2. canonical JSON is RFC 8785 on the store's domain
# ==========================================================================================

#: RFC 8785 numbers are IEEE doubles: rfc8785 refuses |n| >= 2**53 (the store never hashes
#: such integers; see eventstore.codec).
_SAFE_INT = 2**53 - 1
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-_SAFE_INT, _SAFE_INT) | st.text(),
    lambda inner: st.lists(inner, max_size=5)
    | st.dictionaries(st.text(st.characters(max_codepoint=127), max_size=8), inner, max_size=5),
    max_leaves=30,
)


@given(value=json_values)
@PURE
def test_canonical_json_is_rfc8785(value: Any) -> None:
    assert canonical_json(value) == rfc8785.dumps(value)


# The hand-built encoders of the two shapes hashed per event give canonical_json's bytes,
# for well-formed values and for anything else (other types, extra or missing keys).
_scalar = st.none() | st.booleans() | st.integers(-_SAFE_INT, _SAFE_INT) | st.text()
_valid = st.none() | st.fixed_dictionaries(
    {k: st.none() | st.text() for k in ("anchor", "edtf", "lower", "text", "upper")}) | _scalar
_envelopes = st.fixed_dictionaries(
    {**{k: st.none() | st.text() for k in (
        "causation_id", "citations_hash", "correlation_id", "event_id", "payload_hash",
        "prev_hash", "recorded_at", "recorded_by", "track", "type")},
     **{k: st.integers(-_SAFE_INT, _SAFE_INT) for k in ("position", "schema_version",
                                                       "version")},
     "valid": _valid},
    optional={"extra": _scalar})
_citation_dicts = st.fixed_dictionaries(
    {"source": st.text(), "start": st.integers(0, _SAFE_INT), "end": st.integers(0, _SAFE_INT),
     "exact": st.text(), "prefix": st.text(), "suffix": st.text()},
    optional={"extra": _scalar})


@given(envelope=_envelopes | st.dictionaries(st.text(max_size=8), _scalar, max_size=14),
       citations=st.lists(_citation_dicts | st.dictionaries(st.text(max_size=8), _scalar),
                          max_size=4))
@PURE
def test_the_fast_encoders_are_canonical_json(envelope: dict[str, Any],
                                              citations: list[dict[str, Any]]) -> None:
    assert envelope_json(envelope) == canonical_json(envelope)
    assert citations_json(citations) == canonical_json(citations)


_lone_surrogate_text = st.builds(lambda a, c, b: a + c + b, st.text(max_size=3),
                                 st.characters(categories=("Cs",)), st.text(max_size=3))


@given(value=st.one_of(_lone_surrogate_text, st.lists(_lone_surrogate_text, min_size=1),
                       st.dictionaries(st.text(max_size=3), _lone_surrogate_text, min_size=1)))
@settings(max_examples=50, deadline=None)
def test_canonical_json_refuses_lone_surrogates(value: Any) -> None:
    with pytest.raises(ValidationError):
        canonical_json(value)


# ==========================================================================================
# 3. locating quotes
# ==========================================================================================

SID = "0" * 64
_WORDS = ["la", "Russie", "Kremlin", "l’accord", "l'accord", "aujourd’hui", "a", "aa", "b",
          "à", "Genève", "été", "e\u0301", "—", ",", ".", "…", "-", "«", "»", "“", "”", '"',
          "’", "'", "‘", "`"]
_SPACES = [" ", "  ", "\n", "\u00a0", "\t", "\u202f", "\r\n", " \n ", "\u00a0 "]
#: Never in a generated text: a quote containing it cannot be found.
_ABSENT = "\u2603"
_APOSTROPHE_CLASS = "’‘ʼ'`′"
_QUOTE_CLASS = "«»“”„‟\"‹›"

texts = st.lists(
    st.sampled_from(_WORDS) | st.sampled_from(_SPACES)
    | st.text(st.characters(exclude_categories=("Cc", "Cs"), exclude_characters=_ABSENT),
              max_size=3),
    min_size=1, max_size=30,
).map(lambda parts: unicodedata.normalize("NFC", "".join(parts))).filter(
    lambda t: t.strip() != "")


def fold(quote: str) -> str:
    """What the locator compares (resolve_citation folds the quote exactly so)."""
    return FoldedText.of(unicodedata.normalize("NFC", quote)).folded.strip()


@st.composite
def spans(draw: st.DrawFn, ends_in_text: bool = True) -> tuple[str, int, int]:
    """A text and a span ``[s, e)`` of it that is not only white space.

    With ``ends_in_text`` the first and last characters of the span are not white space.
    """
    text = draw(texts)
    solid = [i for i, c in enumerate(text) if not c.isspace()]
    if ends_in_text:
        s = draw(st.sampled_from(solid))
        e = draw(st.sampled_from([i for i in solid if i >= s])) + 1
    else:
        s = draw(st.integers(0, len(text) - 1))
        e = draw(st.integers(s + 1, len(text)))
        assume(text[s:e].strip())
    # A slice of NFC text is almost always NFC; where it is not, the locator (which
    # normalises the quote) is not asked to find it.
    assume(unicodedata.normalize("NFC", text[s:e]) == text[s:e])
    return text, s, e


def locate(text: str, quote: str, **where: int) -> tuple[str, Any]:
    try:
        cite = resolve_citation(text, SID, quote=quote, **where)
    except AmbiguousQuote as err:
        return "ambiguous", err.starts
    assert cite.source == SID
    assert cite.exact == text[cite.start:cite.end]
    assert cite.prefix == text[max(0, cite.start - CONTEXT_CHARS):cite.start]
    assert cite.suffix == text[cite.end:cite.end + CONTEXT_CHARS]
    assert fold(cite.exact) == fold(quote)  # never a wrong span
    return "found", (cite.start, cite.end)


def _trimmed(text: str, s: int, e: int) -> tuple[int, int]:
    while text[s].isspace():
        s += 1
    while text[e - 1].isspace():
        e -= 1
    return s, e


@given(case=spans())
@PURE
def test_a_quote_is_found_where_it_was_taken(case: tuple[str, int, int]) -> None:
    """The precise guarantee: a quote cut from the text at ``[s, e)`` (ends not white space)
    resolves to exactly ``[s, e)``, or is ambiguous and ``s`` is among the starts listed.

    Folding never moves the ends: the first and last characters of such a quote are kept
    as themselves by folding (only white space is merged or dropped, and only next to
    white space or a quotation mark *inside* the quote), so the folded quote is a slice of
    the folded text whose ends map back to ``s`` and ``e - 1``.
    """
    text, s, e = case
    quote = text[s:e]
    outcome, where = locate(text, quote)
    if outcome == "found":
        assert where == (s, e)
    else:
        assert s in where and len(where) == len(set(where)) > 1
        for other in where:  # every occurrence listed is a real one
            found = locate(text, quote, start=other)
            assert found[0] == "found" and found[1][0] == other
    assert locate(text, quote, start=s) == ("found", (s, e))
    assert locate(text, quote, start=s, end=e) == ("found", (s, e))


@given(case=spans(ends_in_text=False))
@PURE
def test_white_space_around_a_quote_is_ignored(case: tuple[str, int, int]) -> None:
    """Any span with some text in it resolves to the same span trimmed of white space."""
    text, s, e = case
    trimmed = _trimmed(text, s, e)
    outcome, where = locate(text, text[s:e])
    assert outcome == "found" and where == trimmed or outcome == "ambiguous" and trimmed[0] in where
    assert locate(text, text[s:e], start=trimmed[0]) == ("found", trimmed)


@given(case=spans(), data=st.data())
@PURE
def test_typographic_variants_find_the_same_span(case: tuple[str, int, int],
                                                 data: st.DataObject) -> None:
    text, s, e = case
    quote = text[s:e]
    variant = []
    for char in quote:
        if char in _APOSTROPHE_CLASS:
            char = data.draw(st.sampled_from(_APOSTROPHE_CLASS))
        elif char in _QUOTE_CLASS:
            char = data.draw(st.sampled_from(_QUOTE_CLASS))
        variant.append(char)
    typed = "".join(variant)
    # white space typed differently: any run of it as any other run
    typed = re.sub(r"\s+", lambda _: data.draw(st.sampled_from(_SPACES)), typed)
    assert locate(text, typed) == locate(text, quote)
    assert locate(text, typed, start=s) == ("found", (s, e))


@given(case=spans(), data=st.data())
@PURE
def test_a_quote_not_in_the_source_is_not_found(case: tuple[str, int, int],
                                                data: st.DataObject) -> None:
    text, s, e = case
    quote = text[s:e]
    at = data.draw(st.integers(0, len(quote)))
    with pytest.raises(QuoteNotFound):
        resolve_citation(text, SID, quote=quote[:at] + _ABSENT + quote[at:])


# ==========================================================================================
# 4. append, then read back; 5. replay determinism
# ==========================================================================================

SOURCES = [
    "GENÈVE, 24 août (Reuters) – Le conseiller américain John Bolton et son homologue russe "
    "Nikolaï Patrouchev ont eu jeudi une rencontre à Genève.\n\n"
    "« Nous sommes prêts au dialogue », a déclaré l’émissaire, a-t-on appris de source russe.\n"
    "Le Kremlin a salué “un pas en avant”. Le Kremlin n’a pas précisé la date du sommet.\n"
    "Les deux parties ont évoqué la Syrie,\u00a0l’Iran et   le contrôle des armements.",
    "MOSCOU, 23 octobre — Vladimir Poutine a reçu M. Bolton au Kremlin.\n"
    "« Il n’y a pas de raison de sortir du traité », a-t-il dit ; le traité FNI est en jeu.\n"
    "Selon l'agence Tass, une rencontre au sommet aura lieu à Paris le 11 novembre.",
]
SOURCE_IDS = [prepare_source_text(text.encode("utf-8"))[1] for text in SOURCES]
SOURCE_TEXTS = [prepare_source_text(text.encode("utf-8"))[0] for text in SOURCES]
#: Passages that occur once in their source (tolerant matching included).
PASSAGES = [
    (0, "ont eu jeudi une rencontre à Genève"),
    (0, "« Nous sommes prêts au dialogue »"),
    (0, "a déclaré l’émissaire"),
    (0, "a-t-on appris de source russe"),
    (0, "“un pas en avant”"),
    (0, "la Syrie,\u00a0l’Iran et   le contrôle"),
    (0, "(Reuters)"),
    (1, "Vladimir Poutine a reçu M. Bolton"),
    (1, "« Il n’y a pas de raison de sortir du traité »"),
    (1, "Selon l'agence Tass"),
]
#: Quotes that occur several times: cited with the start of one occurrence.
REPEATED = [(0, "Le Kremlin"), (1, "traité"), (0, "russe")]


def _typed(passage: str) -> str:
    """The passage as someone might type it: plain quotes, one space for each run."""
    plain = passage.translate({ord(c): "'" for c in "’‘"} | {ord(c): '"' for c in "«»“”"})
    return re.sub(r"\s+", " ", plain)


def _occurrences(text: str, needle: str) -> list[int]:
    return [m.start() for m in re.finditer(re.escape(needle), text)]


@st.composite
def citations(draw: st.DrawFn) -> tuple[dict[str, Any], tuple[str, int, int]]:
    """A citation of one of SOURCES, and the span ``(source id, start, end)`` it must find."""
    prefix = draw(st.integers(8, 64))
    kind = draw(st.sampled_from(["quote", "typed", "span", "quote+start", "repeated"]))
    if kind == "repeated":
        index, quote = draw(st.sampled_from(REPEATED))
        start = draw(st.sampled_from(_occurrences(SOURCE_TEXTS[index], quote)))
        cite = {"quote": quote, "start": start}
        end = start + len(quote)
    else:
        index, passage = draw(st.sampled_from(PASSAGES))
        start = SOURCE_TEXTS[index].index(passage)
        end = start + len(passage)
        cite = {"quote": passage} if kind == "quote" else {
            "typed": {"quote": _typed(passage)},
            "span": {"start": start, "end": end},
            "quote+start": {"quote": passage, "start": start},
        }[kind]
    return {"source": SOURCE_IDS[index][:prefix], **cite}, (SOURCE_IDS[index], start, end)


def test_the_cited_passages_are_where_the_citation_strategy_says() -> None:
    for index, passage in PASSAGES:
        text = SOURCE_TEXTS[index]
        for quote in (passage, _typed(passage)):
            cite = resolve_citation(text, SOURCE_IDS[index], quote=quote)
            assert (cite.start, cite.exact) == (text.index(passage), passage)
    for index, quote in REPEATED:
        assert len(_occurrences(SOURCE_TEXTS[index], quote)) > 1


#: Valid times of every shape, drawn for stored facts besides random ones.
DATE_POOL = ["2018-08-23", "2018-08", "2018", "2018?", "2018-08~", "2018-08-23%", "0001",
             "9999-12-31", "2018-06-24/2018-06-25", "2018?/2019~", "2018-06~/2018-06-11?",
             "../2018-10-23", "2018-10-23/..", "/2018-10-23", "2018-10-23/"]


@st.composite
def fact_specs(draw: st.DrawFn) -> dict[str, Any]:
    """What a fact to store is made of (its track is chosen by the operation)."""
    cites = draw(st.lists(citations(), min_size=1, max_size=3))
    return {
        "data": draw(any_payload(TRACK_TYPES)),
        "date": draw(st.sampled_from(DATE_POOL) | edtf_dates()),
        "date_text": draw(st.none() | short_texts(15)),
        "date_anchor": draw(st.sampled_from([None, "2018-08-24", "2018-08"])),
        "cite": [c for c, _ in cites],
        "expected_spans": [span for _, span in cites],
        "own_id": draw(st.booleans()),
        "correlation_id": draw(st.none() | st.uuids()),
        "causation_id": draw(st.none() | st.uuids()),
        "as_dict": draw(st.sampled_from([False, False, False, True])),  # JSON form: parsed again
    }


def build(spec: dict[str, Any], track: str) -> Fact:
    date, date_text, date_anchor = agreeing(spec["date"], spec["date_text"],
                                            spec["date_anchor"])
    return Fact.create(spec["data"], track=track, date=date, cite=spec["cite"],
                       date_text=date_text, date_anchor=date_anchor,
                       event_id=fresh_uuid() if spec["own_id"] else None,
                       correlation_id=spec["correlation_id"], causation_id=spec["causation_id"])


def operations(n_tracks: int) -> st.SearchStrategy[tuple[Any, ...]]:
    track = st.integers(0, n_tracks - 1)
    return st.one_of(
        st.tuples(st.just("append"), track, st.lists(fact_specs(), min_size=1, max_size=20),
                  st.booleans()),
        st.tuples(st.just("append_many"),
                  st.lists(st.tuples(track, fact_specs()), min_size=1, max_size=20)),
    )


@pytest.fixture
def cited_store(store: EventStore) -> EventStore:
    """The test store with SOURCES registered (once per store, not once per example)."""
    infos = [store.add_source(text, title=f"source {i}") for i, text in enumerate(SOURCES)]
    assert [info.id for info in infos] == SOURCE_IDS
    return store


def _as_item(fact: Fact, spec: dict[str, Any], drop_track: bool) -> Fact | dict[str, Any]:
    if not spec["as_dict"]:
        return fact
    item = fact_to_dict(fact)
    if drop_track:  # append() fills in its own track
        del item["track"]
    return item


def _check_event(event: RecordedEvent, fact: Fact, spec: dict[str, Any],
                 store: EventStore) -> None:
    assert event.type == fact.type and event.schema_version == fact.data.stored_version()
    assert event.data == fact.data
    assert event.track == fact.track
    assert event.valid == fact.valid
    assert (event.correlation_id, event.causation_id) == (fact.correlation_id,
                                                          fact.causation_id)
    if fact.event_id is not None:
        assert event.event_id == fact.event_id
    assert event.recorded_by == store.actor
    assert [(c.source, c.start, c.end) for c in event.citations] == spec["expected_spans"]
    for cite in event.citations:
        text = SOURCE_TEXTS[SOURCE_IDS.index(cite.source)]
        assert cite.exact == text[cite.start:cite.end]
        assert cite.prefix == text[max(0, cite.start - CONTEXT_CHARS):cite.start]
        assert cite.suffix == text[cite.end:cite.end + CONTEXT_CHARS]


@given(data=st.data())
@DB
def test_append_then_read(cited_store: EventStore, data: st.DataObject) -> None:
    store = cited_store
    track_ids = data.draw(st.lists(appendable, min_size=2, max_size=5, unique=True),
                          label="tracks")
    ops = data.draw(st.lists(operations(len(track_ids)), min_size=1, max_size=4), label="ops")

    head_before, _ = store.head()
    versions_before = {track: store.track_version(track) for track in track_ids}
    written: list[tuple[Fact, dict[str, Any], Any]] = []  # (fact, spec, Appended)
    for op in ops:
        if op[0] == "append":
            _, index, specs, drop_track = op
            track = track_ids[index]
            facts = [build(spec, track) for spec in specs]
            # the track may be spelled any way parse_track accepts
            spelled = data.draw(st.sampled_from([track, track.lower(), "/".join(
                reversed(track.split("-")))]), label="track as given")
            result = store.append(spelled, [_as_item(f, s, drop_track)
                                            for f, s in zip(facts, specs, strict=True)])
        else:
            specs = [spec for _, spec in op[1]]
            facts = [build(spec, track_ids[index]) for index, spec in op[1]]
            result = store.append_many([_as_item(f, s, False)
                                        for f, s in zip(facts, specs, strict=True)])
        assert result.written == len(facts)
        written.extend(zip(facts, specs, result.events, strict=True))

    # what append returned: consecutive positions, per-track versions going on from before
    positions = [appended.position for _, _, appended in written]
    assert positions == list(range(head_before + 1, head_before + 1 + len(written)))
    next_version = dict(versions_before)
    for fact, _, appended in written:
        next_version[fact.track] += 1
        assert (appended.track, appended.version, appended.new) == (
            fact.track, next_version[fact.track], True)
        if fact.event_id is not None:
            assert appended.event_id == fact.event_id

    # what the log holds: exactly that, in append order
    events = list(store.read_all(from_position=head_before + 1))
    assert [e.position for e in events] == positions
    for event, (fact, spec, appended) in zip(events, written, strict=True):
        assert (event.event_id, event.track, event.version) == (
            appended.event_id, appended.track, appended.version)
        _check_event(event, fact, spec, store)
    assert len({e.event_id for e in events}) == len(events)

    # each track: versions 1..n without a gap, and its new tail is what was appended to it
    for track in track_ids:
        stream = list(store.read_track(track))
        assert [e.version for e in stream] == list(range(1, len(stream) + 1))
        assert len(stream) == next_version[track]
        assert [e for e in stream if e.position > head_before] == [
            e for e in events if e.track == track]

    assert list(chain_problems(store.read_all())) == []


@given(data=st.data())
@DB
def test_replay_is_deterministic_and_reappending_writes_nothing(cited_store: EventStore,
                                                                data: st.DataObject) -> None:
    store = cited_store
    track_ids = data.draw(st.lists(appendable, min_size=2, max_size=5, unique=True),
                          label="tracks")
    one_track = data.draw(st.booleans(), label="append to one track")
    specs = data.draw(st.lists(fact_specs(), min_size=1, max_size=20), label="facts")
    if one_track:
        facts = [build(dict(spec, own_id=True), track_ids[0]) for spec in specs]
        def append(items: list[Any]) -> Any:
            return store.append(track_ids[0], items)
    else:
        chosen = data.draw(st.lists(st.integers(0, len(track_ids) - 1), min_size=len(specs),
                                    max_size=len(specs)), label="track of each fact")
        facts = [build(dict(spec, own_id=True), track_ids[i])
                 for spec, i in zip(specs, chosen, strict=True)]
        def append(items: list[Any]) -> Any:
            return store.append_many(items)

    first = append(facts)
    assert first.written == len(facts)
    head = store.head()

    # the same batch again, as objects or as JSON dicts: nothing written, same answers
    as_dicts = data.draw(st.booleans(), label="re-append the JSON form too")
    for items in [facts] + ([[fact_to_dict(f) for f in facts]] if as_dicts else []):
        again = append(items)
        assert again.written == 0 and not any(e.new for e in again.events)
        assert again.positions == first.positions
        assert [(e.event_id, e.track, e.version) for e in again.events] == [
            (e.event_id, e.track, e.version) for e in first.events]
        assert store.head() == head

    # old events mixed with new ones: the old keep their place, only the new are written
    extra = data.draw(st.lists(fact_specs(), min_size=1, max_size=5), label="new facts")
    new_facts = [build(dict(spec, own_id=data.draw(st.booleans())), facts[0].track)
                 for spec in extra]
    mixed = data.draw(st.permutations([(f, True) for f in facts] + [(f, False)
                                                                     for f in new_facts]),
                      label="mixed order")
    if one_track:
        result = append([f for f, _ in mixed])
    else:
        result = store.append_many([f for f, _ in mixed])
    old_positions = {f.event_id: p for f, p in zip(facts, first.positions, strict=True)}
    next_position = head[0] + 1
    for (fact, old), appended in zip(mixed, result.events, strict=True):
        assert appended.new is not old
        if old:
            assert appended.position == old_positions[fact.event_id]
        else:
            assert appended.position == next_position
            next_position += 1
    assert result.written == len(new_facts)

    # reading twice, and through another store object on the same database, is the same
    log = list(store.read_all())
    assert list(store.read_all()) == log
    assert list(EventStore(store.engine, actor="someone-else").read_all()) == log
    for track in track_ids:
        assert list(store.read_track(track)) == list(store.read_track(track)) == [
            e for e in log if e.track == track]
    assert list(chain_problems(log)) == []


@given(date_text=st.text(max_size=8), payload=any_payload(TRACK_TYPES))
@example(date_text="jeudi\x00", payload=MeetingCancelled(key="geneva"))
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_what_parses_is_stored_on_every_engine(cited_store: EventStore, date_text: str,
                                               payload: Any) -> None:
    """A fact the parser accepts is stored and read back as it was, whatever the engine.

    ``date_text`` is the one text field without a validator, so it is where the engines
    could disagree (PostgreSQL text cannot hold NUL): either the parser refuses it for
    every engine, or every engine stores it.
    """
    try:
        fact = Fact.create(payload, track="RUS-USA", date="2018-08-23", date_text=date_text,
                           cite=[{"source": SOURCE_IDS[0], "quote": "(Reuters)"}])
    except ValidationError:
        return
    (position,) = cited_store.append("RUS-USA", [fact]).positions
    (event,) = cited_store.read_all(from_position=position, limit=1)
    assert event.position == position and event.valid == fact.valid
    assert event.valid is not None and event.valid.text == date_text
