"""Hypothesis strategies for the store's domain: fact payloads, EDTF dates, tracks, citations.

The payload strategies are derived from the attrs classes in :mod:`eventstore.facts`
(field types and validators), so a new fact type is covered as soon as it is added to
``FACT_TYPES``. A field shape this module does not know is recorded in
:data:`UNSUPPORTED` (and a test fails naming it) instead of breaking collection.
"""

from __future__ import annotations

import calendar
import enum
import types
import typing
import uuid
from typing import Any

import attrs
import pycountry
from hypothesis import reject
from hypothesis import strategies as st

from eventstore import facts as F
from eventstore.codec import unstructure_data
from eventstore.dates import parse_valid_time
from eventstore.errors import DateError
from eventstore.relative import check_words, resolve_words

#: Every ISO 3166-1 alpha-3 code pycountry knows (what ``is_country`` accepts).
COUNTRIES: list[str] = sorted(c.alpha_3 for c in pycountry.countries)
#: The fact types an analyst may append (everything but the store's own facts).
NON_SYSTEM_TYPES: list[str] = sorted(n for n, c in F.FACT_TYPES.items() if not c.system)


def is_track_fact(type_name: str) -> bool:
    """True for a fact about a bilateral track that has a date of its own (not a fact about
    facts, not a registry entry) and names no other event (``statement.withdrawn`` names
    its statement, which a random id is not): the kind the store tests append at random.
    The projection's properties (tests/test_projection.py) append those that name others."""
    cls = F.FACT_TYPES[type_name]
    return (getattr(cls, "stream", None) is None and getattr(cls, "needs_date", True)
            and getattr(cls, "refers", None) is None)


#: The analyst types that live on bilateral tracks and carry a date.
TRACK_TYPES: list[str] = [n for n in NON_SYSTEM_TYPES if is_track_fact(n)]

# -- text ---------------------------------------------------------------------------

#: Any code point but control characters (Cc) and surrogates (Cs).
_PRINTABLE = st.characters(exclude_categories=("Cc", "Cs"))


def short_texts(max_size: int = 30) -> st.SearchStrategy[str]:
    """One line of text: arbitrary Unicode, no control character, not only white space."""
    return st.text(_PRINTABLE, min_size=1, max_size=max_size).filter(lambda s: s.strip() != "")


def long_texts(max_size: int = 80) -> st.SearchStrategy[str]:
    """Free text: arbitrary Unicode plus newlines and tabs, not only white space."""
    alphabet = st.one_of(_PRINTABLE, st.sampled_from("\n\t"))
    return st.text(alphabet, min_size=1, max_size=max_size).filter(lambda s: s.strip() != "")


_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
#: Keys: lower-case letters and digits, single ``-`` ``.`` ``_`` between them, at most 120.
keys = st.builds(
    lambda first, rest: first + "".join(sep + part for sep, part in rest),
    st.text(_ALNUM, min_size=1, max_size=12),
    st.lists(st.tuples(st.sampled_from("-._"), st.text(_ALNUM, min_size=1, max_size=12)),
             max_size=4),
)
countries = st.sampled_from(COUNTRIES)
#: An event id as a caller may write it (with or without hyphens, either case).
event_refs = st.uuids().flatmap(
    lambda u: st.sampled_from([str(u), u.hex, str(u).upper()]))


@st.composite
def tracks(draw: st.DrawFn, canonical: bool = True) -> str:
    """A bilateral track id; with ``canonical=False``, any spelling ``parse_track`` accepts."""
    a, b = draw(st.lists(countries, min_size=2, max_size=2, unique=True))
    if canonical:
        return "-".join(sorted((a, b)))
    sep = draw(st.sampled_from(["-", "–", "_", "/", " ", " - "]))
    a = draw(st.sampled_from([a, a.lower(), a.title()]))
    return f"{a}{sep}{b}"


