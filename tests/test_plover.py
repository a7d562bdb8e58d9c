"""The PLOVER export, checked against the PLOVER specification.

``tests/data/plover_spec.json`` holds the manual's tables (version 0.8 of the
openeventdata/PLOVER repository, its provenance and licence inside), transcribed apart
from the exporter's own constants: a record of either worked example with a field name,
an event category, a mode, a context, an actor field or a citation field the
specification does not define (and that docs/plover.md does not declare as ours) fails
here, and so does a CAMEO code whose cue category PLOVER maps to another category.
Then: the export is the state the store folds (retractions, corrections, erasures,
duplicates), the dyadic form, the facts not coded, and the command's bad input.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pycountry
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from eventstore import EventStore, ValidationError, plover_export
from eventstore.cli import cli
from eventstore.plover import EXTENSION_FIELDS, coding
from eventstore.tracks import country_named
from tests.conftest import ROOT

SPEC = json.loads((Path(__file__).parent / "data" / "plover_spec.json").read_text("utf-8"))
DOC = (ROOT / "docs" / "plover.md").read_text(encoding="utf-8")
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: The fields of PLOVER's location object (the GeoNames names) that a record may use.
LOCATION_FIELDS = {"geonameid", "name", "asciiname", "latitude", "longitude", "cc3"}
#: The fields of one citation in ``citations`` (our extension): cite_info's and
#: text_info's own names, plus ours.
CITATION_OWN = {"quote", "published", "erased", "agency", "published_basis"}


def cue_category(cameo: str) -> str | None:
    """PLOVER's category for a CAMEO code, read from the specification's table
    (:class:`KeyError` for a code of no cue category)."""
    table = SPEC["cameo_cue_to_plover"]
    return table[cameo[:3]] if cameo.startswith("08") else table[cameo[:2]]


def actor_problems(actor: Any, where: str) -> list[str]:
    problems = []
    if not isinstance(actor, dict) or not actor:
        return [f"{where}: not an actor object"]
    for key in actor.keys() - set(SPEC["actor_fields"]):
        problems.append(f"{where}: {key!r} is not a PLOVER actor field")
    code = actor.get("code")
    if code is not None and code not in SPEC["non_state_actor_codes"] and \
            pycountry.countries.get(alpha_3=code) is None:
        problems.append(f"{where}: code {code!r} is neither ISO 3166 alpha-3 nor non-state")
    if "code" not in actor and "actor_text" not in actor:
        problems.append(f"{where}: neither a code nor the source's words")
    return problems


def problems_of(record: dict[str, Any]) -> list[str]:
    """Every way ``record`` departs from the specification (empty: it conforms)."""
    known = set(SPEC["record_fields"]) | set(EXTENSION_FIELDS)
    problems = [f"{key!r} is not a PLOVER field nor one of ours" for key in record.keys() - known]
    coded = record.get("has_event", True)
    required = [k for k, v in SPEC["record_fields"].items() if v == "Y"]
    if coded:
        problems += [f"missing required field {key!r}" for key in required if key not in record]
    if not isinstance(record.get("id"), str) or not record.get("id"):
        problems.append("id is not a non-empty string")
    if "date" in record and not DAY.match(record["date"]):
        problems.append(f"date {record['date']!r} is not YYYY-MM-DD")
    if "enddate" in record and not DAY.match(record["enddate"]):
        problems.append(f"enddate {record['enddate']!r} is not YYYY-MM-DD")
    events = record.get("event", [])
    if not isinstance(events, list) or (coded and not events):
        problems.append("event is not a non-empty list")
        events = []
    for event in events:
        if event not in SPEC["events"]:
            problems.append(f"event {event!r} is not a PLOVER category")
    allowed_modes = {m for e in events if e in SPEC["modes"] for m in SPEC["modes"][e]}
    for mode in record.get("mode", []):
        if mode not in allowed_modes:
            problems.append(f"mode {mode!r} is not a mode of {events}")
    contexts = set(SPEC["contexts"]) | set(SPEC["special_contexts"])
    for context in record.get("context", []):
        if context not in contexts:
            problems.append(f"context {context!r} is not a PLOVER context")
    if "quad_code" in record:
        quads = {e: int(q) for q, es in SPEC["quad_codes"].items() for e in es}
        if [record["quad_code"]] != [quads.get(e) for e in events]:
            problems.append(f"quad_code {record['quad_code']!r} is not that of {events}")
    cameo = record.get("cameo")
    if cameo is not None:
        if not (isinstance(cameo, str) and re.fullmatch(r"\d{3,4}", cameo)):
            problems.append(f"cameo {cameo!r} is not a CAMEO code as text (\"040\")")
        elif coded and [cue_category(cameo)] != events:
            problems.append(f"CAMEO {cameo} is {cue_category(cameo)} in PLOVER, not {events}")
        elif not coded and cue_category(cameo) is not None:
            problems.append(f"CAMEO {cameo} is coded by PLOVER but has_event is false")
    for side in ("source", "recipient"):
        actors = record.get(side, [])
        if not isinstance(actors, list):
            problems.append(f"{side} is not a list")
            continue
        for n, actor in enumerate(actors):
            problems += actor_problems(actor, f"{side}[{n}]")
    for key in record.get("cite_info", {}).keys() - set(SPEC["cite_info_fields"]):
        problems.append(f"cite_info: {key!r} is not a PLOVER citation field")
    for key in record.get("text_info", {}).keys() - set(SPEC["text_info_fields"]):
        problems.append(f"text_info: {key!r} is not a PLOVER text field")
    for key in record.get("event_loc", {}).keys() - LOCATION_FIELDS:
        problems.append(f"event_loc: {key!r} is not a PLOVER location field")
    ours = set(SPEC["cite_info_fields"]) | set(SPEC["text_info_fields"]) | CITATION_OWN
    for n, cited in enumerate(record.get("citations", [])):
        problems += [f"citations[{n}]: {key!r} is not a citation field"
                     for key in cited.keys() - ours]
        language = cited.get("language")
        if language is not None and pycountry.languages.get(alpha_2=language) is None:
            problems.append(f"citations[{n}]: language {language!r} is not ISO 639-1")
    return problems


def test_the_spec_file_says_where_it_comes_from() -> None:
    provenance = SPEC["provenance"]
    assert provenance["repository"] == "openeventdata/PLOVER"
    assert re.fullmatch(r"[0-9a-f]{40}", provenance["commit"])
    assert "CC BY-SA 4.0" in provenance["licence"]
    assert len(SPEC["events"]) == 16 and set(SPEC["modes"]) == set(SPEC["events"])


def test_every_record_of_both_worked_examples_conforms(examples: EventStore) -> None:
    for dyadic in (False, True):
        for uncoded in ("omit", "include"):
            result = plover_export(examples, dyadic=dyadic, uncoded=uncoded)  # type: ignore[arg-type]
            assert {r["track"] for r in result.records} >= {"JPN-KOR", "RUS-USA"}
            ids = [r["id"] for r in result.records]
            assert len(ids) == len(set(ids)), "ids are not unique"
            for record in result.records:
                assert problems_of(record) == [], record


@pytest.mark.parametrize("change, says", [
    (lambda r: r | {"evnt": r["event"]}, "'evnt' is not a PLOVER field"),
    (lambda r: r | {"event": ["MEET"]}, "'MEET' is not a PLOVER category"),
    (lambda r: r | {"event": ["FIGHT"], "quad_code": 4}, "'FIGHT' is not a PLOVER category"),
    (lambda r: r | {"mode": ["host"]}, "mode 'host'"),
    (lambda r: r | {"context": ["diplomacy"]}, "context 'diplomacy'"),
    (lambda r: r | {"cameo": 40}, "is not a CAMEO code as text"),
    (lambda r: r | {"cameo": "051"}, "CAMEO 051 is SUPPORT"),
    (lambda r: r | {"quad_code": 2}, "quad_code 2"),
    (lambda r: r | {"source": [{"code": "US"}]}, "neither ISO 3166 alpha-3"),
    (lambda r: r | {"source": [{"code": "USA", "role": "x"}]}, "'role' is not a PLOVER actor"),
    (lambda r: r | {"cite_info": {"outlet": "x"}}, "'outlet' is not a PLOVER citation"),
    (lambda r: r | {"date": "2018-08"}, "is not YYYY-MM-DD"),
    (lambda r: {k: v for k, v in r.items() if k != "source"}, "missing required field"),
])
def test_the_check_fails_on_a_wrong_field_or_category(example: EventStore, change: Any,
                                                       says: str) -> None:
    """The conformance check itself: one wrong name or category in a good record fails it."""
    record = next(r for r in plover_export(example).records if r["fact_type"] == "meeting.held")
    assert problems_of(record) == []
    assert any(says in problem for problem in problems_of(change(record))), \
        problems_of(change(record))


def test_extension_fields_are_each_documented() -> None:
    for name in EXTENSION_FIELDS:
        assert f"`{name}`" in DOC, f"docs/plover.md does not say what {name} holds"
    assert not set(EXTENSION_FIELDS) & set(SPEC["record_fields"])


@given(st.from_regex(r"\A(0[1-9]|1[0-9]|20)[0-9]{1,2}\Z"))
def test_every_cameo_code_takes_plover_s_category_for_its_cue(cameo: str) -> None:
    try:
        expected = cue_category(cameo)
    except KeyError:  # 088…, 089…: no such cue category
        with pytest.raises(ValidationError, match="is not a CAMEO code"):
            coding(cameo)
        return
    assert coding(cameo).event == expected


@pytest.mark.parametrize("bad", ["40", "4", "00", "21", "2101", "04a", "", "0400x", "089"])
def test_a_malformed_cameo_code_is_refused(bad: str) -> None:
    with pytest.raises(ValidationError, match="cameo: .* is not a CAMEO code"):
        coding(bad)


def test_the_geneva_meeting_as_a_plover_record(example: EventStore) -> None:
    record = next(r for r in plover_export(example).records
                  if r["id"] == "e133d7f2-ae6c-5947-9a50-7a3e6c96b499")
    assert record["event"] == ["CONSULT"] and record["cameo"] == "040"
    assert record["date"] == "2018-08-23" and record["date_precision"] == "day"
    assert record["date_text"] == "jeudi"
    assert [(a["code"], a["actor_text"], a["office"]) for a in record["source"]] == [
        ("USA", "John Bolton", "conseiller à la sécurité nationale"),
        ("RUS", "Nikolaï Patrouchev", "secrétaire du Conseil de sécurité")]
    assert "recipient" not in record  # a meeting: every participant is a source
    assert record["event_loc"] == {"name": "Genève"}
    first = record["citations"][0]
    assert first["quote"].startswith("John Bolton, et le secrétaire")
    assert first["publication"] == "People's Daily Online (édition française)"
    assert first["published"] == "2018-08-24" and first["language"] == "fr"
    text = example.get_source(first["citation"]).text
    assert text[first["start"]:first["end"]] == first["quote"]
    assert record["text_info"] == {"start": first["start"], "end": first["end"]}
    # the citation added later (citation.added) is one of the record's citations
    assert "A l'issue de cette rencontre qui a duré plusieurs heures" in record["event_text"]


def test_a_month_and_an_open_date_keep_the_store_s_precision(example: EventStore) -> None:
    records = {r["id"]: r for r in plover_export(example, uncoded="include").records}
    helsinki = records["cad3a715-b83d-58ad-8416-b1dc6f8af876"]
    assert (helsinki["date"], helsinki["date_precision"], helsinki["date_lower"],
            helsinki["date_upper"]) == ("2018-07-01", "month", "2018-07-01", "2018-07-31")
    planned = records["68fdc85a-aaa7-5f8a-b15b-9ef2cece0d9c"]  # ../2018-08-23
    assert (planned["date"], planned["date_precision"], planned["date_edtf"]) == (
        "2018-08-23", "range", "../2018-08-23")
    assert "date_lower" not in planned and "enddate" not in planned


def test_the_japan_korea_lima_meeting_cites_two_outlets_in_two_languages(
        examples: EventStore) -> None:
    record = next(r for r in plover_export(examples, ["JPN-KOR"]).records
                  if r["fact_type"] == "meeting.held")
    assert record["event"] == ["CONSULT"] and record["date"] == "2024-11-14"
    assert {a["code"] for a in record["source"]} == {"JPN", "KOR"}
    assert {(c["publication"], c["language"]) for c in record["citations"]} == {
        ("The Korea Herald", "en"), ("KBS World (édition française)", "fr")}
    herald = next(c for c in record["citations"] if c["publication"] == "The Korea Herald")
    assert (herald["agency"], herald["published_basis"]) == ("Yonhap", "url")
    assert all(c["url"].startswith("http") for c in record["citations"])


def test_the_export_is_the_state_the_store_folds(example: EventStore) -> None:
    """Retracted: left out. Corrected: as corrected. Erased payload: left out, nothing of
    it written. Erased source: its citations keep span and source, not the words.
    A duplicate: one record, with the duplicate's citations."""
    geneva = example.get_source("7c3a6282").info.id
    warning, invitation = "5d4fbd97-7fbc-5c54-98a2-3a15388dbc87", \
        "8aca400c-e73e-593b-b3be-c62d96409cca"
    congratulation = "7052e29d-1dac-51f5-9c92-d4d7b04bbe97"
    example.append("RUS-USA", [
        {"type": "fact.retracted", "data": {"event": warning, "reason": "mal lu"}},
        {"type": "fact.corrected", "data": {
            "event": invitation, "reason": "le lieu", "data": {
                "key": "bolton-moscow-consultations",
                "inviter": {"name": "Nikolaï Patrouchev", "country": "RUS"},
                "invitee": {"name": "John Bolton", "country": "USA"}, "place": "Sotchi"}}},
        {"type": "meeting.held", "date": "2018-08-23", "event_id":
         "00000000-0000-4000-8000-000000000001",
         "data": {"key": "geneva-again", "kind": "talks", "participants": [
             {"name": "John Bolton", "country": "USA"},
             {"name": "Nikolaï Patrouchev", "country": "RUS"}]},
         "citations": [{"source": geneva, "quote": "marquée par l'existence de désaccords"}]},
        {"type": "fact.same_as", "data": {"event": "00000000-0000-4000-8000-000000000001",
                                          "same_as": "e133d7f2-ae6c-5947-9a50-7a3e6c96b499"}},
    ])
    example.erase_payload(congratulation, reason="a person's request")
    example.erase_source("43734f67", reason="court order 12/2026")
    result = plover_export(example, uncoded="include")
    records = {r["id"]: r for r in result.records}
    assert warning not in records and congratulation not in records
    assert "00000000-0000-4000-8000-000000000001" not in records
    assert records[invitation]["event_loc"] == {"name": "Sotchi"}
    assert "marquée par l'existence de désaccords" in \
        records["e133d7f2-ae6c-5947-9a50-7a3e6c96b499"]["event_text"]
    reasons = {item.event_id: item.reason for item in result.left_out}
    assert reasons[warning] == "retracted (mal lu)"
    assert reasons[congratulation] == "its payload was erased"
    assert reasons["00000000-0000-4000-8000-000000000001"].startswith("the same event as e133")
    whole = "\n".join(result.lines())
    assert "Félicitations aux États-Unis" not in whole  # the erased payload's words
    moscow = [c for r in result.records for c in r.get("citations", [])
              if c["citation"].startswith("43734f67")]
    assert moscow and all(c.get("erased") and "quote" not in c for c in moscow)
    assert "Au début de la rencontre" not in whole  # the erased source's words


