"""The fold: effective facts, in fold order, into the items of a track's state.

Owns :func:`project` (the state of a track from its events), the :class:`Builder` that
:func:`project`, the read model's incremental fold (:mod:`.read_model`) and the history
(:mod:`.history`) drive fact by fact, and :data:`PROJECTION_VERSION`.

The rule every item follows: **lifecycles only move forward** — planned (→ postponed)
→ held / cancelled, planned → signed / not signed, extended → accepted / declined →
fulfilled, announced → done / abandoned / called off, a statement made → withdrawn; an
outcome recorded without its plan is kept and marked ``outcome_only``.
``docs/projections.md`` says what each fact type does to the items.

This is the package's largest module (~400 lines) because the builder is one class: a
small method per fact type over one working state (the items by key, the evidence each
holds); cutting it by kind of item would scatter that state across modules.

May import: the standard library, attrs, ``eventstore.events``, ``eventstore.facts``,
``eventstore.collector`` (for :func:`~eventstore.collector.gc_paused`),
``eventstore.vocabulary`` (an incident's PLOVER and CAMEO codes), :mod:`.state`,
:mod:`.identity`, :mod:`.timeline` and :mod:`.resolve`; nothing from ``storage/`` or
``cli/``.
"""

from __future__ import annotations

import datetime as dt
import operator
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..collector import gc_paused
from ..events import RecordedEvent
from ..facts import (
    FACT_TYPES,
    ActionAbandoned,
    ActionAnnounced,
    ActionCalledOff,
    ActionDone,
    DeclarationNotSigned,
    DeclarationPlanned,
    DeclarationSigned,
    IncidentOccurred,
    InvitationAccepted,
    InvitationDeclined,
    InvitationExtended,
    MeetingCancelled,
    MeetingHeld,
    MeetingPlanned,
    MeetingPostponed,
    Party,
    Redacted,
    StatementMade,
    StatementWithdrawn,
    TopicCite,
    TopicRegistered,
    TopicsDiscussed,
    topic_name,
)
from ..vocabulary import INCIDENTS
from .identity import ActorRegistry, name_key
from .resolve import Effective, Plain, fold_order, resolve
from .state import (
    Action,
    Declaration,
    Evidence,
    Incident,
    Invitation,
    Meeting,
    Note,
    PartyRef,
    RedactedFact,
    Statement,
    Topic,
    TrackState,
    evolve,
    staged,
)
from .timeline import chronology_key, counts_at

__all__ = ["PROJECTION_VERSION", "project", "select", "Builder", "withdrawn_key"]

#: Bumped whenever the fold's rules change, so stored read models are rebuilt.
PROJECTION_VERSION = 7  # 7: incidents say their stream; a meeting's topics by registered name


_FORWARD = {
    "meeting": {"planned": 0, "postponed": 0, "held": 1, "cancelled": 1},
    "declaration": {"planned": 0, "signed": 1, "not_signed": 1},
    "invitation": {"extended": 0, "accepted": 1, "declined": 2, "fulfilled": 2},
    "action": {"announced": 0, "done": 1, "abandoned": 1, "called_off": 1},
}


def _advance(kind: str, current: str | None, new: str) -> str:
    """Lifecycles only move forward; an equal rank means a later outcome replaces it."""
    if current is None:
        return new
    ranks = _FORWARD[kind]
    return new if ranks[new] >= ranks[current] else current


def _merge_refs(old: tuple[PartyRef, ...], new: Iterable[PartyRef]) -> tuple[PartyRef, ...]:
    """Participants by identity: a second spelling of someone already there adds nobody,
    but a role the first report did not give is kept (the later report's words). Two
    parties known by role alone are one when the actor registry says the same actor held
    both roles then ("ministre des Affaires étrangères", "foreign minister"): the first
    report's words stay, with the registry's inference; never a named party."""
    merged = list(old)
    known: dict[str, int] = {}  # a party's id, and its holder key if it has one → index
    for slot, party in enumerate(old):
        known[party.id] = slot
        if holder := _holder_key(party):
            known[holder] = slot
    for party in new:
        holder = _holder_key(party)
        index = known.get(party.id, known.get(holder) if holder else None)
        if index is None:
            known[party.id] = len(merged)
            if holder:
                known[holder] = len(merged)
            merged.append(party)
        elif merged[index].role is None and party.role is not None:
            merged[index] = evolve(merged[index], role=party.role)
    return tuple(merged)


