"""Facts about facts: each base fact as it stands after the retractions, corrections,
added citations and "same event as" links that name it.

Owns :class:`Effective` (a fact as the fold sees it), :func:`resolve` (the events of a
track → their effective facts), :data:`Plain` (the memo of untouched facts that cuts
reuse) and :func:`evidence` (an event's citations as :class:`~.state.Evidence`).

The rules (``docs/projections.md`` explains them): a retracted fact is kept but marked
(the fold skips it, history shows it); a correction replaces the data and/or the date,
except of a fact whose data was erased, which stays erased; a duplicate's citations (and
those of the ``fact.same_as`` itself) join its original, unless the original was
retracted, when the duplicate stands on its own.

May import: the standard library, attrs, ``eventstore.codec``, ``eventstore.dates``,
``eventstore.events``, ``eventstore.facts``, :mod:`.state` and :mod:`.timeline`; nothing
from ``storage/`` or ``cli/``.
"""

from __future__ import annotations

import operator
import uuid
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

import attrs

from ..codec import structure_data
from ..dates import ValidTime, parse_valid_time
from ..events import RecordedEvent
from ..facts import (
    CitationAdded,
    FactCorrected,
    FactData,
    FactRetracted,
    MetaFact,
    Redacted,
    SameEvent,
)
from .state import Evidence, evolve
from .timeline import OrderKey, order_key

__all__ = ["Effective", "Plain", "resolve", "evidence", "fold_order", "multilateral"]


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
    #: The multilateral stream it is on (``CHN-IND-RUS``) when it is not the track's own.
    stream: str | None = None
    #: Where it comes in the fold (:func:`~.timeline.order_key`), worked out once.
    order: OrderKey = attrs.field(init=False, eq=False, repr=False)

    @order.default
    def _order(self) -> OrderKey:
        return order_key(self.valid, self.position)


#: The sort key of the fold: an :class:`Effective`'s ``order``.
fold_order = operator.attrgetter("order")
_position = operator.attrgetter("position")


def evidence(event: RecordedEvent, event_id: str | None = None) -> tuple[Evidence, ...]:
    """The event's own citations, as evidence of the items it shapes (``event_id``: its
    id as text, when the caller has it already)."""
    event_id = str(event.event_id) if event_id is None else event_id
    return tuple(Evidence(event_id, event.position, c.source, c.start, c.end, c.exact,
                          c.exact == "") for c in event.citations)


def multilateral(event: RecordedEvent) -> str | None:
    """The event's stream when it is a multilateral one (three countries or more: its
    facts show on each bilateral track among them), else ``None``."""
    return event.track if event.track.count("-") >= 2 else None


#: Position → a fact as it stands when no fact about it applies (see :func:`resolve`).
Plain = MutableMapping[int, Effective]


def _plain(event: RecordedEvent) -> Effective:
    event_id = str(event.event_id)
    return Effective(event_id=event_id, position=event.position, type=event.type,
                     data=event.data, valid=event.valid, citations=evidence(event, event_id),
                     stream=multilateral(event))


class _Claims:
    """What the facts about facts say, by the event id they name."""

    __slots__ = ("retracted", "corrected", "added", "same")

    def __init__(self) -> None:
        self.retracted: dict[str, str] = {}  # the reason
        self.corrected: dict[str, FactCorrected] = {}
        self.added: dict[str, list[Evidence]] = {}  # citations added, and duplicates'
        self.same: dict[str, str] = {}  # duplicate → the event it reports again

    def note(self, event: RecordedEvent, data: MetaFact) -> None:
        target = str(uuid.UUID(data.event))
        if isinstance(data, FactRetracted):
            self.retracted[target] = data.reason
        elif isinstance(data, FactCorrected):
            self.corrected[target] = data
        elif isinstance(data, CitationAdded):
            self.added.setdefault(target, []).extend(evidence(event))
        elif isinstance(data, SameEvent):
            original = str(uuid.UUID(data.same_as))
            self.same[target] = original
            self.added.setdefault(original, []).extend(evidence(event))

    def targets(self) -> set[str]:
        return self.corrected.keys() | self.added.keys() | self.retracted.keys() | \
            self.same.keys()


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
    claims = _Claims()
    for event in events:
        item = memo.get(event.position)
        if item is not None:  # a base fact seen before
            plains[item.event_id] = item
            continue
        data = event.data
        if isinstance(data, MetaFact):
            claims.note(event, data)
        elif data.stream is None:
            item = memo[event.position] = _plain(event)
            plains[item.event_id] = item
    effective = dict(plains)
    touched = sorted(claims.targets() & plains.keys(), key=lambda k: plains[k].position)
    for key in touched:
        effective[key] = _claimed(plains[key], claims, plains)
    _join_duplicates(effective, [key for key in touched if effective[key].same_as is not None])
    return sorted(effective.values(), key=_position)


def _claimed(fact: Effective, claims: _Claims, plains: Mapping[str, Effective]) -> Effective:
    """``fact`` as the facts about it leave it (a duplicate's citations join it later)."""
    key = fact.event_id
    fix = claims.corrected.get(key)
    data, valid, reason = fact.data, fact.valid, None
    if fix is not None:
        reason = fix.reason
        if not isinstance(data, Redacted):  # an erased fact stays erased: not corrected
            if fix.data is not None:
                data = structure_data(fact.type, fix.data)
            if fix.date is not None:
                valid = parse_valid_time(fix.date, text=fix.date_text,
                                         anchor=valid.anchor if valid else None)
    return Effective(
        event_id=key, position=fact.position, type=fact.type, data=data, valid=valid,
        citations=fact.citations + tuple(claims.added.get(key, ())),
        retracted=claims.retracted.get(key), corrected=reason, stream=fact.stream,
        same_as=_root(key, claims.same, plains) if key in claims.same else None)


def _join_duplicates(effective: dict[str, Effective], duplicates: Iterable[str]) -> None:
    """A duplicate's citations join its original, unless the original was retracted."""
    for key in duplicates:
        item = effective[key]
        root = item.same_as
        assert root is not None
        if root in effective and not effective[root].retracted:
            original = effective[root]
            effective[root] = evolve(
                original, citations=_cite(original.citations, item.citations))
        else:  # its original was retracted: the duplicate stands on its own
            effective[key] = evolve(item, same_as=None)


def _cite(old: tuple[Evidence, ...], new: tuple[Evidence, ...]) -> tuple[Evidence, ...]:
    return old + tuple(c for c in new if c not in old)


def _root(key: str, same: Mapping[str, str], base: Mapping[str, Any]) -> str | None:
    """Follow "same event as" links to the original (cycles stop at the earliest)."""
    seen = [key]
    current = key
    while current in same and same[current] in base and same[current] not in seen:
        current = same[current]
        seen.append(current)
    return None if current == key else current