@st.composite
def streams(draw: st.DrawFn, canonical: bool = True) -> str:
    """A multilateral stream id (three to five countries); with ``canonical=False``, any
    spelling ``parse_stream`` accepts (any order and case, any separator)."""
    codes = draw(st.lists(countries, min_size=3, max_size=5, unique=True))
    if canonical:
        return "-".join(sorted(codes))
    codes = draw(st.permutations(codes))
    seps = draw(st.lists(st.sampled_from(["-", "–", "_", "/", " ", " - "]),
                         min_size=len(codes) - 1, max_size=len(codes) - 1))
    spelled = [draw(st.sampled_from([c, c.lower(), c.title()])) for c in codes]
    return spelled[0] + "".join(sep + code for sep, code in zip(seps, spelled[1:], strict=True))


#: Where a fact may be appended: a bilateral track, or now and then a multilateral stream.
appendable = st.one_of(tracks(), tracks(), streams())


# -- EDTF dates -----------------------------------------------------------------------


@st.composite
def _edtf_point(draw: st.DrawFn) -> tuple[tuple[int, int, int], str]:
    """One EDTF date (year, month or day; maybe qualified) and its first day."""
    year = draw(st.integers(1, 9999))
    precision = draw(st.sampled_from(["year", "month", "day"]))
    qualifier = draw(st.sampled_from(["", "", "?", "~", "%"]))
    if precision == "year":
        return (year, 1, 1), f"{year:04d}{qualifier}"
    month = draw(st.integers(1, 12))
    if precision == "month":
        return (year, month, 1), f"{year:04d}-{month:02d}{qualifier}"
    day = draw(st.integers(1, calendar.monthrange(year, month)[1]))
    return (year, month, day), f"{year:04d}-{month:02d}-{day:02d}{qualifier}"


@st.composite
def edtf_dates(draw: st.DrawFn) -> str:
    """A valid EDTF value: a day, month or year (with ``?``/``~``/``%``), or an interval
    (closed, open ``../X`` ``X/..``, or with an unknown end ``/X`` ``X/``)."""
    shape = draw(st.sampled_from(["point", "point", "interval", "open-start", "open-end",
                                  "unknown-start", "unknown-end"]))
    a = draw(_edtf_point())
    if shape == "point":
        return a[1]
    if shape == "open-start":
        return f"../{a[1]}"
    if shape == "open-end":
        return f"{a[1]}/.."
    if shape == "unknown-start":
        return f"/{a[1]}"
    if shape == "unknown-end":
        return f"{a[1]}/"
    b = draw(_edtf_point())
    first, second = sorted([a, b])  # by first day: then first.lower <= second.upper
    return f"{first[1]}/{second[1]}"


# -- fact payloads, derived from the attrs classes -----------------------------------


class Unsupported(Exception):
    """A field shape this module cannot generate values for."""


def _flatten(validator: Any) -> tuple[Any, ...]:
    if validator is None:
        return ()
    inner = getattr(validator, "_validators", None)  # attrs' and_() of a validator list
    if inner is not None:
        return tuple(v for item in inner for v in _flatten(item))
    if type(validator).__name__ == "_OptionalValidator":  # attrs.validators.optional(...)
        return _flatten(validator.validator)
    if getattr(validator, "__qualname__", "").startswith("_each."):  # facts._each(check)
        (check,) = [c.cell_contents for c in validator.__closure__ or ()]
        return (validator, *_flatten(check))
    return (validator,)


def _has(validators: tuple[Any, ...], name: str) -> bool:
    check = getattr(F, name, None)
    return check is not None and check in validators