def _holder_key(party: PartyRef) -> str:
    """For a party known by role alone whom the registry names: who, as a key apart from
    every party id; else empty."""
    if party.name is None and party.inferred is not None:
        return f"holder:{party.inferred.id}"
    return ""


class Builder:
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
        self.incidents: dict[str, Incident] = {}
        # statement key → a withdrawal folded before its statement (kept until it comes)
        self._withdrawals: dict[str, tuple[Effective, StatementWithdrawn]] = {}
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
    def resume(cls, state: TrackState, registry: ActorRegistry) -> Builder:
        """Carry on folding from a state (an incremental update of a read model)."""
        builder = cls(registry)
        builder.meetings = {m.key: m for m in state.meetings}
        builder.declarations = {d.key: d for d in state.declarations}
        builder.invitations = {i.key: i for i in state.invitations}
        builder.statements = {s.key: s for s in state.statements}
        builder.topics = {_topic_slot(t.registered, t.key): t for t in state.topics}
        builder.actions = {a.key: a for a in state.actions}
        builder.redacted = {r.key: r for r in state.redacted}
        builder.incidents = {i.key: i for i in state.incidents}
        return builder

    def apply(self, fact: Effective) -> None:
        data = fact.data
        if isinstance(data, Redacted):
            self.redacted[fact.event_id] = RedactedFact(
                key=fact.event_id, status="redacted", type=data.erased_type, date=fact.valid,
                reason=data.reason, erased_at=data.erased_at, erased_by=data.erased_by,
                erasure=data.erasure, citations=fact.citations, multilateral=fact.stream)
            return
        handler = _HANDLERS.get(fact.type)
        if handler is not None:
            handler(self, fact, fact.data)

    # meetings
    def _put_meeting(self, fact: Effective, key: str, status: str, *, kind: str | None = None,
                     place: str | None = None, scheduled: str | None = None,
                     purpose: str | None = None, note: str | None = None,
                     fulfils: str | None = None, reason: str | None = None,
                     participants: Sequence[PartyRef] = (), condition: str | None = None,
                     by: PartyRef | None = None, at: str | None = None) -> None:
        """A meeting as this fact leaves it: what the fact gives (not None) replaces what
        was known. (Built field by field: this runs for a third of all facts.)"""
        old = self.meetings.get(key)
        before = None if old is None else old.status
        if old is None:
            old = Meeting(key=key, status=status, kind=None, date=None, place=None,
                          participants=(), topics=(), scheduled=None, reason=None,
                          outcome_only=status != "planned", citations=())
        now = _advance("meeting", old.status, status)
        date = fact.valid if status != "planned" or old.date is None else old.date
        self.meetings[key] = Meeting(
            key=key, status=now, kind=old.kind if kind is None else kind, date=date,
            place=old.place if place is None else place,
            participants=(_merge_refs(old.participants, participants) if participants
                          else old.participants),
            topics=old.topics, scheduled=old.scheduled if scheduled is None else scheduled,
            reason=old.reason if reason is None else reason, outcome_only=old.outcome_only,
            citations=self._cite("meeting", key, old.citations, fact.citations),
            purpose=old.purpose if purpose is None else purpose,
            notes=old.notes if note is None else _noted(old.notes, fact, note),
            fulfils=old.fulfils if fulfils is None else fulfils,
            condition=old.condition if condition is None else condition,
            by=old.by if by is None else by,
            rescheduled=(old.rescheduled + (old.scheduled,)
                         if status == "postponed" and scheduled is not None
                         and old.scheduled is not None and old.scheduled != scheduled
                         else old.rescheduled),
            stages=staged(old.stages, before, now, date),
            at=old.at if at is None else at,
            multilateral=old.multilateral or fact.stream)

    def _meeting_planned(self, fact: Effective, d: MeetingPlanned) -> None:
        self._put_meeting(fact, d.key, "planned", kind=str(d.kind), place=d.place,
                          scheduled=d.scheduled, purpose=d.purpose, condition=d.condition,
                          at=d.at,
                          participants=[self.registry.ref(p, fact.valid) for p in d.participants])

    def _meeting_held(self, fact: Effective, d: MeetingHeld) -> None:
        self._put_meeting(fact, d.key, "held", kind=str(d.kind), place=d.place, note=d.note,
                          fulfils=d.fulfils, at=d.at,
                          participants=[self.registry.ref(p, fact.valid) for p in d.participants])
        if d.fulfils and d.fulfils in self.invitations:
            inv = self.invitations[d.fulfils]
            now = _advance("invitation", inv.status, "fulfilled")
            self.invitations[d.fulfils] = evolve(
                inv, status=now, fulfilled_by=d.key,
                stages=inv.stages if now == inv.status
                else staged(inv.stages, inv.status, now, fact.valid))

    def _meeting_cancelled(self, fact: Effective, d: MeetingCancelled) -> None:
        self._put_meeting(fact, d.key, "cancelled", reason=d.reason, by=self._ref(d.by, fact))

    def _topics_discussed(self, fact: Effective, d: TopicsDiscussed) -> None:
        meeting = self.meetings.get(d.meeting)
        if meeting is None:  # topics of a meeting never recorded: it was held
            self._put_meeting(fact, d.meeting, "held")
            meeting = self.meetings[d.meeting]
        names = [topic_name(t) for t in d.topics]
        registered = [self.registry.topic(name) for name in names]
        # a topic the registry knows is shown by its registered name, once, in any language
        shown = [known.name if known else name
                 for name, known in zip(names, registered, strict=True)]
        new_topics = tuple(dict.fromkeys(n for n in shown if n not in meeting.topics))
        self.meetings[d.meeting] = evolve(
            meeting, topics=meeting.topics + new_topics,
            citations=self._cite("meeting", d.meeting, meeting.citations, fact.citations))
        for topic, name, known in zip(d.topics, names, registered, strict=True):
            self._put_topic(fact, d.meeting, name, known,
                            _topic_citations(topic, fact.citations))

    def _put_topic(self, fact: Effective, meeting: str, name: str,
                   registered: TopicRegistered | None, citations: tuple[Evidence, ...]) -> None:
        """A topic as discussed at ``meeting``, cited by ``citations``; a name the topic
        registry knows (``registered``) is that topic, whatever the language."""
        key = _topic_slot(registered.id if registered else None, name)
        old = self.topics.get(key)
        if old is None:
            self.topics[key] = Topic(
                key=registered.name if registered else name, status="discussed",
                first=fact.valid, last=fact.valid, meetings=(meeting,), date=fact.valid,
                citations=citations, names=(name,),
                registered=registered.id if registered else None)
            return
        seen = self._topic_meetings.get(key)
        if seen is None:
            seen = self._topic_meetings[key] = set(old.meetings)
        meetings = old.meetings
        if meeting not in seen:
            seen.add(meeting)
            meetings += (meeting,)
        self.topics[key] = Topic(
            key=old.key, status=old.status, first=old.first, last=fact.valid,
            meetings=meetings, date=fact.valid,
            citations=self._cite("topic", key, old.citations, citations),
            names=old.names if name in old.names else old.names + (name,),
            registered=old.registered)

    # declarations
    def _put_declaration(self, fact: Effective, key: str, status: str, *,
                         title: str | None = None, parties: tuple[str, ...] | None = None,
                         reason: str | None = None, condition: str | None = None,
                         signatories: Sequence[PartyRef] = (),
                         by: PartyRef | None = None) -> None:
        old = self.declarations.get(key)
        before = None if old is None else old.status
        if old is None:
            old = Declaration(key=key, status=status, title=None, parties=(), signatories=(),
                              reason=None, date=None, outcome_only=status != "planned",
                              citations=())
        now = _advance("declaration", old.status, status)
        self.declarations[key] = Declaration(
            key=key, status=now,
            title=old.title if title is None else title,
            parties=old.parties if parties is None else parties,
            signatories=(_merge_refs(old.signatories, signatories) if signatories
                         else old.signatories),
            reason=old.reason if reason is None else reason, date=fact.valid,
            outcome_only=old.outcome_only,
            citations=self._cite("declaration", key, old.citations, fact.citations),
            condition=old.condition if condition is None else condition,
            by=old.by if by is None else by,
            stages=staged(old.stages, before, now, fact.valid),
            multilateral=old.multilateral or fact.stream)

    def _declaration_planned(self, fact: Effective, d: DeclarationPlanned) -> None:
        self._put_declaration(fact, d.key, "planned", title=d.title, parties=d.parties,
                              condition=d.condition)

    def _declaration_signed(self, fact: Effective, d: DeclarationSigned) -> None:
        self._put_declaration(fact, d.key, "signed",
                              signatories=[self.registry.ref(p, fact.valid) for p in d.signatories])

    def _declaration_not_signed(self, fact: Effective, d: DeclarationNotSigned) -> None:
        self._put_declaration(fact, d.key, "not_signed", reason=d.reason, by=self._ref(d.by, fact))

    # invitations
    def _put_invitation(self, fact: Effective, key: str, status: str, *,
                        inviter: PartyRef | None = None, invitee: PartyRef | None = None,
                        place: str | None = None, purpose: str | None = None,
                        reason: str | None = None, note: str | None = None,
                        by: PartyRef | None = None) -> None:
        old = self.invitations.get(key)
        before = None if old is None else old.status
        if old is None:
            old = Invitation(key=key, status=status, inviter=None, invitee=None, place=None,
                             purpose=None, reason=None, fulfilled_by=None, date=None,
                             outcome_only=status != "extended", citations=())
        now = _advance("invitation", old.status, status)
        self.invitations[key] = Invitation(
            key=key, status=now,
            inviter=old.inviter if inviter is None else inviter,
            invitee=old.invitee if invitee is None else invitee,
            place=old.place if place is None else place,
            purpose=old.purpose if purpose is None else purpose,
            reason=old.reason if reason is None else reason, fulfilled_by=old.fulfilled_by,
            date=fact.valid, outcome_only=old.outcome_only,
            citations=self._cite("invitation", key, old.citations, fact.citations),
            by=old.by if by is None else by,
            stages=staged(old.stages, before, now, fact.valid),
            notes=old.notes if note is None else _noted(old.notes, fact, note),
            multilateral=old.multilateral or fact.stream)

    def _invitation_extended(self, fact: Effective, d: InvitationExtended) -> None:
        self._put_invitation(fact, d.key, "extended",
                             inviter=self.registry.ref(d.inviter, fact.valid),
                             invitee=self.registry.ref(d.invitee, fact.valid), place=d.place,
                             purpose=d.purpose)

    def _invitation_accepted(self, fact: Effective, d: InvitationAccepted) -> None:
        self._put_invitation(fact, d.key, "accepted", note=d.note)

    def _invitation_declined(self, fact: Effective, d: InvitationDeclined) -> None:
        self._put_invitation(fact, d.key, "declined", reason=d.reason, by=self._ref(d.by, fact))

    # statements and actions
    def _statement_made(self, fact: Effective, d: StatementMade) -> None:
        statement = Statement(
            key=fact.event_id, status="made", speaker=self.registry.ref(d.speaker, fact.valid),
            stance=str(d.stance), content=d.content, addressee=d.addressee,
            attribution=d.attribution, date=fact.valid, citations=fact.citations,
            condition=d.condition, multilateral=fact.stream)
        self.statements[fact.event_id] = statement
        self._statement_order[fact.event_id] = (_statement_key(statement), statement)
        pending = self._withdrawals.pop(fact.event_id, None)
        if pending is not None:
            self._statement_withdrawn(*pending)

    def _put_action(self, fact: Effective, key: str, status: str, *,
                    actors: Sequence[PartyRef] = (), action: str | None = None,
                    expected: str | None = None, target: PartyRef | None = None,
                    condition: str | None = None, by: PartyRef | None = None,
                    reason: str | None = None, note: str | None = None) -> None:
        old = self.actions.get(key)
        before = None if old is None else old.status
        if old is None:
            old = Action(key=key, status=status, actors=(), action=None, expected=None,
                         date=None, outcome_only=status != "announced", citations=())
        now = _advance("action", old.status, status)
        self.actions[key] = Action(
            key=key, status=now,
            actors=_merge_refs(old.actors, actors) if actors else old.actors,
            action=old.action if action is None else action,
            expected=old.expected if expected is None else expected, date=fact.valid,
            outcome_only=old.outcome_only,
            citations=self._cite("action", key, old.citations, fact.citations),
            target=old.target if target is None else target,
            condition=old.condition if condition is None else condition,
            by=old.by if by is None else by, reason=old.reason if reason is None else reason,
            stages=staged(old.stages, before, now, fact.valid),
            notes=old.notes if note is None else _noted(old.notes, fact, note),
            multilateral=old.multilateral or fact.stream)

    def _action_announced(self, fact: Effective, d: ActionAnnounced) -> None:
        self._put_action(fact, d.key, "announced",
                         actors=[self.registry.ref(p, fact.valid) for p in d.actors],
                         action=d.action, expected=d.expected,
                         target=self._ref(d.target, fact), condition=d.condition)

    def _action_done(self, fact: Effective, d: ActionDone) -> None:
        self._put_action(fact, d.key, "done", note=d.note)

    # issue 12: postponements, actions that did not happen, withdrawals, incidents
    def _ref(self, party: Party | None, fact: Effective) -> PartyRef | None:
        return None if party is None else self.registry.ref(party, fact.valid)

    def _meeting_postponed(self, fact: Effective, d: MeetingPostponed) -> None:
        self._put_meeting(fact, d.key, "postponed", scheduled=d.scheduled, reason=d.reason,
                          by=self._ref(d.by, fact))

    def _action_abandoned(self, fact: Effective, d: ActionAbandoned) -> None:
        self._put_action(fact, d.key, "abandoned", by=self._ref(d.by, fact), reason=d.reason)

    def _action_called_off(self, fact: Effective, d: ActionCalledOff) -> None:
        self._put_action(fact, d.key, "called_off", by=self._ref(d.by, fact), reason=d.reason)

    def _statement_withdrawn(self, fact: Effective, d: StatementWithdrawn) -> None:
        """The statement named is marked withdrawn (once folded: a withdrawal that comes
        first in fold order waits for it)."""
        key = withdrawn_key(d)
        old = self.statements.get(key)
        if old is None:
            self._withdrawals[key] = (fact, d)
            return
        statement = evolve(old, status="withdrawn", withdrawn=fact.valid,
                           withdrawn_by=self._ref(d.by, fact) or old.withdrawn_by,
                           withdrawn_reason=d.reason or old.withdrawn_reason,
                           citations=self._cite("statement", key, old.citations,
                                                fact.citations))
        self.statements[key] = statement
        self._statement_order[key] = (_statement_key(statement), statement)

    def _incident_occurred(self, fact: Effective, d: IncidentOccurred) -> None:
        old = self.incidents.get(d.key)
        code = INCIDENTS[d.kind]
        actors = tuple(self.registry.ref(p, fact.valid) for p in d.actors)
        self.incidents[d.key] = Incident(
            key=d.key, status="occurred", kind=str(d.kind),
            actors=actors if old is None else _merge_refs(old.actors, actors),
            target=self._ref(d.target, fact) or (old.target if old else None), what=d.what,
            place=d.place or (old.place if old else None), plover=code.plover,
            mode=code.mode, cameo=code.cameo, date=fact.valid,
            citations=(fact.citations if old is None else
                       self._cite("incident", d.key, old.citations, fact.citations)),
            multilateral=(old.multilateral if old else None) or fact.stream)

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
                    self.invitations[key] = evolve(
                        inv, status="fulfilled", fulfilled_by=meeting.key,
                        stages=staged(inv.stages, inv.status, "fulfilled", meeting.date))
                    break

    def _statements_in_order(self) -> tuple[Statement, ...]:
        """By speaker, then date, then key; the sort keys were made as statements came."""
        order = self._statement_order
        for key, s in self.statements.items():
            if key not in order:  # resumed from a stored state
                order[key] = (_statement_key(s), s)
        return tuple(s for _, s in sorted(order.values(), key=_first))

    def state(self, track: str, *, as_of: dt.date | None, known_at: dt.datetime | None,
              possible: bool, position: int, facts: int) -> TrackState:
        def by_date(items: Iterable[Any]) -> tuple[Any, ...]:
            return tuple(sorted(items, key=lambda i: (chronology_key(i.date), i.key)))
        return TrackState(
            track=track, as_of=as_of, known_at=known_at, possible=possible, position=position,
            facts=facts, meetings=by_date(self.meetings.values()),
            declarations=by_date(self.declarations.values()),
            invitations=by_date(self.invitations.values()),
            statements=self._statements_in_order(),
            topics=tuple(sorted(self.topics.values(), key=lambda t: name_key(t.key))),
            actions=by_date(self.actions.values()),
            redacted=by_date(self.redacted.values()),
            incidents=by_date(self.incidents.values()))


