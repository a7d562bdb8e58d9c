"""Issue 12, points 6, 7, 8 and 10: parties known by role, topics per citation and across
languages, every source's note, sources as they are published.

Each point in every display: the state (table, markdown, JSON), history, the report page;
each bad input refused with what and where, nothing written.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from eventstore import EventStore, ValidationError
from eventstore.cli import cli
from eventstore.cli.render import history_text, state_text
from eventstore.codec import decode_stored, structure_data, unstructure_data
from eventstore.facts import Party, PublicationBasis, TopicCite, TopicsDiscussed
from eventstore.projection import ActorRegistry, project
from eventstore.report import track_report
from tests.conftest import ARTICLE_GENEVA, ARTICLE_MOSCOW

MET = "ont eu jeudi une rencontre à Genève"
WARNED = "mis en garde la Russie contre toute interférence"
INVITED = "M. Patrouchev a invité M. Bolton à Moscou"
PUTIN = "Le 27 juin, le président russe Vladimir Poutine"
BOLTON = {"name": "John Bolton", "country": "USA"}
MINISTER = {"country": "CHN", "role": "foreign minister"}
WANG_YI = {"id": "wang-yi", "name": "Wang Yi", "country": "CHN",
           "roles": [{"role": "Foreign Minister", "since": "2013-03-16", "until": "2022-12-30"}]}


@pytest.fixture
def sources(store: EventStore) -> tuple[str, str]:
    geneva = store.add_source(ARTICLE_GENEVA.read_bytes(), outlet="Le Figaro", agency="AFP",
                              published="2018-08-24", published_basis="url",
                              note="AFP wire copy, republished unchanged",
                              body_until="Chine : une logistique plus verte").id
    moscow = store.add_source(ARTICLE_MOSCOW.read_bytes(), outlet="Baonghean.vn").id
    return geneva, moscow


def cite(source: str, quote: str) -> dict[str, str]:
    return {"source": source, "quote": quote}


def held(key: str, date: str, citations: list[dict[str, str]], **data: Any) -> dict[str, Any]:
    return {"type": "meeting.held", "track": "RUS-USA", "date": date,
            "data": {"key": key, "kind": "talks", "participants": [BOLTON]} | data,
            "citations": citations}


def cli_run(url: str, *args: str) -> Result:
    result = CliRunner().invoke(cli, [*args, "--db", url], catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"uncaught {result.exception!r}") from result.exception
    assert "Traceback" not in result.output + result.stderr
    return result


def every_display(store: EventStore, tmp_path: Path) -> dict[str, str]:
    """The track as each display shows it: table, markdown, JSON, history, report."""
    state = store.project("RUS-USA")
    steps = store.history("RUS-USA")
    return {"table": state_text(state), "markdown": state_text(state, markdown=True),
            "json": json.dumps(state.to_dict(), ensure_ascii=False),
            "history": history_text(steps), "history-json": json.dumps(
                [s.to_dict() for s in steps], ensure_ascii=False, default=str),
            "report": track_report(store, "RUS-USA")}


def assert_no_raw_values(shown: dict[str, str]) -> None:
    for name, text in shown.items():
        if name in ("json", "history-json"):
            continue
        assert not re.search(r"\bNone\b(?!\.</p>)", text), f"{name} shows None"
        for raw in ("PartyRef(", "Note(", "RoleHolder(", "TopicCite(", "Evidence("):
            assert raw not in text, f"{name} shows {raw}"


# -- 6. participants known only by their role ---------------------------------------------

def test_a_party_by_role_alone_is_never_merged_with_a_named_one(
        store: EventStore, sources: tuple[str, str], tmp_path: Path) -> None:
    geneva, _ = sources
    wang = {"name": "Wang Yi", "country": "CHN", "role": "foreign minister"}
    store.append("RUS-USA", [
        held("geneva", "2018-08-23", [cite(geneva, MET)], participants=[MINISTER, wang]),
        held("geneva", "2018-08-23", [cite(geneva, WARNED)], participants=[MINISTER])])
    participants = store.project("RUS-USA").meetings[0].participants
    assert [(p.id, p.name, p.role) for p in participants] == [
        ("CHN:role:foreign minister", None, "foreign minister"),
        ("CHN:wang yi", "Wang Yi", "foreign minister")]
    assert participants[0].inferred is None  # no registry: unnamed, and said so
    shown = every_display(store, tmp_path)
    for name in ("table", "markdown", "report"):
        assert "foreign minister, CHN (unnamed)" in shown[name], name
    doc = json.loads(shown["json"])["meetings"][0]["participants"][0]
    assert doc == {"id": "CHN:role:foreign minister", "name": None, "country": "CHN",
                   "role": "foreign minister", "inferred": None}
    assert_no_raw_values(shown)


def test_the_registry_says_who_held_the_role_then_marked_as_its_inference(
        store: EventStore, sources: tuple[str, str], tmp_path: Path) -> None:
    geneva, _ = sources
    store.append("$actors", [{"type": "actor.registered", "data": WANG_YI}])
    store.append("RUS-USA", [
        held("geneva", "2018-08-23", [cite(geneva, MET)], participants=[MINISTER]),
        held("moscow", "2023-05", [cite(geneva, WARNED)], participants=[MINISTER]),
        held("vienna", "2018", [cite(geneva, INVITED)], participants=[MINISTER]),
        held("prague", "../2018-08-23", [cite(geneva, MET)], participants=[MINISTER])])
    meetings = {m.key: m for m in store.project("RUS-USA").meetings}
    geneva_minister = meetings["geneva"].participants[0]
    assert geneva_minister.name is None  # the source's words are kept as they were
    assert geneva_minister.id == "CHN:role:foreign minister"  # not merged with wang-yi
    assert geneva_minister.inferred is not None
    assert (geneva_minister.inferred.id, geneva_minister.inferred.name) == ("wang-yi", "Wang Yi")
    # 2018 lies within his term: inferred; after it, or an open start: nobody is
    assert meetings["vienna"].participants[0].inferred is not None
    assert meetings["moscow"].participants[0].inferred is None
    assert meetings["prague"].participants[0].inferred is None
    shown = every_display(store, tmp_path)
    label = "foreign minister, CHN (Wang Yi, by the actor registry)"
    for name in ("table", "markdown", "report"):
        assert label in shown[name], name
    doc = next(m for m in json.loads(shown["json"])["meetings"] if m["key"] == "geneva")
    assert doc["participants"][0]["name"] is None
    assert doc["participants"][0]["inferred"] == {
        "id": "wang-yi", "name": "Wang Yi", "role": "Foreign Minister", "since": "2013-03-16",
        "until": "2022-12-30", "by": "actor registry"}
    assert_no_raw_values(shown)


def test_one_role_in_two_languages_is_one_participant_when_the_registry_says_so(
        store: EventStore, sources: tuple[str, str]) -> None:
    """Two reports of one meeting, in French and English, name the minister by role alone:
    one participant when the registry says one actor held both roles then (its inference,
    the first report's words kept), two when it says nothing, and a named report of the
    same man stays apart (a role is never merged with a name)."""
    geneva, _ = sources
    french = {"country": "CHN", "role": "ministre des Affaires étrangères"}
    store.append("RUS-USA", [
        held("geneva", "2018-08-23", [cite(geneva, MET)], participants=[french]),
        held("geneva", "2018-08-23", [cite(geneva, WARNED)], participants=[MINISTER])])
    (meeting,) = store.project("RUS-USA").meetings
    assert [p.role for p in meeting.participants] == [french["role"], "foreign minister"]
    store.append("$actors", [{"type": "actor.registered", "data": WANG_YI | {"roles": [
        *WANG_YI["roles"], {"role": french["role"], "since": "2013-03-16",
                            "until": "2022-12-30"}]}}])
    (meeting,) = store.project("RUS-USA").meetings
    (minister,) = meeting.participants
    assert (minister.name, minister.role) == (None, french["role"])
    assert minister.inferred is not None and minister.inferred.id == "wang-yi"
    store.append("RUS-USA", [held("geneva", "2018-08-23", [cite(geneva, MET)],
                                  participants=[{"name": "Wang Yi", "country": "CHN"}])])
    (meeting,) = store.project("RUS-USA").meetings
    assert [(p.name, p.id) for p in meeting.participants] == [
        (None, "CHN:role:ministre des affaires etrangeres"), ("Wang Yi", "wang-yi")]


def test_two_actors_holding_the_role_then_infer_nobody() -> None:
    from eventstore.dates import parse_valid_time
    from eventstore.facts import ActorRegistered, ActorRole

    registry = ActorRegistry.of([
        ActorRegistered(id="a", name="A", country="CHN",
                        roles=[ActorRole("foreign minister", "2010")]),
        ActorRegistered(id="b", name="B", country="CHN",
                        roles=[ActorRole("Foreign Minister", "2011")])])
    ref = registry.ref(Party(None, "CHN", "foreign minister"), parse_valid_time("2018-08-23"))
    assert ref.inferred is None and ref.label == "foreign minister, CHN (unnamed)"


def test_a_statement_by_role_sorts_and_shows_in_history(
        store: EventStore, sources: tuple[str, str]) -> None:
    geneva, _ = sources
    store.append("RUS-USA", [{"type": "statement.made", "date": "2018-08-23", "data": {
        "speaker": MINISTER, "stance": "warning", "content": "pas d'ingérence"},
        "citations": [cite(geneva, WARNED)]}])
    steps = store.history("RUS-USA")
    assert steps[0].changes == ("statement by foreign minister, CHN (unnamed) (warning): "
                                "pas d'ingérence",)


def test_a_party_needs_a_name_or_a_role(store: EventStore, sources: tuple[str, str]) -> None:
    geneva, _ = sources
    before = store.head()
    for party, where in (({"country": "CHN"}, "data.participants[0].name"),
                         ({"country": "CHN", "name": None}, "data.participants[0].name"),
                         ({"country": "CHN", "role": ""}, "data.participants[0].role")):
        with pytest.raises(ValidationError) as err:
            store.append("RUS-USA", [held("geneva", "2018-08-23", [cite(geneva, MET)],
                                          participants=[party])])
        assert where in str(err.value)
    assert store.head() == before


def test_the_command_line_takes_a_party_by_role(db_url: str, tmp_path: Path) -> None:
    assert cli_run(db_url, "init").exit_code == 0
    added = cli_run(db_url, "source", "add", str(ARTICLE_GENEVA), "--format", "json")
    source = json.loads(added.stdout)["id"]
    base = ["append", "meeting.held", "--track", "RUS-USA", "--date", "2018-08-23",
            "--key", "geneva", "--kind", "talks", "--cite", f"{source}:{MET}"]
    ok = cli_run(db_url, *base, "--participant", ":CHN:foreign minister")
    assert ok.exit_code == 0, ok.stderr
    refused = cli_run(db_url, *base, "--participant", ":CHN")
    assert refused.exit_code == 2
    assert "--participant" in refused.stderr and ":COUNTRY:ROLE" in refused.stderr
    shown = cli_run(db_url, "project", "--track", "RUS-USA")
    assert "foreign minister, CHN (unnamed)" in shown.stdout
    log = cli_run(db_url, "log")
    assert "None" not in log.stdout


# -- 7. topics per citation, and across languages -----------------------------------------

def test_each_topic_cites_only_its_own_citations(
        store: EventStore, sources: tuple[str, str], tmp_path: Path) -> None:
    geneva, moscow = sources
    store.append("RUS-USA", [{
        "type": "topics.discussed", "date": "2018-08-23",
        "data": {"meeting": "geneva", "topics": [{"topic": "élections", "cite": [0]},
                                                 {"topic": "Syrie", "cite": [1]}, "Ukraine"]},
        "citations": [cite(geneva, WARNED), cite(moscow, PUTIN)]}])
    topics = {t.key: t for t in store.project("RUS-USA").topics}
    assert [c.exact for c in topics["élections"].citations] == [WARNED]
    assert [c.source for c in topics["Syrie"].citations] == [moscow]
    assert len(topics["Ukraine"].citations) == 2  # a plain name: every citation, as before
    meeting = store.project("RUS-USA").meetings[0]
    assert meeting.topics == ("élections", "Syrie", "Ukraine") and len(meeting.citations) == 2
    assert_no_raw_values(every_display(store, tmp_path))


def test_a_plain_topics_fact_is_stored_as_version_1(store: EventStore,
                                                    sources: tuple[str, str]) -> None:
    geneva, _ = sources
    plain = {"type": "topics.discussed", "date": "2018-08-23",
             "data": {"meeting": "geneva", "topics": ["Syrie"]},
             "citations": [cite(geneva, MET)]}
    cited = dict(plain, data={"meeting": "geneva", "topics": [{"topic": "Syrie", "cite": [0]}]})
    store.append("RUS-USA", [plain, cited])
    assert [e.schema_version for e in store.read_track("RUS-USA")] == [1, 2]
    # a version 1 payload reads as it always did
    assert decode_stored("topics.discussed", 1, {"meeting": "g", "topics": ["Syrie"]}) == \
        TopicsDiscussed("g", ["Syrie"])
    assert store.verify().ok


def test_a_topic_cites_a_citation_the_fact_has(store: EventStore,
                                               sources: tuple[str, str]) -> None:
    geneva, _ = sources
    before = store.head()
    bad = {"type": "topics.discussed", "date": "2018-08-23", "track": "RUS-USA",
           "citations": [cite(geneva, MET)]}
    cases = [({"meeting": "g", "topics": [{"topic": "Syrie", "cite": [1]}]},
              "data.topics[0].cite[0]", "the fact has 1 (0 to 0)"),
             ({"meeting": "g", "topics": [{"topic": "Syrie", "cite": [-1]}]},
              "data.topics[0].cite", "is not the index"),
             ({"meeting": "g", "topics": [{"topic": "Syrie", "cite": []}]},
              "data.topics[0].cite", "must not be empty"),
             ({"meeting": "g", "topics": [{"topic": "Syrie"}]},
              "data.topics[0].cite", "required field missing"),
             ({"meeting": "g", "topics": [{"topic": "Syrie", "cite": [0], "x": 1}]},
              "data.topics[0]", "extra fields"),
             ({"meeting": "g", "topics": [7]}, "data.topics[0]", "expected text, or an object")]
    for data, where, words in cases:
        with pytest.raises(ValidationError) as err:
            store.append_many([dict(bad, data=data)])
        assert where in str(err.value) and words in str(err.value), str(err.value)
    assert store.head() == before


def test_one_topic_across_languages_keeps_the_names_used(
        store: EventStore, sources: tuple[str, str], tmp_path: Path) -> None:
    geneva, moscow = sources
    store.append("RUS-USA", [
        {"type": "topics.discussed", "date": "2018-08-23", "data": {
            "meeting": "geneva", "topics": ["Cachemire"]}, "citations": [cite(geneva, MET)]},
        {"type": "topics.discussed", "date": "2018-09-01", "data": {
            "meeting": "moscow", "topics": ["Kashmir"]}, "citations": [cite(moscow, PUTIN)]}])
    assert [t.key for t in store.project("RUS-USA").topics] == ["Cachemire", "Kashmir"]
    store.append("$topics", [{"type": "topic.registered", "data": {
        "id": "kashmir", "name": "Kashmir", "aliases": ["Cachemire", "Kaschmir"]}}])
    (topic,) = store.project("RUS-USA").topics  # the read model was refolded
    assert (topic.key, topic.registered, topic.names) == ("Kashmir", "kashmir",
                                                          ("Cachemire", "Kashmir"))
    assert topic.meetings == ("geneva", "moscow") and len(topic.citations) == 2
    # one meeting that heard both names lists the topic once, by its registered name
    store.append("RUS-USA", [{"type": "topics.discussed", "date": "2018-09-01", "data": {
        "meeting": "moscow", "topics": ["Cachemire", "Syrie"]},
        "citations": [cite(moscow, PUTIN)]}])
    meetings = {m.key: m.topics for m in store.project("RUS-USA").meetings}
    assert meetings == {"geneva": ("Kashmir",), "moscow": ("Kashmir", "Syrie")}
    shown = every_display(store, tmp_path)
    for name in ("table", "markdown", "report"):
        assert "topic registry: kashmir; as written: Cachemire, Kashmir" in shown[name], name
    assert json.loads(shown["json"])["topics"][0]["names"] == ["Cachemire", "Kashmir"]
    assert_no_raw_values(shown)
    # the registry as known before it existed: two topics
    last = list(store.read_track("RUS-USA"))[-1]
    assert len(store.project("RUS-USA", known_at=last.recorded_at).topics) == 2


def test_the_command_line_cites_a_topic(db_url: str) -> None:
    assert cli_run(db_url, "init").exit_code == 0
    source = json.loads(cli_run(db_url, "source", "add", str(ARTICLE_GENEVA),
                                "--format", "json").stdout)["id"]
    base = ["append", "topics.discussed", "--track", "RUS-USA", "--date", "2018-08-23",
            "--meeting", "geneva", "--cite", f"{source}:{MET}", "--cite", f"{source}:{WARNED}"]
    assert cli_run(db_url, *base, "--topic", "élections@1", "--topic", "Syrie").exit_code == 0
    doc = json.loads(cli_run(db_url, "project", "--track", "RUS-USA", "--format",
                             "json").stdout)
    topics = {t["key"]: t for t in doc["topics"]}
    assert [c["exact"] for c in topics["élections"]["citations"]] == [WARNED]
    assert len(topics["Syrie"]["citations"]) == 2
    refused = cli_run(db_url, *base, "--topic", "élections@2")
    assert refused.exit_code == 1
    assert "data.topics[0].cite[0]" in refused.stderr
    help_text = cli_run(db_url, "append", "topics.discussed", "--help").stdout
    assert "TEXT@0,2" in help_text


def test_topic_registrations_refuse_bad_input(store: EventStore) -> None:
    before = store.head()
    for data, where in (({"id": "Kashmir!", "name": "Kashmir"}, "data.id"),
                        ({"id": "kashmir"}, "data.name"),
                        ({"id": "kashmir", "name": "Kashmir", "aliases": "Cachemire"},
                         "data.aliases"),
                        ({"id": "kashmir", "name": "Kashmir", "wikidata": "X1"},
                         "data.wikidata")):
        with pytest.raises(ValidationError) as err:
            store.append("$topics", [{"type": "topic.registered", "data": data}])
        assert where in str(err.value), str(err.value)
    with pytest.raises(ValidationError, match="belongs to the \\$topics stream"):
        store.append("RUS-USA", [{"type": "topic.registered", "data": {
            "id": "kashmir", "name": "Kashmir"}}])
    assert store.head() == before


# -- 8. every source's note ----------------------------------------------------------------

def test_an_item_keeps_every_sources_note_with_its_citation(
        store: EventStore, sources: tuple[str, str], tmp_path: Path) -> None:
    geneva, moscow = sources
    store.append("RUS-USA", [
        held("geneva", "2018-08-23", [cite(geneva, MET)], note="plusieurs heures"),
        held("geneva", "2018-08-23", [cite(moscow, PUTIN)], note="a few hours"),
        {"type": "invitation.extended", "date": "2018-08-23", "data": {
            "key": "moscow", "inviter": {"name": "Nikolaï Patrouchev", "country": "RUS"},
            "invitee": BOLTON}, "citations": [cite(geneva, INVITED)]},
        {"type": "invitation.accepted", "date": "2018-08-24", "data": {
            "key": "moscow", "note": "accepted in principle"},
         "citations": [cite(geneva, INVITED)]},
        {"type": "action.announced", "date": "2018-08-23", "data": {
            "key": "press", "actors": [BOLTON], "action": "press conference"},
         "citations": [cite(geneva, WARNED)]},
        {"type": "action.done", "date": "2018-08-23", "data": {"key": "press",
                                                                "note": "to the press"},
         "citations": [cite(geneva, WARNED)]}])
    state = store.project("RUS-USA")
    notes = [(n.text, [c.source for c in n.citations]) for n in state.meetings[0].notes]
    assert notes == [("plusieurs heures", [geneva]), ("a few hours", [moscow])]
    assert [n.text for n in state.invitations[0].notes] == ["accepted in principle"]
    assert [n.text for n in state.actions[0].notes] == ["to the press"]
    shown = every_display(store, tmp_path)
    for name in ("table", "markdown"):
        assert f"note: plusieurs heures  [{geneva[:8]} " in shown[name]
        assert f"note: a few hours  [{moscow[:8]} " in shown[name]
        assert "note: accepted in principle" in shown[name]
        assert "note: to the press" in shown[name]
    assert "note: plusieurs heures" in shown["report"] and "note: a few hours" in shown["report"]
    assert f"notes + \u201ca few hours\u201d ({moscow[:8]} " in shown["history"]
    doc = json.loads(shown["json"])["meetings"][0]["notes"]
    assert [(n["text"], n["citations"][0]["source"]) for n in doc] == [
        ("plusieurs heures", geneva), ("a few hours", moscow)]
    assert_no_raw_values(shown)


# -- 10. sources as they are published ----------------------------------------------------

def test_a_source_says_how_it_was_published(store: EventStore, sources: tuple[str, str],
                                            tmp_path: Path) -> None:
    geneva, moscow = sources
    info = store.get_source(geneva).info
    assert (info.outlet, info.agency, info.published, info.published_basis, info.note) == (
        "Le Figaro", "AFP", "2018-08-24", "url", "AFP wire copy, republished unchanged")
    registrations = {e.data.source: e for e in store.read_track("$sources")}
    assert registrations[geneva].schema_version == 2
    assert registrations[geneva].data.published_basis is PublicationBasis.URL
    assert registrations[moscow].schema_version == 1  # nothing version 2 added: as before
    store.append("RUS-USA", [held("geneva", "2018-08-23", [cite(geneva, MET)])])
    page = track_report(store, "RUS-USA")
    assert "Le Figaro (AFP wire copy), published 2018-08-24 (date from the URL)" in page
    assert "AFP wire copy, republished unchanged" in page
    assert store.verify().ok


def test_source_add_and_show_on_the_command_line(db_url: str) -> None:
    assert cli_run(db_url, "init").exit_code == 0
    added = cli_run(db_url, "source", "add", str(ARTICLE_GENEVA), "--outlet", "Le Figaro",
                    "--agency", "AFP", "--published", "2018-08-24", "--published-basis",
                    "dateline", "--note", "wire copy", "--format", "json")
    assert added.exit_code == 0, added.stderr
    doc = json.loads(added.stdout)
    assert (doc["agency"], doc["published_basis"], doc["note"]) == ("AFP", "dateline",
                                                                     "wire copy")
    listed = cli_run(db_url, "source", "list").stdout
    assert "Le Figaro (AFP wire copy)" in listed
    assert "2018-08-24 (date from the dateline)" in listed and "wire copy" in listed
    shown = cli_run(db_url, "source", "show", doc["id"][:12]).stdout
    assert "outlet: Le Figaro (AFP wire copy)" in shown
    assert "published: 2018-08-24 (date from the dateline)" in shown
    assert "note: wire copy" in shown
    help_text = cli_run(db_url, "source", "add", "--help").stdout
    assert "--agency" in help_text and "--published-basis" in help_text


@pytest.mark.parametrize("args, words", [
    (["--published-basis", "guessed", "--published", "2018"],
     "'guessed' is not one of 'stated', 'url', 'dateline', 'inferred'"),
    (["--published-basis", "url"], "published_basis: says how the publication date is known"),
    (["--note", " "], "note: note is empty"),
    (["--agency", "A\x07B"], "agency: agency contains the control character U+0007"),
])
def test_source_add_refuses_bad_publication_details(db_url: str, args: list[str],
                                                    words: str) -> None:
    assert cli_run(db_url, "init").exit_code == 0
    refused = cli_run(db_url, "source", "add", str(ARTICLE_GENEVA), *args)
    assert refused.exit_code in (1, 2)
    assert words in refused.stderr, refused.stderr
    assert "None" not in refused.stderr
    assert cli_run(db_url, "source", "list", "--format", "json").stdout.count('"id"') == 0


def test_the_library_refuses_a_basis_that_is_not_one(store: EventStore) -> None:
    with pytest.raises(ValidationError, match="'guess' is not one of stated, url, dateline, "
                                              "inferred"):
        store.add_source(ARTICLE_GENEVA.read_bytes(), published="2018",
                         published_basis="guess")
    assert store.list_sources() == []


def test_a_version_1_source_registration_reads_unchanged() -> None:
    payload = {"source": "ab" * 32, "original_sha256": "cd" * 32, "length": 10,
               "outlet": "Le Figaro"}
    data = decode_stored("source.registered", 1, payload)
    assert (data.outlet, data.agency, data.published_basis, data.note) == (
        "Le Figaro", None, None, None)
    assert unstructure_data(data).items() >= payload.items()
    assert unstructure_data(data).keys() <= payload.keys() | {"body_start"}


def test_a_party_by_role_round_trips_without_a_name() -> None:
    data = structure_data("statement.made", {"speaker": MINISTER, "stance": "warning",
                                             "content": "x"})
    assert unstructure_data(data)["speaker"] == MINISTER  # no "name": null stored
    assert decode_stored("statement.made", 2, unstructure_data(data)) == data
    assert TopicCite("Syrie", [0]) == structure_data(
        "topics.discussed", {"meeting": "g", "topics": [{"topic": "Syrie", "cite": [0]}]}
    ).topics[0]  # type: ignore[attr-defined]


def test_project_takes_the_registry_for_topics_too() -> None:
    from eventstore.facts import TopicRegistered

    registry = ActorRegistry.of([TopicRegistered(id="k", name="Kashmir",
                                                 aliases=["Cachemire"])])
    assert registry.topic("cachemire") is not None and registry.topic("Syrie") is None
    assert project("RUS-USA", [], registry=registry).topics == ()


def test_a_file_of_facts_with_a_bad_cite_names_the_line_and_writes_nothing(
        db_url: str, tmp_path: Path) -> None:
    assert cli_run(db_url, "init").exit_code == 0
    source = json.loads(cli_run(db_url, "source", "add", str(ARTICLE_GENEVA),
                                "--format", "json").stdout)["id"]
    good = held("g", "2018-08-23", [cite(source, MET)], participants=[MINISTER])
    bad = {"type": "topics.discussed", "track": "RUS-USA", "date": "2018-08-23",
           "data": {"meeting": "g", "topics": [{"topic": "Syrie", "cite": [3]}]},
           "citations": [cite(source, MET)]}
    path = tmp_path / "facts.jsonl"
    path.write_text("\n".join(json.dumps(f, ensure_ascii=False) for f in (good, bad)) + "\n",
                    encoding="utf-8")
    refused = cli_run(db_url, "append", "--file", str(path))
    assert refused.exit_code == 1
    assert refused.stderr.strip() == (f"Error: {path}: line 2: data.topics[0].cite[0]: cite 3 "
                                      "names no citation: the fact has 1 (0 to 0)")
    assert cli_run(db_url, "tracks").stdout.strip() == "no tracks yet"
