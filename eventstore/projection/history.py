"""History: how a track's state came about, one step per fact, each with what it changed.

Owns :class:`Step`, :func:`history` (in valid-time order: the world's story as best known
now; or in record order: how the store's answer changed as facts arrived) and
:func:`diff` (what changed between two states, in words: "declaration 'x': planned → not
signed"). ``docs/projections.md`` lists what a step's changes say.

May import: the standard library, attrs and cattrs, ``eventstore.codec``,
``eventstore.dates``, ``eventstore.events`` and the package's other modules but
:mod:`.read_model`; nothing from ``storage/`` or ``cli/``.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from typing import Any, Literal

import attrs
from cattrs.gen import make_dict_unstructure_fn, override

from ..codec import documents
from ..dates import ValidTime
from ..events import RecordedEvent
from .fold import Builder, project
from .identity import ActorRegistry
from .resolve import Effective, evidence, fold_order, multilateral, resolve
from .state import KINDS, UTC_MOMENT, Evidence, Note, PartyRef, TrackState
from .timeline import chronology_order

__all__ = ["Step", "history", "diff"]


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
    #: The multilateral stream the fact is on (``CHN-IND-RUS``), when not the track's own.
    stream: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A step of the ``history --format json`` document (its valid time as ``date``)."""
        return _step_document()(self)


@functools.cache
def _step_document() -> Callable[[Step], dict[str, Any]]:
    return make_dict_unstructure_fn(Step, documents, valid=override(rename="date"),
                                    recorded_at=UTC_MOMENT)


def history(track: str, events: Sequence[RecordedEvent], *,
            by: Literal["valid", "recorded"] = "valid",
            registry: ActorRegistry | None = None) -> list[Step]:
    """One step per fact: in valid-time order (the world's story as best known now) or in
    record order (how the store's answer changed as facts arrived)."""
    registry = registry or ActorRegistry()
    base = [e for e in events if e.data.stream is None]
    if by == "recorded":
        return _history_recorded(track, base, registry)
    return _history_valid(track, base, registry)


def _history_valid(track: str, events: Sequence[RecordedEvent],
                   registry: ActorRegistry) -> list[Step]:
    """Every fact as it stands now, folded in fold order, each on top of those before, and
    listed by when it most likely happened (ties in record order): the fold's order
    decides what each step changed, the one rule for lists by date decides where it is
    shown. They differ only for an open end, which the fold takes first (an open start)
    or last (an open end), and a list shows beside its known bound."""
    recorded_at = {str(e.event_id): e.recorded_at for e in events}
    builder = Builder(registry)
    previous = builder.state(track, as_of=None, known_at=None, possible=False, position=0,
                             facts=0)
    steps = []
    for fact in sorted(resolve(events), key=fold_order):
        if fact.retracted:
            changes: tuple[str, ...] = (f"retracted later ({_short(fact.retracted)}): "
                                        "not applied",)
        elif fact.same_as:
            changes = (f"same event as {fact.same_as}: its citations join that fact",)
        else:
            current = _folded(builder, fact, track)
            changes = diff(previous, current) or ("no change",)
            if fact.corrected:
                changes += (f"as corrected later ({_short(fact.corrected)})",)
            previous = current
        steps.append(Step(position=fact.position, event_id=fact.event_id, type=fact.type,
                          valid=fact.valid, recorded_at=recorded_at[fact.event_id],
                          changes=changes, citations=fact.citations, stream=fact.stream))
    return _by_date(steps)


def _by_date(folded: list[Step]) -> list[Step]:
    """The steps (in fold order) listed by date. The two orders differ only for a fact
    with an open start (folded first, listed at its known end) or end (folded last,
    listed at its known start); such a step, folded before a step listed above it or
    after one listed below it, says so, since what it changed was said against the state
    the fold had then."""
    listed = sorted(range(len(folded)),
                    key=lambda i: chronology_order(folded[i].valid, folded[i].position))
    lowest_below = listed[:]  # the smallest fold index at or below each place
    for place in range(len(listed) - 2, -1, -1):
        lowest_below[place] = min(listed[place], lowest_below[place + 1])
    out: list[Step] = []
    highest_above = -1
    for place, index in enumerate(listed):
        step = folded[index]
        note: tuple[str, ...] = ()
        valid = step.valid
        if valid is not None and valid.lower is None and highest_above > index:
            note = ("its start is open: folded before the steps above it",)
        elif (valid is not None and valid.upper is None and place + 1 < len(listed)
              and lowest_below[place + 1] < index):
            note = ("its end is open: folded after the steps below it",)
        out.append(attrs.evolve(step, changes=step.changes + note) if note else step)
        highest_above = max(highest_above, index)
    return out


def _folded(builder: Builder, fact: Effective, track: str) -> TrackState:
    """The state once ``fact`` is folded in (the builder keeps it for the next)."""
    builder.apply(fact)
    builder.fulfil_invitations()
    return builder.state(track, as_of=None, known_at=None, possible=False,
                         position=fact.position, facts=0)


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
                          changes=changes, citations=evidence(event),
                          stream=multilateral(event)))
        previous = current
    return steps


