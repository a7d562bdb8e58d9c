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

from ..projection import TrackState

__all__ = ["StateCache", "STATE_CACHE_FACTS"]

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
