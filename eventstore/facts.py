"""The catalogue of facts: one frozen attrs class per fact type.

Every fact type has a stable name (``meeting.held``), a schema version, and the
fields a careful analyst records. Names and fields are documented in
``docs/facts.md`` with a full JSON example each. When a type changes shape, its
version goes up and an *upcaster* turns stored older payloads into the current
shape on read (see :data:`UPCASTERS`); stored rows are never rewritten.

Lifecycle facts (a meeting planned, then held or cancelled; a declaration planned,
then signed or not; an invitation extended, then accepted or declined) name the item
they are about with a ``key``: a short slug chosen by the analyst, unique within the
track (``geneva-2018-08-23``, ``joint-declaration-2018-08``).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from typing import Any, ClassVar

import attrs

from .dates import parse_valid_time
from .errors import DateError, UnknownFactType
from .tracks import is_country

__all__ = [
    "FactData", "Party", "MeetingKind", "Stance",
    "MeetingPlanned", "MeetingHeld", "MeetingCancelled", "TopicsDiscussed",
    "DeclarationPlanned", "DeclarationSigned", "DeclarationNotSigned",
    "InvitationExtended", "InvitationAccepted", "InvitationDeclined",
    "StatementMade", "SourceRegistered", "ActionAnnounced", "ActionDone", "MetaFact",
    "FactRetracted", "FactCorrected", "CitationAdded", "SameEvent", "ActorRegistered",
    "ActorRole", "SourceErased", "PayloadErased", "Redacted",
    "FACT_TYPES", "UPCASTERS", "fact_class", "upcast",
    "MAX_SHORT_TEXT", "MAX_LONG_TEXT",
]

#: Longest name, place, title or key, in characters.
MAX_SHORT_TEXT = 1_000
#: Longest free text (what was said, a reason, a purpose), in characters.
MAX_LONG_TEXT = 100_000

_KEY_RE = re.compile(r"^[a-z0-9]+(?:[-._][a-z0-9]+)*$")


class FieldValueError(ValueError):
    """A field's value failed its check; ``field`` names it so errors can say where."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


#: Unicode category Cc (C0 and C1 controls), by what each kind of text allows.
_CONTROLS = {
    "": re.compile("[\x00-\x1f\x7f-\x9f]"),
    "\n\t": re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]"),
}


def _control_chars(value: str, allowed: str) -> list[str]:
    found = _CONTROLS[allowed].search(value)
    return [] if found is None else [found.group()]