# -- what changed -----------------------------------------------------------------------

_LABEL = {"meetings": "meeting", "declarations": "declaration", "invitations": "invitation",
          "statements": "statement", "topics": "topic", "actions": "action",
          "redacted": "redacted fact", "incidents": "incident"}
#: Fields that :func:`diff` says something about in its own words, or not at all.
_NOT_LISTED = ("key", "status", "citations", "date", "outcome_only", "stages",
               "multilateral")


def diff(before: TrackState, after: TrackState) -> tuple[str, ...]:
    """What changed between two states, readably: "declaration 'x': planned → not signed"."""
    lines: list[str] = []
    for kind in KINDS:
        old = {i.key: i for i in before.items(kind)}
        new = {i.key: i for i in after.items(kind)}
        for key, item in new.items():
            was = old.get(key)
            if was is None:
                lines.append(_new(kind, f"{_LABEL[kind]} '{key}'", item))
                lines += _details(kind, f"{_LABEL[kind]} '{key}'", item)
            elif was is not item:  # a fold keeps an item it did not change as it was
                lines += _changed(kind, f"{_LABEL[kind]} '{key}'", was, item)
        for key in old.keys() - new.keys():
            lines.append(f"{_LABEL[kind]} '{key}': removed")
    return tuple(lines)


def _new(kind: str, name: str, item: Any) -> str:
    if kind == "statements":
        return (f"statement by {item.speaker.label} ({_status(item.stance)}): "
                f"{_short(item.content)}"
                + (f" (condition: {_short(item.condition)})" if item.condition else ""))
    if kind == "incidents":
        coded = f"PLOVER {item.plover}, " if item.plover else ""
        return (f"{name}: {_status(item.kind)} ({coded}CAMEO {item.cameo}) by "
                f"{_show(item.actors)}" + (f" against {item.target.label}" if item.target else "")
                + f": {_short(item.what)} (new)")
    if kind == "redacted":
        return (f"{item.type} (redacted: its data was erased on {item.erased_at} "
                f"by {item.erased_by}: {_short(item.reason)})")
    return f"{name}: {_status(item.status)} (new)"


#: What a new item's step says beyond its status, when the fact gave it (issue 12): who
#: acts, against whom, on what condition.
_DETAILS = {"meetings": ("condition", "by"), "declarations": ("condition",),
            "actions": ("actors", "target", "condition", "by", "reason"),
            "incidents": ("place",)}


def _details(kind: str, name: str, item: Any) -> list[str]:
    return [f"{name}: {field}: {_show(getattr(item, field))}"
            for field in _DETAILS.get(kind, ()) if getattr(item, field)]


def _changed(kind: str, name: str, was: Any, item: Any) -> list[str]:
    """What changed in one item (``name``: "meeting 'geneva'"), in the fields' order."""
    lines = []
    if was.status != item.status:
        lines.append(f"{name}: {_status(was.status)} → {_status(item.status)}")
    elif was.date != item.date and kind != "topics":
        lines.append(_date_change(name, was.date, item.date))
    for field in attrs.fields(type(item)):
        if field.name in _NOT_LISTED:
            continue
        a, b = getattr(was, field.name), getattr(item, field.name)
        if a != b:
            lines.append(_field_change(name, field.name, a, b))
    extra = len(item.citations) - len(was.citations)
    if extra > 0 and was.status == item.status:
        lines.append(f"{name}: +{extra} citation(s)")
    return lines


def _date_change(name: str, was: ValidTime | None, now: ValidTime | None) -> str:
    """A change of date as what it is: of the date itself, or only of the words the
    source gave for the same date (``date words: jeudi → Thursday``), or of the day those
    words were read against."""
    if was is None or now is None or was.edtf != now.edtf:
        return f"{name}: date {_show(was)} → {_show(now)}"
    if was.text != now.text:
        return f"{name}: date words: {_show(was.text)} → {_show(now.text)} (same date)"
    return (f"{name}: date words read against {_show(was.anchor)} → {_show(now.anchor)} "
            "(same date)")


def _field_change(name: str, field: str, a: Any, b: Any) -> str:
    if isinstance(a, tuple) and isinstance(b, tuple):
        added = tuple(x for x in b if x not in a)
        if added and len(b) == len(a) + len(added):
            return f"{name}: {field} + {_show(added)}"
    if a is None:
        return f"{name}: {field}: {_show(b)}"
    return f"{name}: {field} {_show(a)} → {_show(b)}"


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return ", ".join(_show(v) for v in value) or "none"
    if isinstance(value, PartyRef):
        return value.label
    if isinstance(value, Note):
        return f"\u201c{_short(value.text)}\u201d ({_sources(value.citations)})"
    if isinstance(value, ValidTime):
        return value.edtf
    return "none" if value is None else str(value)


def _sources(citations: tuple[Evidence, ...]) -> str:
    """Where a note comes from: its citations' sources and spans, briefly."""
    return "; ".join(f"{c.source[:8]} {c.start}-{c.end}" for c in citations) or "no citation"


def _status(value: str) -> str:
    return value.replace("_", " ")


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"