def _str_strategy(validators: tuple[Any, ...], where: str) -> st.SearchStrategy[str]:
    if _has(validators, "_key") or _has(validators, "_summit"):  # _summit: a key, not its own
        return keys
    if _has(validators, "_country") or _has(validators, "_countries"):
        return countries
    if _has(validators, "_edtf"):
        return edtf_dates()
    if _has(validators, "_event_ref"):
        return event_refs
    if _has(validators, "_wikidata"):
        return st.from_regex(F._WIKIDATA_RE, fullmatch=True)
    for validator in validators:
        pattern = getattr(validator, "pattern", None)
        if type(validator).__name__ == "_MatchesReValidator" and pattern is not None:
            return st.from_regex(pattern, fullmatch=True)
    if _has(validators, "long_text"):
        return long_texts()
    if _has(validators, "short_text"):
        return short_texts()
    raise Unsupported(f"no strategy for the text field {where}: teach tests/strategies.py")


def _for_type(hint: Any, validators: tuple[Any, ...], where: str) -> st.SearchStrategy[Any]:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is str:
        return _str_strategy(validators, where)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return st.sampled_from(list(hint))
    if isinstance(hint, type) and attrs.has(hint):
        return payloads(hint)
    if hint is int and _has(validators, "_index"):
        # the index of one of the fact's citations: 0, which every fact that cites has
        return st.just(0)
    if origin in (typing.Union, types.UnionType) and type(None) not in args \
            and str in args and len(args) == 2:
        # text or an attrs class (a topic, or a topic with the citations that support it)
        (other,) = [a for a in args if a is not str]
        return short_texts() | _for_type(other, validators, where)
    if origin in (typing.Union, types.UnionType) and type(None) in args:
        (inner,) = [a for a in args if a is not type(None)]
        return st.none() | _for_type(inner, validators, where)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        element = args[0]
        if element is str and not _has(validators, "_countries"):
            # a list of one-line texts (aliases)
            item: st.SearchStrategy[Any] = short_texts()
        elif element is not str and str in typing.get_args(element):
            # topics: a name, or a name with the citations that support it
            item = _for_type(element, (), where)
        else:
            item = _for_type(element, validators, where)
        min_size = 1 if _has(validators, "_non_empty") else 0
        return st.lists(item, min_size=min_size, max_size=4).map(tuple)
    if origin is dict and where.endswith(".data"):
        # a whole payload of another type (a correction's corrected data)
        return st.deferred(lambda: any_payload(TRACK_TYPES)).map(unstructure_data)
    raise Unsupported(f"no strategy for {where}: {hint!r}; teach tests/strategies.py")


_PAYLOADS: dict[type, st.SearchStrategy[Any]] = {}


@st.composite
def _checked(draw: st.DrawFn, cls: type, fields: dict[str, st.SearchStrategy[Any]]) -> Any:
    """Build ``cls`` from drawn fields, rejecting draws that break a rule across fields."""
    values = {name: draw(strategy) for name, strategy in fields.items()}
    try:
        return cls(**values)
    except ValueError:
        reject()


def payloads(cls: type) -> st.SearchStrategy[Any]:
    """Valid instances of the attrs class ``cls`` (a fact type, :class:`Party`, …)."""
    if cls not in _PAYLOADS:
        hints = typing.get_type_hints(cls)
        fields = {
            field.name: _for_type(hints[field.name], _flatten(field.validator),
                                  f"{cls.__name__}.{field.name}")
            for field in attrs.fields(cls)
        }
        # a rule across fields (__attrs_post_init__, or a validator that reads another
        # field: a meeting's `at` is not its own `key`): draw, then keep what it accepts
        across = "__attrs_post_init__" in vars(cls) or any(
            _has(_flatten(field.validator), "_summit") for field in attrs.fields(cls))
        _PAYLOADS[cls] = _checked(cls, fields) if across else st.builds(cls, **fields)
    return _PAYLOADS[cls]


#: ``type name → strategy of payloads`` for every analyst fact type this module can build.
DATA_STRATEGIES: dict[str, st.SearchStrategy[F.FactData]] = {}
#: ``type name → why not`` for the analyst fact types it cannot (a test fails naming them).
UNSUPPORTED: dict[str, str] = {}
for _name in NON_SYSTEM_TYPES:
    try:
        DATA_STRATEGIES[_name] = payloads(F.FACT_TYPES[_name])
    except Unsupported as _err:
        UNSUPPORTED[_name] = str(_err)