def test_the_dyadic_form_is_one_directed_record_per_pair(example: EventStore) -> None:
    lists = plover_export(example).records
    dyads = plover_export(example, dyadic=True).records
    meeting = [r for r in dyads if r["id"].startswith("e133d7f2")]
    assert sorted((r["id"][-7:], r["source"][0]["code"], r["recipient"][0]["code"])
                  for r in meeting) == [("RUS-USA", "RUS", "USA"), ("USA-RUS", "USA", "RUS")]
    warning = [r for r in dyads if r["id"].startswith("5d4fbd97")]
    assert [(r["source"][0]["code"], r["recipient"][0]["code"]) for r in warning] == [
        ("USA", "RUS")]
    assert len(dyads) > len(lists)
    assert {r["id"].split(":")[0] for r in dyads} == {r["id"] for r in lists}


def test_facts_plover_does_not_code_are_left_out_or_marked(example: EventStore) -> None:
    omitted = plover_export(example)
    included = plover_export(example, uncoded="include")
    assert omitted.left_out and not any(item.included for item in omitted.left_out)
    assert all(item.included for item in included.left_out)
    not_coded = [r for r in included.records if r.get("has_event") is False]
    assert len(not_coded) == len(included.left_out) == len(omitted.left_out)
    assert len(included.records) == len(omitted.records) + len(not_coded)
    hope = next(r for r in not_coded if r.get("cameo") == "013")
    assert hope["event"] == [] and "PLOVER does not code" in hope["not_coded"]
    assert {item.type for item in omitted.left_out} >= {"topics.discussed",
                                                         "declaration.not_signed"}
    summary = omitted.summary().splitlines()
    assert summary[0] == f"{len(omitted.records)} PLOVER records; facts not coded:"
    assert any("topics.discussed ×3, left out" in line for line in summary)


