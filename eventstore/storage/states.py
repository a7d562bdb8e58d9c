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
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

from ..events import RecordedEvent
from ..projection import TrackState

__all__ = ["StateCache", "STATE_CACHE_FACTS", "EventCache", "EVENT_CACHE_EVENTS"]

#: Facts (summed over the states kept) a store's cache holds at most: about 40 MiB.
STATE_CACHE_FACTS = 20_000


class StateCache:
    """Track → (row identity, decoded state), least recently used out first."""

    def __init__(self, max_facts: int = STATE_CACHE_FACTS) -> None:
        self.max_facts = max_facts
        self._states: OrderedDict[str, tuple[Hashable, TrackState]] = OrderedDict()
        self._facts = 0
        self._lock = threading.Lock()

    def get(self, track: str, identity: Hashable) -> TrackState | None:
        """The state kept for ``track`` if it was decoded from a row of this identity."""
        with self._lock:
            kept = self._states.get(track)
            if kept is None or kept[0] != identity:
                return None
            self._states.move_to_end(track)
            return kept[1]

    def put(self, track: str, identity: Hashable, state: TrackState) -> None:
        """Keep ``state``, decoded from ``track``'s row of this identity, in place of any other."""
        size = _size(state)
        with self._lock:
            self._drop(track)
            if size > self.max_facts:
                return
            self._states[track] = (identity, state)
            self._facts += size
            while self._facts > self.max_facts:
                self._drop(next(iter(self._states)))

    def clear(self) -> None:
        with self._lock:
            self._states.clear()
            self._facts = 0

    def __len__(self) -> int:
        return len(self._states)

    def _drop(self, track: str) -> None:
        kept = self._states.pop(track, None)
        if kept is not None:
            self._facts -= _size(kept[1])


def _size(state: TrackState) -> int:
    """A state's weight in the budget: its facts (at least 1, so empty states count too)."""
    return max(1, state.facts)


#: Events (summed over the tracks kept) a store's event cache holds at most.
EVENT_CACHE_EVENTS = 50_000


class EventCache:
    """Track → its decoded events, kept to answer cuts (``project(as_of=…, known_at=…)``)
    without reading and decoding the track again.

    The log only grows, so a kept list is always a prefix of the track: a read brings it
    up to date by decoding only the versions after it. Only an erasure changes what an
    event already read decodes to, so each list is kept with the log's last erasure
    position at the time it was read, and dropped when that changes.
    """

    def __init__(self, max_events: int = EVENT_CACHE_EVENTS) -> None:
        self.max_events = max_events
        self._tracks: OrderedDict[str, tuple[int, list[RecordedEvent]]] = OrderedDict()
        self._events = 0
        self._lock = threading.Lock()

    def get(self, track: str, erasure: int) -> list[RecordedEvent]:
        """The events kept for ``track`` (possibly not the newest), if read since the
        erasure at position ``erasure`` (0: none); empty if there are none."""
        with self._lock:
            kept = self._tracks.get(track)
            if kept is None or kept[0] != erasure:
                return []
            self._tracks.move_to_end(track)
            return kept[1]

    def put(self, track: str, erasure: int, events: list[RecordedEvent]) -> None:
        """Keep ``events`` (the whole track from version 1, in order) for ``track``."""
        with self._lock:
            self._drop(track)
            if len(events) > self.max_events:
                return
            self._tracks[track] = (erasure, events)
            self._events += len(events)
            while self._events > self.max_events:
                self._drop(next(iter(self._tracks)))

    def clear(self) -> None:
        with self._lock:
            self._tracks.clear()
            self._events = 0

    def _drop(self, track: str) -> None:
        kept = self._tracks.pop(track, None)
        if kept is not None:
            self._events -= len(kept[1])