def any_payload(names: list[str] | None = None) -> st.SearchStrategy[F.FactData]:
    names = [n for n in (names or NON_SYSTEM_TYPES) if n in DATA_STRATEGIES]
    return st.sampled_from(names).flatmap(lambda n: DATA_STRATEGIES[n])


# -- citations (for facts that are only parsed, not stored) ---------------------------

_hex_ids = st.text("0123456789abcdef", min_size=8, max_size=64)


@st.composite
def citation_dicts(draw: st.DrawFn) -> dict[str, Any]:
    """A citation as a caller writes it: a source id (prefix) and a quote and/or a span."""
    source = draw(_hex_ids)
    kind = draw(st.sampled_from(["quote", "quote+start", "quote+span", "span"]))
    result: dict[str, Any] = {"source": source}
    if kind.startswith("quote"):
        result["quote"] = draw(long_texts(40))
    if kind in ("quote+start", "quote+span", "span"):
        result["start"] = draw(st.integers(0, 10**6))
    if kind in ("quote+span", "span"):
        result["end"] = result["start"] + draw(st.integers(1, 1000))
    return result


# -- whole facts ------------------------------------------------------------------------

_optional_uuid = st.none() | st.uuids()


@st.composite
def fact_dicts(draw: st.DrawFn, data: st.SearchStrategy[F.FactData] | None = None,
               citations: st.SearchStrategy[list[dict[str, Any]]] | None = None
               ) -> dict[str, Any]:
    """Keyword arguments for :meth:`Fact.create` (``data`` is a payload object).

    Follows the type's rules: no track for a type with a stream of its own, the date
    optional where the type needs none, the citations optional where it needs none.
    """
    payload = draw(data if data is not None else any_payload())
    cls = type(payload)
    min_citations = 1 if getattr(cls, "needs_citation", True) else 0
    kwargs: dict[str, Any] = {
        "data": payload,
        "cite": draw(citations if citations is not None
                     else st.lists(citation_dicts(), min_size=min_citations, max_size=3)),
    }
    stream = getattr(cls, "stream", None)
    if stream is None:
        kwargs["track"] = draw(st.one_of(tracks(canonical=False),
                                         streams(canonical=False)))
    elif draw(st.booleans()):
        kwargs["track"] = stream
    if getattr(cls, "needs_date", True):  # the others have no date of their own
        date, date_text, anchor = agreeing(draw(edtf_dates()), draw(st.none() | short_texts(20)),
                                           draw(st.none() | edtf_dates()))
        kwargs["date"] = date
        if date_text is not None:
            kwargs["date_text"] = date_text
        if anchor is not None:
            kwargs["date_anchor"] = anchor
    for key in ("event_id", "correlation_id", "causation_id"):
        value = draw(_optional_uuid)
        if value is not None:
            kwargs[key] = draw(st.sampled_from([value, str(value)]))
    return kwargs


def agreeing(date: str, text: str | None, anchor: str | None
             ) -> tuple[str, str | None, str | None]:
    """A date, words and anchor the store accepts together: when the drawn words mean
    something against the anchor (``eventstore.relative``) and the date disagrees, the date
    they mean; words that contradict themselves are dropped."""
    if text is None or anchor is None:
        return date, text, anchor
    try:
        meant = resolve_words(text, anchor)
    except DateError:
        return date, None, anchor
    if meant is None:
        return date, text, anchor
    try:
        check_words(parse_valid_time(date, text=text, anchor=anchor))
    except DateError:
        return meant.edtf, text, anchor
    return date, text, anchor


def fresh_uuid() -> uuid.UUID:
    """An event id no earlier example used (hypothesis' own uuids repeat when shrinking)."""
    return uuid.uuid4()