def test_the_library_refuses_what_it_cannot_do(example: EventStore) -> None:
    with pytest.raises(ValidationError, match="uncoded: uncoded 'some'"):
        plover_export(example, uncoded="some")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="track: unknown track CHN-JPN"):
        plover_export(example, ["JPN-CHN"])
    with pytest.raises(ValidationError, match="track: 'Russia' is not a track id"):
        plover_export(example, ["Russia"])


def run(db_url: str, *args: str) -> Any:
    return CliRunner().invoke(cli, ["export", *args, "--db", db_url], catch_exceptions=False)


def test_the_command_writes_jsonl_and_says_what_it_left_out(example: EventStore, db_url: str,
                                                           tmp_path: Path) -> None:
    out = tmp_path / "plover.jsonl"
    done = run(db_url, "--format", "plover", "--out", str(out))
    assert done.exit_code == 0, done.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == \
        [r["id"] for r in plover_export(example).records]
    assert "PLOVER records; facts not coded:" in done.stderr
    assert "declaration.not_signed ×1, left out" in done.stderr
    stdout = run(db_url, "--format", "plover", "--dyadic", "--uncoded", "include",
                 "--track", "usa-rus")
    assert stdout.exit_code == 0
    assert len(stdout.stdout.splitlines()) == len(
        plover_export(example, dyadic=True, uncoded="include").records)


