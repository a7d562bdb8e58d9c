"""The state of a track: the types a fold produces, and their JSON document.

Owns :class:`TrackState` and its items (meetings, declarations, invitations, statements,
topics, actions, redacted facts, open items), the :class:`Evidence` and :class:`PartyRef`
they carry, :func:`evolve` (how the fold copies an item with changes), and ``to_dict``:
the ``project --format json`` document, whose schema ``docs/projections.md`` gives. The
classes hold no rules: what an item becomes after a fact is :mod:`.fold`'s business.

May import: the standard library, attrs and cattrs, ``eventstore.codec`` (the documents'
converter), ``eventstore.dates`` and ``eventstore.events``; nothing else of the package,
and nothing from ``storage/`` or ``cli/``.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any, TypeVar

import attrs
from cattrs.gen import make_dict_unstructure_fn, override

from ..codec import documents
from ..dates import ValidTime, date_words, parse_valid_time
from ..errors import DateError
from ..events import _utc_text

__all__ = [
    "Stage", "lifecycle_words", "staged", "Evidence", "PartyRef", "Meeting", "Declaration",
    "Invitation", "Statement", "Topic", "Action", "RedactedFact", "OpenItem", "Item", "KINDS",
    "TrackState", "evolve", "UTC_MOMENT", "RoleHolder", "Note", "Incident",
]


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


@attrs.frozen
class PartyRef:
    """A participant, matched by identity (the actor registry), not by spelling.

    One the source names only by role has ``name`` None; ``inferred`` is then who the
    actor registry says held that role on the fact's date (the registry's inference,
    not the source's words). ``label`` is how a reader sees it.
    """

    id: str
    name: str | None
    country: str
    role: str | None = None
    inferred: RoleHolder | None = None

    @property
    def label(self) -> str:
        """The name; for one known only by role, the role as the source gave it, marked
        unnamed or with whom the registry says held it: ``foreign minister, CHN (Wang Yi,
        by the actor registry)``."""
        if self.name is not None:
            return self.name
        if self.inferred is not None:
            return f"{self.role}, {self.country} ({self.inferred.name}, by the actor registry)"
        return f"{self.role}, {self.country} (unnamed)"

    @property
    def label_with_country(self) -> str:
        """The label with the country, where a reader must tell the sides apart (a
        multilateral item): ``Wang Yi (CHN)``; a role alone says its country already."""
        if self.country and self.name is not None:
            return f"{self.label} ({self.country})"
        return self.label


@attrs.frozen
class Stage:
    """One status an item's lifecycle went through, and when (the date the item had when
    it left that status; for the status it is in, its date)."""

    status: str
    date: ValidTime | None


@attrs.frozen
class Meeting:
    key: str
    status: str  # planned, postponed, held, cancelled
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
    #: Every note the sources gave (``meeting.held``), each with its fact's citations.
    notes: tuple[Note, ...] = ()
    fulfils: str | None = None
    # issue 12
    condition: str | None = None
    #: Who cancelled or postponed it, when the source says.
    by: PartyRef | None = None
    #: The dates it was scheduled for before each postponement, oldest first.
    rescheduled: tuple[str, ...] = ()
    #: The statuses it went through, in fold order ("planned 27 Jun → held 16 Jul 2018").
    stages: tuple[Stage, ...] = ()
    #: The key of the multilateral meeting (a summit) it was held at, on its sidelines.
    at: str | None = None
    #: The multilateral stream it was recorded on (``CHN-IND-RUS``: its countries), when
    #: it is not the track's own: it shows, once, on each bilateral track among them.
    multilateral: str | None = None


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
    condition: str | None = None  # issue 12
    by: PartyRef | None = None  # who would not sign it (issue 12)
    stages: tuple[Stage, ...] = ()
    #: The multilateral stream it was recorded on (``CHN-IND-RUS``: its countries), when
    #: it is not the track's own: it shows, once, on each bilateral track among them.
    multilateral: str | None = None


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
    #: Every note the sources gave (``invitation.accepted``), each with its citations.
    notes: tuple[Note, ...] = ()
    by: PartyRef | None = None  # who declined it (issue 12)
    stages: tuple[Stage, ...] = ()
    #: The multilateral stream it was recorded on (``CHN-IND-RUS``: its countries), when
    #: it is not the track's own: it shows, once, on each bilateral track among them.
    multilateral: str | None = None


@attrs.frozen
class Statement:
    key: str  # the event id of the statement
    status: str  # made, withdrawn
    speaker: PartyRef
    stance: str
    content: str
    addressee: str | None
    attribution: str | None
    date: ValidTime | None
    citations: tuple[Evidence, ...]
    # issue 12
    condition: str | None = None
    #: When it was withdrawn (``statement.withdrawn``), by whom and why.
    withdrawn: ValidTime | None = None
    withdrawn_by: PartyRef | None = None
    withdrawn_reason: str | None = None
    #: The multilateral stream it was recorded on (``CHN-IND-RUS``: its countries), when
    #: it is not the track's own: it shows, once, on each bilateral track among them.
    multilateral: str | None = None


@attrs.frozen
class Topic:
    key: str  # the topic registry's name for it, else the topic as first written
    status: str  # discussed
    first: ValidTime | None
    last: ValidTime | None
    meetings: tuple[str, ...]
    date: ValidTime | None
    citations: tuple[Evidence, ...]
    #: The names the sources used for it, as written ("Kashmir", "Cachemire").
    names: tuple[str, ...] = ()
    #: Its id in the topic registry (``topic.registered``), when registered.
    registered: str | None = None

    @property
    def aside(self) -> str:
        """What a reader is told beside its name: its registry id, and the names the
        sources used when they are not just that name (``topic registry: kashmir; as
        written: Kashmir, Cachemire``); "" when there is nothing to add."""
        parts = []
        if self.registered:
            parts.append(f"topic registry: {self.registered}")
        if self.names and self.names != (self.key,):
            parts.append("as written: " + ", ".join(self.names))
        return "; ".join(parts)


@attrs.frozen
class Action:
    key: str
    status: str  # announced, done, abandoned, called_off
    actors: tuple[PartyRef, ...]
    action: str | None
    expected: str | None
    date: ValidTime | None
    outcome_only: bool
    citations: tuple[Evidence, ...]
    #: Every note the sources gave (``action.done``), each with its fact's citations.
    notes: tuple[Note, ...] = ()
    # issue 12
    target: PartyRef | None = None
    condition: str | None = None
    #: Who gave it up or called it off, and why, when the source says.
    by: PartyRef | None = None
    reason: str | None = None
    stages: tuple[Stage, ...] = ()
    #: The multilateral stream it was recorded on (``CHN-IND-RUS``: its countries), when
    #: it is not the track's own: it shows, once, on each bilateral track among them.
    multilateral: str | None = None


@attrs.frozen
class Incident:
    """Something that happened that is not a meeting or a statement (``incident.occurred``),
    with its PLOVER event type and mode and its CAMEO code (``eventstore.vocabulary``)."""

    key: str
    status: str  # occurred
    kind: str
    actors: tuple[PartyRef, ...]
    target: PartyRef | None
    what: str
    place: str | None
    plover: str | None
    mode: str | None
    cameo: str
    date: ValidTime | None
    citations: tuple[Evidence, ...]
    #: The multilateral stream it was recorded on (``CHN-IND-RUS``: its countries), when
    #: it is not the track's own: it shows, once, on each bilateral track among them.
    multilateral: str | None = None


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
    #: The multilateral stream it was recorded on (``CHN-IND-RUS``: its countries), when
    #: it is not the track's own: it shows, once, on each bilateral track among them.
    multilateral: str | None = None


@attrs.frozen
class OpenItem:
    """Something still waiting for an outcome; ``overdue`` says so in words when its
    scheduled date has passed with no report of it since (see
    :meth:`TrackState.open_items_on`)."""

    kind: str
    key: str
    status: str
    what: str
    date: ValidTime | None
    citations: tuple[Evidence, ...]
    overdue: str | None = None


Item = Meeting | Declaration | Invitation | Statement | Topic | Action | RedactedFact | Incident
KINDS = ("meetings", "declarations", "invitations", "statements", "topics", "actions",
         "incidents", "redacted")


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
    #: Incidents (``incident.occurred``): clashes, seizures, expulsions … (issue 12).
    incidents: tuple[Incident, ...] = ()

    @property
    def parties(self) -> tuple[str, ...]:
        return tuple(self.track.split("-"))

    @property
    def open_items(self) -> tuple[OpenItem, ...]:
        """Invitations pending, meetings and declarations planned, actions not yet done;
        those overdue as of the state's ``as_of`` day are marked (none without one: see
        :meth:`open_items_on`)."""
        return self.open_items_on(self.as_of)

    def open_items_on(self, day: dt.date | None) -> tuple[OpenItem, ...]:
        """The open items, a plan marked overdue when its scheduled date (its latest
        possible day) lies before ``day`` and there has been no report of it since: a
        planned or postponed meeting (its ``scheduled`` date, the new one once postponed),
        a planned declaration (its date: when it was to be signed), an announced action
        (its ``expected`` date). An invitation has no scheduled date. The command line
        passes the ``--as-of`` day, or today."""
        items: list[OpenItem] = []
        for inv in self.invitations:
            if inv.status in ("extended", "accepted"):
                who = inv.invitee.label if inv.invitee else "?"
                items.append(OpenItem("invitation", inv.key, inv.status,
                                      f"invitation of {who}" + (f" to {inv.place}"
                                                                if inv.place else ""),
                                      inv.date, inv.citations))
        for meeting in self.meetings:
            if meeting.status in ("planned", "postponed"):
                items.append(OpenItem("meeting", meeting.key, meeting.status,
                                      f"{meeting.kind or 'meeting'} {meeting.status}, not yet "
                                      "held",
                                      meeting.date, meeting.citations,
                                      _overdue(_scheduled(meeting.scheduled), day,
                                               "planned" if meeting.status == "planned"
                                               else "rescheduled")))
        for decl in self.declarations:
            if decl.status == "planned":
                items.append(OpenItem("declaration", decl.key, decl.status,
                                      f"{decl.title or 'declaration'} not yet signed",
                                      decl.date, decl.citations,
                                      _overdue(decl.date, day, "planned")))
        for action in self.actions:
            if action.status == "announced":
                items.append(OpenItem("action", action.key, action.status,
                                      action.action or "announced action", action.date,
                                      action.citations,
                                      _overdue(_scheduled(action.expected), day,
                                               "expected")))
        return tuple(items)

    def items(self, kind: str) -> tuple[Any, ...]:
        result: tuple[Any, ...] = getattr(self, kind)
        return result

    def side_meetings(self, key: str) -> tuple[str, ...]:
        """The keys of this track's meetings held on the sidelines of the meeting ``key``
        (their ``at``), in the state's order: a summit lists the side meetings of the track
        it is shown on."""
        return self.side_meetings_by_key().get(key, ())

    def side_meetings_by_key(self) -> dict[str, tuple[str, ...]]:
        """:meth:`side_meetings` of every meeting that has any, in one pass (a display
        asks for each meeting's)."""
        sides: dict[str, list[str]] = {}
        for meeting in self.meetings:
            if meeting.at is not None:
                sides.setdefault(meeting.at, []).append(meeting.key)
        return {key: tuple(keys) for key, keys in sides.items()}

    def to_dict(self, *, today: dt.date | None = None) -> dict[str, Any]:
        """The ``project --format json`` document (schema in docs/projections.md); open
        items are marked overdue as of the state's ``as_of`` day, else as of ``today``."""
        doc = _state_document()(self)
        sides = self.side_meetings_by_key()
        for meeting, item in zip(self.meetings, doc["meetings"], strict=True):
            item["side_meetings"] = list(sides.get(meeting.key, ()))
        doc["open_items"] = documents.unstructure(self.open_items_on(self.as_of or today))
        return doc


def staged(stages: tuple[Stage, ...], before: str | None, status: str,
           date: ValidTime | None) -> tuple[Stage, ...]:
    """An item's stages once a fact left it in ``status`` with ``date`` (it was in
    ``before``, ``None`` for a new item): a new status is a new stage; the same status
    keeps its stage, dated as the item now is."""
    if before != status or not stages:
        return (*stages, Stage(status, date))
    if stages[-1].date == date:
        return stages
    return (*stages[:-1], Stage(status, date))


def lifecycle_words(stages: tuple[Stage, ...], status: str = "",
                    date: ValidTime | None = None) -> str:
    """An item's lifecycle in one line: ``planned 27 Jun → held 16 Jul 2018`` (the year
    said once when every stage shares it), ``extended 23 Aug 2018``, ``planned on or
    before 23 Aug → not signed 23 Aug 2018``. Without stages (a state stored before
    they were kept), its status and date."""
    if not stages:
        stages = (Stage(status, date),)
    words = [date_words(s.date) if s.date is not None else "" for s in stages]
    year = words[-1][-5:] if words[-1][-5:-4] == " " and words[-1][-4:].isdigit() else ""
    if len(stages) > 1 and year and all(w.endswith(year) for w in words):
        words = [w[:-5] for w in words[:-1]] + words[-1:]
    return " → ".join(f"{s.status.replace('_', ' ')} {w}".rstrip()
                      for s, w in zip(stages, words, strict=True))


def _scheduled(edtf: str | None) -> ValidTime | None:
    """A meeting's ``scheduled`` or an action's ``expected`` date (EDTF, checked when the
    fact was appended)."""
    if edtf is None:
        return None
    try:
        return parse_valid_time(edtf)
    except DateError:  # a value stored before a rule was tightened: no schedule to miss
        return None


def _overdue(date: ValidTime | None, day: dt.date | None, said: str) -> str | None:
    """``overdue: planned for 5 Sep 2018, no report of it since`` when the latest
    possible day of ``date`` lies before ``day``; None otherwise (no day, no date, or an
    open end: it may still come)."""
    if day is None or date is None or date.upper is None or date.upper >= day:
        return None
    return f"overdue: {said} for {date_words(date)}, no report of it since"


_T = TypeVar("_T")


@functools.cache
def _init_names(cls: type) -> tuple[tuple[str, str], ...]:
    return tuple((f.alias, f.name) for f in attrs.fields(cls) if f.init)


def evolve(item: _T, **changes: Any) -> _T:
    """``attrs.evolve`` without its per-call look-ups (the fold calls it per fact)."""
    cls: Any = type(item)
    for alias, name in _init_names(cls):
        if alias not in changes:
            changes[alias] = getattr(item, name)
    return cls(**changes)  # type: ignore[no-any-return]


# -- the JSON document ------------------------------------------------------------------
#
# A state's document is the plain form the converter gives (``codec.documents``: dates as
# ISO days, tuples as lists, each item a dict of its fields in order), but for what the
# published format has always said otherwise: moments in UTC (``…Z``), a topic's first and
# last meetings as bare EDTF strings, and the derived open items, last.

def _utc(moment: dt.datetime | None) -> str | None:
    return None if moment is None else _utc_text(moment)


def _edtf(valid: ValidTime | None) -> str | None:
    return None if valid is None else valid.edtf


#: How a document writes a moment (``known_at``, a step's ``recorded_at``): in UTC.
UTC_MOMENT = override(unstruct_hook=_utc)


@functools.cache
def _state_document() -> Callable[[TrackState], dict[str, Any]]:
    """A state's document, less its open items (built on first use: it generates code)."""
    edtf = override(unstruct_hook=_edtf)
    topic = make_dict_unstructure_fn(Topic, documents, first=edtf, last=edtf)
    topics = override(unstruct_hook=lambda items: [topic(item) for item in items])
    return make_dict_unstructure_fn(
        TrackState, documents, known_at=UTC_MOMENT, topics=topics,
        meetings=override(unstruct_hook=_with_lifecycle(Meeting)),
        declarations=override(unstruct_hook=_with_lifecycle(Declaration)),
        invitations=override(unstruct_hook=_with_lifecycle(Invitation)),
        actions=override(unstruct_hook=_with_lifecycle(Action)))


def _with_lifecycle(cls: type) -> Callable[[Any], list[dict[str, Any]]]:
    """Items of a kind with a lifecycle, each with ``lifecycle`` after its ``stages``: the
    one line the text displays show (``planned 27 Jun → held 16 Jul 2018``)."""
    plain: Callable[[Any], dict[str, Any]] = make_dict_unstructure_fn(cls, documents)

    def items(values: Any) -> list[dict[str, Any]]:
        out = []
        for item in values:
            doc = plain(item)
            doc["lifecycle"] = lifecycle_words(item.stages, item.status, item.date)
            out.append(doc)
        return out
    return items


# -- participants by role, every source's note (issue 12, points 6 and 8) --------------

@attrs.frozen
class RoleHolder:
    """Who the actor registry says held a role on a fact's date: its inference, not the
    source's words (``by`` says so in the JSON document)."""

    id: str
    name: str
    role: str  # the role as the registry words it
    since: str | None
    until: str | None
    by: str = "actor registry"


@attrs.frozen
class Note:
    """A note one fact gave an item (``meeting.held``'s, ``invitation.accepted``'s,
    ``action.done``'s ``note``), with that fact's citations: an item reported by several
    sources keeps each one's."""

    text: str
    event_id: str
    citations: tuple[Evidence, ...]