def withdrawn_key(d: StatementWithdrawn) -> str:
    """The key of the statement a withdrawal names (its event id, in the form keys have)."""
    return str(uuid.UUID(d.statement))


def _statement_key(statement: Statement) -> tuple[Any, ...]:
    """Statements come by speaker, then when they were most likely made, then key."""
    return (statement.speaker.label, chronology_key(statement.date), statement.key)


#: Fact type → the builder's method that folds it (``meeting.held`` → ``_meeting_held``).
_HANDLERS: dict[str, Callable[[Builder, Effective, Any], None]] = {
    name: getattr(Builder, "_" + name.replace(".", "_"))
    for name in FACT_TYPES if hasattr(Builder, "_" + name.replace(".", "_"))}


# -- topics per citation and across languages, every source's note (issue 12) ---------

def _topic_slot(registered: str | None, name: str) -> str:
    """Where the builder keeps a topic: a registered one by its registry id, any other
    by its folded name."""
    return f"#{registered}" if registered is not None else name_key(name)


def _topic_citations(topic: str | TopicCite,
                     citations: tuple[Evidence, ...]) -> tuple[Evidence, ...]:
    """The citations that support one topic of a ``topics.discussed`` fact: all of the
    fact's for a plain name, else those its ``cite`` indexes name (an index past the end,
    possible only in corrected data, names nothing)."""
    if isinstance(topic, str):
        return citations
    return tuple(dict.fromkeys(citations[i] for i in topic.cite if i < len(citations)))