@pytest.mark.parametrize("args, says", [
    (["--dyadic"], "Error: export: --dyadic applies to --format plover only"),
    (["--track", "RUS-USA"], "Error: export: --track applies to --format plover only"),
    (["--uncoded", "omit"], "Error: export: --uncoded applies to --format plover only"),
    (["--format", "plover", "--uncoded", "all"], "Invalid value for '--uncoded'"),
    (["--format", "plover", "--track", "Russie"], "Error: track: 'Russie' is not a track id"),
    (["--format", "plover", "--track", "CHN-JPN"], "Error: track: unknown track CHN-JPN"),
    (["--format", "plovr"], "Invalid value for '--format'"),
])
def test_bad_input_is_one_error_line_and_writes_nothing(
        example: EventStore, db_url: str, tmp_path: Path, args: list[str], says: str) -> None:
    out = tmp_path / "plover.jsonl"
    done = run(db_url, *args, "--out", str(out))
    assert done.exit_code != 0
    assert says in done.output
    assert "Traceback" not in done.output
    assert list(tmp_path.iterdir()) == [] or not out.exists()
    assert not list(tmp_path.glob("plover.jsonl*"))


def test_an_unwritable_out_leaves_nothing_behind(example: EventStore, db_url: str,
                                                 tmp_path: Path) -> None:
    done = run(db_url, "--format", "plover", "--out", str(tmp_path / "missing" / "p.jsonl"))
    assert done.exit_code == 1
    assert "Error: " in done.output and "cannot write" in done.output
    assert not (tmp_path / "missing").exists()


