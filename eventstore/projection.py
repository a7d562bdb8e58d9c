"""Where a bilateral track stands: the pure fold from its facts to a typed state.

Nothing here does I/O. :func:`project` takes the events of one track (already cut at a
record-time position by the caller: *known at*), resolves the facts about facts
(retractions, corrections, added citations, "same event as"), keeps the facts that count
at a valid-time date (*as of*), orders them deterministically and folds them into a
:class:`TrackState`. :func:`history` replays the same fold step by step and says what
each fact changed.

The rules (``docs/projections.md`` explains them with the worked example):

* **as of a date** — by default a fact counts when it *certainly* happened on or before
  the date: its latest possible day (``valid.upper``) is on or before it. With
  ``possible=True`` a fact also counts when it *may* have happened by then (its earliest
  possible day is on or before it). A fact with an open end never certainly happened.
* **order** — facts are folded by (earliest day, latest day, position): an open start
  sorts first, an open end last, and the position breaks every tie, so the fold is
  deterministic and independent of how other tracks' facts interleave.
* **lifecycles only move forward** — planned → held / cancelled, planned → signed / not
  signed, extended → accepted / declined → fulfilled; an outcome recorded without its
  plan is kept and marked ``outcome_only``.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
from typing import Any, Literal, TypeVar

import attrs

from .codec import structure_data
from .dates import ValidTime, parse_valid_time
from .events import RecordedEvent, _utc_text
from .facts import (
    FACT_TYPES,
    ActionAnnounced,
    ActionDone,
    ActorRegistered,
    CitationAdded,
    DeclarationNotSigned,
    DeclarationPlanned,
    DeclarationSigned,
    FactCorrected,
    FactData,
    FactRetracted,
    InvitationAccepted,
    InvitationDeclined,
    InvitationExtended,
    MeetingCancelled,
    MeetingHeld,
    MeetingPlanned,
    MetaFact,
    Party,
    Redacted,
    SameEvent,
    StatementMade,
    TopicsDiscussed,
)
from .packed import PackedCodec, gc_paused

__all__ = [
    "Evidence", "PartyRef", "Meeting", "Declaration", "Invitation", "Statement", "Topic",
    "Action", "RedactedFact", "OpenItem", "TrackState", "Step", "ActorRegistry", "Effective",
    "project", "history", "resolve", "counts_at", "order_key", "diff", "PROJECTION_VERSION",
    "Folded", "fold_all", "fold_more", "dump_folded", "load_folded",
]

#: Bumped whenever the fold's rules change, so stored read models are rebuilt.
PROJECTION_VERSION = 3


@attrs.frozen(cache_hash=True)  # folds put thousands in sets, again and again
class Evidence:
    """A citation that shaped an item: which event, which source, which exact words."""

    event_id: str
    position: int
    source: str
    start: int
    end: int
    exact: str  # "" when the source's text was erased
    erased: bool = False  # the source's text was erased for a legal reason

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen
class PartyRef:
    """A participant, matched by identity (the actor registry), not by spelling."""

    id: str
    name: str
    country: str
    role: str | None = None


@attrs.frozen
class Meeting:
    key: str
    status: str  # planned, held, cancelled
    kind: str | None
    date: ValidTime | None
    place: str | None
    participants: tuple[PartyRef, ...]
    topics: tuple[str, ...]
    scheduled: str | None
    reason: str | None
    outcome_only: bool
    citations: tuple[Evidence, ...]
    purpose: str | None = None
    note: str | None = None
    fulfils: str | None = None


@attrs.frozen
class Declaration:
    key: str
    status: str  # planned, signed, not_signed
    title: str | None
    parties: tuple[str, ...]
    signatories: tuple[PartyRef, ...]
    reason: str | None
    date: ValidTime | None
    outcome_only: bool
    citations: tuple[Evidence, ...]


@attrs.frozen
class Invitation:
    key: str
    status: str  # extended, accepted, declined, fulfilled
    inviter: PartyRef | None
    invitee: PartyRef | None
    place: str | None
    purpose: str | None
    reason: str | None
    fulfilled_by: str | None
    date: ValidTime | None
    outcome_only: bool
    citations: tuple[Evidence, ...]


@attrs.frozen
class Statement:
    key: str  # the event id of the statement
    status: str  # made
    speaker: PartyRef
    stance: str
    content: str
    addressee: str | None
    attribution: str | None
    date: ValidTime | None
    citations: tuple[Evidence, ...]


@attrs.frozen
class Topic:
    key: str  # the topic as first written
    status: str  # discussed
    first: ValidTime | None
    last: ValidTime | None
    meetings: tuple[str, ...]
    date: ValidTime | None
    citations: tuple[Evidence, ...]


@attrs.frozen
class Action:
    key: str
    status: str  # announced, done
    actor: PartyRef | None
    action: str | None
    expected: str | None
    date: ValidTime | None
    outcome_only: bool
    citations: tuple[Evidence, ...]


@attrs.frozen
class RedactedFact:
    """A fact whose data was erased for a legal reason: what is left of it, and why.

    ``key`` is its event id; ``type``, ``date`` and ``citations`` come from its envelope
    and citation rows, which erasure keeps.
    """

    key: str
    status: str  # always "redacted"
    type: str
    date: ValidTime | None
    reason: str
    erased_at: str
    erased_by: str
    erasure: str  # the event id of the erasure
    citations: tuple[Evidence, ...]


@attrs.frozen
class OpenItem:
    """Something still waiting for an outcome."""

    kind: str
    key: str
    status: str
    what: str
    date: ValidTime | None
    citations: tuple[Evidence, ...]


Item = Meeting | Declaration | Invitation | Statement | Topic | Action | RedactedFact
KINDS = ("meetings", "declarations", "invitations", "statements", "topics", "actions",
         "redacted")


@attrs.frozen
class TrackState:
    """Where a track stands: every item with the citations of the facts that shaped it."""

    track: str
    as_of: dt.date | None
    known_at: dt.datetime | None
    possible: bool
    position: int
    facts: int
    meetings: tuple[Meeting, ...] = ()
    declarations: tuple[Declaration, ...] = ()
    invitations: tuple[Invitation, ...] = ()
    statements: tuple[Statement, ...] = ()
    topics: tuple[Topic, ...] = ()
    actions: tuple[Action, ...] = ()
    #: Facts whose data was erased (``fact erase``): they count, but show no content.
    redacted: tuple[RedactedFact, ...] = ()

    @property
    def parties(self) -> tuple[str, ...]:
        return tuple(self.track.split("-"))

    @property
    def open_items(self) -> tuple[OpenItem, ...]:
        """Invitations pending, meetings and declarations planned, actions not yet done."""
        items: list[OpenItem] = []
        for inv in self.invitations:
            if inv.status in ("extended", "accepted"):
                who = inv.invitee.name if inv.invitee else "?"
                items.append(OpenItem("invitation", inv.key, inv.status,
                                      f"invitation of {who}" + (f" to {inv.place}"
                                                                if inv.place else ""),
                                      inv.date, inv.citations))
        for meeting in self.meetings:
            if meeting.status == "planned":
                items.append(OpenItem("meeting", meeting.key, meeting.status,
                                      f"{meeting.kind or 'meeting'} planned, not yet held",
                                      meeting.date, meeting.citations))
        for decl in self.declarations:
            if decl.status == "planned":
                items.append(OpenItem("declaration", decl.key, decl.status,
                                      f"{decl.title or 'declaration'} not yet signed",
                                      decl.date, decl.citations))
        for action in self.actions:
            if action.status == "announced":
                items.append(OpenItem("action", action.key, action.status,
                                      action.action or "announced action", action.date,
                                      action.citations))
        return tuple(items)

    def items(self, kind: str) -> tuple[Any, ...]:
        result: tuple[Any, ...] = getattr(self, kind)
        return result

    def to_dict(self) -> dict[str, Any]:
        """The ``project --format json`` document (schema in docs/projections.md)."""
        doc: dict[str, Any] = {
            "track": self.track,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "known_at": _utc_text(self.known_at) if self.known_at else None,
            "possible": self.possible,
            "position": self.position,
            "facts": self.facts,
        }
        for kind in KINDS:
            doc[kind] = [_item_dict(item) for item in self.items(kind)]
        doc["open_items"] = [_item_dict(item) for item in self.open_items]
        return doc


def _value(value: Any) -> Any:
    if isinstance(value, ValidTime):
        return value.edtf
    if isinstance(value, tuple):
        return [_value(v) for v in value]
    if attrs.has(type(value)):
        return {f.name: _value(getattr(value, f.name)) for f in attrs.fields(type(value))}
    return value


def _item_dict(item: Any) -> dict[str, Any]:
    doc = {f.name: _value(getattr(item, f.name)) for f in attrs.fields(type(item))}
    doc["date"] = item.date.to_dict() if item.date else None
    return doc


# -- identity ---------------------------------------------------------------------------

@functools.lru_cache(maxsize=65_536)
def name_key(name: str) -> str:
    """A spelling-insensitive key: accents, case, punctuation and spacing folded away."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.findall(r"\w+", plain.casefold()))


