"""The command line as an analyst uses it: every mistake is one clear line, nothing written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from eventstore import EventStore
from eventstore.cli import cli
from eventstore.storage.engine import HEAD_REVISION
from tests.conftest import ARTICLE_GENEVA, ARTICLE_MOSCOW

GENEVA_ID = "7c3a628228e63c75622a94d5479ac56907ebee72e076b7acfa25407682832db7"
EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "facts.jsonl"


class Cli:
    """Runs ``eventstore …`` against one database and checks the promises of every run."""

    def __init__(self, url: str, tmp_path: Path) -> None:
        self.url = url
        self.tmp = tmp_path
        self.runner = CliRunner()

    def __call__(self, *args: str, ok: bool = True, stdin: str | None = None) -> Result:
        result = self.runner.invoke(cli, [*args, "--db", self.url], input=stdin,
                                    catch_exceptions=True)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(f"uncaught {result.exception!r}\n{result.output}"
                                 ) from result.exception
        assert "Traceback" not in result.output + result.stderr
        if ok:
            assert result.exit_code == 0, result.output + result.stderr
        else:
            assert result.exit_code != 0, result.output
        return result

    def refused(self, *args: str, stdin: str | None = None, dry_run_too: bool = True) -> str:
        """Run a command that must fail with exit 1 or 2 and write nothing; return stderr.

        A refused ``append`` is also run with ``--dry-run``, which must refuse it with the
        same message and exit status (a check is exactly what an append does, unwritten),
        unless ``dry_run_too`` is off: a refusal to write at all (a read-only database)
        is not one a dry run meets.
        """
        before = self.head()
        result = self(*args, ok=False, stdin=stdin)
        assert result.exit_code in (1, 2)
        assert self.head() == before, "a refused command wrote to the log"
        if dry_run_too and args and args[0] == "append":
            checked = self("append", "--dry-run", *args[1:], ok=False, stdin=stdin)
            assert (checked.exit_code, checked.stderr) == (result.exit_code, result.stderr)
            assert self.head() == before, "a refused dry run wrote to the log"
        return result.stderr

    def head(self) -> int:
        with EventStore.open(self.url) as store:
            return store.head()[0]

    def file(self, name: str, content: str | bytes) -> str:
        path = self.tmp / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return str(path)


@pytest.fixture
def run(db_url: str, tmp_path: Path) -> Cli:
    runner = Cli(db_url, tmp_path)
    runner("init")
    runner("source", "add", str(ARTICLE_GENEVA), "--title", "Genève", "--published",
           "2018-08-24", "--language", "fr", "--body-until", BOILERPLATE)
    return runner


BOILERPLATE = "Chine : une logistique plus verte"
MEETING = ["append", "meeting.held", "--track", "usa-rus", "--date", "2018-08-23",
           "--date-text", "jeudi", "--date-anchor", "2018-08-24", "--key", "geneva-2018-08-23",
           "--kind", "talks", "--participant", "John Bolton:USA:conseiller",
           "--participant", "Nikolaï Patrouchev:RUS", "--place", "Genève"]
CITE = ["--cite", "7c3a6282:ont eu jeudi une rencontre à Genève"]


def test_init_twice_is_harmless(run: Cli) -> None:
    out = json.loads(run("init", "--format", "json").output)
    assert out["previous"] == out["revision"] == HEAD_REVISION


def test_source_add_prints_the_id_first(run: Cli) -> None:
    table = run("source", "add", str(ARTICLE_MOSCOW)).output
    doc = json.loads(run("source", "add", str(ARTICLE_MOSCOW), "--format", "json").output)
    assert table.split()[0] == doc["id"] and doc["new"] is False
    listed = json.loads(run("source", "list", "--format", "json").output)["sources"]
    assert [s["id"] for s in listed] == [GENEVA_ID, doc["id"]]


def test_append_one_fact_then_read_the_log(run: Cli) -> None:
    out = json.loads(run(*MEETING, *CITE, "--format", "json").output)
    assert out["positions"] == [2] and out["events"][0]["track"] == "RUS-USA"
    log = json.loads(run("log", "--format", "json").output)["events"]
    assert [e["type"] for e in log] == ["source.registered", "meeting.held"]
    meeting = log[1]
    assert meeting["data"]["participants"][0] == {"name": "John Bolton", "country": "USA",
                                                  "role": "conseiller"}
    assert meeting["citations"][0]["exact"] == "ont eu jeudi une rencontre à Genève"
    assert meeting["valid"]["text"] == "jeudi"
    text = run("log", "--track", "RUS-USA").output
    assert "meeting.held" in text and "source.registered" not in text
    assert "⟦ont eu jeudi une rencontre à Genève⟧1" in run("source", "show", "7c3a6282").output


def test_append_a_file_is_all_or_nothing_and_idempotent(run: Cli) -> None:
    run("source", "add", str(ARTICLE_MOSCOW))
    first = json.loads(run("append", "--file", str(EXAMPLES), "--format", "json").output)
    lines = EXAMPLES.read_text(encoding="utf-8").splitlines()
    assert first["written"] == len(lines)
    again = json.loads(run("append", "--file", str(EXAMPLES), "--format", "json").output)
    assert again["written"] == 0 and again["positions"] == first["positions"]


def test_cite_one_occurrence_of_an_ambiguous_quote(run: Cli) -> None:
    err = run.refused(*MEETING, "--cite", "7c3a6282:M. Bolton")
    assert "start=593" in err and "\n" not in err.strip()
    out = json.loads(run(*MEETING, "--cite", "7c3a6282@1363:M. Bolton", "--format",
                         "json").output)
    event = json.loads(run("log", "--since", str(out["positions"][0]), "--format",
                           "json").output)["events"][0]
    assert event["citations"][0]["start"] == 1363


def test_expected_version_conflict(run: Cli) -> None:
    run(*MEETING, *CITE, "--expected-version", "no-stream")
    err = run.refused(*MEETING, *CITE, "--expected-version", "0")
    assert "expected version 0, but the track is at version 1" in err
    run(*MEETING, *CITE, "--expected-version", "1")


@pytest.mark.parametrize(("change", "words"), [
    (["--kind", "dance"], "'dance' is not one of"),
    (["--participant", "John Bolton:XXX"], "country 'XXX' is not an ISO 3166"),
    (["--participant", "John Bolton"], "NAME:COUNTRY[:ROLE]"),
    (["--date", "2018-02-30"], "'2018-02-30' is not a valid EDTF date"),
    (["--date", "2018-13"], "'2018-13' is not a valid EDTF date"),
    (["--date-anchor", "24/08"], "date_anchor"),
    (["--track", "RUS"], "'RUS' is not a track id"),
    (["--track", "RUS-XYZ"], "XYZ is not an ISO 3166 alpha-3"),
    (["--key", "Genève 2018"], "is not a key"),
    (["--event-id", "not-a-uuid"], "'not-a-uuid' is not a UUID"),
    (["--expected-version", "soon"], "give any, no-stream"),
    (["--place", "Gen\x07ève"], "control character U+0007"),
])
def test_append_refuses_bad_fields(run: Cli, change: list[str], words: str) -> None:
    args = list(MEETING)
    flag = change[0]
    if flag in args and flag != "--participant":
        index = args.index(flag)
        args[index:index + 2] = change
    else:
        args += change
    assert words in run.refused(*args, *CITE)


@pytest.mark.parametrize(("extra", "words"), [
    (["--place", "Moscou"], "--place was given twice, but takes one value"),
    (["--place=Moscou", "--place", "Helsinki"], "--place was given 3 times"),
    (["--date", "2018-08-24"], "--date was given twice"),
])
def test_a_one_value_option_given_twice_is_refused(run: Cli, extra: list[str],
                                                  words: str) -> None:
    """click keeps the last value of an option given twice and drops the others silently;
    the store refuses instead (``--speaker A --speaker B`` recorded B alone)."""
    assert words in run.refused(*MEETING, *CITE, *extra)
    # repeatable options stay repeatable, and a value that looks like an option is a value
    assert MEETING[-2] == "--place"
    run(*MEETING[:-2], "--place", "--place", *CITE)
    assert "twice" in run.refused("project", "--track", "RUS-USA", "--format", "json",
                                  "--format", "text")


@pytest.mark.parametrize(("cite", "words"), [
    ("7c3a6282:une rencontre à Moscou", "is not in source 7c3a628228e6; closest passage"),
    ("7c3a6282:M. Bolton", "occurs 2 times in source 7c3a628228e6: start=593"),
    ("7c3a6282:", "the quote is empty"),
    ("7c3a6282:   ", "the quote is empty"),
    ("deadbeef:ont eu jeudi", "no source has the id 'deadbeef'"),
    ("7c3a:ont eu jeudi", "at least 8 hex digits"),
    ("no colon here", "ID:\"exact quote\""),
    ("7c3a6282@10:5", "is not inside source"),
])
def test_append_refuses_bad_citations(run: Cli, cite: str, words: str) -> None:
    assert words in run.refused(*MEETING, "--cite", cite)


def test_unknown_fact_type_and_missing_field(run: Cli) -> None:
    err = run.refused("append", "meeting.danced", "--track", "RUS-USA")
    assert "unknown fact type 'meeting.danced'; known types: meeting.planned" in err
    err = run.refused("append", "meeting.held", "--track", "RUS-USA", "--date", "2018",
                      "--kind", "talks", "--participant", "A:USA", *CITE)
    assert "--key" in err


def _line(**change: Any) -> str:
    fact: dict[str, Any] = {
        "type": "meeting.held", "track": "RUS-USA", "date": "2018-08-23",
        "data": {"key": "geneva", "kind": "talks",
                 "participants": [{"name": "John Bolton", "country": "USA"}]},
        "citations": [{"source": "7c3a6282", "quote": "une rencontre à Genève"}]}
    fact.update(change)
    return json.dumps(fact, ensure_ascii=False)


@pytest.mark.parametrize(("bad", "words"), [
    ("{not json", "line 2: not JSON"),
    ("[1, 2]", "line 2: a fact must be a JSON object, not list"),
    (_line(type="meeting.danced"), "line 2: type: unknown fact type"),
    (_line(data={"key": "g", "kind": "talks"}), "line 2: meeting.held: required field "
                                                "missing @ data.participants"),
    (_line(extra=1), "line 2: unknown key 'extra'"),
    (_line(date="2018-02-30"), "line 2: date: '2018-02-30'"),
    (_line(citations=[]), "line 2: citations: a fact needs a non-empty list"),
    (_line(citations=[{"source": "7c3a6282", "quote": "Xiaomi"}]),
     "line 2: citations[0]: quote 'Xiaomi' is outside the body of source 7c3a628228e6"),
    (_line(citations=[{"source": "7c3a6282", "quote": "Xiaomy va accélérer"}]),
     "line 2: citations[0]: quote 'Xiaomy va accélérer' is not in source"),
    (_line(track="USA-USA"), "line 2: track: 'USA-USA': a bilateral track needs two"),
    (_line(type="source.registered", data={"source": "x", "original_sha256": "y",
                                           "length": 1}), "line 2: type: source.registered "
                                                          "is written by the store"),
    ("[" * 1000 + "]" * 1000, "line 2: arrays and objects nested deeper than the limit of 64 "
                              "levels (at column 65)"),
    (_line()[:-1] + ', "type": "meeting.planned"}', "line 2: type: the key 'type' is given "
                                                      "twice in one object"),
    (_line().replace('"kind": "talks"', '"kind": "talks", "kind": "visit"'),
     "line 2: data.kind: the key 'kind' is given twice in one object"),
    (_line().replace("John Bolton", "John \\ud800 Bolton"),
     "line 2: data.participants[0].name: text holds the lone surrogate U+D800"),
])
def test_a_file_with_one_bad_line_writes_nothing(run: Cli, bad: str, words: str) -> None:
    path = run.file("facts.jsonl", "\n".join([_line(), bad, _line()]) + "\n")
    err = run.refused("append", "--file", path)
    assert f"{path}: {words}" in err


def test_lines_are_split_on_newline_only(run: Cli) -> None:
    """U+2028 and U+2029 are text inside a line (log --format json writes them as they are);
    a form feed does not start a line, so the lines after it keep their numbers."""
    place = "Genève\u2028(Suisse)\u2029"
    path = run.file("facts.jsonl", _line(data={
        "key": "geneva", "kind": "talks", "place": place,
        "participants": [{"name": "John Bolton", "country": "USA"}]}) + "\r\n")
    run("append", "--file", path)
    log = run("log", "--format", "json").output
    assert place in log  # as itself, not escaped
    assert json.loads(log)["events"][-1]["data"]["place"] == place
    path = run.file("ff.jsonl", "\n".join([_line(), "\f", _line(type="meeting.danced")]))
    assert f"{path}: line 3: type: unknown fact type" in run.refused("append", "--file", path)


def test_refused_event_ids_name_the_line(run: Cli) -> None:
    event_id = "e133d7f2-ae6c-5947-9a50-7a3e6c96b499"
    path = run.file("twice.jsonl", "\n".join([
        _line(event_id=event_id), _line(), _line(event_id=event_id, date="2018-08-22")]))
    assert (f"{path}: line 3: event id {event_id} appears twice in the batch (first at "
            f"{path}: line 1)") in run.refused("append", "--file", path)
    run("append", "--file", run.file("one.jsonl", _line(event_id=event_id)))
    path = run.file("again.jsonl",
                    "\n".join([_line(), _line(event_id=event_id, date="2018-08-22")]))
    assert (f"{path}: line 2: event id {event_id} is already stored (position 2) with "
            "different content") in run.refused("append", "--file", path)


def test_a_json_option_is_read_as_strictly_as_a_file(run: Cli) -> None:
    correct = ["append", "fact.corrected", "--track", "RUS-USA", "--event",
               "e133d7f2-ae6c-5947-9a50-7a3e6c96b499", "--reason", "r", *CITE]
    for value, words in (
            ("[" * 1000 + "]" * 1000, "--data: arrays and objects nested deeper than the limit"),
            ('{"kind": "talks", "kind": "visit"}', "--data: kind: the key 'kind' is given twice")):
        assert words in run.refused(*correct, "--data", value)


def test_a_file_that_is_not_utf8_or_empty(run: Cli) -> None:
    assert "not valid UTF-8" in run.refused("append", "--file", run.file("a.jsonl", b"\xff\xfe"))
    assert "no facts in the file" in run.refused("append", "--file", run.file("b.jsonl", "\n"))
    assert "cannot read the file" in run.refused("append", "--file", str(run.tmp / "missing"))


def test_facts_from_stdin(run: Cli) -> None:
    out = json.loads(run("append", "--file", "-", "--format", "json",
                         stdin=_line() + "\n").output)
    assert out["written"] == 1


@pytest.mark.parametrize(("content", "words"), [
    (b"", "the text is empty"),
    (b"\x00\x01binary\x00", "binary"),
    (b"caf\xe9 cr\xe8me", "not valid UTF-8"),
])
def test_source_add_refuses_bad_files(run: Cli, content: bytes, words: str) -> None:
    path = run.file("article.txt", content)
    err = run.refused("source", "add", path)
    assert path in err and words in err


def test_source_body_markers(run: Cli) -> None:
    doc = json.loads(run("source", "add", str(ARTICLE_GENEVA), "--format", "json").output)
    text = ARTICLE_GENEVA.read_text(encoding="utf-8")
    assert (doc["body_start"], doc["body_end"]) == (0, text.index(BOILERPLATE))
    again = run("source", "add", str(ARTICLE_GENEVA), "--title", "Autre titre").output
    assert "note: title differ" in again and "kept as first registered" in again
    err = run.refused("source", "add", str(ARTICLE_MOSCOW), "--body-until", "Xiaomi")
    assert "--body-until text 'Xiaomi' is not in the source" in err
    err = run.refused("source", "add", str(ARTICLE_MOSCOW), str(ARTICLE_GENEVA),
                      "--body-until", "x")
    assert "describe one article" in err


def test_source_add_several_files_all_or_nothing(run: Cli) -> None:
    empty = run.file("empty.txt", b"")
    assert "empty.txt" in run.refused("source", "add", str(ARTICLE_MOSCOW), empty)
    assert "cannot read the file" in run.refused("source", "add", str(run.tmp / "nope.txt"))


def test_a_huge_source_is_refused(run: Cli) -> None:
    path = run.file("huge.txt", b"word " * 2_100_000)
    assert "larger than the" in run.refused("source", "add", path)


def test_unreachable_database(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["log", "--db",
                                      "postgresql+psycopg://nobody@127.0.0.1:1/none"])
    assert result.exit_code == 1 and "cannot reach the database" in result.stderr
    result = CliRunner().invoke(cli, ["log", "--db", str(tmp_path / "missing.db")])
    assert result.exit_code == 1 and "run `eventstore init`" in result.stderr
    assert not (tmp_path / "missing.db").exists()


def test_a_dry_run_checks_everything_and_writes_nothing(run: Cli) -> None:
    """``append --dry-run`` (the group's flag, or the type command's) says where each fact
    would go, and writes nothing; the append then puts them there."""
    path = run.file("facts.jsonl", "\n".join([_line(), _line(date="2018-08-22")]) + "\n")
    before = run.head()
    doc = json.loads(run("append", "--dry-run", "--file", path, "--format", "json").output)
    assert doc["dry_run"] and doc["written"] == 0 and doc["would_write"] == 2
    assert doc["positions"] == [before + 1, before + 2]
    assert run.head() == before
    text = run("append", "--dry-run", "--file", path).output
    assert f"would be position {before + 1}" in text
    assert text.strip().endswith("dry run: 2 event(s) would be written; nothing written")
    assert json.loads(run("append", "--file", path, "--format", "json").output)[
        "positions"] == doc["positions"]
    single = json.loads(run(*MEETING, *CITE, "--dry-run", "--format", "json").output)
    assert single["would_write"] == 1 and run.head() == before + 2
    err = run.refused(*MEETING, *CITE, "--expected-version", "5")
    assert "expected version 5, but the track is at version" in err


def test_a_date_that_disagrees_with_its_words_is_refused_and_words_alone_resolved(
        run: Cli) -> None:
    """Issue 13: the store resolves the source's words against their anchor; an append and
    its dry run refuse a date that disagrees, naming both; words alone get their date."""
    wrong = [*MEETING[:5], "2018-08-22", *MEETING[6:]]
    err = run.refused(*wrong, *CITE)
    assert err.strip() == ("Error: facts[0]: date 2018-08-22 does not match 'jeudi' before "
                           "2018-08-24: that is 2018-08-23")
    err = run.refused(*MEETING[:4], "--date-text", "Thursday 16 July", "--date-anchor",
                      "2018-08-24", *MEETING[10:], *CITE)
    assert "date_text: 'Thursday 16 July' contradicts itself: 16 Jul 2018 is a Monday" in err
    err = run.refused(*MEETING[:4], "--date-text", "Le même jour", "--date-anchor",
                      "2018-08-24", *MEETING[10:], *CITE)
    assert "date: missing: the store cannot resolve 'Le même jour' against 2018-08-24" in err
    run(*MEETING[:4], *MEETING[6:], *CITE)  # no --date: "jeudi" before 2018-08-24
    (event,) = json.loads(run("log", "--format", "json").output)["events"][1:]
    assert event["valid"] == {"edtf": "2018-08-23", "lower": "2018-08-23",
                              "upper": "2018-08-23", "text": "jeudi", "anchor": "2018-08-24",
                              "resolved": True}