def test_records_carry_no_raw_python_value(examples: EventStore) -> None:
    text = "\n".join(plover_export(examples, uncoded="include", dyadic=True).lines())
    assert not re.search(r"\bNone\b|\bTrue\b|\bFalse\b|object at 0x|UUID\(|datetime\.", text)
    assert "null" not in text  # absent, not null: a field a record lacks is left out


def test_a_party_known_by_role_alone_is_its_country_and_office(examples: EventStore) -> None:
    summit = next(r for r in plover_export(examples).records
                  if r.get("key") == "chn-jpn-kor-summit-2025")
    assert summit["event"] == ["AGREE"]
    assert sorted((a["code"], a["office"]) for a in summit["source"]) == [
        ("CHN", "dirigeant chinois"), ("JPN", "dirigeant japonais"),
        ("KOR", "dirigeant sud-coréen")]
    assert not any("actor_text" in a for a in summit["source"])


def test_incidents_conditions_and_cancellations_are_coded_by_the_vocabulary(
        example: EventStore) -> None:
    """An incident takes its kind's CAMEO code and mode (when PLOVER defines the mode for
    the category); a condition is PLOVER's hypothetical context; a cancellation that says
    who cancelled is a REJECT of the meeting's other side; a postponement is not coded."""
    geneva = example.get_source("7c3a6282").info.id
    bolton = {"name": "John Bolton", "country": "USA"}
    patrushev = {"name": "Nikolaï Patrouchev", "country": "RUS"}
    cite = [{"source": geneva, "quote": "marquée par l'existence de désaccords"}]
    example.append("RUS-USA", [
        {"type": "incident.occurred", "date": "2018-08-23", "citations": cite,
         "data": {"key": "diplomats-2018", "kind": "diplomats_expelled", "actors": [bolton],
                  "target": patrushev, "what": "expulsion", "place": "Genève"}},
        {"type": "incident.occurred", "date": "2018-08-23", "citations": cite,
         "data": {"key": "relations-2018", "kind": "relations_reduced", "actors": [bolton],
                  "what": "relations réduites"}},
        {"type": "statement.made", "date": "2018-08-23", "citations": cite,
         "data": {"speaker": patrushev, "stance": "offer", "content": "une offre",
                  "condition": "si Washington renonce aux sanctions"}},
        {"type": "meeting.planned", "date": "2018-08-23", "citations": cite,
         "data": {"key": "moscow-2018-09", "kind": "talks", "participants": [bolton, patrushev]}},
        {"type": "meeting.postponed", "date": "2018-08-24", "citations": cite,
         "data": {"key": "moscow-2018-09", "by": patrushev}},
        {"type": "meeting.cancelled", "date": "2018-08-25", "citations": cite,
         "data": {"key": "moscow-2018-09", "by": bolton, "reason": "désaccords"}},
    ])
    result = plover_export(example, uncoded="include")
    for record in result.records:
        assert problems_of(record) == [], record
    by_key = {r.get("key"): r for r in result.records if r.get("key")}
    expelled = by_key["diplomats-2018"]
    assert (expelled["event"], expelled["cameo"], expelled["mode"]) == (
        ["SANCTION"], "161", ["expel"])
    assert [a["code"] for a in expelled["recipient"]] == ["RUS"]
    reduced = by_key["relations-2018"]  # the vocabulary's "sever" is not a 0.8 mode
    assert reduced["event"] == ["SANCTION"] and "mode" not in reduced
    offer = next(r for r in result.records if r.get("condition"))
    assert offer["event"] == ["AGREE"] and "hypothetical" in offer["context"]
    assert offer["condition"] == "si Washington renonce aux sanctions"
    cancelled = next(r for r in result.records if r["fact_type"] == "meeting.cancelled")
    assert (cancelled["event"], cancelled["mode"]) == (["REJECT"], ["meet"])
    assert [a["code"] for a in cancelled["source"]] == ["USA"]
    assert [a["code"] for a in cancelled["recipient"]] == ["RUS"]
    postponed = next(r for r in result.records if r["fact_type"] == "meeting.postponed")
    assert postponed["has_event"] is False and "postponement" in postponed["not_coded"]


