"""Decoded read models kept in memory, each under the identity of the row it came from.

Decoding a stored state costs far more than asking the database whether the row changed
(a ~1,000-fact state is some 700 KiB of JSON and thousands of objects), so the store
keeps the states it served, by track, with the row's identity: its version, position,
registry version, code version and ``updated_at``. A state is served from here only when
the row in the database still has that identity, which :meth:`EventStore.project` reads
in the same statement as its "caught up?" check; any rewrite of the row (a catch-up, a
rebuild, a new projection version, another process's projector) changes ``updated_at``
and its version or position, so a cached state is never older than the row it stands for.

The cache is bounded by the facts its states hold (about 2 KiB of memory per fact), least
recently served first out; a state larger than the whole budget is not kept.

:class:`EventCache` does the same for the decoded events of the tracks a store folded
for a cut (``project(as_of=…, known_at=…)``, ``history``), bounded by their number.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

import attrs

from ..events import RecordedEvent
from ..projection.resolve import Plain
from ..projection.state import TrackState

__all__ = ["Budgeted", "StateCache", "STATE_CACHE_FACTS", "EventCache", "EVENT_CACHE_EVENTS",
           "KeptTrack"]

#: Facts (summed over the states kept) a store's cache holds at most: about 40 MiB.
STATE_CACHE_FACTS = 20_000
#: Events (summed over the tracks kept) a store's event cache holds at most.
EVENT_CACHE_EVENTS = 50_000

V = TypeVar("V")


class _Budgeted(Generic[V]):
    """Track → (key, value), least recently used out first, within a budget of weight.

    A value is served only under the key it was kept with (the identity of what it was
    read from); a value heavier than the whole budget is not kept. Thread-safe.
    """

    def __init__(self, budget: int, weight: Callable[[V], int]) -> None:
        self.budget = budget
        self._weight = weight
        self._kept: OrderedDict[str, tuple[Hashable, V]] = OrderedDict()
        self._used = 0
        self._lock = threading.Lock()

    def _get(self, track: str, key: Hashable) -> V | None:
        with self._lock:
            kept = self._kept.get(track)
            if kept is None or kept[0] != key:
                return None
            self._kept.move_to_end(track)
            return kept[1]

    def _put(self, track: str, key: Hashable, value: V) -> None:
        size = self._weight(value)
        with self._lock:
            self._drop(track)
            if size > self.budget:
                return
            self._kept[track] = (key, value)
            self._used += size
            while self._used > self.budget:
                self._drop(next(iter(self._kept)))

    def holds(self, track: str) -> bool:
        """Whether something is kept for ``track`` (under any key)."""
        return track in self._kept

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
            self._used = 0

    def __len__(self) -> int:
        return len(self._kept)

    def _drop(self, track: str) -> None:
        kept = self._kept.pop(track, None)
        if kept is not None:
            self._used -= self._weight(kept[1])


class Budgeted(_Budgeted[V]):
    """Name → (key, value), least recently used out first, within a budget of weight;
    served only under the key it was kept with. Thread-safe."""

    def get(self, name: str, key: Hashable) -> V | None:
        return self._get(name, key)

    def put(self, name: str, key: Hashable, value: V) -> None:
        self._put(name, key, value)

    def drop(self, name: str) -> None:
        with self._lock:
            self._drop(name)


class StateCache(_Budgeted[TrackState]):
    """Track → (row identity, decoded state), within a budget of facts."""

    def __init__(self, max_facts: int = STATE_CACHE_FACTS) -> None:
        # A state's weight is its facts (at least 1, so empty states count too).
        super().__init__(max_facts, lambda state: max(1, state.facts))

    @property
    def max_facts(self) -> int:
        return self.budget

    def get(self, track: str, identity: Hashable) -> TrackState | None:
        """The state kept for ``track`` if it was decoded from a row of this identity."""
        return self._get(track, identity)

    def put(self, track: str, identity: Hashable, state: TrackState) -> None:
        """Keep ``state``, decoded from ``track``'s row of this identity, in place of any other."""
        self._put(track, identity, state)


@attrs.frozen
class KeptTrack:
    """A track's decoded events from version 1, in order, with the fold's memo of them
    (:data:`~eventstore.projection.resolve.Plain`: each fact as it stands untouched).

    A cut reads no further than it needs: ``upto`` says the events stop there, every
    event of the track up to that position held (``None``: every event there was when
    they were read)."""

    events: list[RecordedEvent] = attrs.field(factory=list)
    plain: Plain = attrs.field(factory=dict)
    upto: int | None = None


class EventCache(_Budgeted[KeptTrack]):
    """Track → its decoded events, kept to answer cuts (``project(as_of=…, known_at=…)``)
    without reading and decoding the track again.

    The log only grows, so a kept list is always a prefix of the track (a cut keeps the
    prefix up to its position): a read brings it up to date by decoding only the
    versions after it (the memo stays: it is keyed by
    position, and what an event at a position decodes to never changes but by erasure).
    Only an erasure changes what an event already read decodes to, so each list is kept
    with the log's last erasure position at the time it was read, and is not served once
    that changed.
    """

    def __init__(self, max_events: int = EVENT_CACHE_EVENTS) -> None:
        super().__init__(max_events, lambda kept: len(kept.events))

    def get(self, track: str, erasure: int) -> KeptTrack:
        """What is kept for ``track`` (possibly not up to date), if read since the erasure
        at position ``erasure`` (0: none); empty if nothing is."""
        return self._get(track, erasure) or KeptTrack()

    def put(self, track: str, erasure: int, kept: KeptTrack) -> None:
        """Keep ``kept`` (the whole track from version 1, in order) for ``track``."""
        self._put(track, erasure, kept)