@attrs.frozen
class ActorRegistry:
    """People by identity: every name and alias of a registered actor leads to its id."""

    actors: Mapping[str, ActorRegistered] = attrs.field(factory=dict)
    by_name: Mapping[tuple[str, str], str] = attrs.field(factory=dict)
    #: Each party already matched, by its (name, country, role): a fold asks again and again.
    _refs: dict[tuple[str, str, str | None], PartyRef] = attrs.field(
        factory=dict, init=False, eq=False, repr=False)

    @classmethod
    def of(cls, registrations: Iterable[ActorRegistered]) -> ActorRegistry:
        actors: dict[str, ActorRegistered] = {}
        for reg in registrations:  # the latest registration of an id wins
            actors[reg.id] = reg
        by_name: dict[tuple[str, str], str] = {}
        for reg in actors.values():
            for name in (reg.name, *reg.aliases):
                by_name[(reg.country, name_key(name))] = reg.id
        return cls(actors=actors, by_name=by_name)

    def ref(self, party: Party) -> PartyRef:
        seen = (party.name, party.country, party.role)
        found = self._refs.get(seen)
        if found is None:
            found = self._refs[seen] = self._match(party)
        return found

    def _match(self, party: Party) -> PartyRef:
        actor_id = self.by_name.get((party.country, name_key(party.name)))
        if actor_id is None:
            return PartyRef(id=f"{party.country}:{name_key(party.name)}", name=party.name,
                            country=party.country, role=party.role)
        actor = self.actors[actor_id]
        return PartyRef(id=actor_id, name=actor.name, country=actor.country,
                        role=party.role)


