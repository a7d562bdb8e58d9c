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
    "TopicCite", "TopicRegistered", "PublicationBasis", "RegistryEntry",
    "IncidentKind", "MeetingPostponed", "ActionAbandoned", "ActionCalledOff",
    "StatementWithdrawn", "IncidentOccurred",
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


_WIKIDATA_RE = re.compile(r"^Q[1-9][0-9]*$")


def _wikidata(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (not isinstance(value, str) or not _WIKIDATA_RE.fullmatch(value)):
        raise FieldValueError(attribute.name, f"{attribute.name} {value!r} is not a Wikidata "
                              "item id (Q and digits, e.g. Q7243)")


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


#: What a field's ``--help`` says (``append TYPE --help``), kept with the field.
def _help(text: str) -> dict[str, str]:
    return {"help": text}


def _condition() -> Any:
    """The optional ``condition`` of a statement, plan or announced action (issue 12)."""
    return attrs.field(default=None, validator=long_text, metadata=_help(
        "The condition the source attaches, in its words ('once the ceasefire holds')."))


def _by(what: str) -> Any:
    """The optional ``by`` of a fact where one side acts (who cancelled, postponed …)."""
    return attrs.field(default=None, metadata=_help(f"Who {what}, if the source says."))


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
    # issue 12: the verbal event codes of CAMEO and PLOVER (eventstore.vocabulary)
    ACCUSATION = "accusation"
    CRITICISM = "criticism"
    DENIAL = "denial"
    THREAT = "threat"
    APPEAL = "appeal"
    PRAISE = "praise"
    INTENT_TO_MEET = "intent_to_meet"
    INTENT_TO_COOPERATE = "intent_to_cooperate"
    AGREEMENT = "agreement"
    REFUSAL = "refusal"


class IncidentKind(enum.StrEnum):
    """What happened in an incident (``incident.occurred``); each maps to a PLOVER event
    type and a CAMEO code in :mod:`eventstore.vocabulary`."""

    ARMED_CLASH = "armed_clash"
    SEIZURE = "seizure"
    ARREST = "arrest"
    DEPORTATION = "deportation"
    DIPLOMATS_EXPELLED = "diplomats_expelled"
    RELATIONS_REDUCED = "relations_reduced"
    SANCTIONS_IMPOSED = "sanctions_imposed"
    BLOCKADE = "blockade"
    MOBILIZATION = "mobilization"
    RELEASE = "release"
    AID_PROVIDED = "aid_provided"


@attrs.frozen
class Party:
    """A person or body acting for a country: ``name``, ISO alpha-3 ``country``, ``role``.

    A participant the source names only by role ("the Chinese foreign minister") has a
    ``role`` and no ``name`` (``None``; left out of the JSON form): it is never taken for
    a named person (see ``eventstore.projection.identity``).
    """

    name: str | None = attrs.field(validator=short_text)
    country: str = attrs.field(validator=_country)
    role: str | None = attrs.field(default=None, validator=short_text)

    def __attrs_post_init__(self) -> None:
        if self.name is None and self.role is None:
            raise FieldValueError("name", "a party needs a name, or a role when the source "
                                  "names it only by its role (e.g. 'foreign minister')")


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

    def check_citations(self, count: int) -> None:
        """Refuse what in the payload points at the fact's citations (``count`` of them)
        and is not there; raises :class:`FieldValueError`. Most types point at none."""

    def stored_version(self) -> int:
        """The schema version this payload is written at: the oldest whose shape it fits,
        so that a payload an older version could write is written as that version wrote
        it (the same envelope, so re-sending an old fact still finds it already stored,
        and an older eventstore can still read it)."""
        return self.schema_version


_parties = attrs.field(converter=_tuple, validator=_non_empty)


_AT_HELP = ("the key of the multilateral meeting (a summit, on a multilateral "
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
    #: Version 2 added ``condition`` (see :func:`_add_nulls`).
    schema_version: ClassVar[int] = 2
    key: str = attrs.field(validator=_key)
    kind: MeetingKind
    participants: tuple[Party, ...] = attrs.field(converter=_tuple, factory=tuple)
    place: str | None = attrs.field(default=None, validator=short_text)
    scheduled: str | None = attrs.field(default=None, validator=_edtf)
    purpose: str | None = attrs.field(default=None, validator=long_text)
    condition: str | None = _condition()
    at: str | None = attrs.field(default=None, validator=_summit, metadata={"help": _AT_HELP})


@attrs.frozen
class MeetingHeld(FactData):
    """A meeting took place (the envelope's date is when). Version 2 added ``at``."""

    type_name: ClassVar[str] = "meeting.held"
    schema_version: ClassVar[int] = 2
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
    """A planned meeting will not take place; ``by`` is the side that cancelled it."""

    type_name: ClassVar[str] = "meeting.cancelled"
    #: Version 2 added ``by`` (see :func:`_add_nulls`).
    schema_version: ClassVar[int] = 2
    key: str = attrs.field(validator=_key)
    reason: str | None = attrs.field(default=None, validator=long_text)
    by: Party | None = _by("cancelled it")


# -- topics per citation (issue 12, point 7) --

def _index(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise FieldValueError(attribute.name, f"{attribute.name} {value!r} is not the index "
                              "of one of the fact's citations (0 for the first)")


@attrs.frozen
class TopicCite:
    """A topic and the citations of its ``topics.discussed`` fact that say it was
    discussed: ``cite`` holds their indexes in the fact's ``citations`` (0 for the first).
    The topic's item cites those only, not the fact's other citations."""

    topic: str = attrs.field(validator=short_text)
    cite: tuple[int, ...] = attrs.field(converter=_tuple, validator=[_non_empty, _each(_index)])


def _topic(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, TopicCite):
        return
    short_text(_, attribute, value)


def topic_name(topic: str | TopicCite) -> str:
    """The name a topic is given, plain or with its citations."""
    return topic.topic if isinstance(topic, TopicCite) else topic


def _check_topic_cites(topics: tuple[str | TopicCite, ...], count: int) -> None:
    for i, topic in enumerate(topics):
        if not isinstance(topic, TopicCite):
            continue
        for j, index in enumerate(topic.cite):
            if index >= count:
                raise FieldValueError(
                    f"topics[{i}].cite[{j}]",
                    f"cite {index} names no citation: the fact has {count} "
                    f"(0 to {count - 1})" if count else f"cite {index} names no citation: "
                    "the fact has none")


@attrs.frozen
class TopicsDiscussed(FactData):
    """The subjects discussed at a meeting (named by its key).

    A topic is its name (supported by every citation of the fact), or a
    :class:`TopicCite` naming which of the fact's citations say it was discussed.
    Version 2 allows the latter; a version 1 payload (names only) reads unchanged.
    """

    type_name: ClassVar[str] = "topics.discussed"
    schema_version: ClassVar[int] = 2
    meeting: str = attrs.field(validator=_key)
    topics: tuple[str | TopicCite, ...] = attrs.field(converter=_tuple,
                                                      validator=[_non_empty, _each(_topic)])

    def check_citations(self, count: int) -> None:
        _check_topic_cites(self.topics, count)

    def stored_version(self) -> int:
        return 2 if any(isinstance(t, TopicCite) for t in self.topics) else 1


@attrs.frozen
class DeclarationPlanned(FactData):
    """The parties intend to sign a declaration or agreement."""

    type_name: ClassVar[str] = "declaration.planned"
    #: Version 2 added ``condition`` (see :func:`_add_nulls`).
    schema_version: ClassVar[int] = 2
    key: str = attrs.field(validator=_key)
    title: str = attrs.field(validator=short_text)
    parties: tuple[str, ...] = attrs.field(converter=_tuple, validator=[_non_empty, _countries])
    condition: str | None = _condition()


@attrs.frozen
class DeclarationSigned(FactData):
    """A declaration was signed."""

    type_name: ClassVar[str] = "declaration.signed"
    key: str = attrs.field(validator=_key)
    signatories: tuple[Party, ...] = attrs.field(converter=_tuple, factory=tuple)


@attrs.frozen
class DeclarationNotSigned(FactData):
    """A planned declaration was not signed; ``reason`` as the source gives it, ``by`` the
    side that would not sign, if the source says."""

    type_name: ClassVar[str] = "declaration.not_signed"
    #: Version 2 added ``by`` (see :func:`_add_nulls`).
    schema_version: ClassVar[int] = 2
    key: str = attrs.field(validator=_key)
    reason: str | None = attrs.field(default=None, validator=long_text)
    by: Party | None = _by("would not sign it")


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
    """An invitation was declined; ``by`` is who declined it, if the source says (the
    invitee, or someone for them)."""

    type_name: ClassVar[str] = "invitation.declined"
    #: Version 2 added ``by`` (see :func:`_add_nulls`).
    schema_version: ClassVar[int] = 2
    key: str = attrs.field(validator=_key)
    reason: str | None = attrs.field(default=None, validator=long_text)
    by: Party | None = _by("declined it")


@attrs.frozen
class StatementMade(FactData):
    """Someone said something, with a stance.

    ``content`` is what was said (quoted or paraphrased); ``attribution`` is set when the
    source reports it second-hand ("a-t-on appris de source russe"); ``condition`` when
    the speaker attaches one ("once the ceasefire holds"). Version 1 called ``content``
    ``text`` and had no ``attribution`` (see :func:`_statement_v1_to_v2`); version 3 added
    ``condition`` and the stances of issue 12 (see :mod:`eventstore.vocabulary`).
    """

    type_name: ClassVar[str] = "statement.made"
    schema_version: ClassVar[int] = 3
    speaker: Party
    stance: Stance
    content: str = attrs.field(validator=long_text)
    addressee: str | None = attrs.field(default=None, validator=short_text)
    attribution: str | None = attrs.field(default=None, validator=short_text)
    condition: str | None = _condition()


@attrs.frozen
class ActionAnnounced(FactData):
    """Someone is to do something (give a press conference, announce a place and date).

    ``actors`` are who is to do it (one or several), ``target`` whom it is aimed at, if
    anyone. Version 2: version 1 had one ``actor`` and no ``target`` or ``condition`` (see
    :func:`_action_v1_to_v2`).
    """

    type_name: ClassVar[str] = "action.announced"
    schema_version: ClassVar[int] = 2
    key: str = attrs.field(validator=_key)
    actors: tuple[Party, ...] = attrs.field(converter=_tuple, validator=_non_empty, metadata=_help(
        "Who is to do it (repeatable: an action of several actors)."))
    action: str = attrs.field(validator=long_text)
    expected: str | None = attrs.field(default=None, validator=_edtf)
    target: Party | None = attrs.field(default=None, metadata=_help(
        "Whom or what country the action is aimed at, if anyone."))
    condition: str | None = _condition()


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
class RegistryEntry(FactData):
    """An entry of the registry (a person, a topic): an ``id`` and the ``name`` shown; no
    date, citations optional, on a stream of its own. Not a fact type itself."""

    needs_date: ClassVar[bool] = False
    needs_citation: ClassVar[bool] = False
    id: str = attrs.field(validator=_key)
    name: str = attrs.field(validator=short_text)


@attrs.frozen
class ActorRegistered(RegistryEntry):
    """A person in the actor registry: every spelling that names them is the same person."""

    type_name: ClassVar[str] = "actor.registered"
    stream: ClassVar[str | None] = "$actors"
    country: str = attrs.field(validator=_country)
    aliases: tuple[str, ...] = attrs.field(converter=_tuple, factory=tuple,
                                           validator=_each(short_text))
    roles: tuple[ActorRole, ...] = attrs.field(converter=_tuple, factory=tuple)
    wikidata: str | None = attrs.field(default=None, validator=_wikidata)


@attrs.frozen
class SourceRegistered(FactData):
    """The store registered a source text (written by ``source add``, not by analysts)."""

    type_name: ClassVar[str] = "source.registered"
    system: ClassVar[bool] = True
    needs_date: ClassVar[bool] = False
    needs_citation: ClassVar[bool] = False
    schema_version: ClassVar[int] = 2
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
    # Version 2 (see :class:`PublicationBasis` and docs/facts.md#sourceregistered):
    #: The news agency whose wire copy this is, when ``outlet`` republished it (AFP, Reuters).
    agency: str | None = attrs.field(default=None, validator=short_text)
    #: How ``published`` is known: stated in the text, from the URL, the dateline, inferred.
    published_basis: PublicationBasis | None = None
    #: A free note on the source (how it was obtained, what is odd about it).
    note: str | None = attrs.field(default=None, validator=long_text)

    def stored_version(self) -> int:
        return 1 if self.agency is None and self.published_basis is None \
            and self.note is None else 2


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


# -- issue 12: what real reporting says ---------------------------------------------------
#
# Postponements, actions that did not happen, intentions withdrawn, incidents. Each is a
# plain fact of a track (a date, citations); its codes in CAMEO and PLOVER, where it has
# some, are in eventstore.vocabulary.

@attrs.frozen
class MeetingPostponed(FactData):
    """A planned meeting is put off: ``scheduled`` is the new date, when the source gives
    one; the earlier date stays in the meeting's history."""

    type_name: ClassVar[str] = "meeting.postponed"
    key: str = attrs.field(validator=_key)
    scheduled: str | None = attrs.field(default=None, validator=_edtf, metadata=_help(
        "The new date it is to take place (EDTF), if the source says."))
    by: Party | None = _by("postponed it")
    reason: str | None = attrs.field(default=None, validator=long_text)


@attrs.frozen
class ActionAbandoned(FactData):
    """An announced action was given up: it did not happen, and will not."""

    type_name: ClassVar[str] = "action.abandoned"
    key: str = attrs.field(validator=_key)
    by: Party | None = _by("gave it up")
    reason: str | None = attrs.field(default=None, validator=long_text)


@attrs.frozen
class ActionCalledOff(FactData):
    """An announced action was called off (cancelled, by its actor or another side): it
    did not happen."""

    type_name: ClassVar[str] = "action.called_off"
    key: str = attrs.field(validator=_key)
    by: Party | None = _by("called it off")
    reason: str | None = attrs.field(default=None, validator=long_text)


@attrs.frozen
class StatementWithdrawn(FactData):
    """A statement (an intention, an offer, a threat …) was withdrawn: ``statement`` is the
    event id of its ``statement.made``, on the same track. The statement stays, marked
    withdrawn; history shows both, in order."""

    type_name: ClassVar[str] = "statement.withdrawn"
    #: The field that names another event, and the type that event must be (checked when
    #: appending: stored or earlier in the batch, on the same track).
    refers: ClassVar[tuple[str, str]] = ("statement", "statement.made")
    statement: str = attrs.field(validator=_event_ref, metadata=_help(
        "The event id of the statement.made withdrawn."))
    by: Party | None = _by("withdrew it (the speaker, usually)")
    reason: str | None = attrs.field(default=None, validator=long_text)


@attrs.frozen
class IncidentOccurred(FactData):
    """Something happened between the two countries, or involving one of them, that is
    not a meeting or a statement: a border clash, a ship seized, diplomats expelled.

    ``kind`` gives its PLOVER event type and CAMEO code (:mod:`eventstore.vocabulary`);
    ``actors`` did it, ``target`` is whom it was done to; ``what`` says what happened.
    """

    type_name: ClassVar[str] = "incident.occurred"
    key: str = attrs.field(validator=_key)
    kind: IncidentKind = attrs.field(metadata=_help(
        "What kind of incident (its PLOVER type and CAMEO code: docs/facts.md)."))
    actors: tuple[Party, ...] = attrs.field(converter=_tuple, validator=_non_empty, metadata=_help(
        "Who did it (repeatable)."))
    what: str = attrs.field(validator=long_text, metadata=_help(
        "What happened, in the source's terms."))
    target: Party | None = attrs.field(default=None, metadata=_help(
        "Whom it was done to, if anyone."))
    place: str | None = attrs.field(default=None, validator=short_text)


def _insert_after(types: dict[str, type[FactData]],
                  placed: list[tuple[str, type[FactData]]]) -> None:
    """Add each ``(after, cls)`` to ``types`` right after the type named ``after``, so that
    lists of the catalogue keep a lifecycle's types together."""
    for after, cls in placed:
        items = list(types.items())
        index = [name for name, _ in items].index(after) + 1
        items.insert(index, (cls.type_name, cls))
        types.clear()
        types.update(items)


_insert_after(FACT_TYPES, [("meeting.planned", MeetingPostponed),
                           ("statement.made", StatementWithdrawn),
                           ("action.done", ActionAbandoned),
                           ("action.abandoned", ActionCalledOff),
                           ("action.called_off", IncidentOccurred)])


def _statement_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    """statement.made v1 → v2: ``text`` became ``content``; ``attribution`` is new (unknown)."""
    upgraded = {k: v for k, v in payload.items() if k != "text"}
    upgraded["content"] = payload["text"]
    upgraded.setdefault("attribution", None)
    return upgraded


def _add_nulls(*fields: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """An upcaster for a version that only added optional fields: they are unknown (null)."""
    def upgrade(payload: dict[str, Any]) -> dict[str, Any]:
        return {**payload, **{name: payload.get(name) for name in fields}}
    return upgrade


def _action_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    """action.announced v1 → v2: the one ``actor`` became the list ``actors``; ``target``
    and ``condition`` are new (unknown)."""
    upgraded = {k: v for k, v in payload.items() if k != "actor"}
    upgraded["actors"] = [payload["actor"]]
    upgraded.setdefault("target", None)
    upgraded.setdefault("condition", None)
    return upgraded


#: ``(type name, from version) → function`` turning a payload into the next version's shape.
UPCASTERS: dict[tuple[str, int], Callable[[dict[str, Any]], dict[str, Any]]] = {
    ("statement.made", 1): _statement_v1_to_v2,
    # issue 12
    ("statement.made", 2): _add_nulls("condition"),
    ("meeting.planned", 1): _add_nulls("condition"),
    ("declaration.planned", 1): _add_nulls("condition"),
    ("meeting.cancelled", 1): _add_nulls("by"),
    ("declaration.not_signed", 1): _add_nulls("by"),
    ("invitation.declined", 1): _add_nulls("by"),
    ("action.announced", 1): _action_v1_to_v2,
    ("meeting.held", 1): _add_nulls("at"),  # the summit it was held at: unknown before
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


# -- participants by role, topics per citation, topics across languages, sources as
# -- published (issue 12, points 6, 7 and 10) -----------------------------------------

def _unchanged(payload: dict[str, Any]) -> dict[str, Any]:
    """An upcaster for a version that only allows more: the older payload reads as it is
    (``topics.discussed`` 1 → 2: a topic may now be a :class:`TopicCite`;
    ``source.registered`` 1 → 2: ``agency``, ``published_basis`` and ``note`` are new,
    unknown in version 1)."""
    return payload


class PublicationBasis(enum.StrEnum):
    """How a source's publication date is known."""

    STATED = "stated"  # the text or the page states it
    URL = "url"  # read from the URL (…/2018/08/24/…)
    DATELINE = "dateline"  # from the dateline (GENÈVE, 23 août (AFP) -)
    INFERRED = "inferred"  # inferred (from what the text reports, from another source)

    @property
    def words(self) -> str:
        """How a reader is told it: ``date from the URL``."""
        return {"stated": "date stated in the text", "url": "date from the URL",
                "dateline": "date from the dateline", "inferred": "date inferred"}[self.value]


@attrs.frozen
class TopicRegistered(RegistryEntry):
    """A topic in the topic registry: every name and alias (in any language) that names it
    is the same topic ("Kashmir", "Cachemire"); the names the sources used are kept."""

    type_name: ClassVar[str] = "topic.registered"
    stream: ClassVar[str | None] = "$topics"
    aliases: tuple[str, ...] = attrs.field(converter=_tuple, factory=tuple,
                                           validator=_each(short_text))
    wikidata: str | None = attrs.field(default=None, validator=_wikidata)


FACT_TYPES[TopicRegistered.type_name] = TopicRegistered
UPCASTERS[("topics.discussed", 1)] = _unchanged
UPCASTERS[("source.registered", 1)] = _unchanged
