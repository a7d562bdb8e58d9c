"""PLOVER export: the facts a store folds, as PLOVER event records (one JSON object a line).

PLOVER (Political Language Ontology for Verifiable Event Records, Open Event Data
Alliance; the manual's version 0.8 in the ``openeventdata/PLOVER`` repository) codes an
event as a category (``CONSULT``, ``AGREE``, …), optional modes and contexts, source and
recipient actor lists, and named JSON fields. ``docs/plover.md`` gives the mapping from
each fact type and the fields of a record.

Owns :func:`plover_records` (pure: a track's facts as the fold resolves them, the
sources' metadata and the actor registry → records), the CAMEO → PLOVER coding it uses
(:func:`coding`), the small types it takes and gives (:class:`SourceMeta`,
:class:`LeftOut`, :class:`PloverExport`) and :func:`plover_export`, the one function here
that reads a store.

What the export reflects is the state the store folds, as an auditor expects: a
retracted fact is left out, a corrected one is exported as corrected, the citations added
to a fact (``citation.added``, a duplicate's under ``fact.same_as``) are its citations,
a duplicate is not exported twice, and a fact whose payload was erased is left out (its
data is gone; nothing of it is written). A citation of an erased source keeps its span
and source but not its words. Every fact left out is listed, with the reason, in
:attr:`PloverExport.left_out`.

May import: the standard library, attrs, ``eventstore.dates``, ``eventstore.errors``,
``eventstore.facts``, ``eventstore.tracks``, ``eventstore.vocabulary`` and
``eventstore.projection``; the store only for types.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import attrs

from .dates import ValidTime
from .errors import TrackError, ValidationError
from .facts import (
    ActionAbandoned,
    ActionCalledOff,
    DeclarationNotSigned,
    DeclarationPlanned,
    DeclarationSigned,
    FactData,
    IncidentOccurred,
    InvitationAccepted,
    InvitationDeclined,
    InvitationExtended,
    MeetingCancelled,
    MeetingHeld,
    MeetingKind,
    MeetingPlanned,
    MeetingPostponed,
    Party,
    Redacted,
    StatementMade,
    StatementWithdrawn,
)
from .projection import ActorRegistry, Evidence
from .projection.fold import withdrawn_key
from .projection.resolve import Effective, resolve
from .tracks import FIXED_STREAMS, country_named, parse_track
from .vocabulary import INCIDENTS, STANCES

if TYPE_CHECKING:
    from . import EventStore

__all__ = ["SourceMeta", "LeftOut", "PloverExport", "Coding", "coding", "plover_records",
           "plover_export", "UNCODED_CHOICES", "EXTENSION_FIELDS"]

#: What ``uncoded`` may be: leave the facts PLOVER does not code out, or write them as
#: records with ``has_event`` false and the reason in ``not_coded``.
UNCODED_CHOICES = ("omit", "include")

#: CAMEO cue category (two digits; three for YIELD, which PLOVER splits) → PLOVER event
#: category; ``None``: PLOVER does not code it (01 MAKE PUBLIC STATEMENT, 02 APPEAL).
#: From the manual's table "PLOVER equivalents to CAMEO cue categories" (080, YIELD not
#: specified, is CONCEDE as CAMEO2PLOVER-2021.txt codes it); its row
#: 20 → FIGHT names a category version 0.8 no longer has, so 20 is ASSAULT here (whose
#: modes include cleansing, massacre and unconventional).
_CUE: dict[str, str | None] = {
    "01": None, "02": None, "03": "AGREE", "04": "CONSULT", "05": "SUPPORT",
    "06": "COOPERATE", "07": "AID",
    "080": "CONCEDE", "081": "CONCEDE", "082": "CONCEDE", "083": "CONCEDE",
    "084": "RETREAT", "085": "RETREAT", "086": "RETREAT", "087": "RETREAT",
    "09": "ACCUSE", "10": "DEMAND", "11": "ACCUSE", "12": "REJECT", "13": "THREATEN",
    "14": "PROTEST", "15": "MOBILIZE", "16": "SANCTION", "17": "COERCE", "18": "ASSAULT",
    "19": "ASSAULT", "20": "ASSAULT",
}

#: PLOVER's quad categories, numbered as the manual numbers them.
_QUAD = {"AGREE": 1, "CONSULT": 1, "SUPPORT": 1, "CONCEDE": 1,
         "COOPERATE": 2, "AID": 2, "RETREAT": 2,
         "DEMAND": 3, "ACCUSE": 3, "REJECT": 3, "SANCTION": 3, "THREATEN": 3,
         "PROTEST": 4, "MOBILIZE": 4, "COERCE": 4, "ASSAULT": 4}

#: Mode and context of the CAMEO codes the export uses, from CAMEO2PLOVER-2021.txt in the
#: PLOVER repository (modes and contexts that the version 0.8 manual does not list are
#: left out). A code not here gets its category only.
_DETAIL: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "030": ((), ("diplomatic",)),
    "036": ((), ("diplomatic",)),
    "041": (("phone",), ()),
    "042": (("visit",), ()),
    "044": (("third-party",), ()),
    "046": ((), ("diplomatic",)),
    "051": ((), ("diplomatic",)),
    "057": ((), ("diplomatic",)),
    "125": (("meet",), ("diplomatic",)),
}

#: The modes PLOVER (version 0.8) defines for each category: a mode the vocabulary gives
#: that the manual does not list for the category is left out.
_MODES: dict[str, frozenset[str]] = {
    "CONSULT": frozenset({"visit", "third-party", "multilateral", "phone"}),
    "RETREAT": frozenset({"withdraw", "release", "return", "disarm", "ceasefire", "access",
                          "resign"}),
    "DEMAND": frozenset({"assist", "change", "yield", "meet"}),
    "ACCUSE": frozenset({"disapprove", "investigate", "allege"}),
    "REJECT": frozenset({"assist", "change", "yield", "meet"}),
    "THREATEN": frozenset({"restrict", "ban", "arrest", "relations", "expel", "territory",
                           "violence"}),
    "PROTEST": frozenset({"demo", "riot", "general", "strike", "hunger", "boycott",
                          "obstruct"}),
    "SANCTION": frozenset({"convict", "expel", "withdraw", "discontinue"}),
    "MOBILIZE": frozenset({"troops", "weapons", "police", "militia"}),
    "COERCE": frozenset({"confiscate", "restrict", "ban", "censor", "curfew", "martial-law",
                         "arrest", "deport", "withhold"}),
    "ASSAULT": frozenset({"abduct", "beat", "torture", "execute", "sexual", "assassinate",
                          "destroy", "primitive", "firearms", "explosives", "suicide-attack",
                          "heavy-weapons", "cleansing", "massacre", "unconventional",
                          "sideAB"}),
}

#: How a meeting of each kind is coded (CAMEO 04x). A visit is not coded as PLOVER's
#: ``visit`` mode: that mode makes the source the visitor and the recipient the host, and
#: a ``meeting.held`` does not say who hosted.
_MEETING_CAMEO: dict[MeetingKind, str] = {
    MeetingKind.TALKS: "040", MeetingKind.CONSULTATIONS: "040", MeetingKind.VISIT: "040",
    MeetingKind.SUMMIT: "040", MeetingKind.CALL: "041", MeetingKind.CONFERENCE: "040",
}

#: The fields a record may have beyond PLOVER's own (the manual invites named fields of
#: a provider's own); ``docs/plover.md`` says what each holds.
EXTENSION_FIELDS = ("cameo", "date_edtf", "date_precision", "date_lower", "date_upper",
                    "date_text", "citations", "fact_type", "track", "key", "condition",
                    "not_coded", "withdrawn")


@attrs.frozen
class Coding:
    """How a fact codes: its CAMEO code, and the PLOVER category, modes and contexts.
    ``event`` is ``None`` where PLOVER does not code the CAMEO category."""

    cameo: str
    event: str | None
    mode: tuple[str, ...] = ()
    context: tuple[str, ...] = ()


def coding(cameo: str, mode: str | None = None) -> Coding:
    """The PLOVER coding of a CAMEO code given as a string of digits ("040", "0871");
    ``mode``, when given (the vocabulary's), replaces the crosswalk's if PLOVER defines it
    for the category."""
    if not (isinstance(cameo, str) and cameo.isdigit() and 2 <= len(cameo) <= 4):
        raise ValidationError(f"{cameo!r} is not a CAMEO code: two to four digits, as text "
                              "with its leading zero (\"040\")", where="cameo")
    cue = cameo[:3] if cameo.startswith("08") and len(cameo) > 2 else cameo[:2]
    if cue not in _CUE:
        raise ValidationError(f"{cameo!r} is not a CAMEO code: its cue category {cue} is not "
                              "one of 01 to 20 (080 to 087 for YIELD)", where="cameo")
    modes, context = _DETAIL.get(cameo, ((), ()))
    event = _CUE[cue]
    if mode is not None and event is not None and mode in _MODES.get(event, ()):
        modes = (mode,)
    return Coding(cameo, event, modes, context)


@attrs.frozen
class SourceMeta:
    """What a record's citation says of its source."""

    id: str
    url: str | None = None
    title: str | None = None
    outlet: str | None = None
    published: str | None = None
    language: str | None = None
    #: The news agency whose wire copy the outlet republished (AFP, Yonhap).
    agency: str | None = None
    #: How the publication date is known: stated, url, dateline or inferred.
    published_basis: str | None = None


@attrs.frozen
class LeftOut:
    """A fact the export did not write as a coded record, and why."""

    event_id: str
    track: str
    type: str
    reason: str
    #: True when the fact is in the export as a record with ``has_event`` false.
    included: bool = False

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen
class PloverExport:
    """The records (JSON-ready dicts, in the tracks' log order) and the facts not coded."""

    records: tuple[dict[str, Any], ...]
    left_out: tuple[LeftOut, ...]

    def lines(self) -> list[str]:
        """The records as JSON Lines (UTF-8 text, keys in a stable order)."""
        import json

        return [json.dumps(record, ensure_ascii=False, sort_keys=True)
                for record in self.records]

    def summary(self) -> str:
        """How many records were written, then one line for each kind of fact not coded:
        its type, how many, whether written (``has_event`` false) or left out, and why."""
        counts: dict[tuple[str, str, bool], int] = {}
        for item in self.left_out:
            key = (item.type, item.reason, item.included)
            counts[key] = counts.get(key, 0) + 1
        lines = [f"{len(self.records):,} PLOVER record{'s' * (len(self.records) != 1)}"
                 + ("; every fact is coded" if not counts else "; facts not coded:")]
        lines += [f"  {kind} ×{n}, {'written with has_event false' if included else 'left out'}"
                  f": {reason}" for (kind, reason, included), n in sorted(counts.items())]
        return "\n".join(lines)


# -- the records ----------------------------------------------------------------------------

_Actor = dict[str, Any]


class _NotCoded(Exception):
    """A fact PLOVER does not code; the message says why."""


@attrs.frozen
class _Coded:
    coding: Coding
    source: tuple[_Actor, ...]
    recipient: tuple[_Actor, ...] = ()
    place: str | None = None
    comment: str | None = None
    key: str | None = None
    #: The condition the source attaches ("once the ceasefire holds"): PLOVER's
    #: ``hypothetical`` context.
    condition: str | None = None


def _party(party: Party, registry: ActorRegistry) -> _Actor:
    actor: _Actor = {"code": party.country}
    if party.name:
        actor["actor_text"] = party.name
    if party.role:
        actor["office"] = party.role
    ref = registry.ref(party)
    known = registry.actors.get(ref.id)
    if known is not None:
        actor["identifier_text"] = known.name
        if known.wikidata:
            actor["identifier_id"] = known.wikidata
    return actor


def _parties(parties: Iterable[Party], registry: ActorRegistry) -> tuple[_Actor, ...]:
    return tuple(_party(p, registry) for p in parties)


def _countries(codes: Iterable[str]) -> tuple[_Actor, ...]:
    return tuple({"code": code} for code in codes)


def _addressee(text: str | None) -> tuple[_Actor, ...]:
    """A statement's addressee: the words the fact gives, and the country's code when those
    words name a country (in any language ISO 3166's names are translated into:
    :func:`eventstore.tracks.country_named`). Never a guess from the track: an addressee
    may be a third country, or a person."""
    if text is None:
        return ()
    actor: _Actor = {"actor_text": text}
    code = country_named(text)
    if code is not None:
        actor["code"] = code
    return (actor,)


class _Lifecycles:
    """The items of a track that later facts name by key (invitations, declarations)."""

    def __init__(self, facts: Sequence[Effective]) -> None:
        self.invitations: dict[str, InvitationExtended] = {}
        self.declarations: dict[str, DeclarationPlanned] = {}
        self.participants: dict[str, tuple[Party, ...]] = {}  # a meeting's, by its key
        for fact in facts:
            if fact.retracted is not None:
                continue
            data = fact.data
            if isinstance(data, InvitationExtended):
                self.invitations.setdefault(data.key, data)
            elif isinstance(data, DeclarationPlanned):
                self.declarations.setdefault(data.key, data)
            elif isinstance(data, (MeetingPlanned, MeetingHeld)) and data.participants:
                self.participants.setdefault(data.key, data.participants)

    def invitation(self, key: str) -> InvitationExtended:
        found = self.invitations.get(key)
        if found is None:
            raise _NotCoded(f"the invitation {key} is not in the track: no actors to name")
        return found


def _code(data: FactData, track: str, registry: ActorRegistry, items: _Lifecycles) -> _Coded:
    """The coding and actors of one fact, or :class:`_NotCoded` saying why there are none."""
    if isinstance(data, MeetingHeld):
        return _Coded(coding(_MEETING_CAMEO[data.kind]), _parties(data.participants, registry),
                      place=data.place, key=data.key)
    if isinstance(data, MeetingPlanned):
        if not data.participants:
            raise _NotCoded("a planned meeting that names no participant")
        return _Coded(coding("036"), _parties(data.participants, registry), place=data.place,
                      key=data.key, condition=data.condition)
    if isinstance(data, StatementMade):
        code = STANCES[data.stance]
        return _Coded(coding(code.cameo, code.mode), _parties([data.speaker], registry),
                      _addressee(data.addressee), comment=data.content,
                      condition=data.condition)
    if isinstance(data, IncidentOccurred):
        code = INCIDENTS[data.kind]
        return _Coded(coding(code.cameo, code.mode), _parties(data.actors, registry),
                      _parties([data.target], registry) if data.target else (),
                      place=data.place, comment=data.what, key=data.key)
    if isinstance(data, MeetingCancelled):
        if data.by is None:
            raise _NotCoded("a cancellation that does not say who cancelled")
        others = [p for p in items.participants.get(data.key, ())
                  if p.country != data.by.country]
        return _Coded(coding("125"), _parties([data.by], registry), _parties(others, registry),
                      comment=data.reason, key=data.key)
    if isinstance(data, MeetingPostponed):
        raise _NotCoded("a postponement: PLOVER has no category for putting a meeting off")
    if isinstance(data, (ActionAbandoned, ActionCalledOff, StatementWithdrawn)):
        raise _NotCoded(f"PLOVER has no category for {data.type_name} facts")
    if isinstance(data, InvitationExtended):
        return _Coded(coding("036"), _parties([data.inviter], registry),
                      _parties([data.invitee], registry), place=data.place, key=data.key)
    if isinstance(data, InvitationAccepted):
        invitation = items.invitation(data.key)
        return _Coded(coding("036"), _parties([invitation.invitee], registry),
                      _parties([invitation.inviter], registry), key=data.key)
    if isinstance(data, InvitationDeclined):
        invitation = items.invitation(data.key)
        return _Coded(coding("125"), _parties([invitation.invitee], registry),
                      _parties([invitation.inviter], registry), key=data.key)
    if isinstance(data, DeclarationPlanned):
        return _Coded(coding("030"), _countries(data.parties), key=data.key,
                      condition=data.condition)
    if isinstance(data, DeclarationSigned):
        if data.signatories:
            return _Coded(coding("057"), _parties(data.signatories, registry), key=data.key)
        planned = items.declarations.get(data.key)
        if planned is None:
            raise _NotCoded("a signature that names no signatory")
        return _Coded(coding("057"), _countries(planned.parties), key=data.key)
    if isinstance(data, DeclarationNotSigned):
        raise _NotCoded("a declaration not signed: PLOVER leaves negated events out")
    raise _NotCoded(f"PLOVER has no category for {data.type_name} facts")


def _date_fields(valid: ValidTime | None) -> dict[str, Any]:
    if valid is None:  # a base fact always has one; kept total for callers' facts
        return {}
    day = valid.lower or valid.upper
    fields: dict[str, Any] = {
        "date_edtf": valid.edtf, "date_precision": _precision(valid),
        "date_lower": valid.lower.isoformat() if valid.lower else None,
        "date_upper": valid.upper.isoformat() if valid.upper else None,
    }
    if day is not None:
        fields["date"] = day.isoformat()
    if valid.text:
        fields["date_text"] = valid.text
    if "/" in valid.edtf and valid.lower and valid.upper and valid.lower != valid.upper:
        fields["enddate"] = valid.upper.isoformat()
    return {k: v for k, v in fields.items() if v is not None}


def _precision(valid: ValidTime) -> str:
    """``day``, ``month``, ``year`` or ``range``: how precisely the store knows the date."""
    if valid.is_day:
        return "day"
    edtf = valid.edtf.rstrip("?~%")
    if "/" not in edtf and edtf.count("-") == 1 and len(edtf) == 7:
        return "month"
    if "/" not in edtf and edtf.isdigit() and len(edtf) == 4:
        return "year"
    return "range"


def _citation(item: Evidence, sources: Mapping[str, SourceMeta]) -> dict[str, Any]:
    meta = sources.get(item.source, SourceMeta(item.source))
    cited: dict[str, Any] = {
        "citation": item.source, "url": meta.url, "title": meta.title,
        "publication": meta.outlet, "published": meta.published, "language": meta.language,
        "agency": meta.agency, "published_basis": meta.published_basis,
        "start": item.start, "end": item.end,
    }
    if item.erased:
        cited["erased"] = True
    else:
        cited["quote"] = item.exact
    return {k: v for k, v in cited.items() if v is not None}


def _citation_fields(citations: Sequence[Evidence], sources: Mapping[str, SourceMeta]
                     ) -> dict[str, Any]:
    if not citations:
        return {}
    cited = [_citation(c, sources) for c in citations]
    first = cited[0]
    fields: dict[str, Any] = {
        "citations": cited,
        "cite_info": {k: first[k] for k in ("citation", "url", "title", "language",
                                            "publication") if k in first},
        "text_info": {"start": first["start"], "end": first["end"]},
    }
    texts = [c["quote"] for c in cited if "quote" in c]
    if texts:
        fields["event_text"] = texts
    return fields


def _record(fact: Effective, track: str, coded: _Coded | None, reason: str | None,
            sources: Mapping[str, SourceMeta], coder: str) -> dict[str, Any]:
    record: dict[str, Any] = {"id": fact.event_id, "fact_type": fact.type, "track": track,
                              "coder": coder}
    record |= _date_fields(fact.valid)
    record |= _citation_fields(fact.citations, sources)
    if coded is not None:
        record["cameo"] = coded.coding.cameo
        record["source"] = list(coded.source)
        if coded.recipient:
            record["recipient"] = list(coded.recipient)
        if coded.place:
            record["event_loc"] = {"name": coded.place}
        if coded.comment:
            record["comment"] = coded.comment
        if coded.key:
            record["key"] = coded.key
    event = coded.coding.event if coded is not None else None
    if event is None:
        record["has_event"] = False
        record["event"] = []
        record["not_coded"] = reason
        return record
    assert coded is not None
    record["event"] = [event]
    record["quad_code"] = _QUAD[event]
    if coded.coding.mode:
        record["mode"] = list(coded.coding.mode)
    context = list(coded.coding.context)
    if coded.condition:
        record["condition"] = coded.condition
        context.append("hypothetical")
    if context:
        record["context"] = context
    return record


def _group(actors: Iterable[_Actor]) -> dict[str, list[_Actor]]:
    """Actors by country (by their words when no country is known), in first-seen order."""
    groups: dict[str, list[_Actor]] = {}
    for actor in actors:
        groups.setdefault(actor.get("code") or actor.get("actor_text", ""), []).append(actor)
    return groups


def _dyads(record: dict[str, Any]) -> list[dict[str, Any]]:
    """CAMEO's dyadic form: one directed record per pair of countries, source → recipient.
    With a recipient, each source country toward each recipient country; without, each
    ordered pair of the source's countries (a meeting is coded both ways)."""
    sources = _group(record.get("source", ()))
    recipients = _group(record.get("recipient", ()))
    if recipients:
        pairs = [(a, b) for a in sources for b in recipients if a != b]
        targets = recipients
    else:
        pairs = list(itertools.permutations(sources, 2))
        targets = sources
    if not pairs:
        return [record]
    out = []
    for a, b in pairs:
        dyad = dict(record, id=f"{record['id']}:{a}-{b}", source=sources[a],
                    recipient=targets[b])
        out.append(dyad)
    return out


def plover_records(facts: Iterable[Effective], *, track: str,
                   sources: Mapping[str, SourceMeta], registry: ActorRegistry,
                   dyadic: bool = False, uncoded: Literal["omit", "include"] = "omit",
                   coder: str = "eventstore") -> PloverExport:
    """The PLOVER records of one track's facts, as :func:`~.projection.resolve` leaves them.

    ``dyadic`` writes CAMEO's form (one directed record per pair of countries) instead of
    PLOVER's actor lists; ``uncoded`` says whether facts PLOVER does not code are left out
    or written with ``has_event`` false and the reason in ``not_coded``. Retracted facts,
    duplicates and erased payloads are never written; every fact not coded is listed.
    """
    if uncoded not in UNCODED_CHOICES:
        raise ValidationError(f"uncoded {uncoded!r}: give one of {', '.join(UNCODED_CHOICES)}",
                              where="uncoded")
    facts = list(facts)
    items = _Lifecycles(facts)
    withdrawals = {withdrawn_key(fact.data): fact for fact in facts  # any form of the id
                   if isinstance(fact.data, StatementWithdrawn) and _skipped(fact) is None}
    records: list[dict[str, Any]] = []
    left: list[LeftOut] = []
    for fact in facts:
        skip = _skipped(fact)
        if skip is not None:
            left.append(LeftOut(fact.event_id, track, fact.type, skip))
            continue
        try:
            coded: _Coded | None = _code(fact.data, track, registry, items)
            reason = None
            if coded is not None and coded.coding.event is None:
                reason = (f"CAMEO {coded.coding.cameo} is a comment or an appeal, which "
                          "PLOVER does not code")
        except _NotCoded as err:
            coded, reason = None, str(err)
        if reason is not None:
            left.append(LeftOut(fact.event_id, track, fact.type, reason,
                                included=uncoded == "include"))
            if uncoded == "omit":
                continue
        record = _record(fact, track, coded, reason, sources, coder)
        withdrawal = withdrawals.get(fact.event_id)
        if withdrawal is not None:  # the statement was made: its record says it was withdrawn
            record["withdrawn"] = {"fact": withdrawal.event_id} | (
                {"date_edtf": withdrawal.valid.edtf} if withdrawal.valid else {})
        records.extend(_dyads(record) if dyadic and reason is None else [record])
    return PloverExport(tuple(records), tuple(left))


def _skipped(fact: Effective) -> str | None:
    """Why a fact is not part of the folded state, or ``None`` when it is."""
    if fact.retracted is not None:
        return f"retracted ({fact.retracted})"
    if fact.same_as is not None:
        return f"the same event as {fact.same_as}, whose record carries its citations"
    if isinstance(fact.data, Redacted):
        return "its payload was erased"
    return None


# -- the shell's one call -------------------------------------------------------------------

def plover_export(store: EventStore, tracks: Sequence[str] = (), *, dyadic: bool = False,
                  uncoded: Literal["omit", "include"] = "omit") -> PloverExport:
    """The PLOVER records of ``tracks`` (default: every track the store holds), as the
    store folds them now (``eventstore export --format plover``), stream by stream in
    the log's order. A fact of a stream of several countries is exported once, under its
    own stream, with every track among them that asks for it. Raises :class:`TrackError`
    for a track the store holds no event of."""
    from . import __version__

    events = [e for e in store.read_all() if e.track not in FIXED_STREAMS]
    stream_of = {str(e.event_id): e.track for e in events}
    try:
        wanted = [parse_track(t) for t in tracks]
    except TrackError as err:
        raise TrackError(str(err), where="track") from None
    for track in wanted:
        if not any(_shows(stream, track) for stream in stream_of.values()):
            raise TrackError(f"unknown track {track}: the store holds no event of it "
                             "(`eventstore tracks` lists those it does)", where="track")
    by_stream: dict[str, list[Effective]] = {}
    for fact in resolve(events):
        stream = stream_of[fact.event_id]
        if not wanted or any(_shows(stream, track) for track in wanted):
            by_stream.setdefault(stream, []).append(fact)
    registry = store.registry()
    sources = {info.id: SourceMeta(info.id, info.url, info.title, info.outlet, info.published,
                                   info.language, info.agency, info.published_basis)
               for info in store.list_sources()}
    records: list[dict[str, Any]] = []
    left: list[LeftOut] = []
    for stream in sorted(by_stream):
        part = plover_records(by_stream[stream], track=stream, sources=sources,
                              registry=registry, dyadic=dyadic, uncoded=uncoded,
                              coder=f"eventstore {__version__}")
        records.extend(part.records)
        left.extend(part.left_out)
    return PloverExport(tuple(records), tuple(left))


def _shows(stream: str, track: str) -> bool:
    """Whether a fact of ``stream`` is on ``track``: its own, or a stream of several
    countries among which are both of the track's."""
    return stream == track or set(track.split("-")) <= set(stream.split("-"))