# -- facts about facts ------------------------------------------------------------------

@attrs.frozen
class Effective:
    """A fact as it stands after the facts about it: corrected, corroborated, or retracted."""

    event_id: str
    position: int
    type: str
    data: FactData
    valid: ValidTime | None
    citations: tuple[Evidence, ...]
    retracted: str | None = None  # the reason, when retracted
    corrected: str | None = None  # the reason, when corrected
    same_as: str | None = None  # the event it duplicates, when it does
    #: Where it comes in the fold (:func:`order_key`), worked out once.
    order: tuple[dt.date, dt.date, int] = attrs.field(init=False, eq=False, repr=False)

    @order.default
    def _order(self) -> tuple[dt.date, dt.date, int]:
        return order_key(self.valid, self.position)


def _evidence(event: RecordedEvent) -> tuple[Evidence, ...]:
    event_id = str(event.event_id)
    return tuple(Evidence(event_id, event.position, c.source, c.start, c.end, c.exact,
                          c.exact == "") for c in event.citations)


#: Position → a fact as it stands when no fact about it applies (see :func:`resolve`).
Plain = MutableMapping[int, Effective]


def _plain(event: RecordedEvent) -> Effective:
    return Effective(event_id=str(event.event_id), position=event.position, type=event.type,
                     data=event.data, valid=event.valid, citations=_evidence(event))


def resolve(events: Iterable[RecordedEvent], plain: Plain | None = None) -> list[Effective]:
    """Apply the facts about facts to the facts they name; meta facts themselves drop out.

    Returns every base fact of the track in position order, each as it stands now: with
    its corrected data and date, the citations added to it (and those of the facts that
    report the same event), and marked when retracted or when it duplicates another.

    ``plain`` is a memo for callers that resolve the same events again and again (cuts):
    each fact as it stands untouched depends on its event alone, so it is kept there by
    position and reused by later calls. The answer is the same with or without it.
    """
    memo: Plain = {} if plain is None else plain
    plains: dict[str, Effective] = {}  # every base fact, untouched, in the events' order
    retracted: dict[str, str] = {}
    corrected: dict[str, FactCorrected] = {}
    added: dict[str, list[Evidence]] = {}
    same: dict[str, str] = {}
    for event in events:
        item = memo.get(event.position)
        if item is not None:  # a base fact seen before
            plains[item.event_id] = item
            continue
        data = event.data
        if isinstance(data, MetaFact):
            target = str(uuid.UUID(data.event))
            if isinstance(data, FactRetracted):
                retracted[target] = data.reason
            elif isinstance(data, FactCorrected):
                corrected[target] = data
            elif isinstance(data, CitationAdded):
                added.setdefault(target, []).extend(_evidence(event))
            elif isinstance(data, SameEvent):
                same[target] = str(uuid.UUID(data.same_as))
                added.setdefault(str(uuid.UUID(data.same_as)), []).extend(_evidence(event))
        elif data.stream is None:
            item = memo[event.position] = _plain(event)
            plains[item.event_id] = item
    effective = dict(plains)
    duplicates: list[str] = []
    touched = corrected.keys() | added.keys() | retracted.keys() | same.keys()
    for key in sorted(touched & plains.keys(), key=lambda k: plains[k].position):
        fact = plains[key]
        fix = corrected.get(key)
        root = _root(key, same, plains) if key in same else None
        if root is not None:
            duplicates.append(key)
        data, valid, reason = fact.data, fact.valid, None
        if fix is not None and isinstance(data, Redacted):
            reason = fix.reason  # an erased fact stays erased: its correction is not shown
        elif fix is not None:
            reason = fix.reason
            if fix.data is not None:
                data = structure_data(fact.type, fix.data)
            if fix.date is not None:
                valid = parse_valid_time(fix.date, text=fix.date_text,
                                         anchor=valid.anchor if valid else None)
        effective[key] = Effective(
            event_id=key, position=fact.position, type=fact.type, data=data, valid=valid,
            citations=fact.citations + tuple(added.get(key, ())),
            retracted=retracted.get(key), corrected=reason, same_as=root)
    for key in duplicates:  # a duplicate's citations join its original
        item = effective[key]
        root = item.same_as
        assert root is not None
        if root in effective and not effective[root].retracted:
            original = effective[root]
            effective[root] = _evolve(
                original, citations=_cite(original.citations, item.citations))
        else:  # its original was retracted: the duplicate stands on its own
            effective[key] = _evolve(item, same_as=None)
    return sorted(effective.values(), key=_position)


_position = operator.attrgetter("position")


def _root(key: str, same: Mapping[str, str], base: Mapping[str, Any]) -> str | None:
    """Follow "same event as" links to the original (cycles stop at the earliest)."""
    seen = [key]
    current = key
    while current in same and same[current] in base and same[current] not in seen:
        current = same[current]
        seen.append(current)
    return None if current == key else current


# -- valid time -------------------------------------------------------------------------

