"""Reading a user's JSON (eventstore.jsonl): what is refused, and that the refusal says where.

Pure: no database. The commands and library calls that use this reader are tested in
test_cli.py, test_cli_audit.py, test_audit.py and test_store.py.
"""

from __future__ import annotations

import json

import pytest

from eventstore import ValidationError
from eventstore.jsonl import MAX_DEPTH, loads, read_facts


def test_nesting_deeper_than_the_limit_is_refused_with_its_column() -> None:
    assert loads("[" * MAX_DEPTH + "]" * MAX_DEPTH, "f") is not None
    assert loads('{"a":' * MAX_DEPTH + "1" + "}" * MAX_DEPTH, "f") is not None
    for deep in ("[" * 1000 + "]" * 1000, '{"a":' * 1000 + "1" + "}" * 1000,
                 "[" * (MAX_DEPTH + 1)):  # deep and not even finished: the depth is said
        with pytest.raises(ValidationError, match=r"^f: line 2: arrays and objects nested "
                           rf"deeper than the limit of {MAX_DEPTH} levels \(at column "):
            loads(deep, "f: line 2")
    # Brackets inside strings are text, not nesting.
    brackets = {"text": "[{" * 1000, "list": [["["]]}
    assert loads(json.dumps(brackets), "f") == brackets


@pytest.mark.parametrize(("text", "field"), [
    ('{"type": "meeting.held", "type": "meeting.planned"}', "type"),
    ('{"data": {"kind": "talks", "kind": "visit"}}', "data.kind"),
    ('{"data": {"participants": [{"name": "a"}, {"name": "b", "name": "c"}]}}',
     "data.participants[1].name"),
    ('[{"a": 1}, {"a": 1, "a": 1}]', "[1].a"),  # even with the same value
])
def test_a_key_given_twice_is_refused_naming_it(text: str, field: str) -> None:
    key = field.rsplit(".", 1)[-1]
    with pytest.raises(ValidationError) as caught:
        loads(text, "f.jsonl: line 4")
    assert str(caught.value) == (f"f.jsonl: line 4: {field}: the key '{key}' is given twice "
                                 "in one object (give each key once)")


@pytest.mark.parametrize(("text", "field"), [
    (r'{"data": {"participants": [{"name": "John \ud800 Bolton"}]}}',
     "data.participants[0].name"),
    (r'{"topics": ["ok", "\udfff"]}', "topics[1]"),
    (r'{"a": "\ud83d"}', "a"),  # the first half of a pair, alone
    (r'"\uDC00"', None),
    ('{"raw": "\ud800"}', "raw"),  # a Python caller's text may hold one as itself
])
def test_a_lone_surrogate_is_refused_naming_its_field(text: str, field: str | None) -> None:
    with pytest.raises(ValidationError, match=r"text holds the lone surrogate U\+D[89A-F]") as err:
        loads(text, "f.jsonl: line 2")
    assert err.value.where == ("f.jsonl: line 2" + (f": {field}" if field else ""))


def test_a_surrogate_pair_and_separators_are_text() -> None:
    assert loads(r'"\ud83d\ude00 \u2028 \u2029"', "f") == "😀 \u2028 \u2029"


def test_json_lines_are_split_on_newline_only() -> None:
    text = ('{"a": "one\u2028two\u2029three\x85four"}\r\n'  # raw, as log --format json
            "\f\n"  # a blank line (skipped), one line, not two
            '{"b": 2}\n'
            "\n")
    for data in (text, text.encode("utf-8")):
        facts, labels = read_facts(data, "f.jsonl")
        assert facts == [{"a": "one\u2028two\u2029three\x85four"}, {"b": 2}]
        assert labels == ["f.jsonl: line 1", "f.jsonl: line 3"]


@pytest.mark.parametrize(("data", "message"), [
    (b'{"a": 1}\n\f\n{not json\n', "f.jsonl: line 3: not JSON (Expecting property name "
                                   "enclosed in double quotes at column 2)"),
    (b'{"a": 1}\x0c\n', "f.jsonl: line 1: not JSON (Extra data at column 9)"),
    (b'{"a": 1, "a": 2} x\n', "f.jsonl: line 1: not JSON (Extra data at column 18)"),
    (b'{"a": 1}\n{"b": "caf\xe9"}\n', "f.jsonl: line 2: not valid UTF-8 (byte 11 of the line: "
                                      "invalid continuation byte)"),
    (b'\xef\xbb\xbf{"a": 1}\n', "f.jsonl: line 1: not JSON (a byte-order mark at column 1)"),
    (b'{"a": 1}\n[1]\n', "f.jsonl: line 2: a fact must be a JSON object, not list"),
    (b"\n \r\n", "f.jsonl: no facts in the file"),
])
def test_each_refusal_names_the_file_and_line(data: bytes, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        read_facts(data, "f.jsonl")
    assert str(caught.value) == message
