"""The read model: a track's current state kept folded, and its stored form.

Owns :class:`Folded` (a current state with the fold key of its last fact), the two ways
to get one — :func:`fold_all` (from all the track's events) and :func:`fold_more` (newly
appended facts applied to a stored one, when that gives what a fold from scratch would)
— and the stored form: :func:`dump_folded` / :func:`load_folded`, compact JSON written by
:class:`~eventstore.packed.PackedCodec` (each object a list of its fields' values, the
field names once in a header; a state stored as cattrs dicts, before that form, is still
read, through ``codec.documents``). The store keeps the text in ``track_states.state``;
this module does no I/O.

The header names each class by the package, as ``eventstore.projection.Meeting`` (see
:func:`stored_name`): the names are part of the stored form, so moving a class between
the package's modules changes no stored state.

May import: the standard library, attrs, ``eventstore.codec``, ``eventstore.events``,
``eventstore.facts``, ``eventstore.packed``, ``eventstore.collector`` and the package's
other modules but :mod:`.history`; nothing from ``storage/`` or ``cli/``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence

import attrs
import orjson

from ..codec import documents
from ..collector import gc_paused
from ..events import RecordedEvent
from ..facts import MetaFact, StatementWithdrawn
from ..packed import PackedCodec, class_key
from .fold import Builder, fold_chosen, select, withdrawn_key
from .identity import ActorRegistry
from .resolve import fold_order, resolve
from .state import TrackState
from .timeline import OrderKey

__all__ = ["Folded", "fold_all", "fold_more", "dump_folded", "load_folded", "stored_name"]


@attrs.frozen
class Folded:
    """A current state with what an incremental update needs: the last fold key."""

    state: TrackState
    last: OrderKey | None


def fold_all(track: str, events: Sequence[RecordedEvent],
             registry: ActorRegistry | None = None) -> Folded:
    """The current state of a track from all its events (a rebuild)."""
    with gc_paused():
        chosen = select(resolve(events), None, False)
        state = fold_chosen(track, events, chosen, registry=registry)
    return Folded(state=state, last=chosen[-1].order if chosen else None)


def fold_more(folded: Folded, new: Sequence[RecordedEvent],
              registry: ActorRegistry | None = None) -> Folded | None:
    """Apply newly appended events to a current state, or ``None`` if that is not valid.

    Valid when every new event is a plain fact that sorts after everything folded so far;
    a fact about facts, or a late-arriving fact about the past, needs a rebuild.
    """
    if any(isinstance(e.data, MetaFact) or e.data.stream is not None for e in new):
        return None
    if _withdraws_unknown(folded.state, new):
        return None
    effective = sorted(resolve(new), key=fold_order)
    if not effective:
        return folded
    if folded.last is not None and effective[0].order < folded.last:
        return None
    builder = Builder.resume(folded.state, registry or ActorRegistry())
    for fact in effective:
        builder.apply(fact)
    builder.fulfil_invitations()
    old = folded.state
    state = builder.state(old.track, as_of=None, known_at=None, possible=False,
                          position=max(old.position, max(e.position for e in new)),
                          facts=old.facts + len(effective))
    return Folded(state=state, last=effective[-1].order)


def _withdraws_unknown(state: TrackState, new: Sequence[RecordedEvent]) -> bool:
    """Whether a new withdrawal names a statement the state does not hold (not yet folded,
    or retracted): only a fold from scratch knows what to do with it."""
    held = {s.key for s in state.statements}
    return any(isinstance(e.data, StatementWithdrawn) and withdrawn_key(e.data) not in held
               for e in new)


_PACKAGE = "eventstore.projection"


def stored_name(cls: type) -> str:
    """How a stored state's header names ``cls``: a class of this package by the package
    (``eventstore.projection.Meeting``), any other by its module."""
    if cls.__module__.startswith(_PACKAGE + "."):
        return f"{_PACKAGE}.{cls.__qualname__}"
    return class_key(cls)


@functools.cache
def _packed() -> PackedCodec:
    """The read model's codec (built on first use: it generates code)."""
    return PackedCodec(Folded, documents, name=stored_name)


def dump_folded(folded: Folded) -> str:
    """The read model's stored form: the state and the last fold key, packed (JSON).

    Written by orjson (compact, UTF-8: what ``json.dumps`` writes with these options, some
    five times faster); by ``json`` where orjson refuses the value (a lone surrogate in a
    text, an integer beyond 64 bits)."""
    doc = _packed().pack(folded)
    try:
        return orjson.dumps(doc).decode()
    except (orjson.JSONEncodeError, UnicodeDecodeError):
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def load_folded(text: str) -> Folded:
    """A stored read model back as a :class:`Folded` (what :func:`dump_folded` wrote).

    A state stored before the packed form (a dict of the state and the last fold key) is
    structured by cattrs.
    """
    with gc_paused():
        # (json, not orjson: orjson reads an integer beyond 64 bits as a float)
        doc = json.loads(text)
        result: Folded = (_packed().unpack(doc) if "packed" in doc
                          else documents.structure(doc, Folded))
    return result