def counts_at(valid: ValidTime | None, as_of: dt.date | None, possible: bool = False) -> bool:
    """Whether a fact of this valid time counts in the state of the world on ``as_of``."""
    if as_of is None:
        return True
    if valid is None:
        return False
    if possible:
        return valid.lower is None or valid.lower <= as_of
    return valid.upper is not None and valid.upper <= as_of


def order_key(valid: ValidTime | None, position: int) -> tuple[dt.date, dt.date, int]:
    """Deterministic fold order: earliest day, then latest day, then position."""
    lower = valid.lower if valid and valid.lower else dt.date.min
    upper = valid.upper if valid and valid.upper else dt.date.max
    return (lower, upper, position)


# -- the fold ---------------------------------------------------------------------------

_FORWARD = {
    "meeting": {"planned": 0, "held": 1, "cancelled": 1},
    "declaration": {"planned": 0, "signed": 1, "not_signed": 1},
    "invitation": {"extended": 0, "accepted": 1, "declined": 2, "fulfilled": 2},
    "action": {"announced": 0, "done": 1},
}


def _advance(kind: str, current: str | None, new: str) -> str:
    """Lifecycles only move forward; an equal rank means a later outcome replaces it."""
    if current is None:
        return new
    ranks = _FORWARD[kind]
    return new if ranks[new] >= ranks[current] else current


def _merge_refs(old: tuple[PartyRef, ...], new: Iterable[PartyRef]) -> tuple[PartyRef, ...]:
    """Participants by identity: a second spelling of someone already there adds nobody."""
    merged = list(old)
    known = {p.id for p in old}
    for party in new:
        if party.id not in known:
            known.add(party.id)
            merged.append(party)
    return tuple(merged)


def _cite(old: tuple[Evidence, ...], new: tuple[Evidence, ...]) -> tuple[Evidence, ...]:
    return old + tuple(c for c in new if c not in old)


_T = TypeVar("_T")


@functools.cache
def _init_names(cls: type) -> tuple[tuple[str, str], ...]:
    return tuple((f.alias, f.name) for f in attrs.fields(cls) if f.init)


def _evolve(item: _T, **changes: Any) -> _T:
    """``attrs.evolve`` without its per-call look-ups (the fold calls it per fact)."""
    cls: Any = type(item)
    for alias, name in _init_names(cls):
        if alias not in changes:
            changes[alias] = getattr(item, name)
    return cls(**changes)  # type: ignore[no-any-return]