def _text(limit: int, allowed_controls: str) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    def check(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None:
            return
        if not isinstance(value, str):
            raise FieldValueError(attribute.name,
                                  f"{attribute.name} must be text, not {type(value).__name__}")
        if not value.strip():
            raise FieldValueError(attribute.name, f"{attribute.name} is empty")
        if len(value) > limit:
            raise FieldValueError(attribute.name, f"{attribute.name} has {len(value):,} "
                                  f"characters; the limit is {limit:,}")
        bad = _control_chars(value, allowed_controls)
        if bad:
            raise FieldValueError(attribute.name, f"{attribute.name} contains the control "
                                  f"character U+{ord(bad[0]):04X} at character "
                                  f"{value.index(bad[0])}")
    return check


#: A name, place, title: one line of text.
short_text = _text(MAX_SHORT_TEXT, "")
#: Free text: may span lines.
long_text = _text(MAX_LONG_TEXT, "\n\t")


def _key(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or not _KEY_RE.fullmatch(value) or len(value) > 120:
        raise FieldValueError(attribute.name, f"{attribute.name} {value!r} is not a key: use "
                              "lower-case letters, digits and single - . _ between them "
                              "(at most 120), e.g. geneva-2018-08-23")


def _edtf(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    try:
        parse_valid_time(value)
    except DateError as err:
        raise FieldValueError(attribute.name, f"{attribute.name}: {err.detail}") from None


def _country(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or not is_country(value):
        raise FieldValueError(attribute.name, f"{attribute.name} {value!r} is not an ISO 3166 "
                              "alpha-3 country code in upper case (e.g. USA, RUS)")


def _countries(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    for code in value:
        _country(_, attribute, code)


def _non_empty(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not value:
        raise FieldValueError(attribute.name, f"{attribute.name} must not be empty")


def _each(check: Callable[[Any, attrs.Attribute[Any], Any], None]
          ) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    def run(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        for item in value:
            check(instance, attribute, item)
    return run


def _tuple(value: Any) -> tuple[Any, ...]:
    return tuple(value)


class MeetingKind(enum.StrEnum):
    """How two sides met."""

    TALKS = "talks"
    CONSULTATIONS = "consultations"
    VISIT = "visit"
    SUMMIT = "summit"
    CALL = "call"
    CONFERENCE = "conference"


class Stance(enum.StrEnum):
    """What a statement does, in a word."""

    WARNING = "warning"
    ASSURANCE = "assurance"
    REJECTION = "rejection"
    PROPOSAL = "proposal"
    CONGRATULATION = "congratulation"
    HOPE = "hope"
    OFFER = "offer"
    DEMAND = "demand"
    ASSESSMENT = "assessment"


@attrs.frozen
class Party:
    """A person or body acting for a country: ``name``, ISO alpha-3 ``country``, ``role``."""

    name: str = attrs.field(validator=short_text)
    country: str = attrs.field(validator=_country)
    role: str | None = attrs.field(default=None, validator=short_text)


class FactData:
    """Base of every fact payload; subclasses set ``type_name`` and ``schema_version``."""

    type_name: ClassVar[str]
    schema_version: ClassVar[int] = 1
    #: True for facts the store writes about itself (not appended by analysts).
    system: ClassVar[bool] = False
    #: False for facts about other facts or the registry, which have no valid time.
    needs_date: ClassVar[bool] = True
    #: False where citations are optional (a retraction may cite, need not).
    needs_citation: ClassVar[bool] = True
    #: The fixed stream of a type that is not about one bilateral track ("$actors").
    stream: ClassVar[str | None] = None


_parties = attrs.field(converter=_tuple, validator=_non_empty)


_AT_HELP = ("data.at: the key of the multilateral meeting (a summit, on a multilateral "
            "stream with both countries, e.g. CHN-IND-RUS) this meeting is held at, on its "
            "sidelines")


def _summit(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """``at``: a key, and not the meeting's own."""
    if value is None:
        return
    _key(instance, attribute, value)
    if value == instance.key:
        raise FieldValueError(attribute.name, f"{attribute.name}: a meeting is not held on the "
                              f"sidelines of itself ({value!r}); name the summit's key")


@attrs.frozen
class MeetingPlanned(FactData):
    """A meeting or summit is announced or being prepared; ``scheduled`` is when (EDTF), if said."""

    type_name: ClassVar[str] = "meeting.planned"
    key: str = attrs.field(validator=_key)
    kind: MeetingKind
    participants: tuple[Party, ...] = attrs.field(converter=_tuple, factory=tuple)
    place: str | None = attrs.field(default=None, validator=short_text)
    scheduled: str | None = attrs.field(default=None, validator=_edtf)
    purpose: str | None = attrs.field(default=None, validator=long_text)
    at: str | None = attrs.field(default=None, validator=_summit, metadata={"help": _AT_HELP})


@attrs.frozen
class MeetingHeld(FactData):
    """A meeting took place (the envelope's date is when)."""

    type_name: ClassVar[str] = "meeting.held"
    key: str = attrs.field(validator=_key)
    kind: MeetingKind
    participants: tuple[Party, ...] = _parties
    place: str | None = attrs.field(default=None, validator=short_text)
    note: str | None = attrs.field(default=None, validator=long_text)
    #: The key of the invitation this meeting answers, when the source says so.
    fulfils: str | None = attrs.field(default=None, validator=attrs.validators.optional(_key))
    #: The key of the multilateral meeting (a summit) it is held at, on its sidelines.
    at: str | None = attrs.field(default=None, validator=_summit, metadata={"help": _AT_HELP})


@attrs.frozen
class MeetingCancelled(FactData):
    """A planned meeting will not take place."""

    type_name: ClassVar[str] = "meeting.cancelled"
    key: str = attrs.field(validator=_key)
    reason: str | None = attrs.field(default=None, validator=long_text)


@attrs.frozen
class TopicsDiscussed(FactData):
    """The subjects discussed at a meeting (named by its key)."""

    type_name: ClassVar[str] = "topics.discussed"
    meeting: str = attrs.field(validator=_key)
    topics: tuple[str, ...] = attrs.field(converter=_tuple,
                                          validator=[_non_empty, _each(short_text)])


@attrs.frozen
class DeclarationPlanned(FactData):
    """The parties intend to sign a declaration or agreement."""

    type_name: ClassVar[str] = "declaration.planned"
    key: str = attrs.field(validator=_key)
    title: str = attrs.field(validator=short_text)
    parties: tuple[str, ...] = attrs.field(converter=_tuple, validator=[_non_empty, _countries])


@attrs.frozen
class DeclarationSigned(FactData):
    """A declaration was signed."""

    type_name: ClassVar[str] = "declaration.signed"
    key: str = attrs.field(validator=_key)
    signatories: tuple[Party, ...] = attrs.field(converter=_tuple, factory=tuple)


@attrs.frozen
class DeclarationNotSigned(FactData):
    """A planned declaration was not signed; ``reason`` as the source gives it."""

    type_name: ClassVar[str] = "declaration.not_signed"
    key: str = attrs.field(validator=_key)
    reason: str | None = attrs.field(default=None, validator=long_text)


@attrs.frozen
class InvitationExtended(FactData):
    """One side invited the other (to a place, for a purpose)."""

    type_name: ClassVar[str] = "invitation.extended"
    key: str = attrs.field(validator=_key)
    inviter: Party
    invitee: Party
    place: str | None = attrs.field(default=None, validator=short_text)
    purpose: str | None = attrs.field(default=None, validator=long_text)


@attrs.frozen
class InvitationAccepted(FactData):
    """An invitation was accepted."""

    type_name: ClassVar[str] = "invitation.accepted"
    key: str = attrs.field(validator=_key)
    note: str | None = attrs.field(default=None, validator=long_text)


@attrs.frozen
class InvitationDeclined(FactData):
    """An invitation was declined."""

    type_name: ClassVar[str] = "invitation.declined"
    key: str = attrs.field(validator=_key)
    reason: str | None = attrs.field(default=None, validator=long_text)


@attrs.frozen
class StatementMade(FactData):
    """Someone said something, with a stance.

    ``content`` is what was said (quoted or paraphrased); ``attribution`` is set when the
    source reports it second-hand ("a-t-on appris de source russe"). Version 2: version 1
    called ``content`` ``text`` and had no ``attribution`` (see :func:`_statement_v1_to_v2`).
    """

    type_name: ClassVar[str] = "statement.made"
    schema_version: ClassVar[int] = 2
    speaker: Party
    stance: Stance
    content: str = attrs.field(validator=long_text)
    addressee: str | None = attrs.field(default=None, validator=short_text)
    attribution: str | None = attrs.field(default=None, validator=short_text)


@attrs.frozen
class ActionAnnounced(FactData):
    """Someone is to do something (give a press conference, announce a place and date)."""

    type_name: ClassVar[str] = "action.announced"
    key: str = attrs.field(validator=_key)
    actor: Party
    action: str = attrs.field(validator=long_text)
    expected: str | None = attrs.field(default=None, validator=_edtf)


@attrs.frozen
class ActionDone(FactData):
    """An announced action was reported done."""

    type_name: ClassVar[str] = "action.done"
    key: str = attrs.field(validator=_key)
    note: str | None = attrs.field(default=None, validator=long_text)


def _event_ref(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or not _UUID_RE.fullmatch(value):
        raise FieldValueError(attribute.name, f"{attribute.name} {value!r} is not an event id "
                              "(a UUID such as 6e626110-b50d-5d77-935c-d93489f46758)")


_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?"
                      r"[0-9a-fA-F]{12}$")


class MetaFact(FactData):
    """A fact about another fact, named by its event id; it has no valid time of its own."""

    needs_date: ClassVar[bool] = False
    event: str


@attrs.frozen
class FactRetracted(MetaFact):
    """The fact ``event`` was wrong: projections stop applying it. It stays in the log."""

    type_name: ClassVar[str] = "fact.retracted"
    needs_citation: ClassVar[bool] = False
    event: str = attrs.field(validator=_event_ref)
    reason: str = attrs.field(validator=long_text)


@attrs.frozen
class FactCorrected(MetaFact):
    """The fact ``event`` is replaced by a corrected version (its ``data`` and/or ``date``).

    ``data`` is the whole corrected payload, of the original's type; the original stays in
    the log and in history.
    """

    type_name: ClassVar[str] = "fact.corrected"
    needs_citation: ClassVar[bool] = False
    event: str = attrs.field(validator=_event_ref)
    reason: str = attrs.field(validator=long_text)
    data: dict[str, Any] | None = None
    date: str | None = attrs.field(default=None, validator=_edtf)
    date_text: str | None = attrs.field(default=None, validator=short_text)

    def __attrs_post_init__(self) -> None:
        if self.data is None and self.date is None:
            raise FieldValueError("data", "a correction gives the corrected data, date or both")


@attrs.frozen
class CitationAdded(MetaFact):
    """Another source supports the fact ``event``: this event's citations are added to it."""

    type_name: ClassVar[str] = "citation.added"
    event: str = attrs.field(validator=_event_ref)


@attrs.frozen
class SameEvent(MetaFact):
    """The fact ``event`` reports the same real-world event as ``same_as``: one item, not two."""

    type_name: ClassVar[str] = "fact.same_as"
    needs_citation: ClassVar[bool] = False
    event: str = attrs.field(validator=_event_ref)
    same_as: str = attrs.field(validator=_event_ref)


@attrs.frozen
class ActorRole:
    """A role someone held, from/until an EDTF date when known."""

    role: str = attrs.field(validator=short_text)
    since: str | None = attrs.field(default=None, validator=_edtf)
    until: str | None = attrs.field(default=None, validator=_edtf)


@attrs.frozen
class ActorRegistered(FactData):
    """A person in the actor registry: every spelling that names them is the same person."""

    type_name: ClassVar[str] = "actor.registered"
    needs_date: ClassVar[bool] = False
    needs_citation: ClassVar[bool] = False
    stream: ClassVar[str | None] = "$actors"
    id: str = attrs.field(validator=_key)
    name: str = attrs.field(validator=short_text)
    country: str = attrs.field(validator=_country)
    aliases: tuple[str, ...] = attrs.field(converter=_tuple, factory=tuple,
                                           validator=_each(short_text))
    roles: tuple[ActorRole, ...] = attrs.field(converter=_tuple, factory=tuple)
    wikidata: str | None = attrs.field(default=None, validator=attrs.validators.optional(
        attrs.validators.matches_re(r"^Q[1-9][0-9]*$")))


@attrs.frozen
class SourceRegistered(FactData):
    """The store registered a source text (written by ``source add``, not by analysts)."""

    type_name: ClassVar[str] = "source.registered"
    system: ClassVar[bool] = True
    needs_date: ClassVar[bool] = False
    needs_citation: ClassVar[bool] = False
    stream: ClassVar[str | None] = "$sources"
    source: str
    original_sha256: str
    length: int
    #: The article's body, [body_start, body_end) in code points; the rest is page furniture.
    body_start: int = 0
    body_end: int | None = None
    title: str | None = attrs.field(default=None, validator=short_text)
    outlet: str | None = attrs.field(default=None, validator=short_text)
    url: str | None = attrs.field(default=None, validator=short_text)
    published: str | None = attrs.field(default=None, validator=_edtf)
    language: str | None = attrs.field(default=None, validator=short_text)


@attrs.frozen
class SourceErased(FactData):
    """A source's text was erased for a legal reason (written by ``source erase``).

    The text and the quotes (exact, prefix, suffix) of every citation of it are removed
    from the database; the source's id (the SHA-256 of the text), its length, its
    metadata, the citations' spans and every hash stay, so the chain, the tree, the
    proofs and the checkpoints stay valid. Who erased it is the event's ``recorded_by``.
    """

    type_name: ClassVar[str] = "source.erased"
    system: ClassVar[bool] = True
    needs_date: ClassVar[bool] = False
    needs_citation: ClassVar[bool] = False
    stream: ClassVar[str | None] = "$erasures"
    source: str
    reason: str = attrs.field(validator=long_text)


@attrs.frozen
class PayloadErased(FactData):
    """A fact's payload was erased for a legal reason (written by ``fact erase``).

    The payload (the fact's data) is removed; the event's envelope (type, track, dates,
    record time), its citations and its hashes stay. Projections show the fact as
    redacted.
    """

    type_name: ClassVar[str] = "payload.erased"
    system: ClassVar[bool] = True
    needs_date: ClassVar[bool] = False
    needs_citation: ClassVar[bool] = False
    stream: ClassVar[str | None] = "$erasures"
    event: str = attrs.field(validator=_event_ref)
    position: int
    type: str
    reason: str = attrs.field(validator=long_text)


@attrs.frozen
class Redacted(FactData):
    """What a read gives in place of an erased payload: who erased it, when and why.

    Not a fact type: it is never appended or stored. ``erased_type`` is the type of the
    fact whose data was erased (also the event's ``type``).
    """

    type_name: ClassVar[str] = "redacted"
    system: ClassVar[bool] = True
    erased_type: str
    reason: str
    erased_at: str  # ISO 8601, UTC
    erased_by: str
    erasure: str  # the event id of the payload.erased event


FACT_TYPES: dict[str, type[FactData]] = {
    cls.type_name: cls
    for cls in (MeetingPlanned, MeetingHeld, MeetingCancelled, TopicsDiscussed,
                DeclarationPlanned, DeclarationSigned, DeclarationNotSigned,
                InvitationExtended, InvitationAccepted, InvitationDeclined,
                StatementMade, ActionAnnounced, ActionDone,
                FactRetracted, FactCorrected, CitationAdded, SameEvent,
                ActorRegistered, SourceRegistered, SourceErased, PayloadErased)
}


def _statement_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    """statement.made v1 → v2: ``text`` became ``content``; ``attribution`` is new (unknown)."""
    upgraded = {k: v for k, v in payload.items() if k != "text"}
    upgraded["content"] = payload["text"]
    upgraded.setdefault("attribution", None)
    return upgraded


#: ``(type name, from version) → function`` turning a payload into the next version's shape.
UPCASTERS: dict[tuple[str, int], Callable[[dict[str, Any]], dict[str, Any]]] = {
    ("statement.made", 1): _statement_v1_to_v2,
}


def fact_class(type_name: str) -> type[FactData]:
    """The class of a fact type, or :class:`UnknownFactType` listing the known names."""
    try:
        return FACT_TYPES[type_name]
    except (KeyError, TypeError):
        known = ", ".join(name for name, cls in FACT_TYPES.items() if not cls.system)
        raise UnknownFactType(f"unknown fact type {type_name!r}; known types: {known}",
                              where="type") from None


def upcast(type_name: str, version: int, payload: dict[str, Any]) -> dict[str, Any]:
    """Bring a stored payload of ``version`` up to the current version of its type."""
    current = fact_class(type_name).schema_version
    while version < current:
        payload = UPCASTERS[(type_name, version)](payload)
        version += 1
    return payload