def test_an_addressee_gets_the_code_of_the_country_it_names_and_no_guess(
        example: EventStore) -> None:
    """The addressee's code comes from the words (any language), never from the track: a
    third country is itself, a person or an ambiguous name has no code; a withdrawn
    statement keeps its record and says it was withdrawn."""
    geneva = example.get_source("7c3a6282").info.id
    cite = [{"source": geneva, "quote": "marquée par l'existence de désaccords"}]
    bolton = {"name": "John Bolton", "country": "USA"}
    ids = [str(uuid.uuid4()) for _ in range(4)]
    example.append("RUS-USA", [
        {"type": "statement.made", "date": "2018-08-23", "citations": cite, "event_id": id_,
         "data": {"speaker": bolton, "stance": "threat", "content": "des sanctions",
                  "addressee": addressee}}
        for id_, addressee in zip(ids, ["la Chine", "Chine", "Nikolaï Patrouchev", "Corée"],
                                  strict=True)])
    example.append("RUS-USA", [{"type": "statement.withdrawn", "date": "2018-08-24",
                                "citations": cite, "data": {"statement": ids[1].upper()}}])
    records = {r["id"]: r for r in plover_export(example).records}
    assert records[ids[1]]["recipient"] == [{"actor_text": "Chine", "code": "CHN"}]
    for id_ in (ids[0], ids[2], ids[3]):  # an article, a person, a shared name: words only
        assert "code" not in records[id_]["recipient"][0], records[id_]
    assert records[ids[1]]["withdrawn"]["date_edtf"] == "2018-08-24"
    assert "withdrawn" not in records[ids[0]]
    for record in records.values():
        assert problems_of(record) == [], record
    dyads = [r for r in plover_export(example, dyadic=True).records
             if r["id"].startswith(ids[1])]
    assert [(r["source"][0]["code"], r["recipient"][0]["code"]) for r in dyads] == [
        ("USA", "CHN")]