class _Builder:
    """The mutable working state of one fold (pure: it only ever sees its inputs)."""

    def __init__(self, registry: ActorRegistry) -> None:
        self.registry = registry
        self.meetings: dict[str, Meeting] = {}
        self.declarations: dict[str, Declaration] = {}
        self.invitations: dict[str, Invitation] = {}
        self.statements: dict[str, Statement] = {}
        self.topics: dict[str, Topic] = {}
        self.actions: dict[str, Action] = {}
        self.redacted: dict[str, RedactedFact] = {}
        # (kind, key) → the evidence an item holds, to add new evidence only once without
        # comparing it with every piece held (heavily cited items hold thousands).
        self._held: dict[tuple[str, str], set[Evidence]] = {}
        # statement key → (its sort key, the statement), made as it is folded
        self._statement_order: dict[str, tuple[tuple[Any, ...], Statement]] = {}
        # topic key → the meetings it was discussed at (as in the topic's tuple)
        self._topic_meetings: dict[str, set[str]] = {}

    def _cite(self, kind: str, key: str, old: tuple[Evidence, ...],
              new: tuple[Evidence, ...]) -> tuple[Evidence, ...]:
        """``old`` (what the item holds) followed by the pieces of ``new`` it lacks."""
        held = self._held.get((kind, key))
        if held is None:
            held = self._held[(kind, key)] = set(old)
        fresh = []
        for piece in new:
            if piece not in held:
                held.add(piece)
                fresh.append(piece)
        return old + tuple(fresh) if fresh else old

    @classmethod
    def resume(cls, state: TrackState, registry: ActorRegistry) -> _Builder:
        """Carry on folding from a state (an incremental update of a read model)."""
        builder = cls(registry)
        builder.meetings = {m.key: m for m in state.meetings}
        builder.declarations = {d.key: d for d in state.declarations}
        builder.invitations = {i.key: i for i in state.invitations}
        builder.statements = {s.key: s for s in state.statements}
        builder.topics = {name_key(t.key): t for t in state.topics}
        builder.actions = {a.key: a for a in state.actions}
        builder.redacted = {r.key: r for r in state.redacted}
        return builder

    def apply(self, fact: Effective) -> None:
        data = fact.data
        if isinstance(data, Redacted):
            self.redacted[fact.event_id] = RedactedFact(
                key=fact.event_id, status="redacted", type=data.erased_type, date=fact.valid,
                reason=data.reason, erased_at=data.erased_at, erased_by=data.erased_by,
                erasure=data.erasure, citations=fact.citations)
            return
        handler = _HANDLERS.get(fact.type)
        if handler is not None:
            handler(self, fact, fact.data)

    # meetings
    def _put_meeting(self, fact: Effective, key: str, status: str, *, kind: str | None = None,
                     place: str | None = None, scheduled: str | None = None,
                     purpose: str | None = None, note: str | None = None,
                     fulfils: str | None = None, reason: str | None = None,
                     participants: Sequence[PartyRef] = ()) -> None:
        """A meeting as this fact leaves it: what the fact gives (not None) replaces what
        was known. (Built field by field: this runs for a third of all facts.)"""
        old = self.meetings.get(key)
        if old is None:
            old = Meeting(key=key, status=status, kind=None, date=None, place=None,
                          participants=(), topics=(), scheduled=None, reason=None,
                          outcome_only=status != "planned", citations=())
        self.meetings[key] = Meeting(
            key=key, status=_advance("meeting", old.status, status),
            kind=old.kind if kind is None else kind,
            date=fact.valid if status != "planned" or old.date is None else old.date,
            place=old.place if place is None else place,
            participants=(_merge_refs(old.participants, participants) if participants
                          else old.participants),
            topics=old.topics, scheduled=old.scheduled if scheduled is None else scheduled,
            reason=old.reason if reason is None else reason, outcome_only=old.outcome_only,
            citations=self._cite("meeting", key, old.citations, fact.citations),
            purpose=old.purpose if purpose is None else purpose,
            note=old.note if note is None else note,
            fulfils=old.fulfils if fulfils is None else fulfils)

    def _meeting_planned(self, fact: Effective, d: MeetingPlanned) -> None:
        self._put_meeting(fact, d.key, "planned", kind=str(d.kind), place=d.place,
                          scheduled=d.scheduled, purpose=d.purpose,
                          participants=[self.registry.ref(p) for p in d.participants])

    def _meeting_held(self, fact: Effective, d: MeetingHeld) -> None:
        self._put_meeting(fact, d.key, "held", kind=str(d.kind), place=d.place, note=d.note,
                          fulfils=d.fulfils,
                          participants=[self.registry.ref(p) for p in d.participants])
        if d.fulfils and d.fulfils in self.invitations:
            inv = self.invitations[d.fulfils]
            self.invitations[d.fulfils] = _evolve(
                inv, status=_advance("invitation", inv.status, "fulfilled"), fulfilled_by=d.key)

    def _meeting_cancelled(self, fact: Effective, d: MeetingCancelled) -> None:
        self._put_meeting(fact, d.key, "cancelled", reason=d.reason)

    def _topics_discussed(self, fact: Effective, d: TopicsDiscussed) -> None:
        meeting = self.meetings.get(d.meeting)
        if meeting is None:  # topics of a meeting never recorded: it was held
            self._put_meeting(fact, d.meeting, "held")
            meeting = self.meetings[d.meeting]
        new_topics = tuple(t for t in d.topics if t not in meeting.topics)
        self.meetings[d.meeting] = _evolve(
            meeting, topics=meeting.topics + new_topics,
            citations=self._cite("meeting", d.meeting, meeting.citations, fact.citations))
        for name in d.topics:
            key = name_key(name)
            old = self.topics.get(key)
            if old is None:
                self.topics[key] = Topic(key=name, status="discussed", first=fact.valid,
                                         last=fact.valid, meetings=(d.meeting,),
                                         date=fact.valid, citations=fact.citations)
            else:
                seen = self._topic_meetings.get(key)
                if seen is None:
                    seen = self._topic_meetings[key] = set(old.meetings)
                meetings = old.meetings
                if d.meeting not in seen:
                    seen.add(d.meeting)
                    meetings += (d.meeting,)
                self.topics[key] = Topic(
                    key=old.key, status=old.status, first=old.first, last=fact.valid,
                    meetings=meetings, date=fact.valid,
                    citations=self._cite("topic", key, old.citations, fact.citations))

    # declarations
    def _put_declaration(self, fact: Effective, key: str, status: str, *,
                         title: str | None = None, parties: tuple[str, ...] | None = None,
                         reason: str | None = None,
                         signatories: Sequence[PartyRef] = ()) -> None:
        old = self.declarations.get(key)
        if old is None:
            old = Declaration(key=key, status=status, title=None, parties=(), signatories=(),
                              reason=None, date=None, outcome_only=status != "planned",
                              citations=())
        self.declarations[key] = Declaration(
            key=key, status=_advance("declaration", old.status, status),
            title=old.title if title is None else title,
            parties=old.parties if parties is None else parties,
            signatories=(_merge_refs(old.signatories, signatories) if signatories
                         else old.signatories),
            reason=old.reason if reason is None else reason, date=fact.valid,
            outcome_only=old.outcome_only,
            citations=self._cite("declaration", key, old.citations, fact.citations))

    def _declaration_planned(self, fact: Effective, d: DeclarationPlanned) -> None:
        self._put_declaration(fact, d.key, "planned", title=d.title, parties=d.parties)

    def _declaration_signed(self, fact: Effective, d: DeclarationSigned) -> None:
        self._put_declaration(fact, d.key, "signed",
                              signatories=[self.registry.ref(p) for p in d.signatories])

    def _declaration_not_signed(self, fact: Effective, d: DeclarationNotSigned) -> None:
        self._put_declaration(fact, d.key, "not_signed", reason=d.reason)

    # invitations
    def _put_invitation(self, fact: Effective, key: str, status: str, *,
                        inviter: PartyRef | None = None, invitee: PartyRef | None = None,
                        place: str | None = None, purpose: str | None = None,
                        reason: str | None = None) -> None:
        old = self.invitations.get(key)
        if old is None:
            old = Invitation(key=key, status=status, inviter=None, invitee=None, place=None,
                             purpose=None, reason=None, fulfilled_by=None, date=None,
                             outcome_only=status != "extended", citations=())
        self.invitations[key] = Invitation(
            key=key, status=_advance("invitation", old.status, status),
            inviter=old.inviter if inviter is None else inviter,
            invitee=old.invitee if invitee is None else invitee,
            place=old.place if place is None else place,
            purpose=old.purpose if purpose is None else purpose,
            reason=old.reason if reason is None else reason, fulfilled_by=old.fulfilled_by,
            date=fact.valid, outcome_only=old.outcome_only,
            citations=self._cite("invitation", key, old.citations, fact.citations))

    def _invitation_extended(self, fact: Effective, d: InvitationExtended) -> None:
        self._put_invitation(fact, d.key, "extended", inviter=self.registry.ref(d.inviter),
                             invitee=self.registry.ref(d.invitee), place=d.place,
                             purpose=d.purpose)

    def _invitation_accepted(self, fact: Effective, d: InvitationAccepted) -> None:
        self._put_invitation(fact, d.key, "accepted")

    def _invitation_declined(self, fact: Effective, d: InvitationDeclined) -> None:
        self._put_invitation(fact, d.key, "declined", reason=d.reason)

    # statements and actions
    def _statement_made(self, fact: Effective, d: StatementMade) -> None:
        statement = Statement(
            key=fact.event_id, status="made", speaker=self.registry.ref(d.speaker),
            stance=str(d.stance), content=d.content, addressee=d.addressee,
            attribution=d.attribution, date=fact.valid, citations=fact.citations)
        self.statements[fact.event_id] = statement
        self._statement_order[fact.event_id] = (_statement_key(statement, fact.order), statement)

    def _put_action(self, fact: Effective, key: str, status: str, *,
                    actor: PartyRef | None = None, action: str | None = None,
                    expected: str | None = None) -> None:
        old = self.actions.get(key)
        if old is None:
            old = Action(key=key, status=status, actor=None, action=None, expected=None,
                         date=None, outcome_only=status != "announced", citations=())
        self.actions[key] = Action(
            key=key, status=_advance("action", old.status, status),
            actor=old.actor if actor is None else actor,
            action=old.action if action is None else action,
            expected=old.expected if expected is None else expected, date=fact.valid,
            outcome_only=old.outcome_only,
            citations=self._cite("action", key, old.citations, fact.citations))

    def _action_announced(self, fact: Effective, d: ActionAnnounced) -> None:
        self._put_action(fact, d.key, "announced", actor=self.registry.ref(d.actor),
                         action=d.action, expected=d.expected)

    def _action_done(self, fact: Effective, d: ActionDone) -> None:
        self._put_action(fact, d.key, "done")

    # the result
    def fulfil_invitations(self) -> None:
        """An invitation is fulfilled by a later meeting held at its place with its invitee."""
        held: dict[str, list[Meeting]] = {}  # by place, in the order the meetings came
        for meeting in self.meetings.values():
            if meeting.status == "held" and meeting.place is not None:
                held.setdefault(name_key(meeting.place), []).append(meeting)
        for key, inv in list(self.invitations.items()):
            if inv.status not in ("extended", "accepted") or inv.invitee is None \
                    or inv.place is None:
                continue
            for meeting in held.get(name_key(inv.place), ()):
                if _answers(inv, meeting):
                    self.invitations[key] = _evolve(inv, status="fulfilled",
                                                    fulfilled_by=meeting.key)
                    break

    def _statements_in_order(self) -> tuple[Statement, ...]:
        """By speaker, then date, then key; the sort keys were made as statements came."""
        order = self._statement_order
        for key, s in self.statements.items():
            if key not in order:  # resumed from a stored state
                order[key] = (_statement_key(s, order_key(s.date, 0)), s)
        return tuple(s for _, s in sorted(order.values(), key=_first))

    def state(self, track: str, *, as_of: dt.date | None, known_at: dt.datetime | None,
              possible: bool, position: int, facts: int) -> TrackState:
        def by_date(items: Iterable[Any]) -> tuple[Any, ...]:
            return tuple(sorted(items, key=lambda i: (order_key(i.date, 0)[:2], i.key)))
        return TrackState(
            track=track, as_of=as_of, known_at=known_at, possible=possible, position=position,
            facts=facts, meetings=by_date(self.meetings.values()),
            declarations=by_date(self.declarations.values()),
            invitations=by_date(self.invitations.values()),
            statements=self._statements_in_order(),
            topics=tuple(sorted(self.topics.values(), key=lambda t: name_key(t.key))),
            actions=by_date(self.actions.values()),
            redacted=tuple(sorted(self.redacted.values(),
                                  key=lambda r: (order_key(r.date, 0)[:2], r.key))))