def _noted(notes: tuple[Note, ...], fact: Effective, text: str) -> tuple[Note, ...]:
    """``notes`` and this fact's note, with its citations (one note per fact)."""
    if any(n.event_id == fact.event_id for n in notes):
        return tuple(Note(text, fact.event_id, fact.citations) if n.event_id == fact.event_id
                     else n for n in notes)
    return notes + (Note(text, fact.event_id, fact.citations),)


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


def select(effective: Iterable[Effective], as_of: dt.date | None,
           possible: bool) -> list[Effective]:
    """The facts that count at ``as_of`` (not retracted, not duplicates), in fold order."""
    chosen = [e for e in effective if not e.retracted
              and not (e.same_as is not None) and counts_at(e.valid, as_of, possible)]
    return sorted(chosen, key=fold_order)


_first = operator.itemgetter(0)


def project(track: str, events: Sequence[RecordedEvent], *, as_of: dt.date | None = None,
            known_at: dt.datetime | None = None, possible: bool = False,
            registry: ActorRegistry | None = None, plain: Plain | None = None) -> TrackState:
    """The state of ``track`` from its ``events`` (already cut at the known-at position).

    ``plain``: a memo kept between calls on the same track's events (see :func:`resolve`).
    The collector is paused meanwhile (:func:`~eventstore.collector.gc_paused`): a fold makes
    thousands of objects and no cycle, and a collection it triggered would walk them all.
    """
    with gc_paused():
        chosen = select(resolve(events, plain), as_of, possible)
        return fold_chosen(track, events, chosen, as_of=as_of, known_at=known_at,
                           possible=possible, registry=registry)


def fold_chosen(track: str, events: Sequence[RecordedEvent], chosen: Sequence[Effective], *,
                as_of: dt.date | None = None, known_at: dt.datetime | None = None,
                possible: bool = False, registry: ActorRegistry | None = None) -> TrackState:
    """The fold of :func:`project` once its facts are chosen (``select`` of ``resolve`` of
    ``events``): for a caller that needs the chosen facts too."""
    builder = Builder(registry or ActorRegistry())
    for fact in chosen:
        builder.apply(fact)
    builder.fulfil_invitations()
    position = max((e.position for e in events), default=0)
    return builder.state(track, as_of=as_of, known_at=known_at, possible=possible,
                         position=position, facts=len(chosen))

