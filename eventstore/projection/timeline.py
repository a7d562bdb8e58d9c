"""The valid-time rules: whether a fact counts as of a date, and the order of the fold.

* **as of a date**: by default a fact counts when it *certainly* happened on or before the
  date: its latest possible day (``valid.upper``) is on or before it. With
  ``possible=True`` a fact also counts when it *may* have happened by then (its earliest
  possible day is on or before it). A fact with an open end never certainly happened.
* **order**: facts are folded by (earliest day, latest day, position): an open start
  sorts first, an open end last, and the position breaks every tie, so the fold is
  deterministic and independent of how other tracks' facts interleave.
* **chronology**: what a reader sees is listed by when it most likely happened
  (:func:`chronology_key`): by its bounds, an open start by its known end and an open end
  by its known start, so that "on or before 24 Aug" sits beside 24 Aug and not above
  everything dated; an item with no date at all comes last. Facts (history steps) that
  tie come in record order (:func:`chronology_order`); items, which have no one position,
  by key. The fold keeps its own order: it decides lifecycles.

May import: the standard library and ``eventstore.dates``; nothing else.
"""

from __future__ import annotations

import datetime as dt

from ..dates import ValidTime

__all__ = ["counts_at", "order_key", "OrderKey", "chronology_key", "ChronologyKey",
           "chronology_order"]

#: Where a fact comes in the fold: (earliest day, latest day, position).
OrderKey = tuple[dt.date, dt.date, int]


def counts_at(valid: ValidTime | None, as_of: dt.date | None, possible: bool = False) -> bool:
    """Whether a fact of this valid time counts in the state of the world on ``as_of``."""
    if as_of is None:
        return True
    if valid is None:
        return False
    if possible:
        return valid.lower is None or valid.lower <= as_of
    return valid.upper is not None and valid.upper <= as_of


def order_key(valid: ValidTime | None, position: int) -> OrderKey:
    """Deterministic fold order: earliest day, then latest day, then position."""
    lower = valid.lower if valid and valid.lower else dt.date.min
    upper = valid.upper if valid and valid.upper else dt.date.max
    return (lower, upper, position)


#: Where an item comes in what a reader sees: (undated?, the first known bound, the other).
ChronologyKey = tuple[bool, dt.date, dt.date]


def chronology_key(valid: ValidTime | None) -> ChronologyKey:
    """When it most likely happened, for listing: (earliest day, latest day), an unknown
    bound replaced by the known one (``../2018-08-24`` sorts at 24 August, ``2018-08-24/..``
    at 24 August too); no bound at all sorts after everything.

    A total order on the bounds that agrees with them: an item whose whole interval
    precedes another's sorts before it (``tests/test_projection.py`` checks this property).
    """
    lower = valid.lower if valid is not None else None
    upper = valid.upper if valid is not None else None
    if lower is None and upper is None:
        return (True, dt.date.max, dt.date.max)
    first = lower if lower is not None else upper
    last = upper if upper is not None else lower
    assert first is not None and last is not None
    return (False, first, last)


def chronology_order(valid: ValidTime | None, position: int) -> tuple[ChronologyKey, int]:
    """Where a fact comes in a list by date (``history --by valid``, the page's history):
    :func:`chronology_key`, ties in record order (by position)."""
    return (chronology_key(valid), position)