def _statement_key(statement: Statement, order: tuple[dt.date, dt.date, int]) -> tuple[Any, ...]:
    """Statements come by speaker, then date (``order``: the fold order of their fact),
    then key."""
    return (statement.speaker.name, order[:2], statement.key)


#: Fact type → the builder's method that folds it (``meeting.held`` → ``_meeting_held``).
_HANDLERS: dict[str, Callable[[_Builder, Effective, Any], None]] = {
    name: getattr(_Builder, "_" + name.replace(".", "_"))
    for name in FACT_TYPES if hasattr(_Builder, "_" + name.replace(".", "_"))}


def _answers(inv: Invitation, meeting: Meeting) -> bool:
    if inv.invitee is None or inv.place is None or meeting.place is None:
        return False
    if name_key(inv.place) != name_key(meeting.place):
        return False
    if inv.invitee.id not in {p.id for p in meeting.participants}:
        return False
    invited = inv.date.lower if inv.date and inv.date.lower else dt.date.min
    held = meeting.date.lower if meeting.date and meeting.date.lower else None
    return held is not None and held >= invited


def _selected(effective: Iterable[Effective], as_of: dt.date | None,
              possible: bool) -> list[Effective]:
    chosen = [e for e in effective if not e.retracted
              and not (e.same_as is not None) and counts_at(e.valid, as_of, possible)]
    return sorted(chosen, key=_fold_order)