@pytest.mark.parametrize(("words", "code"), [
    ("Russie", "RUS"), ("Etats-Unis", "USA"), ("États-Unis", "USA"), ("日本", "JPN"),
    ("Corée du Sud", "KOR"), ("South Korea", "KOR"), ("Inde", "IND"), ("USA", "USA"),
    ("Allemagne", "DEU"), ("Corée", None), ("John Bolton", None), ("usa", "USA"),
    ("", None), ("韓国", "KOR"), ("Mexico", "MEX"), ("Samoa", "WSM"),
    # an abbreviation or a phrase in a translation's parenthesis names nobody for sure
    ("SUA", None), ("ЗША", None), ("Democratic Republic", None)])
def test_country_named_reads_names_in_many_languages(words: str, code: str | None) -> None:
    assert country_named(words) == code


def test_a_multilateral_fact_is_one_record_under_its_own_stream(example: EventStore) -> None:
    """A meeting of three countries, recorded once on CHN-RUS-USA: PLOVER's actor list in
    one record, exported once whichever of its tracks is asked for; in the dyadic form,
    one record per ordered pair of its countries."""
    geneva = example.get_source("7c3a6282").info.id
    example.append("CHN-RUS-USA", [{
        "type": "meeting.held", "date": "2018-08-23",
        "citations": [{"source": geneva, "quote": "marquée par l'existence de désaccords"}],
        "data": {"key": "trilateral-2018", "kind": "talks", "participants": [
            {"name": "John Bolton", "country": "USA"},
            {"name": "Nikolaï Patrouchev", "country": "RUS"},
            {"name": "Wang Yi", "country": "CHN"}]}}])
    every = [r for r in plover_export(example).records if r.get("key") == "trilateral-2018"]
    assert [(r["track"], sorted(a["code"] for a in r["source"])) for r in every] == [
        ("CHN-RUS-USA", ["CHN", "RUS", "USA"])]
    assert problems_of(every[0]) == []
    for track in ("RUS-USA", "CHN-USA", "CHN-RUS"):
        found = [r for r in plover_export(example, [track]).records
                 if r.get("key") == "trilateral-2018"]
        assert len(found) == 1, track
    both = plover_export(example, ["RUS-USA", "CHN-RUS"]).records
    assert len([r for r in both if r.get("key") == "trilateral-2018"]) == 1
    dyads = [r for r in plover_export(example, dyadic=True).records
             if r.get("key") == "trilateral-2018"]
    assert sorted(r["id"].rsplit(":", 1)[1] for r in dyads) == [
        "CHN-RUS", "CHN-USA", "RUS-CHN", "RUS-USA", "USA-CHN", "USA-RUS"]
