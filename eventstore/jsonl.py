"""Reading JSON that comes from outside the store: strictly, saying where each refusal is.

Pure code. Every reader of a user's JSON goes through here: the facts of ``append --file``
(:func:`read_facts`), the records of an export (``audit verify --file``, ``import``,
:func:`eventstore.storage.verify.verify_export`), a proof document (``audit check-proof``)
and a JSON option value. Each refuses the same things in the same words, with a
:class:`ValidationError` whose ``where`` names the file, the line and, when there is
one, the field (``facts.jsonl: line 3: data.kind``):

* text that is not JSON;
* arrays and objects nested more than :data:`MAX_DEPTH` levels deep (Python's parser
  recurses, and a thousand levels crash it);
* an object that holds the same key twice, at any depth (``json`` would silently keep
  the last value; other readers keep the first);
* a lone surrogate (``"\\ud800"``): a JSON escape that is not Unicode text, which could
  be neither stored nor hashed.

JSON Lines are split on ``\\n`` only, and a ``\\r`` before it is dropped. U+2028, U+2029,
form feeds and the other characters at which ``str.splitlines`` breaks are ordinary
characters inside a line (``log --format json`` writes U+2028 as itself).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from .errors import ValidationError

__all__ = ["MAX_DEPTH", "loads", "parse_lines", "read_facts", "lone_surrogate"]

#: How deeply arrays and objects may nest. A fact nests 6 levels at most (fact, data,
#: participants, party, roles, role), an export record 3, a proof document 3: the limit
#: leaves room for any new shape and stays far below the depth (about 1,000) at which
#: Python's parser, and the code that walks what it returns, run out of stack.
MAX_DEPTH = 64


class _KeyTwice(Exception):
    """An object of the text holds a key twice (raised by the strict decoder's hook)."""


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _KeyTwice
    return obj


class _Twice(dict[str, Any]):
    """An object that held ``key`` twice (built only to find where, after a refusal)."""

    key = ""


def _marked(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    twice, seen = _Twice(obj), set()
    for key, _ in pairs:
        if key in seen:
            twice.key = key
            break
        seen.add(key)
    return twice


_STRICT = json.JSONDecoder(object_pairs_hook=_unique)
_MARKING = json.JSONDecoder(object_pairs_hook=_marked)
#: A JSON string (skipped), or a bracket that opens or closes an array or an object.
_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.S)
#: The escape of one half of a surrogate pair (JSON text may hold a lone one).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _too_deep(text: str) -> int | None:
    """The column of the bracket that nests deeper than :data:`MAX_DEPTH`, if one does."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return None
    depth = 0
    for token in _TOKENS.finditer(text):
        char = text[token.start()]
        if char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return token.start() + 1
        elif char in "]}":
            depth -= 1
    return None


def _field(path: str, key: str) -> str:
    key = key.encode("utf-8", "backslashreplace").decode("utf-8")  # a lone surrogate: \ud800
    return f"{path}.{key}" if path else key


def _walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every value (and object key, as a string) of ``value`` with its path, in order."""
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield _field(path, str(key)), key
            yield from _walk(item, _field(path, str(key)))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]")


def lone_surrogate(value: Any, where: str) -> ValidationError | None:
    """The refusal of the first text in ``value`` that holds a lone surrogate, if one does.

    It names the field as the store's errors do (``where: data.participants[0].name``);
    an object key counts as text at the field it names.
    """
    for path, item in _walk(value):
        found = _SURROGATE.search(item) if isinstance(item, str) else None
        if found:
            return ValidationError(f"text holds the lone surrogate U+{ord(found.group()):04X}, "
                                   "which is not Unicode text (an escape \\uD800-\\uDFFF must "
                                   "be half of a pair)", where=_located(where, path))
    return None


def _located(where: str, path: str) -> str:
    return f"{where}: {path}" if path else where


def _decode(text: str) -> tuple[Any, bool]:
    """The value of ``text``, and whether an object in it holds a key twice (then marked)."""
    try:
        return _STRICT.decode(text), False
    except _KeyTwice:
        return _MARKING.decode(text), True


def loads(text: str, where: str) -> Any:
    """One JSON document, parsed strictly; a refusal is a :class:`ValidationError` at
    ``where`` (``facts.jsonl: line 3``), with the field when there is one."""
    column = _too_deep(text)
    if column is not None:
        raise ValidationError(f"arrays and objects nested deeper than the limit of {MAX_DEPTH} "
                              f"levels (at column {column})", where=where)
    try:
        value, twice = _decode(text)
    except json.JSONDecodeError as err:
        at = f"column {err.colno}" if err.lineno == 1 else f"line {err.lineno} column {err.colno}"
        why = "a byte-order mark" if text.startswith("\ufeff") else err.msg.removesuffix(" at")
        raise ValidationError(f"not JSON ({why} at {at})", where=where) from None
    if twice:
        path, key = next((path, item.key) for path, item in _walk(value)
                         if isinstance(item, _Twice))
        raise ValidationError(f"the key {key!r} is given twice in one object (give each key "
                              "once)", where=_located(where, _field(path, key)))
    refused = lone_surrogate(value, where) if _may_hide_surrogate(text) else None
    if refused is not None:
        raise refused
    return value


def _may_hide_surrogate(text: str) -> bool:
    """Whether ``text`` holds half of a surrogate pair, escaped or as itself (a Python
    caller's text can); a regular expression with a range of surrogates is much slower."""
    if _SURROGATE_ESCAPE.search(text):
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def parse_lines(lines: Iterable[bytes | str], name: str) -> Iterator[tuple[int, str, Any]]:
    """Each non-blank line of a JSON Lines file, parsed strictly: ``(number, where, value)``.

    ``lines`` are the file's lines split on ``\\n`` only (iterating a file opened in
    binary mode gives them), as bytes of UTF-8 or as text; the line end is dropped.
    ``where`` is ``NAME: line N``, the place every refusal of the line names.
    """
    for number, line in enumerate(lines, start=1):
        where = f"{name}: line {number}"
        if isinstance(line, bytes):
            try:
                line = line.decode("utf-8")
            except UnicodeDecodeError as err:
                raise ValidationError(f"not valid UTF-8 (byte {err.start + 1} of the line: "
                                      f"{err.reason})", where=where) from None
        line = line.removesuffix("\n").removesuffix("\r")
        if line.strip():
            yield number, where, loads(line, where)


def read_facts(data: bytes | str, name: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The facts of a JSON Lines file (``append --file``), one JSON object a line, and the
    place of each (``NAME: line N``), for :meth:`EventStore.append_many`'s ``labels``.

    Blank lines are skipped; a file with no fact is refused.
    """
    separator: Any = b"\n" if isinstance(data, bytes) else "\n"
    facts, labels = [], []
    for _, where, fact in parse_lines(data.split(separator), name):
        if not isinstance(fact, dict):
            raise ValidationError(f"a fact must be a JSON object, not {type(fact).__name__}",
                                  where=where)
        facts.append(fact)
        labels.append(where)
    if not facts:
        raise ValidationError("no facts in the file", where=name)
    return facts, labels