_fold_order = operator.attrgetter("order")
_first = operator.itemgetter(0)


def registry_of(events: Iterable[RecordedEvent]) -> ActorRegistry:
    return ActorRegistry.of(e.data for e in events if isinstance(e.data, ActorRegistered))


def project(track: str, events: Sequence[RecordedEvent], *, as_of: dt.date | None = None,
            known_at: dt.datetime | None = None, possible: bool = False,
            registry: ActorRegistry | None = None, plain: Plain | None = None) -> TrackState:
    """The state of ``track`` from its ``events`` (already cut at the known-at position).

    ``plain``: a memo kept between calls on the same track's events (see :func:`resolve`).
    The collector is paused meanwhile (:func:`~eventstore.packed.gc_paused`): a fold makes
    thousands of objects and no cycle, and a collection it triggered would walk them all.
    """
    with gc_paused():
        builder = _Builder(registry or ActorRegistry())
        chosen = _selected(resolve(events, plain), as_of, possible)
        for fact in chosen:
            builder.apply(fact)
        builder.fulfil_invitations()
        position = max((e.position for e in events), default=0)
        return builder.state(track, as_of=as_of, known_at=known_at, possible=possible,
                             position=position, facts=len(chosen))


# -- read models ------------------------------------------------------------------------

@attrs.frozen
class Folded:
    """A current state with what an incremental update needs: the last fold key."""

    state: TrackState
    last: tuple[dt.date, dt.date, int] | None


def fold_all(track: str, events: Sequence[RecordedEvent],
             registry: ActorRegistry | None = None) -> Folded:
    """The current state of a track from all its events (a rebuild)."""
    memo: Plain = {}  # the fold resolves the facts again: through the memo, cheaply
    chosen = _selected(resolve(events, memo), None, False)
    state = project(track, events, registry=registry, plain=memo)
    last = chosen[-1].order if chosen else None
    return Folded(state=state, last=last)


def fold_more(folded: Folded, new: Sequence[RecordedEvent],
              registry: ActorRegistry | None = None) -> Folded | None:
    """Apply newly appended events to a current state, or ``None`` if that is not valid.

    Valid when every new event is a plain fact that sorts after everything folded so far;
    a fact about facts, or a late-arriving fact about the past, needs a rebuild.
    """
    if any(isinstance(e.data, MetaFact) or e.data.stream is not None for e in new):
        return None
    effective = sorted(resolve(new), key=_fold_order)
    if not effective:
        return folded
    if folded.last is not None and effective[0].order < folded.last:
        return None
    builder = _Builder.resume(folded.state, registry or ActorRegistry())
    for fact in effective:
        builder.apply(fact)
    builder.fulfil_invitations()
    old = folded.state
    state = builder.state(old.track, as_of=None, known_at=None, possible=False,
                          position=max(old.position, max(e.position for e in new)),
                          facts=old.facts + len(effective))
    return Folded(state=state, last=effective[-1].order)


def _state_converter() -> Any:
    import cattrs
    conv = cattrs.Converter()
    conv.register_unstructure_hook(dt.date, lambda d: d.isoformat())
    conv.register_structure_hook(dt.date, lambda v, _: dt.date.fromisoformat(v))
    conv.register_unstructure_hook(dt.datetime, lambda d: d.isoformat())
    conv.register_structure_hook(dt.datetime, lambda v, _: dt.datetime.fromisoformat(v))
    return conv


_STATES = _state_converter()


@functools.cache
def _packed() -> PackedCodec:
    """The read model's codec (built on first use, when every class is defined)."""
    return PackedCodec(Folded, _STATES)


def dump_folded(folded: Folded) -> str:
    """The read model's stored form: the state and the last fold key, packed (JSON)."""
    import json
    return json.dumps(_packed().pack(folded), ensure_ascii=False, separators=(",", ":"))


def load_folded(text: str) -> Folded:
    """A stored read model back as a :class:`Folded` (what :func:`dump_folded` wrote).

    A state stored before the packed form (a dict of the state and the last fold key) is
    structured by cattrs.
    """
    import json
    with gc_paused():
        doc = json.loads(text)
        result: Folded = (_packed().unpack(doc) if "packed" in doc
                          else _STATES.structure(doc, Folded))
    return result


# -- history ----------------------------------------------------------------------------

