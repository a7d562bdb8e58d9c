"""Encoding: facts to and from plain data, canonical JSON, and the hashes of the chain.

Pure code. The byte-level format is documented in ``docs/integrity.md``; in short:

* **canonical JSON** is UTF-8 JSON with object keys sorted, no insignificant white space,
  and non-ASCII characters written as themselves. For the values the store hashes
  (strings, integers below 2**53, booleans, null, lists, objects with ASCII keys, and
  never floats) this is byte-for-byte the RFC 8785 JSON Canonicalization Scheme; a
  property test checks that against the ``rfc8785`` package.
* two cattrs converters: :data:`converter`, strict, for fact payloads (what callers send:
  unknown keys and wrong types are errors), and :data:`documents`, for the store's own
  answers (states, history steps) as plain data: dates as ISO text, tolerant of keys it no
  longer knows (a stored read model may hold a field since removed).
* ``payload_hash`` = SHA-256 of the canonical payload, ``citations_hash`` = SHA-256 of
  the canonical list of citations, and the event ``hash`` = SHA-256 of the canonical
  envelope, which holds both and the previous event's hash.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
import types
import typing
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, get_args, get_origin, get_type_hints

import attrs
import cattrs
import orjson
from cattrs.cols import homogenous_tuple_structure_factory
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError
from cattrs.v import format_exception

from .dates import ValidTime, date_words
from .errors import ValidationError
from .facts import FactData, FieldValueError, fact_class, upcast

__all__ = [
    "converter", "documents", "canonical_json", "payload_json", "sha256_hex", "GENESIS_HASH",
    "structure_data", "unstructure_data", "decode_stored", "parse_uuid",
]

#: The ``prev_hash`` of the first event in a log.
GENESIS_HASH = "0" * 64


def _strict_str(value: Any, _: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    return value


def _strict_int(value: Any, _: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {type(value).__name__}")
    return value


def _enum_value(value: Any, type_: Any) -> Any:
    return type_(_strict_str(value, type_))


def _strict_optional_str(value: Any, _: Any) -> str | None:
    return None if value is None else _strict_str(value, _)


def _strict_optional_int(value: Any, _: Any) -> int | None:
    return None if value is None else _strict_int(value, _)


def _list_only(structure: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """A list field takes a JSON list, never a string (which Python would iterate)."""
    def hook(value: Any, type_: Any) -> Any:
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"expected a list, got {type(value).__name__}")
        return structure(value, type_)
    return hook


def _is_tuple(type_: Any) -> bool:
    return get_origin(type_) is tuple


def _tuple_factory(type_: Any, conv: cattrs.Converter) -> Callable[[Any, Any], Any]:
    return _list_only(homogenous_tuple_structure_factory(type_, conv))


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=True)
    conv.register_structure_hook(str, _strict_str)
    conv.register_structure_hook(int, _strict_int)
    # A StrEnum is a str subclass: give it its own hook, or the str hook would take it.
    conv.register_structure_hook(enum.StrEnum, _enum_value)
    conv.register_structure_hook_func(lambda t: t == str | None, _strict_optional_str)
    conv.register_structure_hook_func(lambda t: t == int | None, _strict_optional_int)
    conv.register_structure_hook_factory(_is_tuple, _tuple_factory)
    return conv


#: The cattrs converter for every fact type: unknown keys and wrong types are errors.
converter = _make_converter()


def _make_documents() -> cattrs.Converter:
    conv = cattrs.Converter()  # unknown keys are dropped, as cattrs does by default
    conv.register_unstructure_hook(dt.date, dt.date.isoformat)
    conv.register_structure_hook(dt.date, lambda value, _: dt.date.fromisoformat(value))
    conv.register_unstructure_hook(dt.datetime, dt.datetime.isoformat)
    conv.register_structure_hook(dt.datetime, lambda value, _: dt.datetime.fromisoformat(value))
    conv.register_unstructure_hook(uuid.UUID, str)
    conv.register_structure_hook(uuid.UUID, lambda value, _: uuid.UUID(value))
    conv.register_unstructure_hook(ValidTime, date_document)
    return conv


def date_document(valid: ValidTime) -> dict[str, Any]:
    """A valid time in the store's documents (``project`` and ``history --format json``):
    its envelope form with ``resolved`` always said, and ``words``, the date as the text
    displays say it (``on or before 24 Aug 2018``, ``about 27 Jun 2018``, ``24 Aug
    2018``). Read back, ``words`` is ignored."""
    return {"edtf": valid.edtf, "lower": valid.lower.isoformat() if valid.lower else None,
            "upper": valid.upper.isoformat() if valid.upper else None, "text": valid.text,
            "anchor": valid.anchor, "resolved": valid.resolved, "words": date_words(valid)}


#: The cattrs converter for the store's own types (a projection's state and items, a
#: history step): attrs objects to dicts of their fields, tuples to lists, dates and times
#: to ISO 8601 text, UUIDs to text, and back. The ``to_dict`` of those types is built on
#: it (``eventstore.projection.state``), and it reads a read model stored as dicts.
#: Not for fact payloads, which :data:`converter` checks strictly.
documents = _make_documents()


# One encoder for every call: json.dumps with options builds a new one each time.
_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                              allow_nan=False)


def canonical_json(value: Any) -> bytes:
    """Canonical JSON bytes of ``value`` (RFC 8785 for the values the store hashes)."""
    try:
        return _CANONICAL.encode(value).encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError("text contains a lone surrogate code point, which is not valid "
                              "Unicode text") from None


# -- the two shapes hashed for every event, encoded without a generic encoder -------------
#
# ``audit verify`` and the append path encode an envelope and a citation list per event;
# json's encoder (sorting keys, walking dicts) is most of that cost. These build the same
# bytes by hand for the exact shapes the store writes, and fall back to canonical_json for
# anything else (another type, an extra key, a lone surrogate), so the result is always
# canonical_json's. tests/test_properties.py checks the two agree on arbitrary values.

_STRING: Callable[[str], str] = getattr(json.encoder, "c_encode_basestring", None) or \
    json.encoder.encode_basestring  # what JSONEncoder(ensure_ascii=False) uses


class _Unusual(Exception):
    """A value outside the shape the fast encoders know: use canonical_json."""


def _js(value: Any) -> str:
    if value is None:
        return "null"
    if type(value) is not str:
        raise _Unusual
    return _STRING(value)


def _int(value: Any) -> str:
    if type(value) is not int:
        raise _Unusual
    return str(value)


#: The keys of the chained envelope (docs/integrity.md), in the order the docs list them.
#: ``eventstore.audit.proofs`` keeps a copy of its own, so that it stands alone (a test checks
#: they agree).
ENVELOPE_KEYS = ("position", "event_id", "track", "version", "type", "schema_version",
                 "valid", "recorded_at", "recorded_by", "correlation_id", "causation_id",
                 "payload_hash", "citations_hash", "prev_hash")
_ENVELOPE_KEYS = frozenset(ENVELOPE_KEYS)
_VALID_KEYS = frozenset(("anchor", "edtf", "lower", "text", "upper"))
#: The keys of a stored citation (``Citation.to_dict``; what ``citations_hash`` covers).
CITATION_KEYS = frozenset(("end", "exact", "prefix", "source", "start", "suffix"))


def envelope_json(envelope: Mapping[str, Any]) -> bytes:
    """``canonical_json`` of an event envelope (the 14 keys of ``events.envelope_dict``)."""
    try:
        if len(envelope) != 14 or envelope.keys() != _ENVELOPE_KEYS:
            raise _Unusual
        valid = envelope["valid"]
        if valid is None:
            valid_text = "null"
        elif type(valid) is dict and valid.keys() == _VALID_KEYS:
            valid_text = (f'{{"anchor":{_js(valid["anchor"])},"edtf":{_js(valid["edtf"])},'
                          f'"lower":{_js(valid["lower"])},"text":{_js(valid["text"])},'
                          f'"upper":{_js(valid["upper"])}}}')
        else:
            raise _Unusual
        text = (
            f'{{"causation_id":{_js(envelope["causation_id"])},'
            f'"citations_hash":{_js(envelope["citations_hash"])},'
            f'"correlation_id":{_js(envelope["correlation_id"])},'
            f'"event_id":{_js(envelope["event_id"])},'
            f'"payload_hash":{_js(envelope["payload_hash"])},'
            f'"position":{_int(envelope["position"])},'
            f'"prev_hash":{_js(envelope["prev_hash"])},'
            f'"recorded_at":{_js(envelope["recorded_at"])},'
            f'"recorded_by":{_js(envelope["recorded_by"])},'
            f'"schema_version":{_int(envelope["schema_version"])},'
            f'"track":{_js(envelope["track"])},"type":{_js(envelope["type"])},'
            f'"valid":{valid_text},"version":{_int(envelope["version"])}}}')
        return text.encode("utf-8")
    except (_Unusual, UnicodeEncodeError):
        return canonical_json(envelope)


def citations_json(citations: Sequence[Mapping[str, Any]]) -> bytes:
    """``canonical_json`` of a citation list (dicts of ``Citation.to_dict``'s six keys)."""
    try:
        parts = []
        for c in citations:
            if len(c) != 6 or c.keys() != CITATION_KEYS:
                raise _Unusual
            parts.append(f'{{"end":{_int(c["end"])},"exact":{_js(c["exact"])},'
                         f'"prefix":{_js(c["prefix"])},"source":{_js(c["source"])},'
                         f'"start":{_int(c["start"])},"suffix":{_js(c["suffix"])}}}')
        return ("[" + ",".join(parts) + "]").encode("utf-8")
    except (_Unusual, UnicodeEncodeError):
        return canonical_json(list(citations))


# -- a fact's payload, encoded by orjson where its bytes are canonical_json's -----------
#
# orjson with sorted keys writes the same bytes as canonical_json for text (every code
# point but the lone surrogates it refuses), integers of 64 bits (it refuses larger ones),
# booleans, null, lists and objects with text keys (sorted by code point, as UTF-8 bytes
# sort), about nine times faster. Not for floats (it writes their exponents otherwise) nor
# for free-form objects, which could hold one: a payload type whose fields can only hold
# the values above uses it (decided once per type from its fields' types), any other uses
# canonical_json, and so does any payload orjson refuses. tests/test_properties.py checks
# the two agree on random payloads of every fact type, and on the refusals.

_PLAIN_SAFE: dict[Any, bool] = {}


def _plain_safe(hint: Any) -> bool:
    """True when every value of type ``hint``, unstructured by :data:`converter`, is made
    only of text, integers, booleans, null, lists, and objects of attrs fields."""
    known = _PLAIN_SAFE.get(hint)
    if known is not None:
        return known
    _PLAIN_SAFE[hint] = False  # a type that contains itself: not known to be safe
    origin, args = get_origin(hint), get_args(hint)
    if hint is type(None) or hint in (str, int, bool):
        safe = True
    elif origin in (types.UnionType, typing.Union, tuple, list):
        safe = all(arg is Ellipsis or _plain_safe(arg) for arg in args)
    elif isinstance(hint, type) and issubclass(hint, enum.Enum):
        safe = all(type(member.value) in (str, int) for member in hint)
    elif isinstance(hint, type) and attrs.has(hint):
        hints = get_type_hints(hint)
        safe = all(_plain_safe(hints[field.name]) for field in attrs.fields(hint))
    else:
        safe = False
    _PLAIN_SAFE[hint] = safe
    return safe


def payload_json(data: FactData, plain: Mapping[str, Any]) -> bytes:
    """``canonical_json(plain)``, where ``plain`` is ``unstructure_data(data)``."""
    if _plain_safe(type(data)):
        try:
            return orjson.dumps(plain, option=orjson.OPT_SORT_KEYS)
        except TypeError:  # a lone surrogate, an integer beyond 64 bits: canonical_json says
            pass
    return canonical_json(plain)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _messages(err: BaseException, path: str) -> list[str]:
    if isinstance(err, ForbiddenExtraKeysError):
        return [f"unknown field {', '.join(map(repr, sorted(err.extra_fields)))} @ {path}"]
    if isinstance(err, FieldValueError):
        return [f"{err} @ {path}.{err.field}"]
    if isinstance(err, (ValueError, TypeError)) and not isinstance(err, ClassValidationError):
        return [f"{err} @ {path}"]
    lines = cattrs.transform_error(err, path=path, format_exception=_describe)
    # A check that failed inside a class's __init__ is reported at the class's path;
    # move the field name (carried after _FIELD_MARK) to the end of the path.
    return [_relocate(line) for line in lines]


_FIELD_MARK = "\x00"


def _relocate(line: str) -> str:
    if _FIELD_MARK not in line:
        return line
    message, rest = line.split(_FIELD_MARK, 1)
    field, _, where = rest.partition(" @ ")
    return f"{message} @ {where}.{field}"


def _describe(exc: BaseException, type_: Any) -> str:
    """Say what is wrong in the words of the check that failed (not just "invalid value")."""
    if isinstance(exc, KeyError):
        return "required field missing"
    if isinstance(exc, FieldValueError):
        return f"{exc}{_FIELD_MARK}{exc.field}"
    if isinstance(exc, ValueError) and type(exc) is ValueError and str(exc):
        if type_ is not None and isinstance(type_, type) and issubclass(type_, enum.Enum):
            choices = ", ".join(str(member.value) for member in type_)
            return f"not one of {choices}"
        return str(exc)
    if isinstance(exc, TypeError) and str(exc).startswith("expected"):
        return str(exc)
    return format_exception(exc, type_)


def structure_data(type_name: str, payload: Any, path: str = "data") -> FactData:
    """Build the fact class of ``type_name`` from a plain dict, or raise :class:`ValidationError`.

    Every problem is listed with where it is (``data.participants[0].country``).
    """
    cls = fact_class(type_name)
    if not isinstance(payload, Mapping):
        raise ValidationError(f"must be an object with the fields of {type_name}, "
                              f"not {type(payload).__name__}", where=path)
    try:
        return converter.structure(dict(payload), cls)
    except (ClassValidationError, ForbiddenExtraKeysError, ValueError, TypeError) as err:
        problems = _messages(err, path)
        raise ValidationError(f"{type_name}: " + "; ".join(problems), problems=problems) from None


def unstructure_data(data: FactData) -> dict[str, Any]:
    """The plain-dict form of a fact payload (what is stored and hashed).

    Fields whose value is null are left out (every optional field defaults to null), so
    adding an optional field to a type changes neither old payloads nor their hashes: a
    file of facts written before can still be re-sent idempotently.
    """
    result: dict[str, Any] = _without_nulls(converter.unstructure(data))
    return result


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def decode_stored(type_name: str, version: int, payload: dict[str, Any]) -> FactData:
    """Read a stored payload of any known version as the current class of its type.

    Stored payloads were checked when they were written and are covered by the hash
    chain, so they are rebuilt without running the field checks again (reading the log
    is the hot path of every projection rebuild); the upcasters still run.
    """
    cls = fact_class(type_name)
    if version > cls.schema_version:
        raise ValidationError(f"{type_name} version {version} was written by a newer eventstore "
                              f"(this one knows up to version {cls.schema_version}); "
                              "upgrade eventstore")
    data: FactData = _trusted(cls)(upcast(type_name, version, payload))
    return data


_NO_VALUE = object()


_BUILDERS: dict[type, Callable[[Any], Any]] = {}


def _trusted(cls: type) -> Callable[[Any], Any]:
    """A builder of ``cls`` from its plain form that skips attrs validators (trusted input)."""
    builder = _BUILDERS.get(cls)
    if builder is None:
        builder = _BUILDERS[cls] = _make_trusted(cls)
    return builder


def _make_trusted(cls: type) -> Callable[[Any], Any]:
    hints = get_type_hints(cls)
    plan = []
    for field in attrs.fields(cls):
        default: Any = _NO_VALUE if field.default is attrs.NOTHING else field.default
        plan.append((field.name, _trusted_value(hints[field.name]), default))
    setattr_ = object.__setattr__

    def build(plain: Any) -> Any:
        instance: Any = object.__new__(cls)
        for name, convert, default in plan:
            value = plain.get(name, _NO_VALUE)
            if value is _NO_VALUE:
                if default is _NO_VALUE:
                    raise ValidationError(f"stored {cls.__name__} lacks {name}")
                factory = getattr(default, "factory", None)
                value = factory() if factory is not None else default
            elif convert is not None and value is not None:
                value = convert(value)
            setattr_(instance, name, value)
        return instance
    return build


def _trusted_value(hint: Any) -> Callable[[Any], Any] | None:
    """How to rebuild one field's value from its plain form (``None``: as it is)."""
    args = [a for a in get_args(hint) if a is not type(None)]
    if get_origin(hint) in (types.UnionType, typing.Union) and len(args) == 1:
        return _trusted_value(args[0])
    if get_origin(hint) is tuple:
        item = _trusted_value(args[0])
        return tuple if item is None else (lambda v: tuple(item(x) for x in v))
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint
    if isinstance(hint, type) and attrs.has(hint):
        return _trusted(hint)
    return None


def parse_uuid(value: Any, field: str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    raise ValidationError(f"{value!r} is not a UUID", where=field)