@attrs.frozen
class Step:
    """One fact of a track's history and what it changed."""

    position: int
    event_id: str
    type: str
    valid: ValidTime | None
    recorded_at: dt.datetime
    changes: tuple[str, ...]
    citations: tuple[Evidence, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"position": self.position, "event_id": self.event_id, "type": self.type,
                "date": self.valid.to_dict() if self.valid else None,
                "recorded_at": _utc_text(self.recorded_at), "changes": list(self.changes),
                "citations": [c.to_dict() for c in self.citations]}


_LABEL = {"meetings": "meeting", "declarations": "declaration", "invitations": "invitation",
          "statements": "statement", "topics": "topic", "actions": "action",
          "redacted": "redacted fact"}


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return ", ".join(_show(v) for v in value) or "none"
    if isinstance(value, PartyRef):
        return value.name
    if isinstance(value, ValidTime):
        return value.edtf
    return "none" if value is None else str(value)


def _status(value: str) -> str:
    return value.replace("_", " ")


def diff(before: TrackState, after: TrackState) -> tuple[str, ...]:
    """What changed between two states, readably: "declaration 'x': planned → not signed"."""
    lines: list[str] = []
    for kind in KINDS:
        label = _LABEL[kind]
        old = {i.key: i for i in before.items(kind)}
        new = {i.key: i for i in after.items(kind)}
        for key, item in new.items():
            if kind == "statements" and key not in old:
                lines.append(f"statement by {item.speaker.name} ({item.stance}): "
                             f"{_short(item.content)}")
                continue
            if kind == "redacted" and key not in old:
                lines.append(f"{item.type} (redacted: its data was erased on {item.erased_at} "
                             f"by {item.erased_by}: {_short(item.reason)})")
                continue
            if key not in old:
                lines.append(f"{label} '{key}': {_status(item.status)} (new)")
                continue
            was = old[key]
            if was.status != item.status:
                lines.append(f"{label} '{key}': {_status(was.status)} → "
                             f"{_status(item.status)}")
            elif was.date != item.date and kind != "topics":
                lines.append(f"{label} '{key}': date {_show(was.date)} → {_show(item.date)}")
            for field in attrs.fields(type(item)):
                if field.name in ("key", "status", "citations", "date", "outcome_only"):
                    continue
                a, b = getattr(was, field.name), getattr(item, field.name)
                if a == b:
                    continue
                if isinstance(a, tuple) and isinstance(b, tuple):
                    added = tuple(x for x in b if x not in a)
                    if added and len(b) == len(a) + len(added):
                        lines.append(f"{label} '{key}': {field.name} + {_show(added)}")
                        continue
                if a is None:
                    lines.append(f"{label} '{key}': {field.name}: {_show(b)}")
                else:
                    lines.append(f"{label} '{key}': {field.name} {_show(a)} → {_show(b)}")
            extra = len(item.citations) - len(was.citations)
            if extra > 0 and was.status == item.status:
                lines.append(f"{label} '{key}': +{extra} citation(s)")
        for key in old.keys() - new.keys():
            lines.append(f"{label} '{key}': removed")
    return tuple(lines)


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def history(track: str, events: Sequence[RecordedEvent], *,
            by: Literal["valid", "recorded"] = "valid",
            registry: ActorRegistry | None = None) -> list[Step]:
    """One step per fact: in valid-time order (the world's story as best known now) or in
    record order (how the store's answer changed as facts arrived)."""
    registry = registry or ActorRegistry()
    base = [e for e in events if e.data.stream is None]
    if by == "recorded":
        return _history_recorded(track, base, registry)
    effective = {e.event_id: e for e in resolve(base)}
    by_id = {str(e.event_id): e for e in base}
    order = sorted(effective.values(), key=_fold_order)
    builder = _Builder(registry)
    empty = builder.state(track, as_of=None, known_at=None, possible=False, position=0,
                          facts=0)
    previous = empty
    steps = []
    for fact in order:
        event = by_id[fact.event_id]
        if fact.retracted:
            changes: tuple[str, ...] = (f"retracted later ({_short(fact.retracted)}): "
                                        "not applied",)
        elif fact.same_as:
            changes = (f"same event as {fact.same_as}: its citations join that fact",)
        else:
            builder.apply(fact)
            builder.fulfil_invitations()
            current = builder.state(track, as_of=None, known_at=None, possible=False,
                                    position=fact.position, facts=0)
            changes = diff(previous, current) or ("no change",)
            if fact.corrected:
                changes += (f"as corrected later ({_short(fact.corrected)})",)
            previous = current
        steps.append(Step(position=fact.position, event_id=fact.event_id, type=fact.type,
                          valid=fact.valid, recorded_at=event.recorded_at, changes=changes,
                          citations=fact.citations))
    return steps


def _history_recorded(track: str, events: Sequence[RecordedEvent],
                      registry: ActorRegistry) -> list[Step]:
    ordered = sorted(events, key=lambda e: e.position)
    previous = project(track, [], registry=registry)
    steps = []
    for index, event in enumerate(ordered):
        current = project(track, ordered[:index + 1], registry=registry)
        changes = diff(previous, current) or ("no change",)
        steps.append(Step(position=event.position, event_id=str(event.event_id),
                          type=event.type, valid=event.valid, recorded_at=event.recorded_at,
                          changes=changes, citations=_evidence(event)))
        previous = current
    return steps

